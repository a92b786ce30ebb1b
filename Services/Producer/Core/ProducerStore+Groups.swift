import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// ProducerStore: groups.
extension ProducerStore {
    /// Creates a group once per request id: a retry returns the group the first attempt made.
    func createGroup(_ group: Group, requestID: String) async throws -> Group {
        try await database.idempotent(operation: "CreateProducerGroup", requestID: requestID) { session in
            var group = group
            let now = Clock.unixMicros()
            let id = ProducerGroupID.mint()
            group.id = id.text
            group.status = .active
            group.version = 1
            group.createdAt = CommonV1.Timestamp(unixMicros: now)
            group.updatedAt = group.createdAt
            try await insert(group, session)
            return id
        } load: { session, id in
            try await loadGroup(id, session)
        }
    }

    func insert(_ group: Group, _ session: any SQLSession) async throws {
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
            group.id = ProducerGroupID.mint().text
            group.status = .active
            group.version = 1
            group.createdAt = now
            group.updatedAt = now
            return group
        }
        try await database.transaction { session in try await insertMany(prepared, session) }
        return prepared.map(\.id)
    }

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
    func getGroup(_ id: ProducerGroupID) async throws -> Group {
        guard
            let row = try await database.query(
                "SELECT merged_into, body FROM producer_groups WHERE id = $1", [.of(id.text)]
            ).first
        else { throw id.notFound() }
        guard let survivor = try row.optionalText("merged_into") else { return try decode(row) }
        guard
            let merged = try await database.query("SELECT body FROM producer_groups WHERE id = $1", [.of(survivor)])
                .first
        else { throw StorageError(.corrupt, "group \(id) is merged into missing group \(survivor)") }
        return try decode(merged)
    }

    func loadGroup(_ id: ProducerGroupID, _ session: any SQLSession) async throws -> Group {
        guard
            let row = try await session.first(
                "SELECT merged_into, body FROM producer_groups WHERE id = $1", [.of(id.text)])
        else { throw id.notFound() }
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
        id: ProducerGroupID, expectedVersion: Int64, requestID: String,
        _ change: @escaping @Sendable (inout Group) throws -> Void
    ) async throws -> Group {
        try await database.answeringOnce("UpdateProducerGroup", requestID: requestID) { session in
            guard
                let row = try await session.first(
                    "SELECT merged_into, version, body FROM producer_groups WHERE id = $1", [.of(id.text)])
            else { throw id.notFound() }
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
}
