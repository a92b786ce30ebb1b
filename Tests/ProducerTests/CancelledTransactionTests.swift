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
