import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerStore: skills.
extension ProducerStore {
    func listSkills() async throws -> [ProducerV1.SkillCategory] {
        try await database.read { session in
            try await session.query("SELECT code, name, category, description FROM skills ORDER BY category, code")
                .map(Self.skill)
        }
    }

    static func skill(_ row: SQLRow) throws -> ProducerV1.SkillCategory {
        ProducerV1.SkillCategory(
            code: try row.text("code"), name: try row.text("name"),
            category: try row.text("category"), description: try row.text("description"))
    }

    func addSkill(_ skill: ProducerV1.SkillCategory, requestID: String) async throws -> ProducerV1.SkillCategory {
        try await database.answeringOnce("AddSkill", requestID: requestID) { session in
            if let existing = try await session.first(
                "SELECT code, name, category, description FROM skills WHERE code = $1", [.of(skill.code)])
            {
                let stored = try Self.skill(existing)
                guard stored == skill else {
                    throw RPCError(.alreadyExists, "skill \"\(skill.code)\" already exists as \"\(stored.name)\"")
                }
                return stored
            }
            try await session.execute(
                "INSERT INTO skills (code, name, category, description) VALUES ($1, $2, $3, $4)",
                [.of(skill.code), .of(skill.name), .of(skill.category), .of(skill.description)])
            return skill
        }
    }

    func skillExists(_ code: String, _ session: any SQLSession) async throws -> Bool {
        try await session.first("SELECT code FROM skills WHERE code = $1", [.of(code)]) != nil
    }

    func recordAssessment(_ checked: Checked<ProducerV1.SkillAssessment>, requestID: String) async throws
        -> ProducerV1.SkillAssessment
    {
        let assessment = checked.record
        return try await database.idempotent(operation: "RecordSkillAssessment", requestID: requestID) { session in
            let group = try await loadGroup(
                try ProducerGroupID(checking: assessment.groupID, "assessment.group_id"), session)
            guard try await skillExists(assessment.skill, session) else {
                throw RPCError.invalidArgument(
                    field: "assessment.skill",
                    "\"\(assessment.skill)\" is not in the skills catalogue (see ListSkills, or AddSkill)")
            }
            let id = SkillAssessmentID.mint().text
            try await session.execute(
                """
                INSERT INTO skill_assessments (id, group_id, skill, assessed_on, level, members_holding, assessor, notes,
                    created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """,
                [
                    .of(id), .of(group.id), .of(assessment.skill),
                    .of(checked.day.description),
                    .of(assessment.level), .of(assessment.membersHolding), .of(assessment.assessor),
                    .of(assessment.notes), .of(Clock.unixMicros()),
                ])
            return id
        } load: { session, id in
            guard let row = try await session.first("SELECT * FROM skill_assessments WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "assessment \(id) vanished")
            }
            return try Self.assessment(row)
        }
    }

    static func assessment(_ row: SQLRow) throws -> ProducerV1.SkillAssessment {
        ProducerV1.SkillAssessment(
            id: try row.text("id"), groupID: try row.text("group_id"), skill: try row.text("skill"),
            assessedOn: ISODate(iso: try row.text("assessed_on"))?.message, level: Int32(try row.int("level")),
            membersHolding: Int32(try row.int("members_holding")), assessor: try row.text("assessor"),
            notes: try row.text("notes"))
    }

    func listAssessments(groupID: ProducerGroupID, skill: String) async throws -> [ProducerV1.SkillAssessment] {
        try await database.read { session in
            let group = try await loadGroup(groupID, session)
            var sql = "SELECT * FROM skill_assessments WHERE group_id = $1"
            var binds: [SQLValue] = [.of(group.id)]
            if !skill.isEmpty {
                sql += " AND skill = $2"
                binds.append(.of(skill))
            }
            return try await session.query(sql + " ORDER BY assessed_on, created_at", binds).map(Self.assessment)
        }
    }
}
