import API
import Domain
import RPC
import Schema
import Storage
import TestSupport
import Testing

/// A dry run reads: it is planned in a read snapshot, so it never waits for SQLite's one writer, and other calls
/// never wait for it. Held open from outside, a write transaction shows it: each dry run below answers while the
/// writer is taken, where one that wrote and rolled back would wait for it until its deadline.
@Suite("Assistance: dry runs read, and never wait for the writer", .serialized)
struct DryRunTests {
    typealias A = AssistanceV1

    static let activities = """
        <iati-activities version="2.03">
          <iati-activity default-currency="USD">
            <iati-identifier>XM-TEST-1</iati-identifier>
            <reporting-org ref="XM-TEST" type="21"><narrative>Test funder</narrative></reporting-org>
            <title><narrative>Looms for the weavers</narrative></title>
            <participating-org role="1" ref="XM-TEST"><narrative>Test funder</narrative></participating-org>
            <activity-status code="2"/>
            <activity-date iso-date="2024-01-01" type="1"/><activity-date iso-date="2024-12-31" type="3"/>
            <recipient-country code="GH"/>
            <sector code="32140"/>
            <budget><period-start iso-date="2024-01-01"/><period-end iso-date="2024-12-31"/><value>1000.00</value></budget>
            <transaction>
              <transaction-type code="3"/><transaction-date iso-date="2024-02-01"/><value>500.00</value>
            </transaction>
          </iati-activity>
        </iati-activities>
        """

    // SQLite only: PostgreSQL has no single writer, so there a held transaction would not tell the two ways apart.
    @Test("IATI and money-flow dry runs answer while another transaction holds the writer, and write nothing")
    func dryRunsWhileTheWriterIsHeld() async throws {
        try await withAssistance(.sqlite, producerEndpoint: deadEndpoint()) { service in
            let client = service.client
            let serrv = try await ProjectTests.organisation(client, "SERRV International", .member)
            _ = try await ProjectTests.project(
                client, "Train the trainers", reporter: serrv.id,
                budget: [CommonV1.Money(minorUnits: 1_200_000, currency: "USD")])
            let flows = """
                project,type,amount,currency,date,group,provider,description
                Train the trainers,disbursement,250.00,USD,2025-02-15,,SERRV International,Trainer fees

                """

            let (taken, writerTaken) = AsyncStream<Void>.makeStream()
            let (release, releaseWriter) = AsyncStream<Void>.makeStream()
            let writer = Task {
                try await service.database.transaction { _ in
                    writerTaken.yield()
                    for await _ in release { break }
                }
            }
            for await _ in taken { break }
            let options = CallOptions(timeout: .seconds(10))
            let iati = await Result(catching: {
                try await client.importIatiActivities(
                    A.ImportIatiActivitiesRequest(xml: Array(Self.activities.utf8), validateOnly: true),
                    options: options)
            })
            let ledger = await Result(catching: {
                try await client.importTransactions(
                    A.ImportTransactionsRequest(csv: Array(flows.utf8), validateOnly: true), options: options)
            })
            releaseWriter.yield()
            try await writer.value

            let activities = try iati.get()
            #expect(activities.validateOnly && activities.recorded == 1)
            #expect(activities.activities.map(\.projectID) == [""])
            #expect(activities.organisationsCreated.map(\.name) == ["Test funder"])
            let ledgerRows = try ledger.get()
            #expect(ledgerRows.validateOnly && ledgerRows.recorded == 1)
            #expect(try await client.listProjects(A.ListProjectsRequest()).projects.count == 1)
            #expect(try await client.listOrganisations(A.ListOrganisationsRequest()).organisations.count == 1)
            #expect(try await client.listTransactions(A.ListTransactionsRequest()).transactions.isEmpty)

            // The same file imported for real writes what the dry run said.
            let imported = try await client.importIatiActivities(
                A.ImportIatiActivitiesRequest(xml: Array(Self.activities.utf8), requestID: "iati-1"))
            #expect(imported.recorded == 1 && imported.activities[0].projectID.hasPrefix("pj_"))
            #expect(imported.organisationsCreated.map(\.id).allSatisfy { $0.hasPrefix("og_") })
            let project = try await client.getProject(A.GetProjectRequest(id: imported.activities[0].projectID))
            #expect(project.reportingOrganisationID == imported.organisationsCreated.first?.id)
            let recorded = try await client.listTransactions(A.ListTransactionsRequest(projectID: project.id))
            #expect(recorded.transactions.map { $0.value?.minorUnits } == [50_000])
        }
    }
}

extension Result where Failure == any Error {
    /// The outcome of `body`, kept to be looked at after something else has been done.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
