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

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
