import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// The Producer service's persistence: every query it makes, written once for SQLite and PostgreSQL.
///
/// Methods throw `RPCError` for outcomes a caller must hear about (NOT_FOUND, ABORTED, FAILED_PRECONDITION) and
/// `StorageError` for the database's own failures, which the handler maps.
public struct ProducerStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    typealias Group = ProducerV1.ProducerGroup

    // MARK: groups

    /// Creates a group once per request id: a retry returns the group the first attempt made.
    func createGroup(_ group: Group, requestID: String) async throws -> Group {
        try await idempotent(operation: "CreateProducerGroup", requestID: requestID) { session in
            var group = group
            let now = Clock.unixMicros()
            group.id = Self.newGroupID()
            group.status = .active
            group.version = 1
            group.createdAt = CommonV1.Timestamp(unixMicros: now)
            group.updatedAt = group.createdAt
            try await insert(group, session)
            return group.id
        } load: { session, id in
            try await loadGroup(id, session)
        }
    }

    private func insert(_ group: Group, _ session: any SQLSession) async throws {
        try await session.execute(
            """
            INSERT INTO producer_groups (id, name_key, local_name_key, kind, country, status, merged_into, version,
                created_at, updated_at, body)
            VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10)
            """,
            [
                .of(group.id), .of(group.name.lowercased()), .of(group.localName.lowercased()),
                .of(group.kind.rawValue), .of(group.country), .of(group.status.rawValue), .of(group.version),
                .of(group.createdAt?.unixMicros ?? 0), .of(group.updatedAt?.unixMicros ?? 0),
                .blob(group.serializedBytes()),
            ])
        try await replaceCrafts(group, session)
    }

    /// Inserts many new groups in one transaction with multi-row statements (benchmarks); returns their ids. The
    /// groups must already be validated.
    public func bulkInsert(_ groups: [ProducerV1.ProducerGroup]) async throws -> [String] {
        let now = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
        let prepared = groups.map { input -> Group in
            var group = input
            group.id = Self.newGroupID()
            group.status = .active
            group.version = 1
            group.createdAt = now
            group.updatedAt = now
            return group
        }
        try await database.transaction { session in try await insertMany(prepared, session) }
        return prepared.map(\.id)
    }

    static func newGroupID() -> String { "pg_" + RequestID.make() }

    /// Inserts new groups, ids, status, version and times already set, 400 to a statement.
    func insertMany(_ groups: [Group], _ session: any SQLSession) async throws {
        for batch in stride(from: 0, to: groups.count, by: 400).map({ groups[$0..<min($0 + 400, groups.count)] }) {
            var rows: [String] = []
            var binds: [SQLValue] = []
            for group in batch {
                let base = binds.count
                rows.append("(" + (1...10).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
                binds += [
                    .of(group.id), .of(group.name.lowercased()), .of(group.localName.lowercased()),
                    .of(group.kind.rawValue), .of(group.country), .of(group.status.rawValue), .of(group.version),
                    .of(group.createdAt?.unixMicros ?? 0), .of(group.updatedAt?.unixMicros ?? 0),
                    .blob(group.serializedBytes()),
                ]
            }
            try await session.execute(
                """
                INSERT INTO producer_groups (id, name_key, local_name_key, kind, country, status, version, created_at,
                    updated_at, body) VALUES \(rows.joined(separator: ", "))
                """, binds)
            var craftRows: [String] = []
            var craftBinds: [SQLValue] = []
            for group in batch {
                for craft in Set(group.crafts) {
                    craftRows.append("($\(craftBinds.count + 1), $\(craftBinds.count + 2))")
                    craftBinds += [.of(craft), .of(group.id)]
                }
            }
            if !craftRows.isEmpty {
                try await session.execute(
                    "INSERT INTO group_crafts (craft, group_id) VALUES \(craftRows.joined(separator: ", "))",
                    craftBinds)
            }
        }
    }

    func replaceCrafts(_ group: Group, _ session: any SQLSession) async throws {
        try await session.execute("DELETE FROM group_crafts WHERE group_id = $1", [.of(group.id)])
        for craft in Set(group.crafts) {
            try await session.execute(
                "INSERT INTO group_crafts (craft, group_id) VALUES ($1, $2)", [.of(craft), .of(group.id)])
        }
    }

    /// The group `id` resolves to: itself, or the group it was merged into. Two single-statement reads at most
    /// (merges leave one hop), without a read transaction: the cheapest path for the most frequent call.
    func getGroup(_ id: String) async throws -> Group {
        guard
            let row = try await database.query(
                "SELECT merged_into, body FROM producer_groups WHERE id = $1", [.of(id)]
            ).first
        else { throw RPCError(.notFound, "producer group \"\(id)\" not found") }
        guard let survivor = try row.optionalText("merged_into") else { return try decode(row) }
        guard
            let merged = try await database.query("SELECT body FROM producer_groups WHERE id = $1", [.of(survivor)])
                .first
        else { throw StorageError(.corrupt, "group \(id) is merged into missing group \(survivor)") }
        return try decode(merged)
    }

    func loadGroup(_ id: String, _ session: any SQLSession) async throws -> Group {
        guard
            let row = try await session.first(
                "SELECT merged_into, body FROM producer_groups WHERE id = $1", [.of(id)])
        else { throw RPCError(.notFound, "producer group \"\(id)\" not found") }
        if let survivor = try row.optionalText("merged_into") {
            guard
                let merged = try await session.first("SELECT body FROM producer_groups WHERE id = $1", [.of(survivor)])
            else { throw StorageError(.corrupt, "group \(id) is merged into missing group \(survivor)") }
            return try decode(merged)
        }
        return try decode(row)
    }

    func decode(_ row: SQLRow) throws -> Group {
        guard case .blob(let bytes) = row["body"] else { throw StorageError(.corrupt, "group row without a body") }
        return try Group(serializedBytes: bytes)
    }

    /// Writes `change` over the stored group if its version is still `expectedVersion`.
    func updateGroup(
        id: String, expectedVersion: Int64, requestID: String,
        _ change: @escaping @Sendable (inout Group) throws -> Void
    ) async throws -> Group {
        try await database.answeringOnce("UpdateProducerGroup", requestID: requestID) { session in
            guard
                let row = try await session.first(
                    "SELECT merged_into, version, body FROM producer_groups WHERE id = $1", [.of(id)])
            else { throw RPCError(.notFound, "producer group \"\(id)\" not found") }
            if let survivor = try row.optionalText("merged_into") {
                throw RPCError(
                    .failedPrecondition,
                    "producer group \"\(id)\" was merged into \"\(survivor)\"; update \"\(survivor)\" instead")
            }
            var group = try decode(row)
            guard group.version == expectedVersion else {
                throw RPCError(
                    .aborted,
                    "producer group \"\(id)\" changed since it was read (version \(group.version), expected \(expectedVersion)); read it again and retry"
                )
            }
            try change(&group)
            group.version += 1
            group.updatedAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            try await write(group, expectedVersion: expectedVersion, session)
            try await replaceCrafts(group, session)
            return group
        }
    }

    func write(_ group: Group, expectedVersion: Int64, _ session: any SQLSession) async throws {
        let updated = try await session.query(
            """
            UPDATE producer_groups SET name_key = $2, local_name_key = $3, kind = $4, country = $5, status = $6,
                merged_into = $7, version = $8, updated_at = $9, body = $10
            WHERE id = $1 AND version = $11 RETURNING id
            """,
            [
                .of(group.id), .of(group.name.lowercased()), .of(group.localName.lowercased()),
                .of(group.kind.rawValue), .of(group.country), .of(group.status.rawValue),
                group.mergedInto.isEmpty ? .null : .of(group.mergedInto), .of(group.version),
                .of(group.updatedAt?.unixMicros ?? 0), .blob(group.serializedBytes()), .of(expectedVersion),
            ])
        guard !updated.isEmpty else {
            throw RPCError(
                .aborted, "producer group \"\(group.id)\" changed while it was being written; read it again and retry")
        }
    }

    struct ListFilter: Sendable {
        var country = ""
        var craft = ""
        var kind: Int32 = 0
        var nameContains = ""
        var status: Int32 = 0
        var pageSize = 50
        var after: (nameKey: String, id: String)?
    }

    func listGroups(_ filter: ListFilter) async throws -> (groups: [Group], next: (String, String)?) {
        var conditions = SQLConditions()
        if filter.status != 0 {
            conditions.add("g.status = \(conditions.bind(.of(filter.status)))")
        } else {
            conditions.add("g.status IN (1, 2)")
        }
        conditions.equal("g.country", filter.country)
        if filter.kind != 0 { conditions.add("g.kind = \(conditions.bind(.of(filter.kind)))") }
        if !filter.craft.isEmpty {
            conditions.add(
                "EXISTS (SELECT 1 FROM group_crafts c WHERE c.craft = \(conditions.bind(.of(filter.craft))) AND c.group_id = g.id)"
            )
        }
        if !filter.nameContains.isEmpty {
            let pattern = conditions.bind(.of("%" + Self.escapeLike(filter.nameContains.lowercased()) + "%"))
            conditions.add("g.name_key LIKE \(pattern) ESCAPE '\\' OR g.local_name_key LIKE \(pattern) ESCAPE '\\'")
        }
        if let after = filter.after { conditions.after("g.name_key", after.nameKey, idColumn: "g.id", after.id) }
        let limit = conditions.bind(.of(filter.pageSize + 1))
        let sql = """
            SELECT g.id, g.name_key, g.body FROM producer_groups g \(conditions.whereClause)
            ORDER BY g.name_key, g.id LIMIT \(limit)
            """
        let rows = try await database.query(sql, conditions.binds)
        let decoded = try rows.prefix(filter.pageSize).map(decode)
        // As many as fit in an answer (PageBudget): the next page starts after the last one kept.
        let kept = PageBudget.fitting(decoded, limit: filter.pageSize)
        let next = rows.count > kept ? (try rows[kept - 1].text("name_key"), try rows[kept - 1].text("id")) : nil
        return (Array(decoded.prefix(kept)), next)
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    // MARK: duplicates and merges

    /// Active groups in `country` other than `excluding`, minus pairs already judged not to be duplicates.
    func duplicateCandidates(of group: Group) async throws -> [Group] {
        try await database.read { session in
            let rejected = Set(
                try await session.query(
                    """
                    SELECT group_a, group_b FROM duplicate_rejections WHERE group_a = $1 OR group_b = $1
                    """, [.of(group.id)]
                ).map { row in
                    let a = try row.text("group_a")
                    let b = try row.text("group_b")
                    return a == group.id ? b : a
                })
            return try await session.query(
                """
                SELECT body FROM producer_groups WHERE country = $1 AND status IN (1, 2) AND id <> $2
                """, [.of(group.country), .of(group.id)]
            )
            .map(decode).filter { !rejected.contains($0.id) }
        }
    }

    func rejectDuplicate(_ a: String, _ b: String, requestID: String) async throws -> CommonV1.Empty {
        let (first, second) = a < b ? (a, b) : (b, a)
        return try await database.answeringOnce("RejectDuplicate", requestID: requestID) { session in
            for id in [a, b] { _ = try await loadGroup(id, session) }
            try await session.execute(
                """
                INSERT INTO duplicate_rejections (group_a, group_b, rejected_at) VALUES ($1, $2, $3)
                ON CONFLICT (group_a, group_b) DO NOTHING
                """, [.of(first), .of(second), .of(Clock.unixMicros())])
            return CommonV1.Empty()
        }
    }

    /// Merges `mergedID` into `survivorID`: the merged id resolves to the survivor from now on, and everything
    /// recorded about the merged group (skills, buyers, connections, dialogue) moves to the survivor. The fields it
    /// fills or extends on the survivor note the merged group's source, under `callRequestID`.
    func merge(survivorID: String, mergedID: String, requestID: String, callRequestID: String) async throws -> Group {
        try await idempotent(operation: "MergeProducerGroups", requestID: requestID) { session in
            guard
                let survivorRow = try await session.first(
                    "SELECT merged_into, body FROM producer_groups WHERE id = $1", [.of(survivorID)])
            else { throw RPCError(.notFound, "producer group \"\(survivorID)\" not found") }
            guard
                let mergedRow = try await session.first(
                    "SELECT merged_into, body FROM producer_groups WHERE id = $1", [.of(mergedID)])
            else { throw RPCError(.notFound, "producer group \"\(mergedID)\" not found") }
            if let into = try survivorRow.optionalText("merged_into") {
                throw RPCError(.failedPrecondition, "survivor \"\(survivorID)\" was itself merged into \"\(into)\"")
            }
            if let into = try mergedRow.optionalText("merged_into") {
                throw RPCError(.failedPrecondition, "\"\(mergedID)\" was already merged into \"\(into)\"")
            }
            var survivor = try decode(survivorRow)
            var merged = try decode(mergedRow)
            let now = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            let survivorVersion = survivor.version
            let mergedVersion = merged.version
            let before = survivor
            survivor.mergedIDs = Array(Set(survivor.mergedIDs + [merged.id] + merged.mergedIDs)).sorted()
            Self.resolve(&survivor, with: merged)
            FieldSources.note(
                FieldSources.changed(from: before, to: survivor), of: &survivor,
                source: { field in
                    (FieldSources.source(of: field, in: merged).map { "\($0); " } ?? "") + "merged in from \(merged.id)"
                }, requestID: callRequestID, at: now)
            survivor.version += 1
            survivor.updatedAt = now
            merged.status = .merged
            merged.mergedInto = survivor.id
            merged.mergedIDs = []
            merged.version += 1
            merged.updatedAt = now
            try await write(survivor, expectedVersion: survivorVersion, session)
            try await write(merged, expectedVersion: mergedVersion, session)
            try await replaceCrafts(survivor, session)
            try await session.execute("DELETE FROM group_crafts WHERE group_id = $1", [.of(merged.id)])
            // Ids merged earlier into the merged group now point straight at the survivor: one hop at most.
            try await session.execute(
                "UPDATE producer_groups SET merged_into = $1 WHERE merged_into = $2",
                [.of(survivor.id), .of(merged.id)])
            for table in ["skill_assessments", "buyer_relationships", "dialogue_contacts", "follow_ups"] {
                try await session.execute(
                    "UPDATE \(table) SET group_id = $1 WHERE group_id = $2",
                    [.of(survivor.id), .of(merged.id)])
            }
            try await session.execute(
                """
                UPDATE group_connections SET from_group = $1 WHERE from_group = $2
                  AND NOT EXISTS (SELECT 1 FROM group_connections o WHERE o.from_group = $1
                                  AND o.to_group = group_connections.to_group AND o.kind = group_connections.kind)
                """, [.of(survivor.id), .of(merged.id)])
            try await session.execute(
                """
                UPDATE group_connections SET to_group = $1 WHERE to_group = $2
                  AND NOT EXISTS (SELECT 1 FROM group_connections o WHERE o.to_group = $1
                                  AND o.from_group = group_connections.from_group AND o.kind = group_connections.kind)
                """, [.of(survivor.id), .of(merged.id)])
            try await session.execute(
                "DELETE FROM group_connections WHERE from_group = $1 OR to_group = $1",
                [.of(merged.id)])
            try await session.execute("DELETE FROM group_connections WHERE from_group = to_group")
            return survivor.id
        } load: { session, id in
            try await loadGroup(id, session)
        }
    }

    /// The one rule a merge follows for every field the two groups may disagree on (docs: MergeProducerGroups):
    /// what the survivor holds stands, and the merged group fills what the survivor leaves empty; lists are joined.
    /// Where joining could contradict itself, the combined group's capacity wins: a process either group does
    /// in-house is in-house, and no longer bought in. Member counts move as one whole (the survivor's, or the merged
    /// group's when the survivor has none), never mixed field by field, so that they always add up.
    static func resolve(_ survivor: inout Group, with merged: Group) {
        survivor.crafts = union(survivor.crafts, merged.crafts)
        survivor.processesInHouse = union(survivor.processesInHouse, merged.processesInHouse)
        let inHouse = Set(survivor.processesInHouse)
        survivor.processesOutsourced = union(survivor.processesOutsourced, merged.processesOutsourced).filter {
            !inHouse.contains($0)
        }
        survivor.certifications += merged.certifications.filter { cert in
            !survivor.certifications.contains { $0.scheme == cert.scheme && $0.reference == cert.reference }
        }
        if survivor.localName.isEmpty { survivor.localName = merged.localName }
        if survivor.region.isEmpty { survivor.region = merged.region }
        if survivor.foundedYear == 0 { survivor.foundedYear = merged.foundedYear }
        if survivor.leadTimeDays == 0 { survivor.leadTimeDays = merged.leadTimeDays }
        if (survivor.minimumOrder?.amount ?? 0) == 0, let order = merged.minimumOrder, order.amount > 0 {
            survivor.minimumOrder = order
        }
        let counted = { (members: ProducerV1.MemberCounts?) in
            (members?.women ?? 0) > 0 || (members?.men ?? 0) > 0 || (members?.other ?? 0) > 0
        }
        if !counted(survivor.members) && counted(merged.members) { survivor.members = merged.members }
        var contact = survivor.contact ?? ProducerV1.ContactDetails()
        let other = merged.contact ?? ProducerV1.ContactDetails()
        if contact.person.isEmpty { contact.person = other.person }
        if contact.phone.isEmpty { contact.phone = other.phone }
        if contact.email.isEmpty { contact.email = other.email }
        if contact.address.isEmpty { contact.address = other.address }
        if contact != ProducerV1.ContactDetails() { survivor.contact = contact }
        if survivor.notes.isEmpty { survivor.notes = merged.notes }
    }

    static func union(_ a: [String], _ b: [String]) -> [String] {
        var seen = Set<String>()
        return (a + b).filter { seen.insert($0).inserted }
    }

    // MARK: skills

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

    func recordAssessment(_ assessment: ProducerV1.SkillAssessment, requestID: String) async throws
        -> ProducerV1.SkillAssessment
    {
        try await idempotent(operation: "RecordSkillAssessment", requestID: requestID) { session in
            let group = try await loadGroup(assessment.groupID, session)
            guard try await skillExists(assessment.skill, session) else {
                throw RPCError.invalidArgument(
                    field: "assessment.skill",
                    "\"\(assessment.skill)\" is not in the skills catalogue (see ListSkills, or AddSkill)")
            }
            let id = "sa_" + RequestID.make()
            try await session.execute(
                """
                INSERT INTO skill_assessments (id, group_id, skill, assessed_on, level, members_holding, assessor, notes,
                    created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """,
                [
                    .of(id), .of(group.id), .of(assessment.skill), .of(ISODate(assessment.assessedOn!)!.description),
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

    func listAssessments(groupID: String, skill: String) async throws -> [ProducerV1.SkillAssessment] {
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

    // MARK: buyers and connections

    func addRelationship(_ relationship: ProducerV1.BuyerRelationship, requestID: String) async throws
        -> ProducerV1.BuyerRelationship
    {
        try await idempotent(operation: "AddBuyerRelationship", requestID: requestID) { session in
            let group = try await loadGroup(relationship.groupID, session)
            let id = "br_" + RequestID.make()
            try await session.execute(
                """
                INSERT INTO buyer_relationships (id, group_id, organisation, since, kind, purchases_minor,
                    purchases_currency, ended_on, notes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, [.of(id), .of(group.id)] + Self.relationshipValues(relationship))
            return id
        } load: { session, id in
            try await loadRelationship(id, session)
        }
    }

    private static func relationshipValues(_ relationship: ProducerV1.BuyerRelationship) -> [SQLValue] {
        [
            .of(relationship.organisation), .of(ISODate(relationship.since!)!.description),
            .of(relationship.kind.rawValue), .of(relationship.yearlyPurchases?.minorUnits),
            .of(relationship.yearlyPurchases?.currency), .of(relationship.endedOn.flatMap(ISODate.init)?.description),
            .of(relationship.notes),
        ]
    }

    func loadRelationship(_ id: String, _ session: any SQLSession) async throws -> ProducerV1.BuyerRelationship {
        guard let row = try await session.first("SELECT * FROM buyer_relationships WHERE id = $1", [.of(id)]) else {
            throw RPCError(.notFound, "buyer relationship \"\(id)\" not found")
        }
        return try Self.relationship(row)
    }

    static func relationship(_ row: SQLRow) throws -> ProducerV1.BuyerRelationship {
        var relationship = ProducerV1.BuyerRelationship(
            id: try row.text("id"), groupID: try row.text("group_id"), organisation: try row.text("organisation"),
            since: ISODate(iso: try row.text("since"))?.message,
            kind: ProducerV1.RelationshipKind(rawValue: Int32(try row.int("kind"))), notes: try row.text("notes"))
        if let minor = try row.optionalInt("purchases_minor"), let currency = try row.optionalText("purchases_currency")
        {
            relationship.yearlyPurchases = CommonV1.Money(minorUnits: minor, currency: currency)
        }
        relationship.endedOn = try row.optionalText("ended_on").flatMap { ISODate(iso: $0)?.message }
        return relationship
    }

    func updateRelationship(_ relationship: ProducerV1.BuyerRelationship, requestID: String) async throws
        -> ProducerV1.BuyerRelationship
    {
        try await database.answeringOnce("UpdateBuyerRelationship", requestID: requestID) { session in
            let stored = try await loadRelationship(relationship.id, session)
            var updated = relationship
            updated.groupID = stored.groupID
            if updated.since == nil { updated.since = stored.since }
            if updated.organisation.isEmpty { updated.organisation = stored.organisation }
            try await session.execute(
                """
                UPDATE buyer_relationships SET organisation = $2, since = $3, kind = $4, purchases_minor = $5,
                    purchases_currency = $6, ended_on = $7, notes = $8 WHERE id = $1
                """, [.of(relationship.id)] + Self.relationshipValues(updated))
            return try await loadRelationship(relationship.id, session)
        }
    }

    func listRelationships(groupID: String) async throws -> [ProducerV1.BuyerRelationship] {
        try await database.read { session in
            let group = try await loadGroup(groupID, session)
            return try await session.query(
                "SELECT * FROM buyer_relationships WHERE group_id = $1 ORDER BY since, organisation", [.of(group.id)]
            )
            .map(Self.relationship)
        }
    }

    func connect(_ connection: ProducerV1.GroupConnection, requestID: String) async throws -> ProducerV1.GroupConnection
    {
        try await idempotent(operation: "ConnectGroups", requestID: requestID) { session in
            let from = try await loadGroup(connection.fromGroupID, session)
            let to = try await loadGroup(connection.toGroupID, session)
            guard from.id != to.id else {
                throw RPCError.invalidArgument(field: "connection.to_group_id", "a group cannot be connected to itself")
            }
            if let existing = try await session.first(
                """
                SELECT id FROM group_connections WHERE from_group = $1 AND to_group = $2 AND kind = $3
                """, [.of(from.id), .of(to.id), .of(connection.kind.rawValue)])
            {
                throw RPCError(
                    .alreadyExists,
                    "\(from.id) and \(to.id) are already connected as \(CSV.cell(connection.kind)) (\(try existing.text("id")))"
                )
            }
            let id = "gc_" + RequestID.make()
            try await session.execute(
                """
                INSERT INTO group_connections (id, from_group, to_group, kind, since, notes) VALUES ($1, $2, $3, $4, $5, $6)
                """,
                [
                    .of(id), .of(from.id), .of(to.id), .of(connection.kind.rawValue),
                    .of(connection.since.flatMap(ISODate.init)?.description), .of(connection.notes),
                ])
            return id
        } load: { session, id in
            guard let row = try await session.first("SELECT * FROM group_connections WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "connection \(id) vanished")
            }
            return try Self.connection(row)
        }
    }

    static func connection(_ row: SQLRow) throws -> ProducerV1.GroupConnection {
        ProducerV1.GroupConnection(
            id: try row.text("id"), fromGroupID: try row.text("from_group"), toGroupID: try row.text("to_group"),
            kind: ProducerV1.ConnectionKind(rawValue: Int32(try row.int("kind"))),
            since: try row.optionalText("since").flatMap { ISODate(iso: $0)?.message }, notes: try row.text("notes"))
    }

    func listConnections(groupID: String) async throws -> [ProducerV1.GroupConnection] {
        try await database.read { session in
            let group = try await loadGroup(groupID, session)
            return try await session.query(
                "SELECT * FROM group_connections WHERE from_group = $1 OR to_group = $1 ORDER BY kind, id",
                [.of(group.id)]
            )
            .map(Self.connection)
        }
    }

    // MARK: dialogue

    func logContact(_ contact: ProducerV1.DialogueContact, requestID: String) async throws -> ProducerV1.DialogueContact
    {
        try await idempotent(operation: "LogContact", requestID: requestID) { session in
            let group = try await loadGroup(contact.groupID, session)
            let id = "dc_" + RequestID.make()
            try await session.execute(
                """
                INSERT INTO dialogue_contacts (id, group_id, organisation, contact_date, kind, topics, summary, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                [
                    .of(id), .of(group.id), .of(contact.organisation), .of(ISODate(contact.contactDate!)!.description),
                    .of(contact.kind.rawValue), .of(contact.topics.joined(separator: "\n")), .of(contact.summary),
                    .of(Clock.unixMicros()),
                ])
            for followUp in contact.followUps {
                try await session.execute(
                    """
                    INSERT INTO follow_ups (id, contact_id, group_id, description, due_on, done, done_on)
                    VALUES ($1, $2, $3, $4, $5, 0, NULL)
                    """,
                    [
                        .of("fu_" + RequestID.make()), .of(id), .of(group.id), .of(followUp.description),
                        .of(ISODate(followUp.dueOn!)!.description),
                    ])
            }
            return id
        } load: { session, id in
            try await loadContact(id, session)
        }
    }

    func loadContact(_ id: String, _ session: any SQLSession) async throws -> ProducerV1.DialogueContact {
        guard let row = try await session.first("SELECT * FROM dialogue_contacts WHERE id = $1", [.of(id)]) else {
            throw RPCError(.notFound, "contact \"\(id)\" not found")
        }
        let topics = try row.text("topics")
        return ProducerV1.DialogueContact(
            id: id, groupID: try row.text("group_id"), organisation: try row.text("organisation"),
            contactDate: ISODate(iso: try row.text("contact_date"))?.message,
            kind: ProducerV1.ContactKind(rawValue: Int32(try row.int("kind"))),
            topics: topics.isEmpty ? [] : topics.split(separator: "\n").map(String.init),
            summary: try row.text("summary"),
            followUps: try await session.query(
                "SELECT * FROM follow_ups WHERE contact_id = $1 ORDER BY due_on, id",
                [.of(id)]
            ).map(Self.followUp))
    }

    static func followUp(_ row: SQLRow) throws -> ProducerV1.FollowUp {
        ProducerV1.FollowUp(
            id: try row.text("id"), contactID: try row.text("contact_id"), groupID: try row.text("group_id"),
            description: try row.text("description"), dueOn: ISODate(iso: try row.text("due_on"))?.message,
            done: try row.bool("done"), doneOn: try row.optionalText("done_on").flatMap { ISODate(iso: $0)?.message })
    }

    func listContacts(groupID: String) async throws -> [ProducerV1.DialogueContact] {
        try await database.read { session in
            let group = try await loadGroup(groupID, session)
            var contacts: [ProducerV1.DialogueContact] = []
            for row in try await session.query(
                "SELECT id FROM dialogue_contacts WHERE group_id = $1 ORDER BY contact_date DESC, created_at DESC",
                [.of(group.id)])
            {
                contacts.append(try await loadContact(try row.text("id"), session))
            }
            return contacts
        }
    }

    func overdueFollowUps(asOf: ISODate, organisation: String) async throws -> [ProducerV1.OverdueFollowUp] {
        try await database.read { session in
            var sql = """
                SELECT f.*, c.organisation, g.body FROM follow_ups f
                JOIN dialogue_contacts c ON c.id = f.contact_id
                JOIN producer_groups g ON g.id = f.group_id
                WHERE f.done = 0 AND f.due_on < $1
                """
            var binds: [SQLValue] = [.of(asOf.description)]
            if !organisation.isEmpty {
                sql += " AND c.organisation = $2"
                binds.append(.of(organisation))
            }
            return try await session.query(sql + " ORDER BY f.due_on, f.id", binds).map { row in
                let followUp = try Self.followUp(row)
                let due = ISODate(followUp.dueOn!)!
                return ProducerV1.OverdueFollowUp(
                    followUp: followUp, groupName: try decode(row).name, organisation: try row.text("organisation"),
                    daysOverdue: Int32(asOf.dayNumber - due.dayNumber))
            }
        }
    }

    func completeFollowUp(id: String, doneOn: ISODate, requestID: String) async throws -> ProducerV1.FollowUp {
        try await database.answeringOnce("CompleteFollowUp", requestID: requestID) { session in
            let updated = try await session.query(
                "UPDATE follow_ups SET done = 1, done_on = $2 WHERE id = $1 RETURNING *",
                [.of(id), .of(doneOn.description)])
            guard let row = updated.first else { throw RPCError(.notFound, "follow-up \"\(id)\" not found") }
            return try Self.followUp(row)
        }
    }

    private func idempotent<T: Sendable>(
        operation: String, requestID: String,
        create: @escaping @Sendable (any SQLSession) async throws -> String,
        load: @escaping @Sendable (any SQLSession, String) async throws -> T
    ) async throws -> T {
        try await database.idempotent(operation: operation, requestID: requestID, create: create, load: load)
    }
}
