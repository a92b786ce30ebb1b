import ArgumentParser
import Foundation
import Interop
import RPC
import ServiceKit

/// A process serving `fairtrade.testing.v1.TestService` (plus health and reflection), for tests that need a server
/// they can kill and restart, and for `rpc-bench`. Prints the bound endpoint on stdout once it serves.
@main
struct InteropServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-server", abstract: "Serve the RPC test service (for tests and benchmarks).")

    @Option(name: .customLong("endpoint"), help: "Endpoint to bind (repeatable); tcp://127.0.0.1:* picks a port.")
    var endpoints: [String] = ["tcp://127.0.0.1:*"]

    @Option(help: "Log level.")
    var logLevel: String = "warning"

    @Option(help: "Microseconds the server's I/O thread looks for more work before it sleeps (0: never spin).")
    var busyPollMicros = defaultBusyPollMicros

    @Option(help: "The server's secret certificate (NAME.key_secret): serve over CURVE.")
    var key: String?

    @Option(help: "Folder of the public certificates of the clients to admit (with --key).")
    var authorizedKeys: String?

    @Option(help: "Authorization policy file (with --key).")
    var policy: String?

    func validate() throws {
        guard busyPollMicrosRange.contains(busyPollMicros) else {
            throw ValidationError(
                "--busy-poll-micros must be \(busyPollMicrosRange.lowerBound) to \(busyPollMicrosRange.upperBound)")
        }
    }

    func run() async throws {
        var configuration = ServiceConfiguration(
            endpoints: endpoints, logLevel: .init(rawValue: logLevel) ?? .warning, shutdownGracePeriod: .seconds(2))
        configuration.busyPoll = .microseconds(busyPollMicros)
        // A test server binds what its test says, keys or not (`checkServer` is for the services).
        configuration.security = SecuritySettings(
            keyFile: key, authorizedKeysDirectory: authorizedKeys, policyFile: policy)
        try await ServiceProcess.run(name: "interop-server", configuration: configuration) { process in
            [TestService(logger: process.logger).registration]
        } onStart: { endpoints in
            FileHandle.standardOutput.write(Data((endpoints.joined(separator: " ") + "\n").utf8))
        }
    }
}
