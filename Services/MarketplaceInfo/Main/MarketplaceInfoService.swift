import API
import ArgumentParser
import Logging
import MarketplaceCore
import RPC
import Schema
import ServiceKit

/// `marketplace-info-service`: market information — prices, buyers' demand matched to producer groups (through the
/// Producer service), retail partners and the best-practice library. Serves
/// `fairtrade.marketplace.v1.MarketplaceInfoService` with health, the service listing and metrics.
@main
struct MarketplaceInfoServiceMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDirectory.marketplaceInfo.executable,
        abstract: "Serve market information (health, service listing and metrics included).")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceProcess.run(.marketplaceInfo, options: options, migrations: MarketplaceMigrations.all) {
            database, process in
            let producer = try process.configuration.channel(to: ServiceDirectory.producer, logger: process.logger)
            // Live events (posts, price alerts, demand) on a PUB socket of this instance, a CURVE server with the
            // RPC server's keys when it has them.
            let events = EventPublisher(
                endpoints: process.configuration.eventEndpoints, security: process.security, logger: process.logger)
            let bound = try events.start()
            process.run(EventPublisherService(events))
            process.logger.info("publishing events", metadata: ["endpoints": .string(bound.joined(separator: " "))])
            return [
                MarketplaceHandler(
                    database: database, producer: ProducerV1.ProducerServiceClient(channel: producer),
                    events: events
                ).registration
            ]
        }
    }
}
