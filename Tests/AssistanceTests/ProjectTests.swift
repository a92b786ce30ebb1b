import API
import Domain
import RPC
import Schema
import TestSupport
import Testing

@Suite("Assistance: organisations, projects and money flows", .serialized)
struct ProjectTests {
    typealias A = AssistanceV1

    static func organisation(
        _ client: A.AssistanceServiceClient, _ name: String, _ kind: A.OrganisationKind,
        iati: String = "", country: String = ""
    ) async throws -> A.Organisation {
        try await client.createOrganisation(
            A.CreateOrganisationRequest(
                organisation: A.Organisation(name: name, kind: kind, iatiIdentifier: iati, country: country),
                requestID: "org-\(name)"))
    }

    static func project(
        _ client: A.AssistanceServiceClient, _ title: String, reporter: String, parent: String = "",
        budget: [CommonV1.Money], status: A.ProjectStatus = .implementation
    ) async throws -> A.Project {
        try await client.createProject(
            A.CreateProjectRequest(
                project: A.Project(
                    title: title, reportingOrganisationID: reporter,
                    participants: [A.Participation(organisationID: reporter, role: .funding)],
                    status: status, plannedStart: date("2025-01-01"), plannedEnd: date("2026-12-31"),
                    countries: ["GH"], sectors: [32140], budget: budget, parentID: parent),
                requestID: "project-\(title)"))
    }

