import API
import Foundation
import Logging
import MarketplaceCore
import RPC
import Schema
import ServiceKit
import Storage
import TestSupport
import Testing

let metricsForTests = ServiceProcess.bootstrap(logLevel: .critical)

struct Marketplace {
    let client: MarketplaceV1.MarketplaceInfoServiceClient
    let producer: ProducerV1.ProducerServiceClient
}

/// A Marketplace-Info service on `backend`, served over loopback, whose Producer client calls `producerEndpoint`.
func withMarketplace<T>(
    _ backend: Backend, producerEndpoint: String, _ body: (Marketplace) async throws -> T
) async throws -> T {
    try await withDatabase(backend) { location in
        _ = metricsForTests
        let database = try await openDatabase(location, migrations: MarketplaceMigrations.all, logger: quietLogger)
        let producerChannel = try ClientChannel(
            endpoints: [producerEndpoint],
            configuration: .init(defaultTimeout: .seconds(5), targetName: "producer-service"),
            logger: quietLogger)
        let producer = ProducerV1.ProducerServiceClient(channel: producerChannel)
        do {
            let value = try await withServer(
                [MarketplaceHandler(database: database, producer: producer).registration],
                closing: [producerChannel]
            ) { channel in
                try await body(
                    Marketplace(
                        client: MarketplaceV1.MarketplaceInfoServiceClient(channel: channel), producer: producer))
            }
            await database.close()
            return value
        } catch {
            await database.close()
            throw error
        }
    }
}

/// Records a producer price of `minor` minor units per piece at `market` on `day` (YYYY-MM-DD).
func recordPrice(
    _ client: MarketplaceV1.MarketplaceInfoServiceClient, market: String, _ minor: Int64, _ day: String,
    requestID: String, product: String = "baskets", currency: String = "GHS", source: String = ""
) async throws -> MarketplaceV1.RecordPriceResponse {
    try await client.recordPrice(
        MarketplaceV1.RecordPriceRequest(
            observation: MarketplaceV1.PriceObservation(
                product: product, marketID: market, priceType: .producer, unit: "piece",
                price: CommonV1.Money(minorUnits: minor, currency: currency), observedOn: date(day), source: source),
            requestID: requestID))
}

/// A Marketplace-Info service on SQLite that publishes its live events, served over loopback, with no Producer
/// service behind it: `body` gets its client and the endpoint its events are published on.
func withPublishingMarketplace<T>(
    _ body: (MarketplaceV1.MarketplaceInfoServiceClient, _ eventEndpoint: String) async throws -> T
) async throws -> T {
    try await withDatabase(.sqlite) { location in
        _ = metricsForTests
        let database = try await openDatabase(location, migrations: MarketplaceMigrations.all, logger: quietLogger)
        defer { Task { await database.close() } }
        let publisher = EventPublisher(endpoints: ["tcp://127.0.0.1:*"], sendHighWaterMark: 1000, logger: quietLogger)
        let eventEndpoint = try publisher.start()[0]
        defer { publisher.close() }
        let producerChannel = try ClientChannel(endpoints: [deadEndpoint()], logger: quietLogger)
        let handler = MarketplaceHandler(
            database: database, producer: ProducerV1.ProducerServiceClient(channel: producerChannel), events: publisher)
        return try await withServer([handler.registration], closing: [producerChannel]) { channel in
            try await body(MarketplaceV1.MarketplaceInfoServiceClient(channel: channel), eventEndpoint)
        }
    }
}
