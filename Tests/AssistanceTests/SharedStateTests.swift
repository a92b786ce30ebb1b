import API
import AssistanceCore
import RPC
import Schema
import Storage
import TestSupport
import Testing

/// Two Assistance instances on one PostgreSQL database: checks that read and then write (what a group owes, a
/// cascade's chain, a project's version) hold when the two instances race.
@Suite("Assistance: two instances on one PostgreSQL database", .serialized)
struct SharedStateTests {
    typealias A = AssistanceV1

    @Test("racing repayments never repay more than is owed; racing links never close a loop; one of two updates wins")
    func racingInstances() async throws {
        try await withProducerProcess { producerEndpoint in
            try await withDatabase(.postgres) { location in
                let producerChannel = try ClientChannel(endpoints: [producerEndpoint], logger: quietLogger)
                let marketChannel = try ClientChannel(endpoints: [deadEndpoint()], logger: quietLogger)
                var databases: [any Database] = []
                var servers: [RPCServer] = []
                var channels: [ClientChannel] = [producerChannel, marketChannel]
                var instances: [A.AssistanceServiceClient] = []
                for _ in 0..<2 {
                    let database = try await openDatabase(
                        location, migrations: AssistanceMigrations.all, logger: quietLogger)
                    let handler = AssistanceHandler(
                        database: database, producer: ProducerV1.ProducerServiceClient(channel: producerChannel),
                        marketplace: MarketplaceV1.MarketplaceInfoServiceClient(channel: marketChannel))
                    let server = RPCServer(
                        configuration: .init(endpoints: ["tcp://127.0.0.1:*"]),
                        services: [handler.registration], logger: quietLogger)
                    let channel = try ClientChannel(endpoints: [try server.start()[0]], logger: quietLogger)
                    databases.append(database)
                    servers.append(server)
                    channels.append(channel)
                    instances.append(A.AssistanceServiceClient(channel: channel))
                }
                let clients = instances
                let producer = ProducerV1.ProducerServiceClient(channel: producerChannel)
                let weavers = try await makeGroup(producer, "Bolga Basket Weavers")
                let makers = try await makeGroup(producer, "Rural basket makers")
                let serrv = try await ProjectTests.organisation(clients[0], "SERRV", .member)
                let project = try await ProjectTests.project(
                    clients[0], "Loans", reporter: serrv.id,
                    budget: [CommonV1.Money(minorUnits: 100_000, currency: "GHS")])
                func money(_ type: A.TransactionType, _ minor: Int64, key: String, on client: A.AssistanceServiceClient)
                    async throws -> A.Transaction
                {
                    try await client.recordTransaction(
                        A.RecordTransactionRequest(
                            transaction: A.Transaction(
                                projectID: project.id, type: type,
                                value: CommonV1.Money(minorUnits: minor, currency: "GHS"),
                                date: date("2025-06-01"), groupID: weavers.id), requestID: key))
                }
                _ = try await money(.loan, 1_000, key: "loan", on: clients[0])
                let outcomes = await withTaskGroup(of: Bool.self) { group in
                    for index in 0..<10 {
                        group.addTask {
                            (try? await money(.loanRepayment, 200, key: "repay-\(index)", on: clients[index % 2]))
                                != nil
                        }
                    }
                    return await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 }.count == 5, "exactly what was owed is repaid: \(outcomes)")
                let totals = try await clients[1].getMoneyTotals(A.GetMoneyTotalsRequest(groupID: weavers.id))
                #expect(totals.totals.first?.loansOutstanding == 0)

                // Two trainings that could each cascade from the other: linked both ways at once, one link wins.
                func training(_ key: String, trainer: String, trained: String) async throws -> A.Training {
                    try await clients[0].recordTraining(
                        A.RecordTrainingRequest(
                            training: A.Training(
                                title: key, skill: "basketry", heldOn: date("2025-03-01"), trainerGroupID: trainer,
                                trainedGroupIDs: [trained], trainees: A.PeopleCount(women: 5)),
                            requestID: key))
                }
                let first = try await training("first", trainer: makers.id, trained: weavers.id)
                let second = try await training("second", trainer: weavers.id, trained: makers.id)
                async let linkA = failure {
                    try await clients[0].linkCascade(
                        A.LinkCascadeRequest(trainingID: first.id, cascadesFrom: second.id, requestID: RequestID.make())
                    )
                }
                async let linkB = failure {
                    try await clients[1].linkCascade(
                        A.LinkCascadeRequest(trainingID: second.id, cascadesFrom: first.id, requestID: RequestID.make())
                    )
                }
                let links = await [linkA, linkB]
                #expect(
                    links.filter { $0 == nil }.count == 1 && links.compactMap { $0?.code } == [.failedPrecondition],
                    "\(links)")

                // Optimistic concurrency on projects: one of two updates from the same version wins.
                let change = A.UpdateProjectRequest(
                    project: A.Project(id: project.id, title: "from a"), updateMask: ["title"],
                    expectedVersion: project.version, requestID: RequestID.make())
                var other = change
                other.project?.title = "from b"
                other.requestID = RequestID.make()
                async let updateA = failure { try await clients[0].updateProject(change) }
                async let updateB = failure { try await clients[1].updateProject(other) }
                let updates = await [updateA, updateB]
                #expect(updates.filter { $0 == nil }.count == 1 && updates.compactMap { $0?.code } == [.aborted])

                for channel in channels { channel.close() }
                for server in servers {
                    server.beginGracefulShutdown()
                    await server.waitUntilFinished()
                }
                for database in databases { await database.close() }
            }
        }
    }
}
