import Logging

/// One versioned change to a service's schema. Statements may differ per dialect; most are shared.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: @Sendable (SQLDialect) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (SQLDialect) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }

    public init(version: Int, name: String, _ statements: [String]) {
        self.init(version: version, name: name) { _ in statements }
    }
}

/// Applies migrations in order, each once, inside one transaction; concurrent instances starting together on
/// PostgreSQL take an advisory lock so only one applies them.
struct Migrator {
    let migrations: [Migration]
    let logger: Logger

    func migrate(_ database: any Database) async throws(StorageError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        let logger = self.logger
        do {
            try await database.transaction { session in
                if session.dialect == .postgres {
                    try await session.execute("SELECT pg_advisory_xact_lock(7101001)")
                }
                try await session.execute(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                    """)
                // What health checks write to, to see that the database takes writes (`Database.probe`).
                try await session.execute(
                    "CREATE TABLE IF NOT EXISTS ft_health_probe (id BIGINT PRIMARY KEY, at BIGINT NOT NULL)")
                let applied = Set(
                    try await session.query("SELECT version FROM schema_migrations").map { try $0.int("version") })
                for migration in sorted where !applied.contains(Int64(migration.version)) {
                    for statement in migration.statements(session.dialect) {
                        try await session.execute(statement)
                    }
                    try await session.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                        [.of(migration.version), .of(migration.name), .of(Clock.unixMicros())])
                    logger.info("migrated", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                }
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.other, "migration failed: \(error)", cause: error)
        }
    }
}

/// Wall-clock time for stored timestamps.
public enum Clock {
    public static func unixMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}

#if canImport(Glibc)
    import Glibc
#endif
