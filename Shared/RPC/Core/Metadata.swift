/// Request headers or response trailers: ordered string pairs with case-insensitive ASCII keys.
///
/// Keys are stored lower-case. Keys that start with `ft-` belong to the runtime (it may set or strip them).
public struct Metadata: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The prefix of keys reserved for the runtime.
    public static let reservedPrefix = "ft-"

    public private(set) var entries: [(key: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (key, value) in elements { add(key, value) }
    }

    /// Appends a pair; a key may occur more than once.
    public mutating func add(_ key: String, _ value: String) {
        entries.append((key.lowercased(), value))
    }

    /// The first value for `key`, compared without regard to case.
    public subscript(key: String) -> String? {
        let key = key.lowercased()
        return entries.first { $0.key == key }?.value
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: String)> { entries.makeIterator() }

    /// Why this metadata cannot be sent, or nil: keys must be non-empty printable ASCII without spaces.
    func validationError(allowReserved: Bool) -> String? {
        for (key, _) in entries {
            if key.isEmpty { return "metadata key is empty" }
            if !key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) {
                return "metadata key \"\(key)\" must be printable ASCII without spaces"
            }
            if !allowReserved && key.hasPrefix(Self.reservedPrefix) {
                return "metadata key \"\(key)\" uses the prefix \"\(Self.reservedPrefix)\" reserved for the runtime"
            }
        }
        return nil
    }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for (key, value) in entries {
            hasher.combine(key)
            hasher.combine(value)
        }
    }
}
