/// The bounds of one field of a request (docs/LIMITS.md), from the `.proto`'s `limit:` and `range:` lines and the
/// defaults (`scripts/protoc-gen-ftswift`).
public struct FieldLimit: Sendable, Hashable {
    /// For a repeated field: the most entries.
    public let entries: Int?
    /// For a string (or each string of a repeated one): the most characters (Unicode scalars).
    public let characters: Int?
    /// For an integer: the values allowed.
    public let range: ClosedRange<Int64>?

    public init(entries: Int? = nil, characters: Int? = nil, range: ClosedRange<Int64>? = nil) {
        self.entries = entries
        self.characters = characters
        self.range = range
    }
}
