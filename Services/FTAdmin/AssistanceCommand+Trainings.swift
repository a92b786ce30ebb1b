import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin assistance`: trainings and their train-the-trainers cascades.
extension AssistanceCommand {
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a training (planned until completed).")
        @Option(help: "Title.") var title: String
        @Option(help: "Skill code from the Producer catalogue (ftadmin producer skills).") var skill: String
        @Option(help: "Date held.") var held: String
        @Option(help: "Trainer organisation id.") var trainerOrganisation = ""
        @Option(help: "Trainer producer group id (for a cascade: a group trained in the earlier training).")
        var trainerGroup = ""
        @Option(help: "A producer group trained (repeatable).") var group: [String] = []
        @Option(parsing: .unconditional, help: "Women trained.") var women: Int32 = 0
        @Option(parsing: .unconditional, help: "Men trained.") var men: Int32 = 0
        @Option(parsing: .unconditional, help: "Others trained.") var other: Int32 = 0
        @Option(help: "The training this one cascades from.") var cascadesFrom = ""
        @Option(help: "Project id.") var project = ""
        @Option(help: "Notes.") var notes = ""
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let training = try await client.recordTraining(
                    AssistanceV1.RecordTrainingRequest(
                        training: AssistanceV1.Training(
                            title: title, skill: skill, heldOn: try parseDate(held, field: "--held"),
                            trainerOrganisationID: trainerOrganisation, trainerGroupID: trainerGroup,
                            trainedGroupIDs: group,
                            trainees: AssistanceV1.PeopleCount(women: women, men: men, other: other),
                            cascadesFrom: cascadesFrom, projectID: project, notes: notes),
                        requestID: requestID ?? RequestID.make()), options: global.callOptions)
                let names = await global.pageNames(
                    groups: groupIDs(of: [training]), trainings: parentIDs(of: [training]))
                try emit(training, global) { trainingTable([training], names: names) }
            }
        }
    }

    struct LinkCascade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "link-cascade", abstract: "Set which training TRAINING cascades from (none: unlink).")
        @Argument var training: String
        @Option(help: "The earlier training.") var from = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let linked = try await client.linkCascade(
                    AssistanceV1.LinkCascadeRequest(
                        trainingID: training, cascadesFrom: from, requestID: RequestID.make()),
                    options: global.callOptions)
                let names = await global.pageNames(groups: groupIDs(of: [linked]), trainings: parentIDs(of: [linked]))
                try emit(linked, global) { trainingTable([linked], names: names) }
            }
        }
    }

    struct CompleteTraining: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "complete-training",
            abstract: "Mark a training done and record each trained group's new skill level in the Producer service.")
        @Argument var training: String
        @Option(help: "Completion date.") var on: String
        @Option(help: "GROUP:LEVEL[:MEMBERS] for each trained group; level 0-4 (repeatable).") var result: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let results = try result.map { text -> AssistanceV1.SkillLevel in
                    let parts = text.split(separator: ":")
                    guard (2...3).contains(parts.count), let level = Int32(parts[1]),
                        parts.count == 2 || Int32(parts[2]) != nil
                    else {
                        throw ValidationError("--result: \"\(text)\" is not GROUP:LEVEL[:MEMBERS]")
                    }
                    return AssistanceV1.SkillLevel(
                        groupID: String(parts[0]), level: level,
                        membersHolding: parts.count == 3 ? Int32(parts[2])! : 0)
                }
                let done = try await client.completeTraining(
                    AssistanceV1.CompleteTrainingRequest(
                        trainingID: training, completedOn: try parseDate(on, field: "--on"), results: results,
                        requestID: RequestID.make()),
                    options: global.callOptions)
                let names = await global.pageNames(groups: groupIDs(of: [done]), trainings: parentIDs(of: [done]))
                try emit(done, global) { trainingTable([done], names: names) }
            }
        }
    }

    struct Trainings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List trainings, filtered.")
        @Option(help: "A group trained or training.") var group = ""
        @Option(help: "Project id.") var project = ""
        @Option(help: "Skill code.") var skill = ""
        @OptionGroup var page: PageOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let (rows, next) = try await page.fetch { size, token in
                    let answer = try await client.listTrainings(
                        AssistanceV1.ListTrainingsRequest(
                            groupID: group, projectID: project, skill: skill, pageSize: size,
                            pageToken: token),
                        options: global.callOptions)
                    return (answer.trainings, answer.nextPageToken)
                }
                let response = AssistanceV1.ListTrainingsResponse(trainings: rows, nextPageToken: next)
                let names = await global.pageNames(
                    groups: groupIDs(of: response.trainings), trainings: parentIDs(of: response.trainings))
                try emit(response, global) { trainingTable(response.trainings, names: names) + moreLine(next) }
            }
        }
    }

    struct Training: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a training: its trainer, the groups trained, the people by sex, what it cascades from.")
        @Argument var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let training = try await client.getTraining(
                    AssistanceV1.GetTrainingRequest(id: id), options: global.callOptions)
                let names = await global.pageNames(
                    groups: groupIDs(of: [training]), trainings: parentIDs(of: [training]))
                try emit(training, global) {
                    trainingTable([training], names: names)
                        + (training.notes.isEmpty ? "" : "\nnotes: \(training.notes)")
                }
            }
        }
    }

    struct Reach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The reach of a train-the-trainers cascade: people per tier, by sex, and the multipliers.")
        @Argument var training: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let reach = try await client.getCascadeReach(
                    AssistanceV1.GetCascadeReachRequest(trainingID: training),
                    options: global.callOptions)
                let names = await global.pageNames(groups: [], trainings: [reach.rootTrainingID])
                try emit(reach, global) { reachText(reach, names: names) }
            }
        }
    }
}
