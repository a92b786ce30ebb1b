import API
import ArgumentParser
import Schema
import ServiceKit

/// `producer-service`: the registry of producer groups. Serves `ProducerV1.ProducerService` with health, the service listing and metrics.
@main
struct ProducerServiceMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDirectory.producer.executable,
        abstract: "Serve the registry of producer groups (health, service listing and metrics included).")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceProcess.run(.producer, options: options) { _, _ in
            [ProducerServiceMethods().registration]
        }
    }
}

/// The methods of `ProducerV1.ProducerService`. The schema declares none yet: they arrive with issue #3. Registering the service now
/// lets health checks and the listing name it.
struct ProducerServiceMethods: ProducerV1.ProducerServiceHandler {}
