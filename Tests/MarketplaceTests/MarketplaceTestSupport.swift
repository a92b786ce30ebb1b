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

enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

let quietLogger: Logger = {
    var logger = Logger(label: "marketplace-test")
    logger.logLevel = ProcessInfo.processInfo.environment["FT_TEST_LOG"] != nil ? .debug : .critical
    return logger
}()

let metricsForTests = ServiceProcess.bootstrap(logLevel: .critical)

/// A fresh database of `backend`: a temporary SQLite file, or a new database on the tests' PostgreSQL server.
func withDatabase<T>(_ backend: Backend, _ body: (DatabaseLocation) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite:
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-market-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(.sqlite(path: folder.appendingPathComponent("marketplace.sqlite").path))
    case .postgres:
        guard let url = ProcessInfo.processInfo.environment["FT_TEST_POSTGRES_URL"] else {
            Issue.record("FT_TEST_POSTGRES_URL is not set: run `make test`, which starts a PostgreSQL server for the tests")
            throw CancellationError()
        }
        let name = "ft_test_" + RequestID.make()
        let admin = try await openDatabase(.postgres(url: url), migrations: [], logger: quietLogger)
        try await admin.read { session in try await session.execute("CREATE DATABASE \(name)") }
        var components = URLComponents(string: url)!
        components.path = "/" + name
        let result: Result<T, any Error>
        do { result = .success(try await body(.postgres(url: components.string!))) } catch { result = .failure(error) }
        try? await admin.read { session in try await session.execute("DROP DATABASE \(name) WITH (FORCE)") }
        await admin.close()
        return try result.get()
    }
}

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

func date(_ iso: String) -> CommonV1.Date {
    let parts = iso.split(separator: "-").map { Int32($0)! }
    return CommonV1.Date(year: parts[0], month: parts[1], day: parts[2])
}

func failure<T>(_ body: () async throws -> T) async -> RPCError? {
    do {
        _ = try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}

/// An endpoint where nothing listens (below the ephemeral range, so it cannot self-connect).
func deadEndpoint() -> String { "tcp://127.0.0.1:\(freeLoopbackPort())" }
