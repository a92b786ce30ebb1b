import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// Bulk import of producer groups from a spreadsheet: every row checked, then all written in one transaction, or
/// nothing when any row is wrong.
struct GroupImport: Sendable {
    typealias Group = ProducerV1.ProducerGroup

    /// Rows an import may hold; a bigger file is split.
    static let maxRows = 10_000

    let mode: ProducerV1.ImportMode
    let sheet: CSV.Sheet
    /// What the field sources of the values it writes say, and the request id they name.
    let source: String
    let requestID: String

    /// Reads the file; problems with it as a whole (not CSV, header, no rows, too many) go to `check`. `source`
    /// (a file name, say) is noted as the source of every value the import writes.
    init(csv: [UInt8], mode: ProducerV1.ImportMode, source: String, requestID: String, _ check: inout FieldValidator) {
        self.mode = mode
        self.source = source.isEmpty ? "spreadsheet import" : source
        self.requestID = requestID
        let required: [String]
        switch mode {
        case .update: required = ["id"]
        case .addOrUpdate: required = []
        default: required = ["name", "kind", "country"]
        }
        sheet = CSV.Sheet(
            csv, known: GroupCSV.columns, required: required, purpose: mode == .update ? "update groups" : "add groups",
            maxRows: Self.maxRows, &check)
    }

    /// What the import writes: groups to add and groups to change (each with the version it was read at).
    struct Plan {
        var response = ProducerV1.ImportProducerGroupsResponse()
        var additions: [Group] = []
        var updates: [(group: Group, readVersion: Int64)] = []
    }

    /// Checks every row against what is stored and works out what each does. Wrong cells fail the whole import
    /// with INVALID_ARGUMENT naming each row and column; a version cell that no longer matches fails it ABORTED.
    func plan(_ store: ProducerStore, _ session: any SQLSession) async throws -> Plan {
        var check = FieldValidator()
        var conflicts: [String] = []
        var plan = Plan()
        var rowOfID: [String: Int] = [:]
        var added: [(row: Int, country: String, key: NameSimilarity.Key)] = []
        var storedNames = StoredNames()
        let now = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
        let fields = Set(sheet.columns.compactMap { GroupCSV.fieldOfColumn[$0] })

        for row in sheet.rows {
            // A call cancelled (its deadline, its client, a shutdown past its grace) stops here, and rolls back.
            try Task.checkCancellation()
            let id = row["id"] ?? ""
            var rowCheck = CSV.RowCheck(row: row.number)
            var result = ProducerV1.ImportedRow(row: Int32(row.number))
            if let problem = row.problem {
                check.fail("row \(row.number)", problem)
                continue
            }
            if id.isEmpty {
                guard mode != .update else {
                    check.fail("row \(row.number), id", "is required: mode update changes existing groups only")
                    continue
                }
                var group = Group()
                GroupCSV.apply(row.cells, to: &group, &rowCheck)
                group = ProducerHandler.validated(group, prefix: "", &rowCheck.values)
                if group.status == .unspecified { group.status = .active }
                group.id = ProducerGroupID.mint().text
                group.version = 1
                group.createdAt = now
                group.updatedAt = now
                FieldSources.note(changesFrom: nil, in: &group, source: source, requestID: requestID, at: now)
                result.action = .created
                result.groupID = group.id
                result.name = group.name
                let key = NameSimilarity.Key(group.name)
                let alikeRows = added.filter {
                    $0.country == group.country && NameSimilarity.score(key, $0.key) >= Self.similarityThreshold
                }.map { Int32($0.row) }
                let alikeGroups = try await storedNames.alike(group, store, session)
                // The first few of each, and how many in all: an answer stays small however alike the names.
                result.duplicateOfRows = Array(alikeRows.prefix(Self.listedAlike))
                result.duplicateOfRowsTotal = Int32(alikeRows.count)
                result.possibleDuplicates = Array(alikeGroups.prefix(Self.listedAlike))
                result.possibleDuplicatesTotal = Int32(alikeGroups.count)
                added.append((row.number, group.country, key))
                plan.additions.append(group)
            } else {
                guard mode != .add else {
                    check.fail(
                        "row \(row.number), id",
                        "mode add only adds new groups; to change \"\(id)\" import with mode update or add_or_update"
                    )
                    continue
                }
                if let earlier = rowOfID[id] {
                    check.fail("row \(row.number), id", "group \"\(id)\" is also on row \(earlier)")
                    continue
                }
                rowOfID[id] = row.number
                guard let stored = try await store.storedGroup(id, session) else {
                    check.fail("row \(row.number), id", "no producer group \"\(id)\"")
                    continue
                }
                if !stored.mergedInto.isEmpty {
                    check.fail(
                        "row \(row.number), id",
                        "\"\(id)\" was merged into \"\(stored.mergedInto)\"; change \"\(stored.mergedInto)\" instead"
                    )
                    continue
                }
                if let version = rowCheck.number(row["version"], column: "version", as: Int64.self),
                    version != stored.version
                {
                    conflicts.append(
                        "row \(row.number): group \"\(id)\" is at version \(stored.version), the file has \(version)")
                }
                var group = stored
                GroupCSV.apply(row.cells, to: &group, &rowCheck)
                let clean = ProducerHandler.validated(group, prefix: "", &rowCheck.values, only: fields)
                var changed = stored
                for field in fields { ProducerHandler.copy(field, from: clean, to: &changed) }
                result.groupID = stored.id
                result.name = changed.name
                result.changedFields = FieldSources.changed(from: stored, to: changed)
                if result.changedFields.isEmpty {
                    result.action = .unchanged
                } else {
                    result.action = .updated
                    changed.version += 1
                    changed.updatedAt = now
                    FieldSources.note(
                        result.changedFields, of: &changed, source: { _ in source }, requestID: requestID, at: now)
                    plan.updates.append((changed, stored.version))
                }
            }
            // The validator names fields ".members.women"; the file's column is "members_women".
            rowCheck.report(to: &check) { $0.drop { $0 == "." }.replacingOccurrences(of: ".", with: "_") }
            plan.response.rows.append(result)
        }
        try check.check()
        if !conflicts.isEmpty {
            throw RPCError(
                .aborted,
                "groups changed since the file was exported; export them again and redo the changes: "
                    + conflicts.joined(separator: "; "))
        }
        plan.response.created = Int32(plan.additions.count)
        plan.response.updated = Int32(plan.updates.count)
        plan.response.unchanged = Int32(plan.response.rows.count - plan.additions.count - plan.updates.count)
        return plan
    }

