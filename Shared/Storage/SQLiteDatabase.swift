import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// SQLite in one file, in WAL mode with `synchronous=FULL`, so that a committed transaction survives `kill -9`
/// and a power cut. One connection writes (transactions are serialised, as SQLite's are anyway); a few more read,
/// each inside a read transaction for a consistent snapshot, in parallel with the writer. Each connection has a
/// thread of its own to block on: sharing NIO's default pool (one thread per core) left reads waiting while the
/// writer's commits waited for the disk.
final class SQLiteDatabase: Database {
    let dialect = SQLDialect.sqlite
    /// The database file.
    private let path: String
    private let writer: Connection
    private let readers: [Connection]
    private let nextReader = Atomic<Int>(0)
    private let logger: Logger
    private let use: ConnectionUse
    /// The file the connections opened (device and inode): a file deleted or replaced under the running service
    /// is no longer the one it writes to, and nothing it acknowledged would be found after a restart.
    private let file: FileIdentity?
    private let threads: NIOThreadPool
    /// Why the last write failed, when the disk or the file refused it (nil once a write commits).
    private let writeFault = Mutex<String?>(nil)

    struct Connection: Sendable {
        let connection: SQLiteConnection
        let lock = AsyncLock()
    }

    private init(
        path: String, writer: Connection, readers: [Connection], threads: NIOThreadPool, logger: Logger
    ) {
        self.path = path
        self.threads = threads
        self.writer = writer
        self.readers = readers
        self.logger = logger
        self.use = ConnectionUse(backend: .sqlite, connections: readers.count + 1)
        self.file = FileIdentity(path: path)
    }

    /// Why the file at the path is not the one opened (deleted, replaced), or nil when it is.
    private func fileProblem() -> String? {
        guard let file else { return nil }
        let now = FileIdentity(path: path)
        if now == file { return nil }
        return now == nil
            ? "the database file \(path) was deleted while the service ran: nothing is written until it is restarted "
                + "(from a backup)"
            : "the database file \(path) was replaced while the service ran: nothing is written until it is restarted"
    }

    /// The file at the path must still be the one opened, and take a write (a disk turned read-only or full
    /// refuses it). While a transaction holds the writer (a large import takes seconds), waiting for it would make a
    /// working database look unreachable: the file is then read instead, and the fault of the last write, if it
    /// failed for want of the disk, stands for the write.
    func probe() async throws(StorageError) {
        if let problem = fileProblem() { throw StorageError(.unavailable, problem) }
        do {
            guard writer.lock.tryLock() else {
                if let fault = writeFault.withLock({ $0 }) { throw StorageError(.unavailable, fault) }
                _ = try await query("SELECT count(*) AS n FROM sqlite_master", [])
                return
            }
            defer { writer.lock.unlock() }
            try await inTransaction(on: writer, begin: "BEGIN IMMEDIATE", locked: true) { session in
                try await writeProbe(session)
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.unavailable, "\(error)", cause: error)
        }
    }

    static func open(path: String, readers: Int = 4, logger: Logger) async throws(StorageError) -> SQLiteDatabase {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw StorageError(
                    .unavailable, "cannot create the data folder \(directory): \(error.localizedDescription)",
                    cause: error)
            }
        }
        var opened: [SQLiteConnection] = []
        let threads = NIOThreadPool(numberOfThreads: readers + 1)
        threads.start()
        do {
            for index in 0...readers {
                let connection = try await SQLiteConnection.open(
                    storage: .file(path: path), threadPool: threads, logger: logger,
                    on: MultiThreadedEventLoopGroup.singleton.any())
                opened.append(connection)
                let session = SQLiteSession(connection: connection)
                if index == 0 {
                    // WAL lets readers work beside the writer; FULL syncs the WAL on every commit (durable).
                    try await session.execute("PRAGMA journal_mode=WAL")
                }
                try await session.execute("PRAGMA synchronous=FULL")
                try await session.execute("PRAGMA foreign_keys=ON")
                try await session.execute("PRAGMA busy_timeout=10000")
            }
        } catch {
            for connection in opened { try? await connection.close() }
            try? await threads.shutdownGracefully()
            throw StorageError(.unavailable, "cannot open SQLite database \(path): \(error)", cause: error)
        }
        return SQLiteDatabase(
            path: path, writer: Connection(connection: opened[0]),
            readers: opened.dropFirst().map { Connection(connection: $0) }, threads: threads, logger: logger)
    }

    /// The next reader connection, in turn.
    private var reader: Connection { readers[nextReader.wrappingAdd(1, ordering: .relaxed).oldValue % readers.count] }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let reader = reader
        let requested = ContinuousClock.now
        return try await reader.lock.withLock {
            try await use.using(since: requested) {
                try await SQLiteSession(connection: reader.connection).query(sql, binds)
            }
        }
    }

    func read<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        try await inTransaction(on: reader, begin: "BEGIN", body)
    }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        try await inTransaction(on: writer, begin: "BEGIN IMMEDIATE", body)
    }

    /// Runs `body` on `connection` alone between `begin` and COMMIT, rolling back when it throws; `locked` when the
    /// caller holds the connection's lock already.
    private func inTransaction<T: Sendable>(
        on connection: Connection, begin: String, locked: Bool = false,
        _ body: @Sendable (any SQLSession) async throws -> T
    ) async throws -> T {
        let requested = ContinuousClock.now
        if !locked { await connection.lock.lock() }
        defer { if !locked { connection.lock.unlock() } }
        let writes = begin != "BEGIN"
        return try await use.using(since: requested) {
            let session = SQLiteSession(connection: connection.connection)
            do {
                try await session.execute(begin)
                do {
                    let result = try await body(session)
                    // A write must land in the file that will be read after a restart: not one deleted or replaced
                    // under the running service (its connections would go on writing to the unlinked file).
                    if writes, let problem = fileProblem() { throw StorageError(.unavailable, problem) }
                    try await session.execute("COMMIT")
                    if writes { writeFault.withLock { $0 = nil } }
                    return result
                } catch {
                    // Statements of a cancelled task never run (NIO's thread pool drops them with
                    // CancellationError), so the rollback runs in a task of its own. Without it, a call cancelled
                    // part-way (its deadline passed, its client went) left the connection inside this
                    // transaction, refusing every later one.
                    await Task.detached { try? await session.execute("ROLLBACK") }.value
                    throw error
                }
            } catch let error as StorageError where writes && error.kind == .unavailable {
                writeFault.withLock { $0 = error.message }
                throw error
            }
        }
    }

    /// `VACUUM INTO` on a reader: SQLite copies the snapshot the reader sees, page by page, into a new compacted
    /// file, while the writer and the other readers go on (WAL).
    func backup(named name: String) async throws(StorageError) -> String {
        let folder = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("backups")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StorageError(
                .unavailable, "cannot make the backup folder \(folder): \(error.localizedDescription)", cause: error)
        }
        let file = Self.freshPath(in: folder, name: name, at: Date())
        let reader = reader
        do {
            try await reader.lock.withLock {
                try await SQLiteSession(connection: reader.connection).execute("VACUUM INTO $1", [.of(file)])
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.other, "\(error)", cause: error)
        }
        return file
    }

    /// `folder/name-YYYYMMDDTHHMMSSZ.sqlite`, with "-2", "-3", … added when a backup of that second exists.
    static func freshPath(in folder: String, name: String, at time: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime, .withTimeZone]
        let stamp = formatter.string(from: time)
        var file = "\(folder)/\(name)-\(stamp).sqlite"
        var copy = 1
        while FileManager.default.fileExists(atPath: file) {
            copy += 1
            file = "\(folder)/\(name)-\(stamp)-\(copy).sqlite"
        }
        return file
    }

    func close() async {
        for connection in [writer] + readers {
            await connection.lock.withLock { try? await connection.connection.close() }
        }
        try? await threads.shutdownGracefully()
    }
}