    @Test(
        "organisations and projects: IATI identifiers, roles, children, updates with versions",
        arguments: Backend.allCases)
    func projects(backend: Backend) async throws {
        try await withAssistance(backend, producerEndpoint: deadEndpoint()) { service in
            let client = service.client
            let serrv = try await Self.organisation(
                client, "SERRV International", .member, iati: "US-EIN-231352650", country: "us")
            #expect(serrv.id.hasPrefix("og_") && serrv.country == "US")
            #expect(
                try await Self.organisation(client, "SERRV International", .member, iati: "US-EIN-231352650").id
                    == serrv.id)
            let tradeAid = try await Self.organisation(client, "Trade Aid Integrated", .development, country: "GH")
            let taken = await failure {
                try await client.createOrganisation(
                    A.CreateOrganisationRequest(
                        organisation: A.Organisation(name: "Copy", kind: .funder, iatiIdentifier: "US-EIN-231352650"),
                        requestID: "copy"))
            }
            #expect(taken?.code == .alreadyExists && taken?.message.contains(serrv.id) == true)
            let bad = await failure {
                try await client.createOrganisation(
                    A.CreateOrganisationRequest(
                        organisation: A.Organisation(name: " ", iatiIdentifier: "not an id", country: "ZZ"),
                        requestID: "bad"))
            }
            #expect(
                Set(bad?.fieldViolations.map(\.field) ?? []) == [
                    "organisation.name", "organisation.kind", "organisation.iati_identifier", "organisation.country",
                ])
            #expect(
                try await client.listOrganisations(A.ListOrganisationsRequest(kind: .development)).organisations.map(
                    \.id)
                    == [tradeAid.id])

            let africa = try await Self.project(
                client, "Africa capacity building", reporter: serrv.id,
                budget: [CommonV1.Money(minorUnits: 5_000_000, currency: "USD")])
            let ghana = try await Self.project(
                client, "Bolga train-the-trainers", reporter: serrv.id, parent: africa.id,
                budget: [CommonV1.Money(minorUnits: 20_000_000, currency: "GHS")])
            #expect(try await client.getProject(A.GetProjectRequest(id: africa.id)).childIDs == [ghana.id])
            #expect(
                try await client.listProjects(A.ListProjectsRequest(parentID: africa.id)).projects.map(\.id) == [
                    ghana.id
                ])
            #expect(try await client.listProjects(A.ListProjectsRequest(organisationID: serrv.id)).projects.count == 2)
            #expect(try await client.listProjects(A.ListProjectsRequest(country: "KH")).projects.isEmpty)

            let invalid = await failure {
                try await client.createProject(
                    A.CreateProjectRequest(
                        project: A.Project(
                            title: "", reportingOrganisationID: "og_missing", status: .implementation,
                            plannedStart: date("2026-01-01"), plannedEnd: date("2025-01-01"), sectors: [321],
                            budget: [
                                CommonV1.Money(minorUnits: -1, currency: "USD"),
                                CommonV1.Money(minorUnits: 1, currency: "USD"),
                            ]),
                        requestID: "p-bad"))
            }
            #expect(
                Set(invalid?.fieldViolations.map(\.field) ?? []) == [
                    "project.title", "project.planned_end", "project.sectors[0]", "project.budget[0].minor_units",
                    "project.budget[1].currency",
                ])
            let unknownReporter = await failure {
                try await Self.project(
                    client, "Orphan", reporter: "og_missing", budget: [CommonV1.Money(minorUnits: 1, currency: "USD")])
            }
            #expect(
                unknownReporter?.fieldViolations.map(\.field)
                    == ["project.reporting_organisation_id", "project.participants[0].organisation_id"])

            // An id of the wrong kind is refused by name before anything is looked up or written.
            let wrongKind = await failure { try await client.getProject(A.GetProjectRequest(id: serrv.id)) }
            #expect(
                wrongKind
                    == RPCError.invalidArgument(
                        field: "id",
                        "\"\(serrv.id)\" is the id of an organisation, not of a project (project ids start with \"pj_\")"
                    ))
            let swapped = await failure {
                try await Self.project(
                    client, "Swapped", reporter: africa.id, parent: serrv.id,
                    budget: [CommonV1.Money(minorUnits: 1, currency: "USD")])
            }
            #expect(
                swapped?.fieldViolations.map(\.field) == [
                    "project.reporting_organisation_id", "project.parent_id", "project.participants[0].organisation_id",
                ])
            let filter = await failure { try await client.listProjects(A.ListProjectsRequest(parentID: "Bolga")) }
            #expect(filter?.code == .invalidArgument && filter?.fieldViolations.map(\.field) == ["parent_id"])
            #expect(try await client.listProjects(A.ListProjectsRequest(organisationID: serrv.id)).projects.count == 2)

            // Update: the version must match, fields outside the mask stay.
            var change = A.Project(id: ghana.id, status: .finalisation)
            change.actualStart = date("2025-02-01")
            let updated = try await client.updateProject(
                A.UpdateProjectRequest(
                    project: change, updateMask: ["status", "actual_start"], expectedVersion: ghana.version,
                    requestID: RequestID.make()))
            #expect(
                updated.status == .finalisation && updated.version == ghana.version + 1 && updated.title == ghana.title)
            let stale = await failure {
                try await client.updateProject(
                    A.UpdateProjectRequest(
                        project: change, updateMask: ["status"],
                        expectedVersion: ghana.version, requestID: RequestID.make()))
            }
            #expect(stale?.code == .aborted)
            let badMask = await failure {
                try await client.updateProject(
                    A.UpdateProjectRequest(
                        project: change, updateMask: ["parent_id"],
                        expectedVersion: updated.version, requestID: RequestID.make()))
            }
            #expect(badMask?.fieldViolations.map(\.field) == ["update_mask[0]"])
        }
    }

    @Test(
        "money flows: per currency, per project with its children, per group and per year; bad flows refused",
        arguments: Backend.allCases)
    func moneyFlows(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(backend, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let bolga = try await makeGroup(service.producer, "Bolga basket weavers")
                let serrv = try await Self.organisation(client, "SERRV", .member)
                let africa = try await Self.project(
                    client, "Africa", reporter: serrv.id,
                    budget: [CommonV1.Money(minorUnits: 1_000_000, currency: "USD")])
                let ghana = try await Self.project(
                    client, "Ghana", reporter: serrv.id, parent: africa.id,
                    budget: [
                        CommonV1.Money(minorUnits: 5_000_000, currency: "GHS"),
                        CommonV1.Money(minorUnits: 200_000, currency: "USD"),
                    ])
                var count = 0
                func record(
                    _ project: String, _ type: A.TransactionType, _ minor: Int64, _ currency: String, _ day: String,
                    group: String = ""
                ) async throws -> A.Transaction {
                    count += 1
                    return try await client.recordTransaction(
                        A.RecordTransactionRequest(
                            transaction: A.Transaction(
                                projectID: project, type: type,
                                value: CommonV1.Money(minorUnits: minor, currency: currency),
                                date: date(day), groupID: group),
                            requestID: "tx-\(count)"))
                }
                _ = try await record(africa.id, .commitment, 600_000, "USD", "2025-01-10")
                _ = try await record(ghana.id, .disbursement, 150_000, "USD", "2025-03-01", group: bolga.id)
                _ = try await record(ghana.id, .disbursement, 2_000_000, "GHS", "2025-06-01", group: bolga.id)
                _ = try await record(ghana.id, .loan, 500_000, "GHS", "2025-07-01", group: bolga.id)
                _ = try await record(ghana.id, .loanRepayment, 200_000, "GHS", "2026-02-01", group: bolga.id)
                _ = try await record(ghana.id, .advancePayment, 300_000, "GHS", "2026-03-01", group: bolga.id)
                // A retried request records nothing new.
                count -= 1
                _ = try await record(ghana.id, .advancePayment, 300_000, "GHS", "2026-03-01", group: bolga.id)

                let group = try await client.getMoneyTotals(A.GetMoneyTotalsRequest(groupID: bolga.id))
                #expect(group.totals.map(\.currency) == ["GHS", "USD"])
                let cedis = group.totals[0]
                #expect(
                    cedis.disbursements == 2_000_000 && cedis.loans == 500_000 && cedis.loanRepayments == 200_000
                        && cedis.loansOutstanding == 300_000 && cedis.advancePayments == 300_000
                        && cedis.transactions == 4)
                #expect(group.totals[1].disbursements == 150_000)
                #expect(group.byYear.map { "\($0.year) \($0.currency)" } == ["2025 GHS", "2025 USD", "2026 GHS"])
                #expect(group.byYear[2].loanRepayments == 200_000 && group.byYear[2].advancePayments == 300_000)

                let rolled = try await client.getMoneyTotals(A.GetMoneyTotalsRequest(projectID: africa.id))
                #expect(rolled.projectsIncluded == [africa.id, ghana.id])
                #expect(rolled.totals.first { $0.currency == "USD" }?.commitments == 600_000)
                #expect(rolled.totals.first { $0.currency == "USD" }?.disbursements == 150_000)
                #expect(
                    rolled.budget == [
                        CommonV1.Money(minorUnits: 5_000_000, currency: "GHS"),
                        CommonV1.Money(minorUnits: 1_200_000, currency: "USD"),
                    ])
                let own = try await client.getMoneyTotals(A.GetMoneyTotalsRequest(projectID: ghana.id))
                #expect(own.totals.first { $0.currency == "USD" }?.commitments == 0)
                #expect(
                    try await client.listTransactions(A.ListTransactionsRequest(groupID: bolga.id, type: .loan))
                        .transactions.count == 1)
                #expect(
                    try await client.listTransactions(A.ListTransactionsRequest(projectID: ghana.id)).transactions.count
                        == 5)
                // Pages of two, oldest first, until the token runs out.
                var paged: [A.Transaction] = []
                var page = A.ListTransactionsRequest(projectID: ghana.id, pageSize: 2)
                repeat {
                    let answer = try await client.listTransactions(page)
                    #expect(answer.transactions.count <= 2)
                    paged += answer.transactions
                    page.pageToken = answer.nextPageToken
                } while !page.pageToken.isEmpty
                #expect(
                    paged.map(\.date).compactMap { $0.flatMap(ISODate.init) }
                        == paged.compactMap { $0.date.flatMap(ISODate.init) }.sorted())
                #expect(paged.count == 5 && Set(paged.map(\.id)).count == 5)
                let badToken = await failure {
                    try await client.listTransactions(
                        A.ListTransactionsRequest(projectID: ghana.id, pageToken: "nonsense"))
                }
                #expect(badToken?.fieldViolations.map(\.field) == ["page_token"])

                // Refusals, each naming why.
                let wrongCurrency = await failure {
                    try await record(africa.id, .disbursement, 100, "GHS", "2025-05-01")
                }
                #expect(
                    wrongCurrency?.code == .failedPrecondition
                        && wrongCurrency?.message.contains("does not use GHS") == true)
                let outside = await failure { try await record(ghana.id, .disbursement, 100, "GHS", "2027-01-05") }
                #expect(
                    outside?.code == .invalidArgument && outside?.fieldViolations.map(\.field) == ["transaction.date"])
                let negative = await failure { try await record(ghana.id, .disbursement, -100, "GHS", "2025-05-01") }
                #expect(negative?.fieldViolations.map(\.field) == ["transaction.value.minor_units"])
                let overpaid = await failure {
                    try await record(ghana.id, .loanRepayment, 300_001, "GHS", "2026-04-01", group: bolga.id)
                }
                #expect(
                    overpaid?.code == .failedPrecondition && overpaid?.message.contains("owes 3,000.00 GHS") == true)
                let noGroup = await failure { try await record(ghana.id, .loan, 100, "GHS", "2025-05-01") }
                #expect(noGroup?.fieldViolations.map(\.field) == ["transaction.group_id"])
                let unknownGroup = await failure {
                    try await record(ghana.id, .loan, 100, "GHS", "2025-05-01", group: "pg_0000000000000000")
                }
                #expect(
                    unknownGroup?.code == .invalidArgument
                        && unknownGroup?.fieldViolations.map(\.field) == ["transaction.group_id"])
                let pipeline = try await Self.project(
                    client, "Later", reporter: serrv.id,
                    budget: [
                        CommonV1.Money(minorUnits: 100, currency: "USD")
                    ], status: .pipeline)
                _ = try await record(pipeline.id, .commitment, 100, "USD", "2025-05-01")
                let early = await failure { try await record(pipeline.id, .disbursement, 100, "USD", "2025-05-01") }
                #expect(early?.code == .failedPrecondition && early?.message.contains("pipeline") == true)
                let both = await failure { try await client.getMoneyTotals(A.GetMoneyTotalsRequest()) }
                #expect(both?.code == .invalidArgument)
                // The budget cannot drop a currency money already moved in.
                let current = try await client.getProject(A.GetProjectRequest(id: ghana.id))
                let dropping = await failure {
                    try await client.updateProject(
                        A.UpdateProjectRequest(
                            project: A.Project(id: ghana.id, budget: [CommonV1.Money(minorUnits: 1, currency: "GHS")]),
                            updateMask: ["budget"], expectedVersion: current.version, requestID: RequestID.make()))
                }
                #expect(dropping?.code == .failedPrecondition && dropping?.message.contains("USD") == true)
                #expect(
                    try await client.listTransactions(A.ListTransactionsRequest(projectID: ghana.id)).transactions.count
                        == 5)
            }
        }
    }

    @Test(
        "records about a group merged away count for the group it merged into, and new ones go there",
        arguments: Backend.allCases)
    func mergedGroups(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(backend, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let survivor = try await makeGroup(service.producer, "Bolga Basket Weavers")
                let duplicate = try await makeGroup(service.producer, "Bolga Basket Weavers Cooperative")
                let serrv = try await Self.organisation(client, "SERRV", .member)
                let project = try await Self.project(
                    client, "Ghana", reporter: serrv.id,
                    budget: [CommonV1.Money(minorUnits: 1_000_000, currency: "GHS")])
                func disburse(_ group: String, _ key: String) async throws -> A.Transaction {
                    try await client.recordTransaction(
                        A.RecordTransactionRequest(
                            transaction: A.Transaction(
                                projectID: project.id, type: .disbursement,
                                value: CommonV1.Money(minorUnits: 1_000, currency: "GHS"),
                                date: date("2025-05-01"), groupID: group), requestID: key))
                }
                _ = try await disburse(survivor.id, "a")
                _ = try await disburse(duplicate.id, "b")
                // The survivor's report before the merge, so this service has seen it without the merged id.
                let before = try await client.getCapacityReport(A.GetCapacityReportRequest(groupID: survivor.id))
                #expect(before.assistance?.money?.totals.first?.disbursements == 1_000)
                _ = try await service.producer.mergeProducerGroups(
                    ProducerV1.MergeProducerGroupsRequest(
                        survivorID: survivor.id, mergedID: duplicate.id, requestID: "merge"))

                let report = try await client.getCapacityReport(A.GetCapacityReportRequest(groupID: survivor.id))
                #expect(report.assistance?.money?.totals.first?.disbursements == 2_000)
                #expect(
                    try await client.listTransactions(A.ListTransactionsRequest(groupID: survivor.id)).transactions
                        .count == 2)
                let later = try await disburse(duplicate.id, "c")
                #expect(later.groupID == survivor.id, "a record naming the merged id goes to the survivor")
                #expect(
                    try await client.getMoneyTotals(A.GetMoneyTotalsRequest(groupID: duplicate.id)).totals.first?
                        .disbursements == 3_000)
            }
        }
    }
}
