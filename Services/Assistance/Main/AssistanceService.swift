import API
import ArgumentParser
import AssistanceCore
import RPC
import Schema
import ServiceKit

/// `assistance-service`: financial and technical assistance — projects, money flows, equipment, trainings and their
/// reach, referrals and results — and the capacity report drawn from all three services. Serves
/// `fairtrade.assistance.v1.AssistanceService` with health, the service listing and metrics.
@main
struct AssistanceServiceMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDirectory.assistance.executable,
        abstract: "Serve financial and technical assistance (health, service listing and metrics included).")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceProcess.run(.assistance, options: options, migrations: AssistanceMigrations.all) {
            database, process in
            let producer = try process.configuration.channel(to: ServiceDirectory.producer, logger: process.logger)
            let marketplace = try process.configuration.channel(
                to: ServiceDirectory.marketplaceInfo, logger: process.logger)
            return [
                AssistanceHandler(
                    database: database, producer: ProducerV1.ProducerServiceClient(channel: producer),
                    marketplace: MarketplaceV1.MarketplaceInfoServiceClient(channel: marketplace)
                )
                .registration
            ]
        }
    }
}
