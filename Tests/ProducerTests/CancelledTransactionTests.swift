import Storage
import TestSupport
import Testing

/// A call cancelled while it writes (its deadline passed, or its client cancelled it) must roll its transaction
/// back and leave the database as usable as before, on both back ends.
@Suite("Storage: cancelled transactions", .serialized)
struct CancelledTransactionTests {
    @Test("a transaction cancelled part-way rolls back, and later transactions work", arguments: Backend.allCases)
    func cancelledPartWay(backend: Backend) async throws {
        try await withDatabase(backend) { location in
            let database = try await openDatabase(location, migrations: [], logger: quietLogger)
            defer { Task { await database.close() } }
            try await database.transaction { session in
                try await session.execute("CREATE TABLE probe (x BIGINT NOT NULL)")
            }
            let (inserted, signal) = AsyncStream.makeStream(of: Void.self)
            let writer = Task {
                try await database.transaction { session in
                    try await session.execute("INSERT INTO probe (x) VALUES (1)")
                    signal.yield()
                    // Until the call is cancelled; then the next statement is refused.
                    try? await Task.sleep(for: .seconds(30))
                    try await session.execute("INSERT INTO probe (x) VALUES (2)")
                }
            }
            for await _ in inserted { break }
            writer.cancel()
            await #expect(throws: (any Error).self) { try await writer.value }

            try await database.transaction { session in try await session.execute("INSERT INTO probe (x) VALUES (3)") }
            let rows = try await database.query("SELECT x FROM probe", [])
            #expect(rows.count == 1, "the cancelled transaction's row was kept, or the next one was refused")
            let read = try await database.read { session in try await session.query("SELECT x FROM probe", []) }
            #expect(read.count == 1)
        }
    }
}

@Suite("Storage: what a stalled PostgreSQL session may hold")
struct SessionBoundTests {
    /// A transaction whose instance stops sending (frozen, cut off) holds its row locks until PostgreSQL ends it:
    /// another instance's write to the same row goes through within the idle-in-transaction bound, not after the
    /// stall, and the stalled transaction's work is rolled back.
    @Test("a transaction that stalls while holding a lock is ended, and another session's write goes through")
    func stalledTransactionIsEnded() async throws {
        try await withDatabase(.postgres) { location in
            let stalled = try await openDatabase(location, migrations: [], logger: quietLogger)
            let other = try await openDatabase(location, migrations: [], logger: quietLogger)
            defer {
                Task {
                    await stalled.close()
                    await other.close()
                }
            }
            try await other.transaction { session in
                try await session.execute("CREATE TABLE probe (id BIGINT PRIMARY KEY, x BIGINT NOT NULL)")
                try await session.execute("INSERT INTO probe (id, x) VALUES (1, 0)")
            }
            let (locked, signal) = AsyncStream.makeStream(of: Void.self)
            let stall = Task {
                try await stalled.transaction { session in
                    try await session.execute("UPDATE probe SET x = 1 WHERE id = 1")
                    signal.yield()
                    // Sends nothing for longer than the bound, holding the row.
                    try await Task.sleep(for: .seconds(8))
                    // The session is gone by now: the statement fails at once, as does its transaction.
                    try await session.execute("UPDATE probe SET x = 2 WHERE id = 1")
                }
            }
            for await _ in locked { break }
            let started = ContinuousClock.now
            try await other.transaction { session in try await session.execute("UPDATE probe SET x = 3 WHERE id = 1") }
            let waited = ContinuousClock.now - started
            #expect(waited < .seconds(7), "the write waited \(waited) for the stalled session's lock")
            // It wakes 8 s after it began and fails at once on its closed connection, rather than hanging.
            let outcome = await within(.seconds(8)) { try await stall.value }
            switch outcome {
            case nil: Issue.record("the stalled transaction hung on its closed connection")
            case .success: Issue.record("the stalled transaction committed after its session was ended")
            case .failure(let error): #expect(error is StorageError, "\(error)")
            }
            let rows = try await other.query("SELECT x FROM probe WHERE id = 1", [])
            #expect(try rows.first?.int("x") == 3, "the stalled transaction's change was kept")
        }
    }
}

@Suite("Storage: online backups")
struct StorageBackupTests {
    @Test("SQLite copies itself while in use; PostgreSQL says to use its own tools", arguments: Backend.allCases)
    func backup(backend: Backend) async throws {
        try await withDatabase(backend) { location in
            let database = try await openDatabase(location, migrations: [], logger: quietLogger)
            defer { Task { await database.close() } }
            try await database.transaction { session in
                try await session.execute("CREATE TABLE probe (x BIGINT NOT NULL)")
                try await session.execute("INSERT INTO probe (x) VALUES (1), (2)")
            }
            switch backend {
            case .sqlite:
                // A read transaction stays open meanwhile: the copy does not wait for it, nor it for the copy.
                // The copy lands in the temporary data folder, removed with it.
                let path = try await database.read { session in
                    _ = try await session.query("SELECT x FROM probe", [])
                    return try await database.backup(named: "probe")
                }
                let copy = try await openDatabase(.sqlite(path: path), migrations: [], logger: quietLogger)
                let rows = try await copy.query("SELECT x FROM probe ORDER BY x", [])
                await copy.close()
                #expect(try rows.map { try $0.int("x") } == [1, 2])
            case .postgres:
                await #expect {
                    try await database.backup(named: "probe")
                } throws: { error in
                    (error as? StorageError)?.kind == .unsupported
                        && (error as? StorageError)?.message.contains("pg_dump") == true
                }
            }
        }
    }
}
