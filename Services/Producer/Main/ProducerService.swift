import ArgumentParser
import ProducerCore
import ServiceKit
import Storage

/// `producer-service`: the registry of producer groups, on SQLite by default or PostgreSQL when instances share
/// state. Serves `fairtrade.producer.v1.ProducerService` with health, the service listing and metrics.
@main
struct ProducerServiceMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDirectory.producer.executable,
        abstract: "Serve the registry of producer groups (health, service listing and metrics included).")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceProcess.run(.producer, options: options, migrations: ProducerMigrations.all) {
            database, _ in
            [ProducerHandler(database: database).registration]
        }
    }
}
