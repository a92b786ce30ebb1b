import Foundation
import Logging
import RPC
import Schema
import Storage
import Synchronization

/// The audit trail every service keeps in its own database (`audit_log`): one entry for each call that changed
/// data, written in the same transaction as the change (so a committed change always has its entry and a rolled-back
/// one never does), and one for each call refused for its key or role. Append-only: the database itself refuses
/// to update or delete an entry (triggers), and no method does; entries survive restarts and are in backups.
///
/// Services need do nothing for their changes to be audited: `AuditedDatabase` writes the entry into every
/// transaction that writes during a call of a method not marked NO_SIDE_EFFECTS. A write that is not a change to
/// the field's data (a cache of another service's answers) runs inside `AuditTrail.unaudited`.
public enum AuditTrail {
    /// The migration that makes the table; each service lists it among its own, with a version of its own.
    public static func migration(version: Int) -> Migration {
        Migration(version: version, name: "audit trail") { dialect in
            let key = dialect == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            let table = """
                CREATE TABLE audit_log (
                    sequence \(key),
                    at BIGINT NOT NULL,
                    key_name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    method TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    ids TEXT NOT NULL,
                    ids_total BIGINT NOT NULL,
                    peer_address TEXT NOT NULL,
                    instance_id TEXT NOT NULL,
                    detail TEXT NOT NULL)
                """
            let indexes = [
                "CREATE INDEX audit_log_at ON audit_log (at)",
                "CREATE INDEX audit_log_key ON audit_log (key_name, sequence)",
                "CREATE INDEX audit_log_method ON audit_log (method, sequence)",
            ]
            switch dialect {
            case .sqlite:
                return [table] + indexes
                    + ["UPDATE", "DELETE"].map { verb in
                        """
                        CREATE TRIGGER audit_log_no_\(verb.lowercased()) BEFORE \(verb) ON audit_log
                        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
                        """
                    }
            case .postgres:
                return [table] + indexes + [
                    """
                    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
                    'BEGIN RAISE EXCEPTION ''the audit trail is append-only''; END'
                    """,
                    """
                    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
                    """,
                ]
            }
        }
    }

    /// At most this many ids are kept per entry; `ids_total` counts them all.
    public static let maxIDs = 100

    /// One entry, as written.
    struct Entry: Sendable {
        var at = Clock.unixMicros()
        var keyName = ""
        var role = ""
        var method = ""
        var requestID = ""
        var status = "OK"
        var ids: [String] = []
        var idsTotal = 0
        var peerAddress = ""
        var instanceID = ""
        var detail = ""
    }

    static func insert(_ entry: Entry, into session: any SQLSession) async throws {
        try await session.execute(
            """
            INSERT INTO audit_log (at, key_name, role, method, request_id, status, ids, ids_total, peer_address,
                instance_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """,
            [
                .of(entry.at), .of(entry.keyName), .of(entry.role), .of(entry.method), .of(entry.requestID),
                .of(entry.status), .of(entry.ids.prefix(maxIDs).joined(separator: " ")), .of(entry.idsTotal),
                .of(entry.peerAddress), .of(entry.instanceID), .of(String(entry.detail.prefix(1000))),
            ])
    }

    // MARK: writes that are no change

    @TaskLocal static var suppressed = false

    /// Runs `body` without auditing its transactions: for writes that change none of the field's data, such as
    /// a cache of what another service answered, made while serving a call that may or may not change anything.
    public static func unaudited<T>(_ body: () async throws -> T) async rethrows -> T {
        try await $suppressed.withValue(true) { try await body() }
    }

    // MARK: reading

