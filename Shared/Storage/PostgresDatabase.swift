import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// PostgreSQL through PostgresNIO's connection pool, so that several instances of a service share one state. The
/// pool's background work is a swift-service-lifecycle `Service` (`service`): a service process runs it in its
/// ServiceGroup, which stops it after everything that uses it; a tool or test that has no group gets a database
/// that runs it itself (`open`).
final class PostgresDatabase: Database {
    let dialect = SQLDialect.postgres
    private let client: PostgresClient
    /// The pool's work when this database runs it itself; nil when a ServiceGroup runs `service`.
    private let runner: Task<Void, Never>?
    private let logger: Logger
    private let use = ConnectionUse(backend: .postgres, connections: maximumConnections)

    /// The most connections one instance opens.
    static let maximumConnections = 32

    private init(client: PostgresClient, logger: Logger, runsItself: Bool) {
        self.client = client
        self.logger = logger
        self.runner = runsItself ? Task { await client.run() } : nil
    }

    /// The pool's background work, for a ServiceGroup to run; nil when this database runs it itself.
    var service: (any Service)? { runner == nil ? client : nil }

    /// A database on `url` (`postgres://user:password@host:port/database`) whose pool runs once `service` runs in
    /// a ServiceGroup; nothing is connected yet.
    static func prepare(url: String, logger: Logger) throws(StorageError) -> PostgresDatabase {
        PostgresDatabase(
            client: PostgresClient(configuration: try configuration(from: url), backgroundLogger: logger),
            logger: logger, runsItself: false)
    }

    /// Connects to `url` with a pool this database runs itself, and checks the connection.
    static func open(url: String, logger: Logger) async throws(StorageError) -> PostgresDatabase {
        let database = PostgresDatabase(
            client: PostgresClient(configuration: try configuration(from: url), backgroundLogger: logger),
            logger: logger, runsItself: true)
        do {
            try await database.checkReachable(url: url)
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    /// Waits, at most `reachableTimeout`, for one statement to go through: the pool retries a failing connection for
    /// about a minute, and a service starting against a wrong URL should say so sooner.
    func checkReachable(url: String) async throws(StorageError) {
        let database = self
        let budget = Self.reachableTimeout
        // The whole budget is a wait for the first connection, which on a loaded machine may take longer than the
        // `leaseTimeout` that work waits once the pool is up.
        let check = Task {
            do {
                try await database.leased(waitingAtMost: budget) { connection in
                    for try await _ in try await connection.query("SELECT 1", logger: database.logger) {}
                }
            } catch let error as PSQLError {
                throw PostgresSession.classify(error)
            }
        }
        let timeout = Task {
            try await Task.sleep(for: .nanoseconds(budget.nanoseconds))
            check.cancel()
        }
        defer { timeout.cancel() }
        do {
            _ = try await check.value
        } catch {
            throw StorageError(.unavailable, "cannot reach PostgreSQL at \(Self.redacted(url)): \(error)", cause: error)
        }
    }

    static func configuration(from url: String) throws(StorageError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? ""), let host = components.host, !host.isEmpty
        else {
            throw StorageError(
                .unavailable, "database URL \"\(redacted(url))\" is not postgres://user:password@host:port/database")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: database.isEmpty ? nil : database, tls: .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 2
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = sessionBounds.map { ($0.name, String($0.milliseconds)) }
        return configuration
    }

    /// What one session may hold, set on every connection: a service instance that freezes (SIGSTOP, a hung VM)
    /// or loses its network in the middle of a transaction must not keep its locks, and with them every other
    /// instance's writes to the same rows, for longer than this.
    static let sessionBounds: [(name: String, milliseconds: Int)] = [
        // A transaction whose client sends nothing for this long is ended by the server, and its locks released.
        ("idle_in_transaction_session_timeout", 5_000),
        // A statement waits at most this long for a lock (then fails, and its call with ABORTED).
        ("lock_timeout", 10_000),
        // No statement runs longer: the largest import's statements each take milliseconds.
        ("statement_timeout", 60_000),
    ]

    /// How long work waits for a connection of the pool before it fails UNAVAILABLE: with PostgreSQL down, or
    /// unreachable, the pool would wait for it until the call's deadline.
    static let leaseTimeout: TimeAmount = .seconds(1)

    /// How long opening a database waits for its first statement to go through.
    static let reachableTimeout: TimeAmount = .seconds(15)

    /// `body` with a connection of the pool, or UNAVAILABLE when none comes within `wait`. The body never starts
    /// once the wait has timed out, and the caller waits for a body that has started to end.
    func leased<T: Sendable>(
        waitingAtMost wait: TimeAmount = leaseTimeout,
        _ body: @Sendable @escaping (PostgresConnection) async throws -> T
    ) async throws -> T {
        let lease = Lease()
        let client = self.client
        let work = Task {
            try await client.withConnection { connection in
                guard lease.start() else { throw CancellationError() }
                return try await body(connection)
            }
        }
        let timer = MultiThreadedEventLoopGroup.singleton.next().scheduleTask(in: wait) {
            if lease.expire() { work.cancel() }
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
        } catch {
            if lease.expired {
                throw StorageError(
                    .unavailable,
                    "PostgreSQL gave no connection within \(wait.nanoseconds / 1_000_000_000) s: it is down, "
                        + "or unreachable from here", cause: error)
            }
            throw error
        }
    }

    /// Whether work got its connection before its wait timed out: whichever comes first wins.
    final class Lease: Sendable {
        private let state = Atomic<Int>(0)  // 0 waiting, 1 started, 2 expired
        func start() -> Bool {
            state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged
        }
        func expire() -> Bool {
            state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged
        }
        var expired: Bool { state.load(ordering: .acquiring) == 2 }
    }

    /// The URL without its password, for logs and errors.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await read { session in try await session.query(sql, binds) }
    }

    func read<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        let requested = ContinuousClock.now
        do {
            // `leased` never returns before the body it started has ended.
            return try await withoutActuallyEscaping(body) { body in
                try await leased { connection in
                    try await self.use.using(since: requested) {
                        try await body(PostgresSession(connection: connection, logger: self.logger))
                    }
                }
            }
        } catch let error as PSQLError {
            throw PostgresSession.classify(error)
        }
    }

