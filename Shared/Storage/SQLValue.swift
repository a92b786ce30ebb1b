/// A value bound into, or read out of, SQL: the types both back ends share.
///
/// Booleans are integers 0/1 and times are integers (microseconds since 1970), so that one schema serves both
/// SQLite and PostgreSQL.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// Conversions from Swift values, so that binds read naturally: `[.of(id), .of(count)]`.
extension SQLValue {
    public static func of(_ value: String) -> SQLValue { .text(value) }
    public static func of(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    public static func of(_ value: Int64) -> SQLValue { .integer(value) }
    public static func of(_ value: Int) -> SQLValue { .integer(Int64(value)) }
    public static func of(_ value: Int32) -> SQLValue { .integer(Int64(value)) }
    public static func of(_ value: Int64?) -> SQLValue { value.map { .integer($0) } ?? .null }
    public static func of(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
    public static func of(_ value: Double) -> SQLValue { .real(value) }
}

/// One result row: values by column name.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ column: String) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else { return .null }
        return values[index]
    }

    public func int(_ column: String) throws(StorageError) -> Int64 {
        switch self[column] {
        case .integer(let value): return value
        case .real(let value): return Int64(value)
        case .text(let text): if let value = Int64(text) { return value }
        default: break
        }
        throw StorageError(.corrupt, "column \(column) is not an integer: \(self[column])")
    }

    public func optionalInt(_ column: String) throws(StorageError) -> Int64? {
        if case .null = self[column] { return nil }
        return try int(column)
    }

    public func text(_ column: String) throws(StorageError) -> String {
        switch self[column] {
        case .text(let value): return value
        case .integer(let value): return String(value)
        case .null: return ""
        default: throw StorageError(.corrupt, "column \(column) is not text: \(self[column])")
        }
    }

    public func optionalText(_ column: String) throws(StorageError) -> String? {
        if case .null = self[column] { return nil }
        return try text(column)
    }

    public func bool(_ column: String) throws(StorageError) -> Bool { try int(column) != 0 }

    public func real(_ column: String) throws(StorageError) -> Double {
        switch self[column] {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: throw StorageError(.corrupt, "column \(column) is not a number: \(self[column])")
        }
    }
}
