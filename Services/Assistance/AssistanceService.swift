import API
import ArgumentParser
import Schema
import ServiceKit

/// `assistance-service`: financial and technical assistance. Serves `AssistanceV1.AssistanceService` with health, the service listing and metrics.
@main
struct AssistanceServiceMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDirectory.assistance.executable,
        abstract: "Serve financial and technical assistance (health, service listing and metrics included).")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceProcess.run(.assistance, options: options) { _, _ in
            [AssistanceServiceMethods().registration]
        }
    }
}

/// The methods of `AssistanceV1.AssistanceService`. The schema declares none yet: they arrive with issue #5. Registering the service now
/// lets health checks and the listing name it.
struct AssistanceServiceMethods: AssistanceV1.AssistanceServiceHandler {}
