import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// The Assistance service's persistence, written once for SQLite and PostgreSQL: organisations, projects and their
/// money flows. Trainings, equipment, referrals and results are in AssistanceStore+Records.swift.
public struct AssistanceStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    // MARK: organisations

    func createOrganisation(_ organisation: AssistanceV1.Organisation, requestID: String) async throws
        -> AssistanceV1.Organisation
    {
        try await database.idempotent(operation: "CreateOrganisation", requestID: requestID) { session in
            var organisation = organisation
            let id = OrganisationID.mint()
            organisation.id = id.text
            try await Self.insert(organisation, session)
            return id
        } load: { session, id in
            try await session.message(
                AssistanceV1.Organisation.self, from: "organisations",
                id: id)
        }
    }

    /// Records `organisation` (with its id), refusing an IATI identifier another one holds.
    static func insert(_ organisation: AssistanceV1.Organisation, _ session: any SQLSession) async throws {
        try await refuseTakenIdentifier("organisations", organisation.iatiIdentifier, "organisation", session)
        try await insertRow(organisation, session)
    }

    /// Writes `organisation` without its checks, which a plan made in the same transaction has made.
    static func insertRow(_ organisation: AssistanceV1.Organisation, _ session: any SQLSession) async throws {
        try await session.execute(
            """
            INSERT INTO organisations (id, kind, name, iati_identifier, body) VALUES ($1, $2, $3, $4, $5)
            """,
            [
                .of(organisation.id), .of(organisation.kind.rawValue), .of(organisation.name),
                .of(organisation.iatiIdentifier), .blob(organisation.serializedBytes()),
            ])
    }

    /// FAILED_PRECONDITION when `parent` takes no new projects under it: cancelled or closed.
    static func refuseClosedParent(_ parent: AssistanceV1.Project) throws(DomainError) {
        if parent.status == .cancelled || parent.status == .closed {
            throw DomainError(
                .refused, "parent project \(parent.id) is \(CSV.cell(parent.status)): no new projects go under it")
        }
    }

    /// ALREADY_EXISTS naming the record (other than `except`) that holds an IATI identifier, before the unique
    /// index would say it less clearly.
    static func refuseTakenIdentifier(
        _ table: String, _ identifier: String, _ noun: String, _ session: any SQLSession, except id: String = ""
    ) async throws {
        guard !identifier.isEmpty,
            let row = try await session.first(
                "SELECT id FROM \(table) WHERE iati_identifier = $1 AND id <> $2", [.of(identifier), .of(id)])
        else { return }
        throw RPCError(
            .alreadyExists, "IATI identifier \"\(identifier)\" is already used by \(noun) \(try row.text("id"))")
    }

    func organisation(_ id: OrganisationID) async throws -> AssistanceV1.Organisation {
        try await database.read { session in
            try await session.message(AssistanceV1.Organisation.self, from: "organisations", id: id)
        }
    }

    /// The organisations among `ids` that do not exist.
    func missingOrganisations(_ ids: [String]) async throws -> Set<String> {
        var conditions = SQLConditions()
        conditions.among("id", Array(Set(ids)))
        let found = try await database.query("SELECT id FROM organisations \(conditions.whereClause)", conditions.binds)
            .map { try $0.text("id") }
        return Set(ids).subtracting(found)
    }

    func listOrganisations(kind: AssistanceV1.OrganisationKind) async throws -> [AssistanceV1.Organisation] {
        let rows =
            kind == .unspecified
            ? try await database.query("SELECT body FROM organisations ORDER BY name, id", [])
            : try await database.query(
                "SELECT body FROM organisations WHERE kind = $1 ORDER BY name, id", [.of(kind.rawValue)])
        return try rows.map { try $0.message(AssistanceV1.Organisation.self) }
    }

    // MARK: projects

    func createProject(_ project: AssistanceV1.Project, requestID: String) async throws -> AssistanceV1.Project {
        try await database.idempotent(operation: "CreateProject", requestID: requestID) { session in
            var project = project
            let id = ProjectID.mint()
            project.id = id.text
            project.version = 1
            project.childIDs = []
            try await Self.insert(project, session)
            return id
        } load: { session, id in
            try await Self.project(id, session)
        }
    }

    /// Records a new project (with its id and version 1) under its parent, which must take new projects, refusing
    /// an IATI identifier another project holds.
    static func insert(_ project: AssistanceV1.Project, _ session: any SQLSession) async throws {
        if !project.parentID.isEmpty {
            let parent = try await session.message(
                AssistanceV1.Project.self, from: "projects",
                id: try ProjectID(checking: project.parentID, "project.parent_id"))
            try refuseClosedParent(parent)
        }
        try await refuseTakenIdentifier("projects", project.iatiIdentifier, "project", session)
        try await insertRow(project, session)
    }

    /// Writes `project` without its checks, which a plan made in the same transaction has made.
    static func insertRow(_ project: AssistanceV1.Project, _ session: any SQLSession) async throws {
        try await session.execute(
            """
            INSERT INTO projects (id, parent_id, status, iati_identifier, version, body) VALUES ($1, $2, $3, $4, $5, $6)
            """,
            [
                .of(project.id), .of(project.parentID), .of(project.status.rawValue), .of(project.iatiIdentifier),
                .of(project.version), .blob(project.serializedBytes()),
            ])
    }

    /// A project with its children filled in.
    static func project(_ id: ProjectID, _ session: any SQLSession) async throws -> AssistanceV1.Project {
        var project = try await session.message(AssistanceV1.Project.self, from: "projects", id: id)
        project.childIDs = try await session.query(
            "SELECT id FROM projects WHERE parent_id = $1 ORDER BY id", [.of(id.text)]
        )
        .map { try $0.text("id") }
        return project
    }

    func project(_ id: ProjectID) async throws -> AssistanceV1.Project {
        try await database.read { session in try await Self.project(id, session) }
    }

    /// Writes `project` (validated, with the stored fields the update left alone) over the stored one if that is
    /// still at `expectedVersion`; refuses to drop a budget currency that transactions use.
    func updateProject(_ project: AssistanceV1.Project, expectedVersion: Int64, requestID: String) async throws
        -> AssistanceV1.Project
    {
        try await database.answeringOnce("UpdateProject", requestID: requestID) { session in
            let currencies = Set(project.budget.map(\.currency))
            let used = try await session.query(
                "SELECT DISTINCT currency FROM transactions WHERE project_id = $1", [.of(project.id)]
            )
            .map { try $0.text("currency") }
            if let dropped = used.filter({ !currencies.contains($0) }).sorted().first {
                throw RPCError(
                    .failedPrecondition,
                    "project \(project.id) has transactions in \(dropped): its budget must keep a \(dropped) line")
            }
            try await Self.refuseTakenIdentifier(
                "projects", project.iatiIdentifier, "project", session, except: project.id)
            var stored = project
            stored.version = expectedVersion + 1
            stored.childIDs = []  // derived on every read
            let updated = try await session.query(
                """
                UPDATE projects SET status = $2, iati_identifier = $3, version = $4, body = $5
                WHERE id = $1 AND version = $6 RETURNING id
                """,
                [
                    .of(project.id), .of(stored.status.rawValue), .of(stored.iatiIdentifier), .of(stored.version),
                    .blob(stored.serializedBytes()), .of(expectedVersion),
                ])
            guard !updated.isEmpty else {
                throw RPCError(
                    .aborted, "project \(project.id) changed since version \(expectedVersion): read it again")
            }
            return try await Self.project(try ProjectID(checking: project.id, "project.id"), session)
        }
    }

    func listProjects(status: AssistanceV1.ProjectStatus, parentID: String) async throws -> [AssistanceV1.Project] {
        var conditions = SQLConditions()
        if status != .unspecified { conditions.add("status = \(conditions.bind(.of(status.rawValue)))") }
        conditions.equal("parent_id", parentID)
        let query = conditions
        return try await database.read { session in
            var projects = try await session.query(
                "SELECT body FROM projects \(query.whereClause) ORDER BY id", query.binds
            )
            .map { try $0.message(AssistanceV1.Project.self) }
            let children = Dictionary(
                grouping: try await session.query("SELECT id, parent_id FROM projects WHERE parent_id <> ''")
                    .map { (try $0.text("parent_id"), try $0.text("id")) }, by: \.0)
            for index in projects.indices {
                projects[index].childIDs = (children[projects[index].id] ?? []).map(\.1).sorted()
            }
            return projects
        }
    }

    /// The project and every project under it, parents before children (one recursive query).
    static func subtree(_ id: ProjectID, _ session: any SQLSession) async throws -> [AssistanceV1.Project] {
        let projects = try await session.query(
            """
            WITH RECURSIVE tree (id, depth) AS (
                SELECT id, 0 FROM projects WHERE id = $1
                UNION ALL SELECT p.id, t.depth + 1 FROM projects p JOIN tree t ON p.parent_id = t.id)
            SELECT p.body FROM projects p JOIN tree t ON t.id = p.id ORDER BY t.depth, p.id
            """, [.of(id.text)]
        ).map { try $0.message(AssistanceV1.Project.self) }
        guard !projects.isEmpty else { throw id.notFound() }
        return projects
    }

    // MARK: money flows

    /// Records a transaction after checking it against the project (currency, dates, status) and, for a loan
    /// repayment, against what the group still owes — all in one database transaction.
    func recordTransaction(_ flow: Valued<AssistanceV1.Transaction>, requestID: String) async throws
        -> AssistanceV1.Transaction
    {
        try await database.idempotent(operation: "RecordTransaction", requestID: requestID) { session in
            let transaction = flow.record
            let value = flow.amount
            let project = try await session.message(
                AssistanceV1.Project.self, from: "projects",
                id: try ProjectID(checking: transaction.projectID, "transaction.project_id"))
            try MoneyRules.check(flow, against: project)
            if transaction.type == .loan || transaction.type == .loanRepayment {
                try await session.lock("loans \(transaction.groupID) \(value.currency)")
            }
            if transaction.type == .loanRepayment {
                let owed = try await Self.loansOutstanding(
                    group: transaction.groupID, currency: value.currency, session)
                if value.minorUnits > owed {
                    throw DomainError(
                        .refused,
                        """
                        group \(transaction.groupID) owes \(CurrencyCode.format(owed, value.currency)) in loans; \
                        a repayment of \(value) is more than that
                        """)
                }
            }
            let id = TransactionID.mint()
            try await insert(flow.with { $0.id = id.text }, session)
            return id
        } load: { session, id in
            try await session.message(
                AssistanceV1.Transaction.self, from: "transactions",
                id: id)
        }
    }

    /// Stores a checked money flow that has its id.
    func insert(_ flow: Valued<AssistanceV1.Transaction>, _ session: any SQLSession) async throws {
        let transaction = flow.record
        let value = flow.amount
        try await session.execute(
            """
            INSERT INTO transactions (id, project_id, group_id, type, minor_units, currency, day, body)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """,
            [
                .of(transaction.id), .of(transaction.projectID), .of(transaction.groupID),
                .of(transaction.type.rawValue), .of(value.minorUnits), .of(value.currency),
                .of(flow.day.description), .blob(transaction.serializedBytes()),
            ])
    }

    static func loansOutstanding(group: String, currency: String, _ session: any SQLSession) async throws -> Int64 {
        let row = try await session.first(
            """
            SELECT COALESCE(SUM(CASE WHEN type = $3 THEN minor_units ELSE -minor_units END), 0) AS owed
            FROM transactions WHERE group_id = $1 AND currency = $2 AND type IN ($3, $4)
            """,
            [
                .of(group), .of(currency), .of(AssistanceV1.TransactionType.loan.rawValue),
                .of(AssistanceV1.TransactionType.loanRepayment.rawValue),
            ])
        return try row?.int("owed") ?? 0
    }

    /// Totals per currency and per (year, currency) of a project with everything under it.
    func projectTotals(_ id: ProjectID) async throws -> AssistanceV1.MoneyTotals {
        try await database.read { session in
            let projects = try await Self.subtree(id, session)
            let ids = projects.map(\.id)
            var conditions = SQLConditions()
            conditions.among("project_id", ids)
            var totals = try await Self.totals(conditions, session)
            totals.projectsIncluded = ids
            var budget: [String: Int64] = [:]
            for line in projects.flatMap(\.budget) {
                budget[line.currency] = budget[line.currency, default: 0].addingClamped(line.minorUnits)
            }
            totals.budget = budget.sorted { $0.key < $1.key }.map {
                CommonV1.Money(minorUnits: $0.value, currency: $0.key)
            }
            return totals
        }
    }

    func groupTotals(_ groupIDs: [String]) async throws -> AssistanceV1.MoneyTotals {
        try await database.read { session in
            var conditions = SQLConditions()
            conditions.among("group_id", groupIDs)
            return try await Self.totals(conditions, session)
        }
    }

    /// Sums by type, currency and year in SQL; never across currencies.
    static func totals(_ conditions: SQLConditions, _ session: any SQLSession) async throws -> AssistanceV1.MoneyTotals
    {
        let rows = try await session.query(
            """
            SELECT currency, SUBSTR(day, 1, 4) AS year, type, SUM(minor_units) AS total, COUNT(*) AS count
            FROM transactions \(conditions.whereClause) GROUP BY currency, SUBSTR(day, 1, 4), type
            """, conditions.binds)
        var overall: [String: AssistanceV1.FlowTotals] = [:]
        var yearly: [String: AssistanceV1.FlowTotals] = [:]
        for row in rows {
            let currency = try row.text("currency")
            let year = Int32(try row.text("year")) ?? 0
            let type = AssistanceV1.TransactionType(rawValue: Int32(try row.int("type")))
            let total = try row.int("total")
            let count = Int32(try row.int("count"))
            MoneyRules.add(
                total, count: count, type: type,
                to: &overall[currency, default: AssistanceV1.FlowTotals(currency: currency)])
            MoneyRules.add(
                total, count: count, type: type,
                to: &yearly["\(year) \(currency)", default: AssistanceV1.FlowTotals(currency: currency, year: year)])
        }
        return AssistanceV1.MoneyTotals(
            totals: overall.sorted { $0.key < $1.key }.map(\.value),
            byYear: yearly.sorted { $0.key < $1.key }.map(\.value))
    }

    // MARK: what the Producer service said about groups

    /// Remembers a group's current facts and the ids merged into it: a cache of the Producer service's answers,
    /// not a change to the field's data, so it leaves nothing in the audit trail.
    func remember(_ group: ProducerV1.ProducerGroup) async throws {
        try await AuditTrail.unaudited { try await cache(group) }
    }

    private func cache(_ group: ProducerV1.ProducerGroup) async throws {
        try await database.transaction { session in
            try await session.execute(
                """
                INSERT INTO known_groups (id, name, country, crafts, updated_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (id) DO UPDATE SET name = $2, country = $3, crafts = $4, updated_at = $5
                """,
                [
                    .of(group.id), .of(group.name), .of(group.country), .of(group.crafts.joined(separator: "|")),
                    .of(Clock.unixMicros()),
                ])
            for alias in [group.id] + group.mergedIDs {
                try await session.execute(
                    """
                    INSERT INTO group_aliases (alias, group_id) VALUES ($1, $2)
                    ON CONFLICT (alias) DO UPDATE SET group_id = $2
                    """, [.of(alias), .of(group.id)])
            }
        }
    }

    /// The ids a group's records may be stored under: its own and those merged into it, as last heard.
    func aliases(of id: String) async throws -> [String] {
        try await database.read { session in
            let current =
                try await session.first("SELECT group_id FROM group_aliases WHERE alias = $1", [.of(id)])
                .map { try $0.text("group_id") } ?? id
            let all = try await session.query("SELECT alias FROM group_aliases WHERE group_id = $1", [.of(current)])
                .map { try $0.text("alias") }
            return Array(Set(all + [id, current])).sorted()
        }
    }

    /// The group's name, country and crafts as last heard from the Producer service.
    func knownGroup(_ id: String) async throws -> ProducerV1.ProducerGroup? {
        let aliases = try await aliases(of: id)
        var conditions = SQLConditions()
        conditions.among("id", aliases)
        guard
            let row = try await database.query(
                "SELECT id, name, country, crafts FROM known_groups \(conditions.whereClause)", conditions.binds
            ).first
        else { return nil }
        let crafts = try row.text("crafts")
        let id = try row.text("id")
        return ProducerV1.ProducerGroup(
            id: id, name: try row.text("name"), country: try row.text("country"),
            crafts: crafts.isEmpty ? [] : crafts.split(separator: "|").map(String.init),
            mergedIDs: aliases.filter { $0 != id })
    }
}
