import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerHandler: skills.
extension ProducerHandler {
    public func listSkills(_ request: ProducerV1.ListSkillsRequest, context: ServerContext) async throws
        -> ProducerV1.ListSkillsResponse
    {
        ProducerV1.ListSkillsResponse(skills: try await storage { try await store.listSkills() })
    }

    public func addSkill(_ request: ProducerV1.AddSkillRequest, context: ServerContext) async throws
        -> ProducerV1.SkillCategory
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let input = request.skill ?? ProducerV1.SkillCategory()
        var skill = ProducerV1.SkillCategory()
        skill.code = check.text(input.code, "skill.code", required: true, maxLength: 40).lowercased()
        if !skill.code.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
            check.fail("skill.code", "may hold only letters, digits and hyphens, e.g. \"leather-tanning\"")
        }
        skill.name = check.text(input.name, "skill.name", required: true, maxLength: 80)
        skill.category = check.text(input.category, "skill.category", required: true, maxLength: 40).lowercased()
        skill.description = check.text(input.description, "skill.description", maxLength: 500)
        try check.check()
        return try await storage { try await store.addSkill(skill, requestID: request.requestID) }
    }

    public func recordSkillAssessment(_ request: ProducerV1.RecordSkillAssessmentRequest, context: ServerContext)
        async throws -> ProducerV1.SkillAssessment
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var assessment = request.assessment ?? ProducerV1.SkillAssessment()
        check.id(assessment.groupID, "assessment.group_id", ProducerGroupID.self)
        assessment.skill = check.text(assessment.skill, "assessment.skill", required: true, maxLength: 40).lowercased()
        _ = check.date(assessment.assessedOn, "assessment.assessed_on")
        check.range(assessment.level, 0...4, "assessment.level")
        check.nonNegative(assessment.membersHolding, "assessment.members_holding")
        assessment.assessor = check.text(assessment.assessor, "assessment.assessor", maxLength: 200)
        assessment.notes = check.text(assessment.notes, "assessment.notes", maxLength: 2000)
        try check.check()
        let checked = try Checked(assessment, day: assessment.assessedOn, "assessment.assessed_on")
        return try await storage { try await store.recordAssessment(checked, requestID: request.requestID) }
    }

    public func listSkillAssessments(_ request: ProducerV1.ListSkillAssessmentsRequest, context: ServerContext)
        async throws -> ProducerV1.ListSkillAssessmentsResponse
    {
        let groupID = try FieldValidator.id(request.groupID, "group_id", ProducerGroupID.self)
        return ProducerV1.ListSkillAssessmentsResponse(
            assessments: try await storage {
                try await store.listAssessments(groupID: groupID, skill: request.skill.lowercased())
            })
    }
}