    /// Alike groups and earlier rows listed per row (their totals are given too).
    static let listedAlike = 5

    /// As FindDuplicates' default.
    static let similarityThreshold = 0.75

    /// The names of the groups stored in each country, read once per country an import adds to.
    struct StoredNames {
        private var byCountry: [String: [(id: String, name: NameSimilarity.Key, localName: NameSimilarity.Key?)]] =
            [:]

        /// Ids of the groups stored in `group`'s country whose name (or local name) is alike to its.
        mutating func alike(_ group: Group, _ store: ProducerStore, _ session: any SQLSession) async throws
            -> [String]
        {
            if byCountry[group.country] == nil {
                byCountry[group.country] = try await store.activeNames(country: group.country, session).map {
                    ($0.id, NameSimilarity.Key($0.name), $0.localName.isEmpty ? nil : NameSimilarity.Key($0.localName))
                }
            }
            let name = NameSimilarity.Key(group.name)
            let localName = group.localName.isEmpty ? nil : NameSimilarity.Key(group.localName)
            return (byCountry[group.country] ?? []).filter { other in
                if NameSimilarity.score(name, other.name) >= GroupImport.similarityThreshold { return true }
                guard let localName, let otherLocal = other.localName else { return false }
                return NameSimilarity.score(localName, otherLocal) >= GroupImport.similarityThreshold
            }.map(\.id)
        }
    }
}

extension ProducerStore {
    /// Runs `groupImport`: with `validateOnly`, in a read snapshot that writes nothing; otherwise in one
    /// transaction, once per request id (a retry answers as the first import did). The answer lists the rows from
    /// `rowsFrom` on, as many as fit.
    func importGroups(
        _ groupImport: GroupImport, validateOnly: Bool, requestID: String, source: String, rowsFrom: Int32
    ) async throws -> ProducerV1.ImportProducerGroupsResponse {
        if validateOnly {
            return try await database.read { session in
                var response = try await groupImport.plan(self, session).response
                response.validateOnly = true
                for index in response.rows.indices where response.rows[index].action == .created {
                    response.rows[index].groupID = ""
                }
                return response
            }.listing(from: rowsFrom)
        }
        // The answer is kept whole, every row listed, so that a retry can read any part of it.
        return try await database.idempotent(operation: "ImportProducerGroups", requestID: requestID) { session in
            var plan = try await groupImport.plan(self, session)
            try await insertMany(plan.additions, session)
            for (group, readVersion) in plan.updates {
                try await write(group, expectedVersion: readVersion, session)
                try await replaceCrafts(group, session)
            }
            plan.response.importID = GroupImportID.mint().text
            try await session.execute(
                "INSERT INTO group_imports (id, source, mode, created_at, body) VALUES ($1, $2, $3, $4, $5)",
                [
                    .of(plan.response.importID), .of(source), .of(groupImport.mode.rawValue),
                    .of(Clock.unixMicros()), .blob(plan.response.serializedBytes()),
                ])
            return plan.response.importID
        } load: { session, id in
            guard let row = try await session.first("SELECT body FROM group_imports WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "import \(id) is logged but not stored")
            }
            return try row.message(ProducerV1.ImportProducerGroupsResponse.self)
        }.listing(from: rowsFrom)
    }

    /// The group stored under `id` itself (not resolved through merges), or nil.
    func storedGroup(_ id: String, _ session: any SQLSession) async throws -> ProducerV1.ProducerGroup? {
        try await session.first("SELECT body FROM producer_groups WHERE id = $1", [.of(id)]).map(decode)
    }

    /// Ids and names of the groups in `country` that are not merged away, for duplicate checks.
    func activeNames(country: String, _ session: any SQLSession) async throws
        -> [(id: String, name: String, localName: String)]
    {
        try await session.query(
            "SELECT id, name_key, local_name_key FROM producer_groups WHERE country = $1 AND status IN (1, 2)",
            [.of(country)]
        ).map { (try $0.text("id"), try $0.text("name_key"), try $0.text("local_name_key")) }
    }
}

extension ProducerV1.ImportProducerGroupsResponse {
    /// The answer listing the rows numbered `from` on, as far as they fit in an answer (a quarter of its limit),
    /// with how many more there are and where they start; the counts still cover every row.
    func listing(from: Int32) -> Self {
        var answer = self
        answer.rows.removeAll { $0.row < from }
        let listed = PageBudget.fitting(answer.rows, limit: answer.rows.count)
        answer.rowsOmitted = Int32(answer.rows.count - listed)
        answer.nextRow = listed < answer.rows.count ? answer.rows[listed].row : 0
        answer.rows.removeLast(answer.rows.count - listed)
        return answer
    }
}
