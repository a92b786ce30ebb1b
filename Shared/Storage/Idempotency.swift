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

extension Database {
    /// Runs `create` once per (operation, request id) and returns what it made; a retry with the same request id
    /// loads the first result instead. Two racing attempts on two instances meet at the request log's key: the
    /// loser's transaction fails on it, and its second attempt loads the winner's result.
    public func idempotent<T: Sendable>(
        operation: String, requestID: String,
        create: @escaping @Sendable (any SQLSession) async throws -> String,
        load: @escaping @Sendable (any SQLSession, String) async throws -> T
    ) async throws -> T {
        for attempt in 1...2 {
            do {
                return try await transaction { session in
                    if let row = try await session.first(
                        "SELECT resource_id FROM request_log WHERE operation = $1 AND request_id = $2",
                        [.of(operation), .of(requestID)])
                    {
                        return try await load(session, try row.text("resource_id"))
                    }
                    let id = try await create(session)
                    try await session.execute(
                        "INSERT INTO request_log (operation, request_id, resource_id, created_at) VALUES ($1, $2, $3, $4)",
                        [.of(operation), .of(requestID), .of(id), .of(Clock.unixMicros())])
                    return try await load(session, id)
                }
            } catch let error as StorageError where error.kind == .uniqueViolation && attempt == 1 {
                continue
            }
        }
        throw StorageError(.other, "request \(requestID) could be neither created nor found")
    }
}
