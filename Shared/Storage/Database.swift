import Foundation
import Logging
import ServiceLifecycle

/// The SQL dialect of a back end; repositories write PostgreSQL-style `$1` placeholders and branch on this only
/// where the two really differ (full-text search, say).
public enum SQLDialect: Sendable, Hashable {
    case sqlite
    case postgres
}

/// One connection for the length of a read or a transaction.
public protocol SQLSession: Sendable {
    var dialect: SQLDialect { get }
    /// Runs a statement with `$1`, `$2`… placeholders and returns its rows (use `RETURNING` to learn what a write
    /// touched).
    func query(_ sql: String, _ binds: [SQLValue]) async throws(StorageError) -> [SQLRow]
}

extension SQLSession {
    public func query(_ sql: String) async throws(StorageError) -> [SQLRow] { try await query(sql, []) }

    public func execute(_ sql: String, _ binds: [SQLValue] = []) async throws(StorageError) {
        _ = try await query(sql, binds)
    }

    public func first(_ sql: String, _ binds: [SQLValue] = []) async throws(StorageError) -> SQLRow? {
        try await query(sql, binds).first
    }

    /// Serialises the rest of this transaction with every other transaction that takes the same key, for checks
    /// that read and then write (a balance, a state, a chain). SQLite's writers are serialised already (one writer
    /// connection, BEGIN IMMEDIATE); PostgreSQL, where instances share the database, takes a transaction-scoped
    /// advisory lock on the key's hash.
    public func lock(_ key: String) async throws(StorageError) {
        guard dialect == .postgres else { return }
        try await execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text(key)])
    }
}

/// A service's database: SQLite in a file by default, PostgreSQL when given a URL.
public protocol Database: Sendable {
    var dialect: SQLDialect { get }
    /// Runs one statement outside any explicit transaction (a single statement is atomic by itself): the cheapest
    /// read, one round trip to the database.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs `body` on one connection with a consistent snapshot; nothing it does is written.
    func read<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. Once it returns, the
    /// write survives a crash of the process (SQLite: WAL with synchronous=FULL; PostgreSQL: its own commit).
    func transaction<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T
    /// Writes a consistent copy of the whole database, as it is when the copy begins, while other work goes on:
    /// into a `backups` folder beside the database file, as `<name>-<UTC time>.sqlite`; returns its path. SQLite
    /// only: a PostgreSQL server is backed up with its own tools (`.unsupported`).
    func backup(named name: String) async throws(StorageError) -> String
    /// Checks that the database is still there and answers: for health checks, which call it every second.
    /// Throws `.unavailable` naming the cause.
    func probe() async throws(StorageError)
    /// Closes every connection.
    func close() async
}

/// The write a health check makes to see that a database takes writes: one row of a table of its own, replaced.
func writeProbe(_ session: any SQLSession) async throws {
    try await session.execute(
        """
        INSERT INTO ft_health_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at
        """, [.of(Clock.unixMicros())])
}

extension Database {
    /// A write on a connection of the pool: the server answers, a connection can be had, and it takes writes.
    public func probe() async throws(StorageError) {
        do {
            try await transaction { session in try await writeProbe(session) }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.unavailable, "\(error)", cause: error)
        }
    }
}

/// Where a service keeps its data.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
    /// An SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL server: `postgres://user:password@host:port/database`.
    case postgres(url: String)

    public var description: String {
        switch self {
        case .sqlite(let path): "SQLite at \(path)"
        case .postgres(let url): "PostgreSQL at \(PostgresDatabase.redacted(url))"
        }
    }

    /// Where the data is, without a password: the SQLite file, or the PostgreSQL server's `host:port/database`.
    public var place: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url):
            guard let components = URLComponents(string: url), let host = components.host else {
                return PostgresDatabase.redacted(url)
            }
            return "\(host):\(components.port ?? 5432)\(components.path)"
        }
    }
}

/// Opens the database at `location` and applies `migrations` that have not been applied yet.
/// A database for a process that runs a ServiceGroup: nothing connects until the group runs `service` (PostgreSQL's
/// pool; nil for SQLite, which has no background work). Then `makeReady` checks the connection and migrates.
public func prepareDatabase(_ location: DatabaseLocation, logger: Logger) async throws(StorageError)
    -> (database: any Database, service: (any Service)?)
{
    switch location {
    case .sqlite(let path): return (try await SQLiteDatabase.open(path: path, logger: logger), nil)
    case .postgres(let url):
        let database = try PostgresDatabase.prepare(url: url, logger: logger)
        return (database, database.service)
    }
}

/// Checks that a prepared database answers, then runs its migrations.
public func makeReady(_ database: any Database, _ location: DatabaseLocation, migrations: [Migration], logger: Logger)
    async throws(StorageError)
{
    if case .postgres(let url) = location, let postgres = database as? PostgresDatabase {
        try await postgres.checkReachable(url: url)
    }
    try await Migrator(migrations: migrations, logger: logger).migrate(database)
}

/// Opens a database that runs its own background work, and migrates it: for tools and tests without a
/// ServiceGroup.
public func openDatabase(
    _ location: DatabaseLocation, migrations: [Migration], logger: Logger
) async throws(StorageError) -> any Database {
    let database: any Database
    switch location {
    case .sqlite(let path): database = try await SQLiteDatabase.open(path: path, logger: logger)
    case .postgres(let url): database = try await PostgresDatabase.open(url: url, logger: logger)
    }
    do {
        try await Migrator(migrations: migrations, logger: logger).migrate(database)
    } catch {
        await database.close()
        throw error
    }
    return database
}
