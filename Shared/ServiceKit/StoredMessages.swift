import Schema
import Storage

extension SQLRow {
    /// The protobuf message a record keeps beside its query columns (in `body` by default).
    public func message<T: ProtoMessage>(_ type: T.Type, column: String = "body") throws -> T {
        guard case .blob(let bytes) = self[column] else { throw StorageError(.corrupt, "row without a \(column)") }
        return try T(serializedBytes: bytes)
    }
}
