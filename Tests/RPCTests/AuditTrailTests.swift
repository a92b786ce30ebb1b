import Foundation
import Logging
import RPC
import ServiceKit
import Storage
import TestSupport
import Testing

/// The audit trail at the storage level, on both back ends: a change commits with its entry, a change rolled back
/// (thrown, or cancelled part-way) leaves none, reads and caches leave none, and the trail refuses to be changed.
@Suite("Audit trail in the change's transaction")
struct AuditTrailTests {
    static let migrations = [
        Migration(version: 1, name: "records") { _ in ["CREATE TABLE records (id TEXT PRIMARY KEY, body TEXT NOT NULL)"]
        },
        AuditTrail.migration(version: 2),
    ]

    /// A call of `method` by `caller`, as the server would make its context.
    static func context(_ method: String, noSideEffects: Bool = false, requestID: String = RequestID.make())
        -> ServerContext
    {
        ServerContext(
            service: "fairtrade.test.v1.Records", method: method, requestID: requestID, metadata: Metadata(),
            deadline: nil, logger: quietLogger,
            caller: Caller(
                keyName: "alice", role: .editor, publicKey: CurveKeyPair.generate().publicKey, address: "10.0.0.7"),
            serial: 1, noSideEffects: noSideEffects)
    }

    static func entries(_ database: any Database) async throws -> [SQLRow] {
        try await database.query("SELECT * FROM audit_log ORDER BY sequence", [])
    }

    @Test("commit with its entry, roll back without", arguments: Backend.allCases)
    func changes(_ backend: Backend) async throws {
        try await withDatabase(backend) { location in
            let opened = try await openDatabase(location, migrations: Self.migrations, logger: quietLogger)
            defer { Task { await opened.close() } }
            let database = AuditedDatabase(opened, instanceID: "instance-1")
            let insert = "INSERT INTO records (id, body) VALUES ($1, $2)"

            // A committed change: one entry naming the caller, the method, the request and the id written.
            try await ServerContext.$current.withValue(Self.context("CreateRecord", requestID: "req-1")) {
                try await database.transaction { session in
                    try await session.execute(insert, [.of("pg_00000000000000a1"), .of("first")])
                }
            }
            var entries = try await Self.entries(database)
            try #require(entries.count == 1)
            #expect(try entries[0].text("key_name") == "alice")
            #expect(try entries[0].text("role") == "editor")
            #expect(try entries[0].text("method") == "fairtrade.test.v1.Records/CreateRecord")
            #expect(try entries[0].text("request_id") == "req-1")
            #expect(try entries[0].text("status") == "OK")
            #expect(try entries[0].text("ids") == "pg_00000000000000a1")
            #expect(try entries[0].text("peer_address") == "10.0.0.7")
            #expect(try entries[0].text("instance_id") == "instance-1")

            // Thrown part-way: neither the change nor an entry.
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await ServerContext.$current.withValue(Self.context("CreateRecord")) {
                    try await database.transaction { session in
                        try await session.execute(insert, [.of("pg_00000000000000a2"), .of("second")])
                        throw Refused()
                    }
                }
            }
            // Cancelled part-way, as a call whose deadline passes while it writes.
            let started = AsyncStream.makeStream(of: Void.self)
            let write = Task {
                try await ServerContext.$current.withValue(Self.context("CreateRecord")) {
                    try await database.transaction { session in
                        try await session.execute(insert, [.of("pg_00000000000000a3"), .of("third")])
                        started.continuation.yield()
                        try await Task.sleep(for: .seconds(30))
                        try await session.execute(insert, [.of("pg_00000000000000a4"), .of("fourth")])
                    }
                }
            }
            for await _ in started.stream { break }
            write.cancel()
            _ = await write.result
            // A read, a method marked NO_SIDE_EFFECTS that writes a cache, and a cache written inside a change.
            try await ServerContext.$current.withValue(Self.context("GetRecord", noSideEffects: true)) {
                _ = try await database.read { session in try await session.query("SELECT * FROM records") }
                try await database.transaction { session in
                    try await session.execute(insert, [.of("pg_00000000000000b1"), .of("cache")])
                }
            }
            try await ServerContext.$current.withValue(Self.context("CreateRecord")) {
                try await AuditTrail.unaudited {
                    try await database.transaction { session in
                        try await session.execute(insert, [.of("pg_00000000000000b2"), .of("cache")])
                    }
                }
            }
            entries = try await Self.entries(database)
            #expect(entries.count == 1, "\(entries)")
            let ids = try await database.query("SELECT id FROM records ORDER BY id", []).map { try $0.text("id") }
            #expect(ids == ["pg_00000000000000a1", "pg_00000000000000b1", "pg_00000000000000b2"])

            // Append-only: the database itself refuses to change or remove an entry.
            for statement in ["UPDATE audit_log SET key_name = 'mallory'", "DELETE FROM audit_log"] {
                await #expect(throws: StorageError.self, "\(statement)") {
                    try await opened.transaction { session in try await session.execute(statement) }
                }
            }
            #expect(try await Self.entries(database).count == 1)
        }
    }
}
