/// A kind of record the services give ids to: its ids are `prefix`, "_", and a unique part, so that an id says
/// what it names and one kind's id is never taken for another's.
public protocol RecordKind: Sendable {
    /// What every id of the kind starts with, before its "_": "pg" for producer groups.
    static var prefix: String { get }
    /// The kind as messages name it: "producer group".
    static var noun: String { get }
}

/// The id of a record of `Kind`, known to have its kind's shape. Only the checks make one from text —
/// `init?(_:)`, `FieldValidator.id` for a request's field — and ServiceKit mints new ones; code holding a
/// `RecordID<Kind>` cannot pass it where another kind's id belongs.
public struct RecordID<Kind: RecordKind>: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The id as records and messages carry it.
    public let text: String

    /// The id in `text`, when it has the kind's prefix and a unique part of 1 to 64 letters, digits, "-" or "_".
    public init?(_ text: String) {
        // Byte by byte, without building the head "pg_": every get checks its id on the way in.
        let prefix = Kind.prefix.utf8
        guard text.utf8.starts(with: prefix), text.utf8.dropFirst(prefix.count).first == UInt8(ascii: "_") else {
            return nil
        }
        let unique = text.utf8.dropFirst(prefix.count + 1)
        guard (1...64).contains(unique.count),
            unique.allSatisfy({ $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
        else { return nil }
        self.text = text
    }

    /// The id in a field of a record its rules have checked; DomainError(.broken), naming `field` and where it was
    /// read, when they let through one that is not of this kind: a bug, said as such.
    public init(checking text: String, _ field: String, file: String = #fileID, line: Int = #line)
        throws(DomainError)
    {
        guard let id = RecordID(text) else {
            throw DomainError(
                .broken, "\(field): the rules let through \"\(text)\", which is not a \(Kind.noun) id", file: file,
                line: line)
        }
        self = id
    }

    /// A new id with `unique` as its unique part; for the minting in ServiceKit, which makes `unique` unique.
    public init(minting unique: String) {
        self.text = Kind.prefix + "_" + unique
    }

    public var description: String { text }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.text < rhs.text }

    /// NOT_FOUND naming the record: `producer group "pg_…" not found`.
    public func notFound(file: String = #fileID, line: Int = #line) -> DomainError {
        DomainError(.notFound, "\(Kind.noun) \"\(text)\" not found", file: file, line: line)
    }

    /// What is wrong with `text` as an id of this kind, said for the person who sent it.
    static func problem(with text: String) -> String {
        let shape = "\(Kind.noun) ids start with \"\(Kind.prefix)_\""
        if let other = RecordKinds.kind(of: text), other.prefix != Kind.prefix {
            return
                "\"\(text)\" is the id of \(article(other.noun)) \(other.noun), not of \(article(Kind.noun)) \(Kind.noun) (\(shape))"
        }
        return "\"\(text)\" is not \(article(Kind.noun)) \(Kind.noun) id (\(shape))"
    }

    private static func article(_ noun: String) -> String {
        noun.first.map { "aeiouAEIOU".contains($0) } == true ? "an" : "a"
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}

extension FieldValidator {
    /// The id of a `Kind` record in `value`, exactly as given (the records carry it as sent, so white space around
    /// it is no id either). Empty or blank is "must not be empty" when `required`; empty is no id when it is not.
    /// Text of another shape is a problem naming the kind expected (and the kind it is, when it is another's id).
    @discardableResult
    public mutating func id<Kind>(
        _ value: String, _ field: String, _ kind: RecordID<Kind>.Type = RecordID<Kind>.self, required: Bool = true
    ) -> RecordID<Kind>? {
        // Only nothing at all is an id left out; blank text where an id is optional is a wrong id, not none.
        if value.isEmpty || (required && value.allSatisfy(\.isWhitespace)) {
            if required { fail(field, "must not be empty") }
            return nil
        }
        guard let id = RecordID<Kind>(value) else {
            fail(field, RecordID<Kind>.problem(with: value))
            return nil
        }
        return id
    }

    /// The id of a `Kind` record in `value`, the request's only field to check: INVALID_ARGUMENT naming `field`
    /// when it is empty or not such an id.
    public static func id<Kind>(
        _ value: String, _ field: String, _ kind: RecordID<Kind>.Type = RecordID<Kind>.self, file: String = #fileID,
        line: Int = #line
    ) throws(DomainError) -> RecordID<Kind> {
        var check = FieldValidator()
        let id = check.id(value, field, kind)
        try check.check(file: file, line: line)
        return try id.checked(field, file: file, line: line)
    }

    /// The id of a `Kind` record a list is narrowed to: nil when `value` is empty (no narrowing), INVALID_ARGUMENT
    /// naming `field` when it is not such an id.
    public static func filter<Kind>(
        _ value: String, _ field: String, _ kind: RecordID<Kind>.Type, file: String = #fileID, line: Int = #line
    ) throws(DomainError) -> RecordID<Kind>? {
        var check = FieldValidator()
        let id = check.id(value, field, kind, required: false)
        try check.check(file: file, line: line)
        return id
    }
}
