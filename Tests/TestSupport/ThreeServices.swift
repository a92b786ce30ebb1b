import API
import Foundation
import RPC
import Schema

/// The three services as processes on SQLite in a temporary folder, each told where the others are.
public final class ThreeServices {
    public let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-report-\(UUID().uuidString)")
    public let producerEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
    public let marketEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
    public let assistanceEndpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
    public var environment: [String: String] {
        [
            "FT_PRODUCER_ENDPOINTS": producerEndpoint, "FT_MARKETPLACE_INFO_ENDPOINTS": marketEndpoint,
            "FT_ASSISTANCE_ENDPOINTS": assistanceEndpoint,
        ]
    }
    var processes: [ChildProcess] = []
    var channels: [ClientChannel] = []

    public init() async throws {
        func start(_ executable: String, _ endpoint: String, _ extra: [String] = []) throws -> ChildProcess {
            try ChildProcess(
                builtExecutable(executable),
                arguments: [
                    "--endpoint", endpoint, "--data-dir", folder.appendingPathComponent(executable).path,
                    "--log-level", "warning",
                ] + extra,
                environment: environment)
        }
        processes = [
            try start("producer-service", producerEndpoint),
            try start(
                "marketplace-info-service", marketEndpoint,
                ["--events-endpoint", "tcp://127.0.0.1:\(freeLoopbackPort())"]),
            try start("assistance-service", assistanceEndpoint),
        ]
        for endpoint in [producerEndpoint, marketEndpoint, assistanceEndpoint] {
            try await waitUntilServing(endpoint)
        }
    }

    public func channel(_ endpoint: String) throws -> ClientChannel {
        let channel = try ClientChannel(
            endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(10)),
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
