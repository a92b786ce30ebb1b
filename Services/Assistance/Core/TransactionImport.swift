import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// Money flows from a spreadsheet: every row checked as RecordTransaction checks one, projects, organisations and
/// groups found by id or name, then the new rows recorded in date order in one transaction. Nothing is recorded
/// when any row is wrong. An import only adds: a row equal to a recorded flow, or to an earlier row, is not
/// recorded again, so importing a ledger twice records nothing twice.
struct TransactionImport: Sendable {

    static let columns = ["project", "type", "amount", "currency", "date", "group", "provider", "description"]
    static let required = ["project", "type", "amount", "currency", "date"]
    /// Rows an import may hold; a bigger file is split.
    static let maxRows = 10_000

    struct Row: Sendable {
        let number: Int
        var transaction: AssistanceV1.Transaction
    }

    let sheet: CSV.Sheet

    /// Reads the file; problems with it as a whole (not CSV, header, no rows, too many) go to `check`.
    init(csv: [UInt8], _ check: inout FieldValidator) {
        sheet = CSV.Sheet(
            csv, known: Self.columns, required: Self.required, purpose: "record money flows", maxRows: Self.maxRows,
            &check)
    }

    /// The column a Transaction field comes from, for naming problems.
    static func column(_ field: String) -> String {
        switch field {
        case "project_id": "project"
        case "value", "value.minor_units": "amount"
        case "value.currency": "currency"
        case "group_id": "group"
        case "provider_organisation_id": "provider"
        default: field
        }
    }

    /// Every row read and checked, then what it names: projects and organisations here, groups with the Producer
    /// service, each by id or by name and replaced by its id (a merged group's, the id it lives on as). Wrong cells
    /// fail the whole import with INVALID_ARGUMENT naming each row and column.
    func rows(_ store: AssistanceStore, _ producer: ProducerLink) async throws -> [Row] {
        var check = FieldValidator()
        var rows: [Row] = []
        for cells in sheet.rows {
            if let problem = cells.problem {
                check.fail("row \(cells.number)", problem)
                continue
            }
            var rowCheck = CSV.RowCheck(row: cells.number)
            rows.append(Row(number: cells.number, transaction: Self.read(cells, &rowCheck)))
            rowCheck.report(to: &check, column: Self.column)
        }
        try check.check()

        typealias Cell = SheetReferences.Cell
        let projects = try await SheetReferences.projects(
            rows.map { Cell(row: $0.number, column: "project", text: $0.transaction.projectID) }, store, &check)
        for index in rows.indices {
            rows[index].transaction.projectID = projects[rows[index].transaction.projectID] ?? ""
        }
        let providers = try await SheetReferences.organisations(
            rows.filter { !$0.transaction.providerOrganisationID.isEmpty }.map {
                Cell(row: $0.number, column: "provider", text: $0.transaction.providerOrganisationID)
            }, store, &check)
        let named = try await SheetReferences.groups(
            rows.filter { !$0.transaction.groupID.isEmpty }.map {
                Cell(row: $0.number, column: "group", text: $0.transaction.groupID)
            }, producer, purpose: "importing money flows", &check)
        var references: [(id: String, field: String)] = []
        for index in rows.indices {
            var transaction = rows[index].transaction
            if !transaction.providerOrganisationID.isEmpty {
                transaction.providerOrganisationID = providers[transaction.providerOrganisationID] ?? ""
            }
            if !transaction.groupID.isEmpty {
                transaction.groupID = named[transaction.groupID] ?? ""
                if !transaction.groupID.isEmpty {
                    references.append((transaction.groupID, "row \(rows[index].number), group"))
                }
            }
            rows[index].transaction = transaction
        }
        var groups: [String: ProducerV1.ProducerGroup] = [:]
        do {
            groups = try await producer.requireGroups(references, purpose: "importing money flows")
        } catch let error as RPCError where error.code == .invalidArgument {
            for violation in error.fieldViolations { check.fail(violation.field, violation.description) }
        }
        try check.check()
        return rows.map { row in
            var row = row
            if !row.transaction.groupID.isEmpty {
                row.transaction.groupID = groups[row.transaction.groupID]?.id ?? row.transaction.groupID
            }
            return row
        }
    }

    /// One row's money flow, its cells read into Transaction's fields and checked as RecordTransaction checks them.
    private static func read(_ cells: CSV.Sheet.Row, _ check: inout CSV.RowCheck) -> AssistanceV1.Transaction {
        var transaction = AssistanceV1.Transaction(
            projectID: cells["project"] ?? "", groupID: cells["group"] ?? "",
            providerOrganisationID: cells["provider"] ?? "", description: cells["description"] ?? "")
        if let type: AssistanceV1.TransactionType = check.enumValue(cells["type"], column: "type") {
            transaction.type = type
        }
        transaction.value = check.money(
            cells["amount"], column: "amount", currency: (cells["currency"] ?? "").uppercased(), example: "8000.00")
        transaction.date = check.date(cells["date"], column: "date")?.message
        return AssistanceHandler.validated(transaction, &check.values) { $0 }
    }

    /// What makes a row the same flow as one recorded: every column.
    static func key(_ transaction: AssistanceV1.Transaction) -> [String] {
        [
            transaction.projectID, "\(transaction.type.rawValue)", "\(transaction.value?.minorUnits ?? 0)",
            transaction.value?.currency ?? "", transaction.date.flatMap(ISODate.init)?.description ?? "",
            transaction.groupID, transaction.providerOrganisationID, transaction.description,
        ]
    }

