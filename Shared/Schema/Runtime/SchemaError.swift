/// Why bytes could not be decoded into a message, or a value could not be converted.
public struct SchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Code: Sendable, Hashable, CustomStringConvertible {
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
        /// Fields refused (strict decoding only; `RequestCheck`): a string that is not valid UTF-8 or holds a NUL, or
        /// a field beyond its bound. Every refused field is named, as the services' own checks name them.
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

        /// The same problem with `prefix` put before the field path, as it travels up out of a nested message.
        func nested(in prefix: String) -> Code {
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

    public let code: Code
    /// The error of another library behind this one (Foundation's JSON decoder's, say), when there is one.
    public let cause: (any Error & Sendable)?
    /// Where the schema runtime raised it.
    public let file: String
    public let line: Int

    public init(_ code: Code, cause: (any Error & Sendable)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.cause = cause
        self.file = file
        self.line = line
    }

    public static func malformed(_ name: String, file: String = #fileID, line: Int = #line) -> SchemaError {
        SchemaError(.malformed(name), file: file, line: line)
    }

    public static func messageTooLarge(size: Int, limit: Int, file: String = #fileID, line: Int = #line)
        -> SchemaError
    {
        SchemaError(.messageTooLarge(size: size, limit: limit), file: file, line: line)
    }

    public static func allocationBudgetExceeded(limit: Int, file: String = #fileID, line: Int = #line) -> SchemaError {
        SchemaError(.allocationBudgetExceeded(limit: limit), file: file, line: line)
    }

    public static func unknownEnumValue(field: String, value: Int32, file: String = #fileID, line: Int = #line)
        -> SchemaError
    {
        SchemaError(.unknownEnumValue(field: field, value: value), file: file, line: line)
    }

    public static func invalidJSON(
        field: String, reason: String, cause: (any Error & Sendable)? = nil, file: String = #fileID, line: Int = #line
    ) -> SchemaError {
        SchemaError(.invalidJSON(field: field, reason: reason), cause: cause, file: file, line: line)
    }

    public static func invalidFields(_ problems: [FieldProblem], file: String = #fileID, line: Int = #line)
        -> SchemaError
    {
        SchemaError(.invalidFields(problems), file: file, line: line)
    }

    /// Two errors are the same when they say the same thing, wherever they arose.
    public static func == (lhs: SchemaError, rhs: SchemaError) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { code.description }

    /// The same error with `prefix` put before the field path, as it travels up out of a nested message.
    func nested(in prefix: String) -> SchemaError {
        SchemaError(code.nested(in: prefix), cause: cause, file: file, line: line)
    }
}

extension SchemaError: CustomDebugStringConvertible {
    /// What is wrong, where it arose and its cause: for the logs.
    public var debugDescription: String {
        "\(code) (\(file):\(line))" + (cause.map { "; caused by: \(String(reflecting: $0))" } ?? "")
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