    /// A page of the trail, oldest first, as `ListAuditEvents` asks.
    static func list(_ request: AdminV1.ListAuditEventsRequest, in database: any Database) async throws
        -> AdminV1.ListAuditEventsResponse
    {
        if request.pageSize < 0 || request.pageSize > 1000 {
            throw RPCError.invalidArgument(field: "page_size", "must be 0 (100) to 1000, got \(request.pageSize)")
        }
        let pageSize = request.pageSize == 0 ? 100 : Int(request.pageSize)
        var after: Int64 = 0
        if !request.pageToken.isEmpty {
            guard let value = Int64(request.pageToken), value >= 0 else {
                throw RPCError.invalidArgument(field: "page_token", "is not a token from a previous answer")
            }
            after = value
        }
        var conditions = ["sequence > $1"]
        var binds: [SQLValue] = [.of(after)]
        if let since = request.since {
            binds.append(.of(since.unixMicros))
            conditions.append("at >= $\(binds.count)")
        }
        if !request.keyName.isEmpty {
            binds.append(.of(request.keyName))
            conditions.append("key_name = $\(binds.count)")
        }
        if !request.method.isEmpty {
            binds.append(.of(request.method))
            conditions.append(
                request.method.contains("/")
                    ? "method = $\(binds.count)" : "method LIKE '%/' || $\(binds.count)")
        }
        binds.append(.of(pageSize + 1))
        let rows = try await storage {
            try await database.query(
                """
                SELECT sequence, at, key_name, role, method, request_id, status, ids, ids_total, peer_address,
                    instance_id, detail FROM audit_log WHERE \(conditions.joined(separator: " AND "))
                ORDER BY sequence LIMIT $\(binds.count)
                """, binds)
        }
        var events: [AdminV1.AuditEvent] = []
        for row in rows.prefix(pageSize) {
            let ids = try row.text("ids")
            events.append(
                AdminV1.AuditEvent(
                    sequence: try row.int("sequence"), at: CommonV1.Timestamp(unixMicros: try row.int("at")),
                    keyName: try row.text("key_name"), role: try row.text("role"), method: try row.text("method"),
                    requestID: try row.text("request_id"), status: try row.text("status"),
                    ids: ids.isEmpty ? [] : ids.split(separator: " ").map(String.init),
                    idsTotal: Int32(clamping: try row.int("ids_total")), peerAddress: try row.text("peer_address"),
                    instanceID: try row.text("instance_id"), detail: try row.text("detail")))
        }
        return AdminV1.ListAuditEventsResponse(
            events: events, nextPageToken: rows.count > pageSize ? String(events.last!.sequence) : "")
    }
}

/// A service's database that writes the audit trail's entry for a change into the change's own transaction (see
/// `AuditTrail`). Everything else goes straight to the database underneath.
public final class AuditedDatabase: Database {
    let base: any Database
    /// The instance whose entries these are (`ListServicesResponse.instance_id`).
    let instanceID: String

    public init(_ base: any Database, instanceID: String) {
        self.base = base
        self.instanceID = instanceID
    }

    public var dialect: SQLDialect { base.dialect }

    /// A write outside a transaction is a transaction of one statement, audited as any other.
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        guard RecordingSession.writeVerb(sql) != nil else { return try await base.query(sql, binds) }
        return try await transaction { session in try await session.query(sql, binds) }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        try await base.read(body)
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        guard let context = ServerContext.current, !context.noSideEffects, !AuditTrail.suppressed else {
            return try await base.transaction(body)
        }
        let instanceID = self.instanceID
        return try await base.transaction { session in
            let recording = RecordingSession(session)
            let result = try await body(recording)
            if let (ids, total) = recording.touched {
                var entry = AuditTrail.Entry()
                entry.keyName = context.caller?.keyName ?? ""
                entry.role = context.caller?.role.rawValue ?? ""
                entry.method = context.service + "/" + context.method
                entry.requestID = context.requestID
                entry.ids = ids
                entry.idsTotal = total
                entry.peerAddress = context.caller?.address ?? ""
                entry.instanceID = instanceID
                try await AuditTrail.insert(entry, into: session)
            }
            return result
        }
    }

    public func backup(named name: String) async throws(StorageError) -> String {
        try await base.backup(named: name)
    }

    public func probe() async throws(StorageError) { try await base.probe() }

    public func close() async { await base.close() }
}

/// A session that notes whether its statements wrote anything and which records they wrote: the ids among the
/// values bound to each INSERT, UPDATE or DELETE (this system's ids look like `pg_0123456789abcdef`), and the key an
/// INSERT names first (a skill's code, say). The request log and the answers kept for retries are no change.
final class RecordingSession: SQLSession, @unchecked Sendable {
    private let base: any SQLSession
    // Statements of one transaction run one after another; the lock only satisfies Sendable.
    private let state = Mutex(State())

    private struct State {
        var wrote = false
        var ids: [String] = []
        var seen: Set<String> = []
    }

    init(_ base: any SQLSession) { self.base = base }

    var dialect: SQLDialect { base.dialect }

    /// The ids written (the first `AuditTrail.maxIDs`) and how many there were; nil when nothing was written.
    var touched: ([String], Int)? {
        state.withLock { $0.wrote ? (Array($0.ids.prefix(AuditTrail.maxIDs)), $0.seen.count) : nil }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StorageError) -> [SQLRow] {
        let rows = try await base.query(sql, binds)
        if let verb = Self.writeVerb(sql) { note(verb, binds) }
        return rows
    }

    private func note(_ verb: Substring, _ binds: [SQLValue]) {
        state.withLock { state in
            state.wrote = true
            for (index, value) in binds.enumerated() {
                guard case .text(let text) = value,
                    Self.looksLikeID(text) || (index == 0 && verb == "INSERT" && Self.looksLikeKey(text)),
                    state.seen.insert(text).inserted
                else { continue }
                if state.ids.count < AuditTrail.maxIDs { state.ids.append(text) }
            }
        }
    }

    /// INSERT, UPDATE or DELETE (in capitals, as this system writes SQL) of a table other than the request log and
    /// the answers kept for retries (`request_log`, `request_answers`).
    static func writeVerb(_ sql: String) -> Substring? {
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" }).prefix(3)
        guard let verb = words.first, ["INSERT", "UPDATE", "DELETE"].contains(verb) else { return nil }
        let table = verb == "UPDATE" ? words.dropFirst().first : words.dropFirst(2).first
        guard let table, !table.hasPrefix("request_") else { return nil }
        return verb
    }

    /// `xx_` or `xxx_` and 16 lower-case hex digits: an id this system made.
    static func looksLikeID(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard utf8.count == 19 || utf8.count == 20 else { return false }
        let prefix = utf8.count - 17
        for (index, byte) in utf8.enumerated() {
            switch index {
            case ..<prefix: if byte < 0x61 || byte > 0x7A { return false }
            case prefix: if byte != 0x5F { return false }
            default: if !((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)) { return false }
            }
        }
        return true
    }

    /// A short key without spaces: a skill's code, a member's name.
    static func looksLikeKey(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && !text.utf8.contains(where: { $0 <= 0x20 })
    }
}

/// Writes the calls a server refused (UNAUTHENTICATED, PERMISSION_DENIED) to the audit trail, in batches and off
/// the server's I/O thread, which only queues them. The queue is bounded: a flood of refused calls is summed up in
/// one entry rather than filling memory or the disk at its pace.
public final class RefusalRecorder: Sendable {
    let database: any Database
    let instanceID: String
    let logger: Logger
    /// Refused calls queued beyond this are counted, not kept.
    static let maxQueued = 10_000
    private let state = Mutex(State())

    private struct State {
        var queue: [AuditTrail.Entry] = []
        var dropped = 0
        var writing = false
    }

    public init(database: any Database, instanceID: String, logger: Logger) {
        self.database = database
        self.instanceID = instanceID
        self.logger = logger
    }

    /// Queues an entry for `call`; returns at once (the server calls it on its I/O thread).
    @Sendable public func record(_ call: RefusedCall) {
        var entry = AuditTrail.Entry()
        entry.keyName = call.caller?.keyName ?? ""
        entry.role = call.caller?.role.rawValue ?? ""
        entry.method = call.service + "/" + call.method
        entry.requestID = call.requestID
        entry.status = call.code.description
        entry.peerAddress = call.address
        entry.instanceID = instanceID
        entry.detail = call.message
        let start = state.withLock { state -> Bool in
            if state.queue.count < Self.maxQueued {
                state.queue.append(entry)
            } else {
                state.dropped += 1
            }
            defer { state.writing = true }
            return !state.writing
        }
        if start { Task.detached { await self.drain() } }
    }

    /// Writes what is queued, batch after batch, until the queue is empty.
    private func drain() async {
        while true {
            let (batch, dropped) = state.withLock { state -> ([AuditTrail.Entry], Int) in
                defer {
                    state.queue.removeAll(keepingCapacity: true)
                    state.dropped = 0
                }
                if state.queue.isEmpty && state.dropped == 0 { state.writing = false }
                return (state.queue, state.dropped)
            }
            if batch.isEmpty && dropped == 0 { return }
            var summary = AuditTrail.Entry()
            summary.status = "PERMISSION_DENIED"
            summary.instanceID = instanceID
            summary.detail = "\(dropped) more refused calls, not recorded one by one: too many came at once"
            let entries = batch + (dropped > 0 ? [summary] : [])
            do {
                try await database.transaction { session in
                    for entry in entries { try await AuditTrail.insert(entry, into: session) }
                }
            } catch {
                logger.error(
                    "refused calls not written to the audit trail",
                    metadata: ["count": "\(entries.count)", "error": "\(error)"])
            }
        }
    }

    /// Waits until every refused call queued so far is written (before the database closes).
    public func flush() async {
        for _ in 0..<500 {
            if !state.withLock({ $0.writing }) { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
