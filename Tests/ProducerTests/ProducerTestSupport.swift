import API
import Foundation
import Logging
import ProducerCore
import RPC
import Schema
import ServiceKit
import Storage
import TestSupport
import Testing

let metricsForTests = ServiceProcess.bootstrap(logLevel: .critical)

/// A Producer service on `backend`, served over loopback, with a typed client.
func withProducer<T>(
    _ backend: Backend, _ body: (ProducerV1.ProducerServiceClient, ClientChannel) async throws -> T
) async throws -> T {
    try await withDatabase(backend) { location in
        _ = metricsForTests
        let database = try await openDatabase(location, migrations: ProducerMigrations.all, logger: quietLogger)
        let server = RPCServer(
            configuration: .init(endpoints: ["tcp://127.0.0.1:*"]),
            services: [ProducerHandler(database: database).registration], logger: quietLogger)
        let endpoint = try server.start()[0]
        let channel = try ClientChannel(
            endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(20)), logger: quietLogger)
        func stop() async {
            channel.close()
            server.beginGracefulShutdown()
            await server.waitUntilFinished()
            await database.close()
        }
        do {
            let result = try await body(ProducerV1.ProducerServiceClient(channel: channel), channel)
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }
}

/// A valid group to start from.
func sampleGroup(
    _ name: String, country: String = "GH", crafts: [String] = ["baskets"], kind: ProducerV1.GroupKind = .cooperative
) -> ProducerV1.ProducerGroup {
    ProducerV1.ProducerGroup(
        name: name, kind: kind, country: country, region: "Upper East", crafts: crafts,
        processesInHouse: ["weaving"], processesOutsourced: ["dyeing"],
        members: ProducerV1.MemberCounts(women: 38, men: 4), foundedYear: 1998,
        minimumOrder: ProducerV1.Quantity(amount: 100, unit: "piece"), leadTimeDays: 45)
}

extension ProducerV1.ProducerServiceClient {
    /// Creates a group with a fresh request id.
    func create(_ group: ProducerV1.ProducerGroup) async throws -> ProducerV1.ProducerGroup {
        try await createProducerGroup(ProducerV1.CreateProducerGroupRequest(group: group, requestID: RequestID.make()))
    }
}
