import API
import AssistanceCore
import Foundation
import Logging
import RPC
import Schema
import ServiceKit
import Storage
import TestSupport
import Testing

let metricsForTests = ServiceProcess.bootstrap(logLevel: .critical)

struct Assistance {
    let client: AssistanceV1.AssistanceServiceClient
    let producer: ProducerV1.ProducerServiceClient
    /// The service's own database, for tests that hold it from outside.
    let database: any Database
}

/// An Assistance service on `backend`, served over loopback, whose Producer and Marketplace-Info clients call the
/// given endpoints.
func withAssistance<T>(
    _ backend: Backend, producerEndpoint: String, marketplaceEndpoint: String = deadEndpoint(),
    _ body: (Assistance) async throws -> T
) async throws -> T {
    try await withDatabase(backend) { location in
        _ = metricsForTests
        let database = try await openDatabase(location, migrations: AssistanceMigrations.all, logger: quietLogger)
        let producerChannel = try ClientChannel(
            endpoints: [producerEndpoint],
            configuration: .init(defaultTimeout: .seconds(5), targetName: "producer-service"),
            logger: quietLogger)
        let marketChannel = try ClientChannel(
            endpoints: [marketplaceEndpoint],
            configuration: .init(defaultTimeout: .seconds(5), targetName: "marketplace-info-service"),
            logger: quietLogger)
        let producer = ProducerV1.ProducerServiceClient(channel: producerChannel)
        let handler = AssistanceHandler(
            database: database, producer: producer,
            marketplace: MarketplaceV1.MarketplaceInfoServiceClient(channel: marketChannel))
        do {
            let value = try await withServer([handler.registration], closing: [producerChannel, marketChannel]) {
                channel in
                try await body(
                    Assistance(
                        client: AssistanceV1.AssistanceServiceClient(channel: channel), producer: producer,
                        database: database))
            }
            await database.close()
            return value
        } catch {
            await database.close()
            throw error
        }
    }
}

/// Creates a producer group in the Producer service.
func makeGroup(
    _ producer: ProducerV1.ProducerServiceClient, _ name: String, country: String = "GH",
    crafts: [String] = ["baskets"]
) async throws -> ProducerV1.ProducerGroup {
    try await producer.createProducerGroup(
        ProducerV1.CreateProducerGroupRequest(
            group: ProducerV1.ProducerGroup(
                name: name, kind: .cooperative, country: country, crafts: crafts,
                members: ProducerV1.MemberCounts(women: 30, men: 5)),
            requestID: "group-\(name)"))
}
