import API
import Foundation
import Logging
import MarketplaceCore
import RPC
import Schema
import ServiceKit
import Storage
import TestSupport
import Testing

let metricsForTests = ServiceProcess.bootstrap(logLevel: .critical)

/// A producer-service process on SQLite in a temporary folder, stopped when `body` ends.
func withProducerProcess<T>(_ body: (_ endpoint: String) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-producer-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let port = freeLoopbackPort()
    let endpoint = "tcp://127.0.0.1:\(port)"
    let service = try ChildProcess(builtExecutable("producer-service"),
                                   arguments: ["--endpoint", endpoint, "--data-dir", folder.path, "--log-level", "warning"])
    defer { service.kill() }
    let channel = try ClientChannel(endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(2)), logger: quietLogger)
    defer { channel.close() }
    for _ in 0..<600 {
        if (try? await HealthV1.HealthClient(channel: channel).check(HealthV1.HealthCheckRequest())) != nil { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await body(endpoint)
}

struct Marketplace {
    let client: MarketplaceV1.MarketplaceInfoServiceClient
    let producer: ProducerV1.ProducerServiceClient
}

/// A Marketplace-Info service on `backend`, served over loopback, whose Producer client calls `producerEndpoint`.
func withMarketplace<T>(
    _ backend: Backend, producerEndpoint: String, _ body: (Marketplace) async throws -> T
) async throws -> T {
    try await withDatabase(backend) { location in
        _ = metricsForTests
        let database = try await openDatabase(location, migrations: MarketplaceMigrations.all, logger: quietLogger)
        let producerChannel = try ClientChannel(
            endpoints: [producerEndpoint], configuration: .init(defaultTimeout: .seconds(5), targetName: "producer-service"),
            logger: quietLogger)
        let producer = ProducerV1.ProducerServiceClient(channel: producerChannel)
        let server = RPCServer(configuration: .init(endpoints: ["tcp://127.0.0.1:*"]),
                               services: [MarketplaceHandler(database: database, producer: producer).registration],
                               logger: quietLogger)
        let endpoint = try server.start()[0]
        let channel = try ClientChannel(endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(10)),
                                        logger: quietLogger)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(Marketplace(
                client: MarketplaceV1.MarketplaceInfoServiceClient(channel: channel), producer: producer)))
        } catch {
            result = .failure(error)
        }
        channel.close()
        producerChannel.close()
        server.beginGracefulShutdown()
        await server.waitUntilFinished()
        await database.close()
        return try result.get()
    }
}

/// An endpoint where nothing listens (below the ephemeral range, so it cannot self-connect).
func deadEndpoint() -> String { "tcp://127.0.0.1:\(freeLoopbackPort())" }
