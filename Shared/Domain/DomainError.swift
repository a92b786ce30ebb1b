/// What the field's rules found wrong, said for the person who sent it: each problem with the path of the field it
/// concerns ("group.country", "row 3, amount"). The rules know nothing of the transport: the service boundary turns
/// this into an RPC status (ServiceKit's `DomainError+RPC.swift`), INVALID_ARGUMENT, NOT_FOUND or
/// FAILED_PRECONDITION by its kind.
public struct DomainError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A value breaks a rule (INVALID_ARGUMENT).
        case invalid
        /// A value names a record there is none of (NOT_FOUND).
        case notFound
        /// A well-formed request the records as they stand do not allow: a flow in a currency its project does not
        /// use, a repayment of more than is owed (FAILED_PRECONDITION).
        case refused
        /// The rules contradict themselves: a bug, not the sender's doing (INTERNAL).
        case broken
    }

    /// One field's problem.
    public struct Violation: Sendable, Hashable {
        public var field: String
        public var description: String

        public init(field: String, description: String) {
            self.field = field
            self.description = description
        }
    }

    public var kind: Kind
    public var message: String
    public var violations: [Violation]
    /// Where the rule that found it was checked.
    public var file: String
    public var line: Int

    public init(
        _ kind: Kind, _ message: String, violations: [Violation] = [], file: String = #fileID, line: Int = #line
    ) {
        self.kind = kind
        self.message = message
        self.violations = violations
        self.file = file
        self.line = line
    }

    /// One field's problem as the whole error.
    public static func invalid(field: String, _ description: String, file: String = #fileID, line: Int = #line)
        -> DomainError
    {
        DomainError(
            .invalid, "\(field): \(description)", violations: [Violation(field: field, description: description)],
            file: file, line: line)
    }

    public var description: String { "\(kind): \(message) (\(file):\(line))" }
}
