import RPC
import Schema
import Storage

extension SQLRow {
    /// The protobuf message a record keeps beside its query columns (in `body` by default).
    public func message<T: ProtoMessage>(_ type: T.Type, column: String = "body") throws -> T {
        guard case .blob(let bytes) = self[column] else { throw StorageError(.corrupt, "row without a \(column)") }
        return try T(serializedBytes: bytes)
    }
}

extension SQLSession {
    /// The message `table` keeps in its `body` column for `id`, or NOT_FOUND naming the `noun` ("market",
    /// "project") when there is none.
    public func message<T: ProtoMessage>(_ type: T.Type, from table: String, id: String, noun: String) async throws -> T
    {
        guard let row = try await first("SELECT body FROM \(table) WHERE id = $1", [.of(id)]) else {
            throw RPCError(.notFound, "\(noun) \"\(id)\" not found")
        }
        return try row.message(T.self)
    }
}
