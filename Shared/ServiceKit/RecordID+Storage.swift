import Domain
import RPC
import Storage

extension RecordID {
    /// A new id of the kind: its prefix and 16 hex digits unique within the process and unlikely to meet another
    /// process's (RequestID's generator).
    public static func mint() -> RecordID { RecordID(minting: RequestID.make()) }
}

extension Database {
    /// `idempotent` for a call that makes one record of `Kind`: `create` answers its new id, and `load` is handed
    /// the id of the record this request id made, first time or on a retry.
    public func idempotent<T: Sendable, Kind>(
        operation: String, requestID: String,
        create: @escaping @Sendable (any SQLSession) async throws -> RecordID<Kind>,
        load: @escaping @Sendable (any SQLSession, RecordID<Kind>) async throws -> T
    ) async throws -> T {
        try await idempotentOutcome(operation: operation, requestID: requestID, create: create, load: load).value
    }

    /// `idempotentOutcome` for a call that makes one record of `Kind`.
    public func idempotentOutcome<T: Sendable, Kind>(
        operation: String, requestID: String,
        create: @escaping @Sendable (any SQLSession) async throws -> RecordID<Kind>,
        load: @escaping @Sendable (any SQLSession, RecordID<Kind>) async throws -> T
    ) async throws -> Idempotent<T> {
        try await idempotentOutcome(operation: operation, requestID: requestID) { session in
            try await create(session).text
        } load: { session, id in
            try await load(session, try RecordID<Kind>(checking: id, "\(operation)'s record in the request log"))
        }
    }
}
