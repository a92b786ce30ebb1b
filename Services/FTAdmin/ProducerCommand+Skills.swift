import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin producer`: the skills catalogue and groups' dated skill assessments.
extension ProducerCommand {
    struct Skills: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The skills catalogue.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let response = try await client.listSkills(ProducerV1.ListSkillsRequest(), options: global.callOptions)
                try emit(response, global) {
                    var table = Table("CODE", "NAME", "CATEGORY", "DESCRIPTION")
                    for skill in response.skills {
                        table.add(skill.code, skill.name, skill.category, skill.description)
                    }
                    return table.render()
                }
            }
        }
    }

    struct AddSkill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-skill", abstract: "Add a skill to the catalogue.")
        @Argument var code: String
        @Option var name: String
        @Option(help: "craft, business, quality or market.") var category: String
        @Option var description: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let skill = try await client.addSkill(
                    ProducerV1.AddSkillRequest(
                        skill: ProducerV1.SkillCategory(
                            code: code, name: name, category: category, description: description),
                        requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(skill, global) { "added \(skill.code): \(skill.name)" }
            }
        }
    }

    struct Assess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a dated skill assessment (level 0-4).")
        @Argument var group: String
        @Argument var skill: String
        @Option(parsing: .unconditional, help: "0 none, 1 basic, 2 competent, 3 proficient, 4 can teach.") var level:
            Int32
        @Option(help: "Date assessed, YYYY-MM-DD.") var date: String
        @Option(parsing: .unconditional, help: "Members holding the skill.") var members: Int32 = 0
        @Option var assessor: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let assessment = try await client.recordSkillAssessment(
                    ProducerV1.RecordSkillAssessmentRequest(
                        assessment: ProducerV1.SkillAssessment(
                            groupID: group, skill: skill, assessedOn: try parseDate(date, field: "--date"),
                            level: level,
                            membersHolding: members, assessor: assessor), requestID: RequestID.make()),
                    options: global.callOptions)
                try emit(assessment, global) {
                    "recorded \(assessment.skill) level \(assessment.level) on \(show(assessment.assessedOn))"
                }
            }
        }
    }

    struct Assessments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A group's skill assessments over time.")
        @Argument var group: String
        @Option var skill: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withProducer(self, global) { client in
                let response = try await client.listSkillAssessments(
                    ProducerV1.ListSkillAssessmentsRequest(groupID: group, skill: skill), options: global.callOptions)
                try emit(response, global) {
                    var table = Table("DATE", "SKILL", "LEVEL", "MEMBERS", "ASSESSOR")
                    for item in response.assessments {
                        table.add(
                            show(item.assessedOn), item.skill, "\(item.level)", "\(item.membersHolding)", item.assessor)
                    }
                    return table.render()
                }
            }
        }
    }
}
