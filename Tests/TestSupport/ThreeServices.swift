import API
import Foundation
import RPC
import Schema

/// The three services as processes on SQLite in a temporary folder, each told where the others are; with `keys`,
/// each serves and calls over CURVE with its own key from the ring (`producer-service`, …), admitting every key of
/// the ring's authorized folder.
public final class ThreeServices {
    public let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-report-\(UUID().uuidString)")
    public let producerEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
    public let marketEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
    public let assistanceEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
    public let keys: KeyRing?
    /// Where the services are, and (with keys) their public certificates: what a client needs, less its own key.
    public var environment: [String: String] {
        var environment = [
            "FT_PRODUCER_ENDPOINTS": producerEndpoint, "FT_MARKETPLACE_INFO_ENDPOINTS": marketEndpoint,
            "FT_ASSISTANCE_ENDPOINTS": assistanceEndpoint,
        ]
        if let keys { environment.merge(keys.clientEnvironment("producer-service")) { $1 } }
        environment["FT_KEY_FILE"] = nil
        return environment
    }
    /// The environment of a client calling with `name`'s key (ftadmin, say).
    public func environment(as name: String) -> [String: String] {
        environment.merging(keys?.clientEnvironment(name) ?? [:]) { $1 }
    }
    var processes: [ChildProcess] = []
    var channels: [ClientChannel] = []

    /// The SQLite file of a service, by executable name.
    public func databaseFile(_ executable: String) -> String {
        folder.appendingPathComponent(executable).appendingPathComponent(
            executable.replacingOccurrences(of: "-service", with: "") + ".sqlite"
        ).path
    }

    public init(keys: KeyRing? = nil) async throws {
        self.keys = keys
        func start(_ executable: String, _ endpoint: String, _ extra: [String] = []) throws -> ChildProcess {
            let security = keys.map { ["--key", $0.secretFile(executable), "--authorized-keys", $0.authorized] } ?? []
            return try ChildProcess(
                builtExecutable(executable),
                arguments: [
                    "--endpoint", endpoint, "--data-dir", folder.appendingPathComponent(executable).path,
                    "--log-level", "warning",
                ] + extra + security,
                environment: environment)
        }
        processes = [
            try start("producer-service", producerEndpoint),
            try start(
                "marketplace-info-service", marketEndpoint,
                ["--events-endpoint", "tcp://127.0.0.1:\(freeLoopbackPort())"]),
            try start("assistance-service", assistanceEndpoint),
        ]
        for (endpoint, executable) in [
            (producerEndpoint, "producer-service"), (marketEndpoint, "marketplace-info-service"),
            (assistanceEndpoint, "assistance-service"),
        ] {
            try await waitUntilServing(
                endpoint, security: keys.map { $0.clientSecurity("producer-service", server: executable) })
        }
    }

    /// A channel to the service at `endpoint`; with keys, calling with the key named `key` (the producer
    /// service's own, a service key, unless told).
    public func channel(_ endpoint: String, as key: String = "producer-service") throws -> ClientChannel {
        let server = [
            producerEndpoint: "producer-service", marketEndpoint: "marketplace-info-service",
            assistanceEndpoint: "assistance-service",
        ][endpoint]
        let channel = try ClientChannel(
            endpoints: [endpoint],
            configuration: .init(
                defaultTimeout: .seconds(10),
                security: keys.flatMap { keys in server.map { keys.clientSecurity(key, server: $0) } }),
            logger: quietLogger)
        channels.append(channel)
        return channel
    }

    public var producer: ProducerV1.ProducerServiceClient {
        get throws { .init(channel: try channel(producerEndpoint)) }
    }
    public var market: MarketplaceV1.MarketplaceInfoServiceClient {
        get throws { .init(channel: try channel(marketEndpoint)) }
    }
    public var assistance: AssistanceV1.AssistanceServiceClient {
        get throws { .init(channel: try channel(assistanceEndpoint)) }
    }

    /// The services whose process has ended.
    public var exited: [String] {
        zip(["producer-service", "marketplace-info-service", "assistance-service"], processes)
            .filter { !$0.1.process.isRunning }.map(\.0)
    }

    public func stopProducer() async { await processes[0].stop() }
    public func stopMarket() async { await processes[1].stop() }

    deinit {
        channels.forEach { $0.close() }
        processes.forEach { $0.kill() }
        try? FileManager.default.removeItem(at: folder)
    }
}
