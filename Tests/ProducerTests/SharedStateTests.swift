import API
import Logging
import ProducerCore
import RPC
import Schema
import ServiceKit
import Storage
import TestSupport
import Testing

@Suite("Several instances on one PostgreSQL database", .serialized)
struct SharedStateTests {
    @Test("two instances share state, and one create sent to both makes one group")
    func twoInstances() async throws {
        try await withDatabase(.postgres) { location in
            var servers: [RPCServer] = []
            var databases: [any Database] = []
            var endpoints: [String] = []
            for _ in 0..<2 {
                let database = try await openDatabase(location, migrations: ProducerMigrations.all, logger: quietLogger)
                let server = RPCServer(
                    configuration: .init(endpoints: ["tcp://127.0.0.1:*"]),
                    services: [ProducerHandler(database: database).registration], logger: quietLogger)
                endpoints.append(try server.start()[0])
                servers.append(server)
                databases.append(database)
            }
            let first = try ClientChannel(endpoints: [endpoints[0]], logger: quietLogger)
            let second = try ClientChannel(endpoints: [endpoints[1]], logger: quietLogger)
            defer {
                first.close()
                second.close()
            }
            let a = ProducerV1.ProducerServiceClient(channel: first)
            let b = ProducerV1.ProducerServiceClient(channel: second)
            let created = try await a.create(sampleGroup("Shared group"))
            #expect(try await b.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: created.id)) == created)

            for round in 0..<10 {
                let request = ProducerV1.CreateProducerGroupRequest(
                    group: sampleGroup("Raced \(round)"), requestID: "race-\(round)")
                async let fromA = a.createProducerGroup(request)
                async let fromB = b.createProducerGroup(request)
                let (x, y) = try await (fromA, fromB)
                #expect(x.id == y.id, "the same create on two instances made two groups")
            }
            let listed = try await a.listProducerGroups(ProducerV1.ListProducerGroupsRequest(pageSize: 500))
            #expect(listed.groups.count == 11)

            // Optimistic concurrency across instances: one of two updates from the same version wins.
            let change = ProducerV1.UpdateProducerGroupRequest(
                group: ProducerV1.ProducerGroup(id: created.id, notes: "from a"), updateMask: ["notes"],
                expectedVersion: 1, requestID: RequestID.make())
            var other = change
            other.group?.notes = "from b"
            other.requestID = RequestID.make()
            async let updateA = failure { try await a.updateProducerGroup(change) }
            async let updateB = failure { try await b.updateProducerGroup(other) }
            let outcomes = await [updateA, updateB]
            #expect(outcomes.filter { $0 == nil }.count == 1 && outcomes.compactMap { $0?.code } == [.aborted])

            // An update replayed on the other instance answers as the first did and is applied once; the same
            // update sent to both at once too.
            let current = try await a.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: created.id))
            let edit = ProducerV1.UpdateProducerGroupRequest(
                group: ProducerV1.ProducerGroup(id: created.id, notes: "replayed"), updateMask: ["notes"],
                expectedVersion: current.version, requestID: RequestID.make())
            let applied = try await a.updateProducerGroup(edit)
            #expect(try await b.updateProducerGroup(edit) == applied)
            var raced = edit
            raced.expectedVersion = applied.version
            raced.requestID = RequestID.make()
            async let raceA = a.updateProducerGroup(raced)
            async let raceB = b.updateProducerGroup(raced)
            let (x, y) = try await (raceA, raceB)
            #expect(x == y && x.version == applied.version + 1, "one update sent to both was applied twice or not once")
            let stored = try await b.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: created.id))
            #expect(stored.version == applied.version + 1)

            for server in servers {
                server.beginGracefulShutdown()
                await server.waitUntilFinished()
            }
            for database in databases { await database.close() }
        }
    }
}
