import API
import Foundation
import Logging
import ProducerCore
import RPC
import Schema
import ServiceKit
import Storage
import Testing

/// The storage back ends every Producer test runs on.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

let quietLogger: Logger = {
    var logger = Logger(label: "producer-test")
    logger.logLevel = ProcessInfo.processInfo.environment["FT_TEST_LOG"] != nil ? .debug : .critical
    return logger
}()

let metricsForTests = ServiceProcess.bootstrap(logLevel: .critical)

/// The PostgreSQL server `make test` starts (scripts/test-postgres.sh).
var postgresURL: String? { ProcessInfo.processInfo.environment["FT_TEST_POSTGRES_URL"] }

/// A fresh, empty database of `backend`, dropped (or deleted) when `body` ends.
func withDatabase<T>(_ backend: Backend, _ body: (DatabaseLocation) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite:
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-producer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(.sqlite(path: folder.appendingPathComponent("producer.sqlite").path))
    case .postgres:
        guard let url = postgresURL else {
            Issue.record("FT_TEST_POSTGRES_URL is not set: run `make test`, which starts a PostgreSQL server for the tests")
            throw CancellationError()
        }
        let name = "ft_test_" + RequestID.make()
        let admin = try await openDatabase(.postgres(url: url), migrations: [], logger: quietLogger)
        try await admin.read { session in try await session.execute("CREATE DATABASE \(name)") }
        var components = URLComponents(string: url)!
        components.path = "/" + name
        let testURL = components.string!
        do {
            let result = try await body(.postgres(url: testURL))
            try? await admin.read { session in try await session.execute("DROP DATABASE \(name) WITH (FORCE)") }
            await admin.close()
            return result
        } catch {
            try? await admin.read { session in try await session.execute("DROP DATABASE \(name) WITH (FORCE)") }
            await admin.close()
            throw error
        }
    }
}

/// A Producer service on `backend`, served over loopback, with a typed client.
func withProducer<T>(
    _ backend: Backend, _ body: (ProducerV1.ProducerServiceClient, ClientChannel) async throws -> T
) async throws -> T {
    try await withDatabase(backend) { location in
        _ = metricsForTests
        let database = try await openDatabase(location, migrations: ProducerMigrations.all, logger: quietLogger)
        let server = RPCServer(
            configuration: .init(endpoints: ["tcp://127.0.0.1:*"]),
            services: [ProducerHandler(database: database).registration], logger: quietLogger)
        let endpoint = try server.start()[0]
        let channel = try ClientChannel(
            endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(20)), logger: quietLogger)
        func stop() async {
            channel.close()
            server.beginGracefulShutdown()
            await server.waitUntilFinished()
            await database.close()
        }
        do {
            let result = try await body(ProducerV1.ProducerServiceClient(channel: channel), channel)
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }
}

func date(_ iso: String) -> CommonV1.Date {
    let parts = iso.split(separator: "-").map { Int32($0)! }
    return CommonV1.Date(year: parts[0], month: parts[1], day: parts[2])
}

/// A valid group to start from.
func sampleGroup(
    _ name: String, country: String = "GH", crafts: [String] = ["baskets"], kind: ProducerV1.GroupKind = .cooperative
) -> ProducerV1.ProducerGroup {
    ProducerV1.ProducerGroup(
        name: name, kind: kind, country: country, region: "Upper East", crafts: crafts,
        processesInHouse: ["weaving"], processesOutsourced: ["dyeing"],
        members: ProducerV1.MemberCounts(women: 38, men: 4), foundedYear: 1998,
        minimumOrder: ProducerV1.Quantity(amount: 100, unit: "piece"), leadTimeDays: 45)
}

extension ProducerV1.ProducerServiceClient {
    /// Creates a group with a fresh request id.
    func create(_ group: ProducerV1.ProducerGroup) async throws -> ProducerV1.ProducerGroup {
        try await createProducerGroup(ProducerV1.CreateProducerGroupRequest(group: group, requestID: RequestID.make()))
    }
}

/// The error a call fails with, or nil if it succeeds.
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
