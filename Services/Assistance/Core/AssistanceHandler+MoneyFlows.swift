import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// AssistanceHandler: money flows.
extension AssistanceHandler {
    public func recordTransaction(_ request: AssistanceV1.RecordTransactionRequest, context: ServerContext) async throws
        -> AssistanceV1.Transaction
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var transaction = Self.validated(request.transaction ?? AssistanceV1.Transaction(), &check) {
            "transaction.\($0)"
        }
        check.id(transaction.projectID, "transaction.project_id", ProjectID.self, required: false)
        check.id(transaction.groupID, "transaction.group_id", ProducerGroupID.self, required: false)
        check.id(
            transaction.providerOrganisationID, "transaction.provider_organisation_id", OrganisationID.self,
            required: false)
        try check.check()
        if !transaction.providerOrganisationID.isEmpty {
            try await requireOrganisations([
                (transaction.providerOrganisationID, "transaction.provider_organisation_id")
            ])
        }
        if !transaction.groupID.isEmpty {
            transaction.groupID = try await producer.requireGroup(
                transaction.groupID, field: "transaction.group_id", purpose: "recording money for a producer group"
            ).id
        }
        let flow = try Valued(
            transaction, day: transaction.date, "transaction.date", amount: transaction.value, "transaction.value")
        return try await storage { try await store.recordTransaction(flow, requestID: request.requestID) }
    }

    /// A clean copy of `input`, each problem reported under `name(field)` for its field in Transaction
    /// ("project_id", "type", "value", "value.currency", "value.minor_units", "date", "group_id", "description").
    /// References and the project's rules are checked apart.
    static func validated(_ input: AssistanceV1.Transaction, _ check: inout FieldValidator, name: (String) -> String)
        -> AssistanceV1.Transaction
    {
        var transaction = input
        required(transaction.projectID, name("project_id"), &check)
        check.specified(transaction.type, name("type"))
        transaction.value = check.money(transaction.value, name("value"), positive: true)?.message ?? transaction.value
        _ = check.date(transaction.date, name("date"))
        if MoneyRules.toGroup.contains(transaction.type) && transaction.groupID.isEmpty {
            check.fail(name("group_id"), "is required for a \(CSV.cell(transaction.type))")
        }
        transaction.description = check.text(transaction.description, name("description"), maxLength: 1000)
        return transaction
    }

    public func importTransactions(_ request: AssistanceV1.ImportTransactionsRequest, context: ServerContext)
        async throws
        -> AssistanceV1.ImportTransactionsResponse
    {
        try await runImport(
            validateOnly: request.validateOnly, requestID: request.requestID, source: request.source,
            read: { TransactionImport(csv: request.csv, &$0) }, resolve: { try await $0.rows(store, producer) },
            record: {
                try await store.importTransactions(
                    $0, validateOnly: request.validateOnly, requestID: request.requestID, source: $1)
            })
    }

    public func importIatiActivities(_ request: AssistanceV1.ImportIatiActivitiesRequest, context: ServerContext)
        async throws
        -> AssistanceV1.ImportIatiActivitiesResponse
    {
        try await runImport(
            validateOnly: request.validateOnly, requestID: request.requestID, source: request.source,
            read: { IATIImport(xml: request.xml, &$0) }, resolve: { try await $0.resolve(store, producer) },
            record: {
                try await store.importActivities(
                    $0, validateOnly: request.validateOnly, requestID: request.requestID, source: $1)
            })
    }

    public func listTransactions(_ request: AssistanceV1.ListTransactionsRequest, context: ServerContext) async throws
        -> AssistanceV1.ListTransactionsResponse
    {
        let (after, limit) = try Self.page(
            request.pageSize, request.pageToken, TransactionID.self, of: "ListTransactions")
        var filter = SQLConditions()
        filter.equal(
            "project_id", try FieldValidator.filter(request.projectID, "project_id", ProjectID.self)?.text ?? "")
        filter.among("group_id", request.groupID.isEmpty ? [] : try await groupIDs(request.groupID))
        if request.type != .unspecified {
            filter.add("type = \(filter.bind(.of(request.type.rawValue)))")
        }
        let (rows, next) = try await storage {
            try await store.database.page(
                "transactions", filter, sortColumn: "day", after: after, limit: limit, as: AssistanceV1.Transaction.self
            )
        }
        return AssistanceV1.ListTransactionsResponse(transactions: rows, nextPageToken: Self.token(next))
    }

    public func getMoneyTotals(_ request: AssistanceV1.GetMoneyTotalsRequest, context: ServerContext) async throws
        -> AssistanceV1.MoneyTotals
    {
        switch (request.projectID.isEmpty, request.groupID.isEmpty) {
        case (false, true):
            let id = try FieldValidator.id(request.projectID, "project_id", ProjectID.self)
            return try await storage { try await store.projectTotals(id) }
        case (true, false):
            let groups = try await groupIDs(request.groupID)
            return try await storage { try await store.groupTotals(groups) }
        default:
            throw RPCError.invalidArgument(field: "project_id", "give exactly one of project_id and group_id")
        }
    }
}