/// Statements on one SQLite connection; `$n` placeholders become SQLite's `?n`.
struct SQLiteSession: SQLSession {
    let connection: SQLiteConnection
    var dialect: SQLDialect { .sqlite }

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StorageError) -> [SQLRow] {
        let collector = RowCollector()
        do {
            try await connection.query(Self.placeholders(sql), binds.map(Self.data)) { row in
                collector.append(row)
            }
        } catch let error as SQLiteError {
            throw Self.classify(error, sql)
        } catch is CancellationError {
            throw StorageError(.cancelled, "cancelled before the statement ran")
        } catch {
            throw StorageError(.other, "\(error)", cause: error)
        }
        return collector.rows
    }

    static func data(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .null: .null
        case .integer(let value): .integer(Int(value))
        case .real(let value): .float(value)
        case .text(let value): .text(value)
        case .blob(let bytes): .blob(ByteBuffer(bytes: bytes))
        }
    }

    static func value(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .null: .null
        case .integer(let value): .integer(Int64(value))
        case .float(let value): .real(value)
        case .text(let value): .text(value)
        case .blob(var buffer): .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
    }

    /// `$12` → `?12`, outside quoted strings.
    static func placeholders(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count)
        var inString = false
        for character in sql {
            if character == "'" { inString.toggle() }
            out.append(character == "$" && !inString ? "?" : character)
        }
        return out
    }

    static func classify(_ error: SQLiteError, _ sql: String) -> StorageError {
        // The extended codes (ioErrorFailedWrite, readonlyDirectory, …) say the same as their primary code.
        let reason = "\(error.reason)"
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
            return StorageError(.uniqueViolation, error.message, cause: error)
        case .constraint, .constraintCheckFailed, .constraintForeignKeyFailed, .constraintNotNullFailed:
            return StorageError(.constraintViolation, error.message, cause: error)
        case .full:
            return StorageError(
                .unavailable, "the disk holding the database is full: writes are refused until there is room",
                cause: error)
        case _ where reason.hasPrefix("readOnly") || reason.hasPrefix("readonly"):
            return StorageError(
                .unavailable,
                "the database cannot be written (the disk is mounted read-only, or the file's permissions changed): "
                    + error.message, cause: error)
        case _ where reason.hasPrefix("ioError"):
            return StorageError(
                .unavailable, "the disk failed reading or writing the database: \(error.message)", cause: error)
        case _ where reason.hasPrefix("busy") || reason.hasPrefix("locked") || reason.hasPrefix("cantOpen"):
            return StorageError(.unavailable, "SQLite: \(error.message)", cause: error)
        case .corrupt, .notADatabase, .corruptIndex, .corruptSequenceSchema, .corruptVirtualTable:
            return StorageError(.corrupt, "SQLite: \(error.message)", cause: error)
        default:
            return StorageError(.other, "SQLite: \(error.message) in \(sql.prefix(120))", cause: error)
        }
    }
}

/// Rows handed over one by one from SQLite's thread.
private final class RowCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [SQLRow] = []

    func append(_ row: SQLiteRow) {
        let columns = row.columns
        let converted = SQLRow(columns: columns.map(\.name), values: columns.map { SQLiteSession.value($0.data) })
        lock.withLock { collected.append(converted) }
    }

    var rows: [SQLRow] { lock.withLock { collected } }
}

/// A file's device and inode number: the same path may come to name another file.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64

    /// The identity of the file at `path`; nil when there is none.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
