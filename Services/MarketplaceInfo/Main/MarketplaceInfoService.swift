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
            database, configuration, logger in
            let producer = try ClientChannel(
                endpoints: configuration.endpoints(of: .producer),
                configuration: .init(targetName: ServiceDirectory.producer.executable), logger: logger)
            return [MarketplaceHandler(database: database, producer: ProducerV1.ProducerServiceClient(channel: producer)).registration]
        }
    }
}
