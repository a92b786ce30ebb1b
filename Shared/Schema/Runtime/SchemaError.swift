/// Why bytes could not be decoded into a message, or a value could not be converted.
public enum SchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes are not a valid encoding of the named message.
    case malformed(String)
    /// The input is larger than the decoder accepts.
    case messageTooLarge(size: Int, limit: Int)
    /// Unpacking would have allocated more memory than the input's budget allows.
    case allocationBudgetExceeded(limit: Int)
    /// A field holds an enum value the schema does not name (strict decoding only).
    case unknownEnumValue(field: String, value: Int32)
    /// A JSON document does not fit the message it was meant for.
    case invalidJSON(field: String, reason: String)
    /// Fields refused (strict decoding only; `RequestCheck`): a string that is not valid UTF-8 or holds a NUL, or a
    /// field beyond its bound. Every refused field is named, as the services' own checks name them.
    case invalidFields([FieldProblem])

    public var description: String {
        switch self {
        case .malformed(let name): "the bytes are not a valid \(name) message"
        case .messageTooLarge(let size, let limit): "message of \(size) bytes exceeds the limit of \(limit) bytes"
        case .allocationBudgetExceeded(let limit):
            "decoding would allocate more than \(limit) bytes; the message is refused"
        case .unknownEnumValue(let field, let value): "field \(field): unknown enum value \(value)"
        case .invalidJSON(let field, let reason): field.isEmpty ? reason : "field \(field): \(reason)"
        case .invalidFields(let problems): problems.map { "\($0.field): \($0.reason)" }.joined(separator: "; ")
        }
    }

    /// The same error with `prefix` put before the field path, as it travels up out of a nested message.
    func nested(in prefix: String) -> SchemaError {
        switch self {
        case .unknownEnumValue(let field, let value): .unknownEnumValue(field: prefix + "." + field, value: value)
        case .invalidJSON(let field, let reason):
            .invalidJSON(field: field.isEmpty ? prefix : prefix + "." + field, reason: reason)
        case .invalidFields(let problems):
            .invalidFields(problems.map { FieldProblem(field: prefix + "." + $0.field, reason: $0.reason) })
        default: self
        }
    }
}

/// A field of a message, named by its path ("group.crafts[2]"), and what is wrong with it.
public struct FieldProblem: Sendable, Hashable {
    public let field: String
    public let reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}
