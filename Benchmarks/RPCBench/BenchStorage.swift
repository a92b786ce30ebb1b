import ArgumentParser
import Foundation
import Logging
import RPC
import Storage

/// Where a benchmarked service keeps its data: a temporary folder for SQLite, or a fresh database made on a
/// PostgreSQL server. `remove()` deletes either when the benchmark ends.
final class BenchStorage {
    /// For seeding through the service's own store.
    let location: DatabaseLocation
    /// The service's flags for the same storage.
    let serviceArguments: [String]
    private let folder: URL
    private let postgres: (serverURL: String, database: String)?
    private let logger: Logger

    /// - Parameters:
    ///   - backend: `sqlite` or `postgres`.
    ///   - sqliteFile: the file the service keeps in its data folder, e.g. `producer.sqlite`.
    init(backend: String, postgresURL: String, sqliteFile: String, logger: Logger) throws {
        self.logger = logger
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-bench-\(UUID().uuidString)")
        switch backend {
        case "sqlite":
            location = .sqlite(path: folder.appendingPathComponent(sqliteFile).path)
            serviceArguments = ["--data-dir", folder.path]
            postgres = nil
        case "postgres":
            let database = "ft_bench_" + RequestID.make()
            try Self.administer(postgresURL, "CREATE DATABASE \(database)", logger)
            var components = URLComponents(string: postgresURL)!
            components.path = "/" + database
            location = .postgres(url: components.string!)
            serviceArguments = ["--database-url", components.string!]
            postgres = (postgresURL, database)
        default:
            throw ValidationError("--backend must be sqlite or postgres")
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: folder)
        if let postgres {
            try? Self.administer(postgres.serverURL, "DROP DATABASE \(postgres.database) WITH (FORCE)", logger)
        }
    }

    private static func administer(_ serverURL: String, _ statement: String, _ logger: Logger) throws {
        try blockingRun {
            let admin = try await openDatabase(.postgres(url: serverURL), migrations: [], logger: logger)
            do {
                try await admin.read { session in try await session.execute(statement) }
            } catch {
                await admin.close()
                throw error
            }
            await admin.close()
        }
    }
}

/// After seeding in bulk: planner statistics, and on PostgreSQL a vacuum, as a database that grew by normal use has
/// had. Without it autovacuum starts on the fresh rows while the benchmark measures, and its work shows as
/// latency (a library search's p99 went from ~13 ms to ~50 ms).
func settle(_ database: any Database) async throws {
    switch database.dialect {
    case .sqlite: try await database.transaction { session in try await session.execute("ANALYZE") }
    // VACUUM cannot run inside a transaction: one statement on its own.
    case .postgres: _ = try await database.query("VACUUM (ANALYZE)", [])
    }
}
