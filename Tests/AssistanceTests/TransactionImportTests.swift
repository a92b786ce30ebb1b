import API
import Domain
import RPC
import Schema
import TestSupport
import Testing

@Suite("Assistance: money flows imported from a spreadsheet", .serialized)
struct TransactionImportTests {
    typealias A = AssistanceV1

    static let header = "project,type,amount,currency,date,group,provider,description"

    @Test(
        "a ledger by names: dry run, import in date order, a second import skips every row, a retry answers the same",
        arguments: Backend.allCases)
    func ledger(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(backend, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let bolga = try await makeGroup(service.producer, "Bolga basket weavers")
                let serrv = try await ProjectTests.organisation(client, "SERRV International", .member)
                let project = try await ProjectTests.project(
                    client, "Train the trainers", reporter: serrv.id,
                    budget: [CommonV1.Money(minorUnits: 1_200_000, currency: "USD")])
                // The repayment comes first in the file but after the loan in time, so the loan counts.
                let csv = """
                    \(Self.header)
                    train the trainers,loan_repayment,300.00,usd,2025-09-01,Bolga basket weavers,,First repayment
                    \(project.id),loan,800.00,USD,2025-03-01,\(bolga.id),,Dye pots
                    Train the trainers,Disbursement,"2,500.00",USD,2025-02-15,,sERRV international,Trainer fees

                    """
                let dryRun = try await client.importTransactions(
                    A.ImportTransactionsRequest(csv: Array((csv).utf8), validateOnly: true))
                #expect(dryRun.validateOnly && dryRun.recorded == 3 && dryRun.rows.map(\.row) == [2, 3, 4])
                #expect(dryRun.recordedTotals == [CommonV1.Money(minorUnits: 360_000, currency: "USD")])
                #expect(try await client.listTransactions(A.ListTransactionsRequest()).transactions.isEmpty)

                let imported = try await client.importTransactions(
                    A.ImportTransactionsRequest(csv: Array((csv).utf8), requestID: "ledger-1", source: "ledger.csv"))
                #expect(imported.recorded == 3 && imported.importID.hasPrefix("xi_"))
                #expect(imported.rows.allSatisfy { $0.transactionID.hasPrefix("tx_") && !$0.alreadyRecorded })
                let stored = try await client.listTransactions(A.ListTransactionsRequest(projectID: project.id))
                    .transactions
                #expect(stored.map(\.type) == [.disbursement, .loan, .loanRepayment])
                #expect(stored[0].providerOrganisationID == serrv.id && stored[0].value?.minorUnits == 250_000)
                #expect(stored[2].groupID == bolga.id && stored[2].description == "First repayment")

                let again = try await client.importTransactions(
                    A.ImportTransactionsRequest(csv: Array((csv).utf8), requestID: "ledger-2"))
                #expect(again.recorded == 0 && again.rows.allSatisfy(\.alreadyRecorded))
                #expect(again.rows.map(\.transactionID) == imported.rows.map(\.transactionID))
                #expect(
                    try await client.importTransactions(
                        A.ImportTransactionsRequest(csv: Array((csv).utf8), requestID: "ledger-1"))
                        == imported)
                #expect(try await client.listTransactions(A.ListTransactionsRequest()).transactions.count == 3)
            }
        }
    }

    @Test("every wrong cell is named by row and column, the project's rules by row, and nothing is recorded")
    func wrongCells() async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(.sqlite, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let bolga = try await makeGroup(service.producer, "Bolga basket weavers")
                let serrv = try await ProjectTests.organisation(client, "SERRV International", .member)
                _ = try await ProjectTests.project(
                    client, "Train the trainers", reporter: serrv.id,
                    budget: [CommonV1.Money(minorUnits: 1_200_000, currency: "USD")])
                func problems(_ rows: [String]) async -> [String: String] {
                    let error = await failure {
                        try await client.importTransactions(
                            A.ImportTransactionsRequest(
                                csv: Array((([Self.header] + rows).joined(separator: "\n")).utf8), requestID: "bad"))
                    }
                    #expect(error?.code == .invalidArgument)
                    return violations(error)
                }
                let cells = await problems([
                    "Train the trainers,gift,10.00,USD,2025-03-01,,,",
                    "Train the trainers,disbursement,12.345,USD,2025-03-01,,,",
                    "Train the trainers,loan,100.00,USD,2025-03-01,,,",
                    "Train the trainers,disbursement,10.00,XYZ,2025-02-30,,,",
                ])
                #expect(cells["row 2, type"]?.contains("\"gift\" is not one of commitment, disbursement") == true)
                #expect(cells["row 3, amount"]?.contains("is not an amount in USD") == true)
                #expect(cells["row 4, group"]?.contains("is required for a loan") == true)
                #expect(cells["row 5, currency"] != nil && cells["row 5, date"] != nil)
                #expect(cells.count == 5)

                let names = await problems([
                    "Nowhere project,disbursement,10.00,USD,2025-03-01,,,",
                    "Train the trainers,advance_payment,10.00,USD,2025-03-01,Nowhere weavers,,",
                    "Train the trainers,disbursement,10.00,USD,2025-03-01,,Nobody,",
                ])
                #expect(names["row 2, project"] == "no project has the id or name \"Nowhere project\"")
                #expect(names["row 3, group"] == "no producer group has the id or name \"Nowhere weavers\"")
                #expect(names["row 4, provider"] == "no organisation has the id or name \"Nobody\"")

                // The project's rules and the loans, checked in date order.
                let rules = await problems([
                    "Train the trainers,disbursement,10.00,GHS,2025-03-01,,,",
                    "Train the trainers,disbursement,10.00,USD,2030-03-01,,,",
                    "Train the trainers,loan,100.00,USD,2025-05-01,\(bolga.id),,",
                    "Train the trainers,loan_repayment,60.00,USD,2025-06-01,\(bolga.id),,",
                    "Train the trainers,loan_repayment,60.00,USD,2025-07-01,\(bolga.id),,",
                ])
                #expect(rules["row 2"]?.contains("does not use GHS") == true)
                #expect(rules["row 3"]?.contains("after project") == true)
                #expect(rules["row 6, amount"]?.contains("owes 40.00 USD") == true)
                #expect(rules.count == 3)
                #expect(try await client.listTransactions(A.ListTransactionsRequest()).transactions.isEmpty)
            }
        }
    }
}
