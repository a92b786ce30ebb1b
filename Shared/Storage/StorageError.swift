/// A storage failure, classified so that services can answer with the right status.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A unique constraint refused the write (the row exists).
        case uniqueViolation
        /// A foreign key or check constraint refused the write.
        case constraintViolation
        /// The database cannot be reached or refused the connection.
        case unavailable
        /// The transaction lost to another (a deadlock, a serialization failure, a lock not granted in time): it was
        /// rolled back, and trying again may succeed.
        case conflict
        /// Stored data does not read back as expected.
        case corrupt
        /// The work was cancelled (its call's deadline passed, or its client cancelled it) before the statement ran;
        /// a transaction it was part of is rolled back.
        case cancelled
        /// The back end does not do this (e.g. an online backup of PostgreSQL, which has its own tools).
        case unsupported
        /// Anything else the driver reported.
        case other
    }

    public let kind: Kind
    public let message: String
    /// The driver's (or the system's) own error behind this one, when there is one.
    public let cause: (any Error & Sendable)?
    /// Where the storage layer raised it.
    public let file: String
    public let line: Int

    public init(
        _ kind: Kind, _ message: String, cause: (any Error & Sendable)? = nil, file: String = #fileID,
        line: Int = #line
    ) {
        self.kind = kind
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    /// What a caller is told: the message alone (where it arose and the driver's error are for the logs).
    public var description: String { message }
}

extension StorageError: CustomDebugStringConvertible {
    /// The message, where it arose, and the cause: for the logs.
    public var debugDescription: String {
        "\(kind): \(message) (\(file):\(line))" + (cause.map { "; caused by: \(String(reflecting: $0))" } ?? "")
    }
}
