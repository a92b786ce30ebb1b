import Foundation
import Logging
import RPC
import Schema
import Storage
import Testing

/// The storage back ends every storage test runs on.
public enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }
}

/// Logs of the code under test go nowhere unless FT_TEST_LOG is set.
public let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = ProcessInfo.processInfo.environment["FT_TEST_LOG"] != nil ? .debug : .critical
    return logger
}()

/// A fresh, empty database of `backend`, removed when `body` ends: a temporary SQLite file, or a new database on
/// the PostgreSQL server `make test` starts (FT_TEST_POSTGRES_URL). Without that server the test fails, saying so.
public func withDatabase<T>(_ backend: Backend, _ body: (DatabaseLocation) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite:
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(.sqlite(path: folder.appendingPathComponent("service.sqlite").path))
    case .postgres:
        guard let url = ProcessInfo.processInfo.environment["FT_TEST_POSTGRES_URL"] else {
            Issue.record(
                "FT_TEST_POSTGRES_URL is not set: run `make test`, which starts a PostgreSQL server for the tests")
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

/// The error a call fails with, or nil if it succeeds.
public func failure<T>(_ body: () async throws -> T) async -> RPCError? {
    do {
        _ = try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}

/// A date from `YYYY-MM-DD`.
public func date(_ iso: String) -> CommonV1.Date {
    let parts = iso.split(separator: "-").map { Int32($0)! }
    return CommonV1.Date(year: parts[0], month: parts[1], day: parts[2])
}

/// The field violations of `error` by field; two on one field are joined with " / ".
public func violations(_ error: RPCError?) -> [String: String] {
    Dictionary((error?.fieldViolations ?? []).map { ($0.field, $0.description) }, uniquingKeysWith: { $0 + " / " + $1 })
}
