import RPC
import Storage

/// Runs storage work and turns a database failure into the status a client can act on: a unique-key clash is
/// ALREADY_EXISTS, an unreachable database UNAVAILABLE (clients retry), anything else INTERNAL.
public func storage<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StorageError {
        // What the caller is not told (where it arose, the driver's own error) goes to the log, under the call's
        // request id, for the failures that are no one's doing but the system's.
        if [.other, .corrupt].contains(error.kind) {
            ServerContext.current?.logger.error(
                "storage failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        throw RPCError(storage: error)
    }
}

extension RPCError {
    public init(storage error: StorageError) {
        switch error.kind {
        case .uniqueViolation: self.init(.alreadyExists, "already exists: \(error.message)")
        case .constraintViolation: self.init(.failedPrecondition, "refused by the database: \(error.message)")
        case .unavailable: self.init(.unavailable, "the database is unavailable: \(error.message)")
        case .conflict:
            self.init(.aborted, "the change met another one and was rolled back; try it again: \(error.message)")
        case .corrupt: self.init(.dataLoss, "stored data could not be read: \(error.message)")
        case .cancelled: self.init(.cancelled, "the call was cancelled; nothing it began was written")
        case .unsupported: self.init(.failedPrecondition, error.message)
        case .other: self.init(.internalError, "database error: \(error.message)")
        }
    }
}
