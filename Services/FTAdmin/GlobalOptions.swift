import ArgumentParser
import Foundation
import Logging
import RPC
import Schema
import ServiceKit

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    enum Output: String, ExpressibleByArgument, CaseIterable {
        case human, json
    }

    @Option(help: "Output format: human (tables) or json (one JSON document, for scripts).")
    var output: Output = .human

    @Option(
        parsing: .unconditional,
        help:
            "Seconds to wait for each answer (default \(Int(defaultTimeoutSeconds)); imports and exports \(Int(bulkTimeoutSeconds)))."
    )
    var timeout: Double?

    static let defaultTimeoutSeconds = 5.0
    /// For calls that work through a whole file or registry.
    static let bulkTimeoutSeconds = 300.0

    @Option(help: "Call this endpoint instead of the service's configured ones (repeatable).")
    var endpoint: [String] = []

    @Option(
        name: [.customLong("key"), .customLong("key-file")],
        help:
            "Your secret certificate (NAME.key_secret; default FT_KEY_FILE): call over CURVE, expecting each service's key from FT_<SERVICE>_PUBLIC_KEY."
    )
    var key: String?

    /// CURVE settings: `--key` or FT_KEY_FILE.
    var security: SecuritySettings {
        SecuritySettings(keyFile: key ?? processEnvironment["FT_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The longest `--timeout` taken, in seconds: a day.
    static let maxTimeoutSeconds = 86_400

    var callOptions: CallOptions { callOptions(defaultSeconds: Self.defaultTimeoutSeconds) }

    /// Call options with `--timeout`, or `defaultSeconds` when it is not given.
    func callOptions(defaultSeconds: Double) -> CallOptions {
        CallOptions(timeout: .microseconds(Int64((timeout ?? defaultSeconds) * 1_000_000)))
    }

    func validate() throws {
        // Checked before use: NaN or a huge value cannot become a Duration (it would crash), and zero or less
        // would fail every call before it is sent.
        guard let timeout else { return }
        guard timeout.isFinite, timeout > 0, timeout <= Double(Self.maxTimeoutSeconds) else {
            throw ValidationError(
                "--timeout \(timeout) is not a number of seconds above 0 and at most \(Self.maxTimeoutSeconds)")
        }
    }

    /// The services a command addresses: those named, or all three.
    func services(_ names: [String]) throws -> [ServiceAddress] {
        guard !names.isEmpty else { return ServiceDirectory.all }
        return try names.map { name in
            guard let service = ServiceDirectory.find(name) else {
                let known = ServiceDirectory.all.map(\.shortName).joined(separator: ", ")
                throw ValidationError("unknown service \"\(name)\"; known services: \(known)")
            }
            return service
        }
    }

    /// A channel to one service's instances (or to --endpoint).
    func channel(to service: ServiceAddress) throws -> ClientChannel {
        try channel(
            to: service,
            endpoints: endpoint.isEmpty ? service.endpoints(environment: ProcessInfo.processInfo.environment) : endpoint
        )
    }

    /// A channel to some instances of one service, expecting its key.
    func channel(to service: ServiceAddress, endpoints: [String]) throws -> ClientChannel {
        try ClientChannel(
            endpoints: endpoints,
            configuration: ClientChannel.Configuration(
                targetName: service.executable,
                security: security.clientSecurity(for: service, environment: processEnvironment)),
            logger: Logger(label: "ftadmin", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}

extension GlobalOptions {
    /// Runs `body` with a channel to each of `targets` in turn; each service's answer or failure, in order. For
    /// commands that ask every service the same thing and report them all, failures included.
    func eachService<T>(
        _ targets: [ServiceAddress], _ body: (ServiceAddress, ClientChannel) async throws -> T
    ) async throws -> [(service: ServiceAddress, result: Result<T, RPCError>)] {
        var results: [(ServiceAddress, Result<T, RPCError>)] = []
        for target in targets {
            do {
                let channel = try channel(to: target)
                defer { channel.close() }
                results.append((target, .success(try await body(target, channel))))
            } catch let error as RPCError {
                results.append((target, .failure(error)))
            }
        }
        return results
    }
}

/// A JSON entry naming a service and either `value` under `key` or the error that came instead.
func serviceEntry(_ service: ServiceAddress, _ key: String, _ result: Result<JSONValue, RPCError>) -> JSONValue {
    switch result {
    case .success(let value): .object([("service", .string(service.executable)), (key, value)])
    case .failure(let error):
        .object([("service", .string(service.executable)), ("error", .string(error.description))])
    }
}

/// A failed call, as `CODE: message`: `reportingErrors` prints it and exits 1. (A bad argument is a
/// `ValidationError` instead, which `FTAdmin.main` reports with exit status 64.)
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

func fail(_ error: RPCError) -> CommandFailure {
    CommandFailure(description: "\(error.code): \(error.message)")
}

extension AsyncParsableCommand {
    /// Runs `body` with a client of `service` (made by `makeClient` over a channel to it), closing the channel
    /// afterwards and reporting errors the ftadmin way.
    func withClient<Client>(
        _ service: ServiceAddress, _ global: GlobalOptions, _ makeClient: (ClientChannel) -> Client,
        _ body: (Client) async throws -> Void
    ) async throws {
        try await reportingErrors {
            let channel = try global.channel(to: service)
            defer { channel.close() }
            try await body(makeClient(channel))
        }
    }

    /// Runs `body`, turning an RPC error into `error: CODE: message` on stderr and exit status 1.
    func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as RPCStatusConvertible {
            printError("\(error.rpcError.code): \(error.rpcError.message)")
            throw ExitCode(1)
        } catch let error as CommandFailure {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}

var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }
