import API
import ArgumentParser
import Schema
import ServiceKit

/// `marketplace-info-service`: market information. Serves `MarketplaceV1.MarketplaceInfoService` with health, the service listing and metrics.
@main
struct MarketplaceInfoServiceMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDirectory.marketplaceInfo.executable,
        abstract: "Serve market information (health, service listing and metrics included).")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceProcess.run(.marketplaceInfo, options: options) { _, _ in
            [MarketplaceInfoServiceMethods().registration]
        }
    }
}

/// The methods of `MarketplaceV1.MarketplaceInfoService`. The schema declares none yet: they arrive with issue #4. Registering the service now
/// lets health checks and the listing name it.
struct MarketplaceInfoServiceMethods: MarketplaceV1.MarketplaceInfoServiceHandler {}
