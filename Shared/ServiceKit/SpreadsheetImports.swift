import Schema
import Storage

extension Database {
    /// Runs a spreadsheet import the way every service does: with `validateOnly`, `plan` in a read snapshot that
    /// writes nothing; otherwise `write` (which plans again and writes, returning its answer with `importID` set)
    /// in one transaction, once per request id, its answer kept in `table` (columns id, source, created_at, body)
    /// so that a retry answers as the first import did.
    public func spreadsheetImport<Response: ProtoMessage>(
        operation: String, table: String, requestID: String, source: String, validateOnly: Bool,
        importID: @escaping @Sendable (Response) -> String,
        plan: @escaping @Sendable (any SQLSession) async throws -> Response,
        write: @escaping @Sendable (any SQLSession) async throws -> Response
    ) async throws -> Response {
        try await spreadsheetImportOutcome(
            operation: operation, table: table, requestID: requestID, source: source, validateOnly: validateOnly,
            importID: importID, plan: plan, write: write
        ).value
    }

    /// `spreadsheetImport`, telling whether this attempt imported (a dry run never does).
    public func spreadsheetImportOutcome<Response: ProtoMessage>(
        operation: String, table: String, requestID: String, source: String, validateOnly: Bool,
        importID: @escaping @Sendable (Response) -> String,
        plan: @escaping @Sendable (any SQLSession) async throws -> Response,
        write: @escaping @Sendable (any SQLSession) async throws -> Response
    ) async throws -> Idempotent<Response> {
        if validateOnly { return Idempotent(value: try await read(plan), created: false) }
        return try await idempotentOutcome(operation: operation, requestID: requestID) { session in
            let response = try await write(session)
            try await session.execute(
                "INSERT INTO \(table) (id, source, created_at, body) VALUES ($1, $2, $3, $4)",
                [.of(importID(response)), .of(source), .of(Clock.unixMicros()), .blob(response.serializedBytes())])
            return importID(response)
        } load: { session, id in
            guard let row = try await session.first("SELECT body FROM \(table) WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "import \(id) is logged but not stored")
            }
            return try row.message(Response.self)
        }
    }
}
