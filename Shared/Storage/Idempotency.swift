/// The table that remembers what each create made, so that a retried create returns the first result.
/// Every service's first migration creates it.
public let requestLogTable = """
    CREATE TABLE request_log (
        operation TEXT NOT NULL,
        request_id TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (operation, request_id))
    """

/// What a request made: its value, and whether this attempt made it (`created`) or found what an earlier attempt with
/// the same request id had made. What follows a change only once (an event published, say) follows `created`.
public struct Idempotent<Value: Sendable>: Sendable {
    public let value: Value
    public let created: Bool

    public init(value: Value, created: Bool) {
        self.value = value
        self.created = created
    }
}

extension Database {
    /// Runs `create` once per (operation, request id) and returns what it made; a retry with the same request id
    /// loads the first result instead. Two racing attempts on two instances meet at the request log's key: the
    /// loser's transaction fails on it, and its second attempt loads the winner's result.
    public func idempotent<T: Sendable>(
        operation: String, requestID: String,
        create: @escaping @Sendable (any SQLSession) async throws -> String,
        load: @escaping @Sendable (any SQLSession, String) async throws -> T
    ) async throws -> T {
        try await idempotentOutcome(operation: operation, requestID: requestID, create: create, load: load).value
    }

    /// `idempotent`, telling whether this attempt made the record or an earlier one did.
    public func idempotentOutcome<T: Sendable>(
        operation: String, requestID: String,
        create: @escaping @Sendable (any SQLSession) async throws -> String,
        load: @escaping @Sendable (any SQLSession, String) async throws -> T
    ) async throws -> Idempotent<T> {
        for attempt in 1...2 {
            do {
                return try await transaction { session in
                    if let row = try await session.first(
                        "SELECT resource_id FROM request_log WHERE operation = $1 AND request_id = $2",
                        [.of(operation), .of(requestID)])
                    {
                        return Idempotent(value: try await load(session, try row.text("resource_id")), created: false)
                    }
                    let id = try await create(session)
                    try await session.execute(
                        "INSERT INTO request_log (operation, request_id, resource_id, created_at) VALUES ($1, $2, $3, $4)",
                        [.of(operation), .of(requestID), .of(id), .of(Clock.unixMicros())])
                    return Idempotent(value: try await load(session, id), created: true)
                }
            } catch let error as StorageError where error.kind == .uniqueViolation && attempt == 1 {
                continue
            }
        }
        throw StorageError(.other, "request \(requestID) could be neither created nor found")
    }
}