    func backup(named name: String) async throws(StorageError) -> String {
        throw StorageError(
            .unsupported,
            "the service's data is in PostgreSQL, which is backed up with its own tools (pg_dump, or continuous archiving), not by the service"
        )
    }

    /// BEGIN, the body, COMMIT; ROLLBACK when the body throws. Written here rather than through PostgresNIO's
    /// `withTransaction`, which sends ROLLBACK even on a connection the server has closed (it ends a session left
    /// idle in a transaction: `sessionBounds`), and a statement written to a closed connection is never answered.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        let requested = ContinuousClock.now
        do {
            // `leased` never returns before the body it started has ended.
            return try await withoutActuallyEscaping(body) { body in
                try await leased { connection in
                    try await self.use.using(since: requested) {
                        try await Self.inTransaction(PostgresSession(connection: connection, logger: self.logger), body)
                    }
                }
            }
        } catch let error as PSQLError {
            throw PostgresSession.classify(error)
        }
    }

    /// BEGIN, `body`, COMMIT on `session`; ROLLBACK when the body throws, unless the server closed the connection.
    private static func inTransaction<T: Sendable>(
        _ session: PostgresSession, _ body: @Sendable (any SQLSession) async throws -> T
    ) async throws -> T {
        try await session.execute("BEGIN")
        let value: T
        do {
            value = try await body(session)
        } catch {
            await session.rollback()
            throw error
        }
        _ = try await session.unconditionally("COMMIT")
        return value
    }

    /// Stops the pool this database runs itself; one a ServiceGroup runs stops with the group's shutdown.
    func close() async {
        runner?.cancel()
        _ = await runner?.value
    }
}

/// Statements on one PostgreSQL connection.
struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StorageError) -> [SQLRow] {
        // PostgresNIO runs a cancelled task's statements; refuse them, as NIO's thread pool does for SQLite, so that
        // a call cancelled part-way rolls back on both back ends instead of committing after its caller gave up.
        if Task.isCancelled { throw StorageError(.cancelled, "cancelled before the statement ran") }
        return try await unconditionally(sql, binds)
    }

    /// Rolls the transaction back, unless the server closed the connection (which ended it); a failure to roll back
    /// leaves the connection to the pool, which closes a broken one.
    func rollback() async {
        guard !connection.isClosed else { return }
        do {
            _ = try await unconditionally("ROLLBACK")
        } catch {
            logger.debug("rollback failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs a statement even in a cancelled task: the end of a transaction (COMMIT, ROLLBACK). Refused at once on a
    /// connection the server closed, since PostgresNIO never answers a statement written to one.
    func unconditionally(_ sql: String, _ binds: [SQLValue] = []) async throws(StorageError) -> [SQLRow] {
        if connection.isClosed {
            throw StorageError(
                .unavailable,
                "the connection to PostgreSQL was closed (the server ended the session, or the network failed)")
        }
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .real(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        do {
            // All rows collected on the connection's event loop and handed over at once: iterating the async row
            // sequence instead crosses between threads for every batch, which a one-row get pays for twice.
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
                .get().rows
            var result: [SQLRow] = []
            result.reserveCapacity(rows.count)
            for row in rows {
                var columns: [String] = []
                var values: [SQLValue] = []
                for cell in row {
                    columns.append(cell.columnName)
                    values.append(try Self.value(cell))
                }
                result.append(SQLRow(columns: columns, values: values))
            }
            return result
        } catch let error as PSQLError {
            throw Self.classify(error)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.other, "PostgreSQL: \(String(reflecting: error))", cause: error)
        }
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .numeric:
            // SUM over integers, among others: whole numbers stay integers.
            let value = try cell.decode(Decimal.self)
            if value == value.rounded(0), let integer = Int64(exactly: NSDecimalNumber(decimal: value).int64Value),
                Decimal(integer) == value
            {
                return .integer(integer)
            }
            return .real(NSDecimalNumber(decimal: value).doubleValue)
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default: return .text(try cell.decode(String.self))
        }
    }

    static func classify(_ error: PSQLError) -> StorageError {
        let state = error.serverInfo?[.sqlState]
        let message = error.serverInfo?[.message] ?? String(reflecting: error.code)
        switch state {
        case "23505": return StorageError(.uniqueViolation, message, cause: error)
        case let state? where state.hasPrefix("23"): return StorageError(.constraintViolation, message, cause: error)
        // Serialization failures, deadlocks and a lock not granted within lock_timeout: lost to another change.
        case let state? where state.hasPrefix("40") || state == "55P03":
            return StorageError(.conflict, message, cause: error)
        case let state? where state.hasPrefix("08") || state.hasPrefix("57"):
            return StorageError(.unavailable, message, cause: error)
        case nil: return StorageError(.unavailable, "PostgreSQL: \(message)", cause: error)
        default: return StorageError(.other, "PostgreSQL \(state ?? ""): \(message)", cause: error)
        }
    }
}

extension Decimal {
    fileprivate func rounded(_ scale: Int) -> Decimal {
        var value = self
        var result = Decimal()
        NSDecimalRound(&result, &value, scale, .plain)
        return result
    }
}
