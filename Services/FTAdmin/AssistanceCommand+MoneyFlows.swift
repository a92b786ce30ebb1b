import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin assistance`: money moving (commitments, disbursements, loans and repayments) and its totals.
extension AssistanceCommand {
    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record money moving: a commitment, disbursement, loan…")
        @Option(help: "Project id.") var project: String
        @Option(help: "What kind of money flow.") var type: AssistanceV1.TransactionType
        @Option(parsing: .unconditional, help: "Amount and currency, e.g. \"1500.00 GHS\".") var amount: String
        @Option(help: "Date, e.g. 2025-03-01.") var date: String
        @Option(help: "The producer group receiving (or repaying) it.") var group = ""
        @Option(help: "The paying organisation, if not the funder.") var provider = ""
        @Option(help: "What it is for.") var description = ""
        @Option(help: "Request id (default: new).") var requestID: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let transaction = try await client.recordTransaction(
                    AssistanceV1.RecordTransactionRequest(
                        transaction: AssistanceV1.Transaction(
                            projectID: project, type: type,
                            value: try parseAmount(amount, field: "--amount"),
                            date: try parseDate(date, field: "--date"),
                            groupID: group, providerOrganisationID: provider, description: description),
                        requestID: requestID ?? RequestID.make()), options: global.callOptions)
                try emit(transaction, global) {
                    "\(transaction.id)  \(short(transaction.type)) \(formatMoney(transaction.value)) on \(show(transaction.date))"
                }
            }
        }
    }

    struct Transactions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List money flows of a project or a group.")
        @Option(help: "Project id.") var project = ""
        @Option(help: "Producer group id.") var group = ""
        @Option(help: "Only this type.") var type: AssistanceV1.TransactionType?
        @OptionGroup var page: PageOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                var request = AssistanceV1.ListTransactionsRequest(projectID: project, groupID: group)
                if let type { request.type = type }
                let (rows, next) = try await page.fetch { size, token in
                    request.pageSize = size
                    request.pageToken = token
                    let answer = try await client.listTransactions(request, options: global.callOptions)
                    return (answer.transactions, answer.nextPageToken)
                }
                let response = AssistanceV1.ListTransactionsResponse(transactions: rows, nextPageToken: next)
                let names = await global.pageNames(groups: Set(rows.map(\.groupID)))
                try emit(response, global) {
                    var table = Table("ID", "DATE", "TYPE", "AMOUNT", "PROJECT", "GROUP", "DESCRIPTION")
                    for line in response.transactions {
                        table.add(
                            line.id, show(line.date), short(line.type), formatMoney(line.value),
                            names.label(line.projectID), names.label(line.groupID), line.description)
                    }
                    return table.render() + moreLine(response.nextPageToken)
                }
            }
        }
    }

    struct Totals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Money totals per currency and per year, of a project (with the projects under it) or a group.")
        @Option(help: "Project id.") var project = ""
        @Option(help: "Producer group id.") var group = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let totals = try await client.getMoneyTotals(
                    AssistanceV1.GetMoneyTotalsRequest(projectID: project, groupID: group),
                    options: global.callOptions)
                try emit(totals, global) {
                    var text = totalsTable(totals.totals + totals.byYear)
                    if !totals.budget.isEmpty {
                        text += "\nbudget: " + totals.budget.map(formatMoney).joined(separator: "; ")
                    }
                    if totals.projectsIncluded.count > 1 {
                        text += "\nincludes: " + totals.projectsIncluded.joined(separator: ", ")
                    }
                    return text
                }
            }
        }
    }
}