    struct Plan {
        /// New flows, in date order.
        var new: [Valued<AssistanceV1.Transaction>] = []
        var rows: [AssistanceV1.ImportedTransaction] = []
        var totals: [String: Int64] = [:]

        func response(importID: String = "", validateOnly: Bool) -> AssistanceV1.ImportTransactionsResponse {
            AssistanceV1.ImportTransactionsResponse(
                importID: importID, recorded: Int32(new.count), rows: rows,
                recordedTotals: totals.sorted { $0.key < $1.key }.map {
                    CommonV1.Money(minorUnits: $0.value, currency: $0.key)
                },
                validateOnly: validateOnly)
        }
    }

    /// What the import does with each row, worked out in `session` in date order (file order within a day): each
    /// checked against its project's currencies, status and dates, a repayment against what its group owes then
    /// (loans earlier in the file count), rows equal to a stored flow or an earlier row marked already recorded.
    /// New flows get ids unless `validateOnly`. Problems fail the import with INVALID_ARGUMENT.
    static func plan(_ rows: [Row], validateOnly: Bool, _ session: any SQLSession) async throws -> Plan {
        var check = FieldValidator()
        var projects: [String: AssistanceV1.Project] = [:]
        for id in Set(rows.map(\.transaction.projectID)) {
            try Task.checkCancellation()
            projects[id] = try await AssistanceStore.project(try ProjectID(checking: id, "project"), session)
        }
        let stored = try await recorded(rows.map(\.transaction), session)
        var loans = LoanBook()
        var seen: [[String]: String] = [:]
        var plan = Plan()
        // ISO dates sort as text; every row's date was checked.
        let dated = rows.sorted {
            (ISODate.text($0.transaction.date), $0.number) < (ISODate.text($1.transaction.date), $1.number)
        }
        for row in dated {
            let flow = try Valued(
                row.transaction, day: row.transaction.date, "row \(row.number), date", amount: row.transaction.value,
                "row \(row.number), amount")
            let (transaction, value) = (flow.record, flow.amount)
            let key = key(transaction)
            if let id = stored[key] ?? seen[key] {
                plan.rows.append(
                    AssistanceV1.ImportedTransaction(row: Int32(row.number), transactionID: id, alreadyRecorded: true))
                continue
            }
            let project = try projects[transaction.projectID].checked("row \(row.number), project")
            do throws(DomainError) {
                try MoneyRules.check(flow, against: project)
            } catch {
                check.fail("row \(row.number)", error.message)
            }
            if let problem = try await loans.count(flow, in: session, lock: false) {
                check.fail("row \(row.number), amount", "group \(transaction.groupID) " + problem)
            }
            let id = validateOnly ? "" : TransactionID.mint().text
            seen[key] = id
            plan.new.append(flow.with { $0.id = id })
            plan.totals[value.currency] = plan.totals[value.currency, default: 0].addingClamped(value.minorUnits)
            plan.rows.append(AssistanceV1.ImportedTransaction(row: Int32(row.number), transactionID: id))
        }
        try check.check()
        plan.rows.sort { $0.row < $1.row }
        return plan
    }

    /// The flows recorded for the rows' projects between their first and last day, by `key`.
    private static func recorded(_ transactions: [AssistanceV1.Transaction], _ session: any SQLSession) async throws
        -> [[String]: String]
    {
        let days = transactions.compactMap { $0.date.flatMap(ISODate.init) }
        guard let first = days.min(), let last = days.max() else { return [:] }
        var conditions = SQLConditions()
        conditions.among("project_id", Array(Set(transactions.map(\.projectID))))
        conditions.add("day >= \(conditions.bind(.of(first.description)))")
        conditions.add("day <= \(conditions.bind(.of(last.description)))")
        var keys: [[String]: String] = [:]
        for row in try await session.query("SELECT body FROM transactions \(conditions.whereClause)", conditions.binds)
        {
            let transaction = try row.message(AssistanceV1.Transaction.self)
            keys[key(transaction)] = keys[key(transaction)] ?? transaction.id
        }
        return keys
    }
}

extension AssistanceStore {
    /// Runs an import: with `validateOnly`, in a read snapshot that writes nothing; otherwise in one transaction,
    /// once per request id (a retry answers as the first import did).
    func importTransactions(_ rows: [TransactionImport.Row], validateOnly: Bool, requestID: String, source: String)
        async throws -> AssistanceV1.ImportTransactionsResponse
    {
        try await database.spreadsheetImport(
            operation: "ImportTransactions", table: "transaction_imports", requestID: requestID, source: source,
            validateOnly: validateOnly, importID: \.importID
        ) { session in
            try await TransactionImport.plan(rows, validateOnly: true, session).response(validateOnly: true)
        } write: { session in
            // As RecordTransaction: loans and repayments of one group and currency are checked one writer at a time.
            let accounts = rows.map(\.transaction).filter { $0.type == .loan || $0.type == .loanRepayment }.map {
                "loans \($0.groupID) \($0.value?.currency ?? "")"
            }
            for account in Set(accounts).sorted() { try await session.lock(account) }
            let plan = try await TransactionImport.plan(rows, validateOnly: false, session)
            for transaction in plan.new { try await insert(transaction, session) }
            return plan.response(importID: TransactionImportID.mint().text, validateOnly: false)
        }
    }

    /// Every project, to find a spreadsheet's projects by id, IATI identifier or title.
    func allProjects() async throws -> [AssistanceV1.Project] {
        try await database.query("SELECT body FROM projects", []).map { try $0.message(AssistanceV1.Project.self) }
    }
}
