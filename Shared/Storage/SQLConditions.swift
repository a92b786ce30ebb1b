/// The WHERE conditions of a query being built and the values they bind, numbered `$1`, `$2`… in order, so that
/// optional filters can be added without counting placeholders by hand.
public struct SQLConditions: Sendable {
    public private(set) var conditions: [String] = []
    public private(set) var binds: [SQLValue] = []

    public init() {}

    /// Binds `value`; returns its placeholder.
    public mutating func bind(_ value: SQLValue) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// Binds each of `values`; returns their placeholders, comma-separated.
    public mutating func bindList(_ values: [String]) -> String {
        values.map { bind(.of($0)) }.joined(separator: ", ")
    }

    public mutating func add(_ condition: String) { conditions.append(condition) }

    /// `column = value`; nothing when `value` is empty.
    public mutating func equal(_ column: String, _ value: String) {
        if !value.isEmpty { add("\(column) = \(bind(.of(value)))") }
    }

    /// `column IN (values…)`; nothing when `values` is empty.
    public mutating func among(_ column: String, _ values: [String]) {
        if !values.isEmpty { add("\(column) IN (\(bindList(values)))") }
    }

    /// Keyset paging: rows after (`key`, `id`) in `ORDER BY sortColumn, idColumn` order.
    public mutating func after(_ sortColumn: String, _ key: String, idColumn: String = "id", _ id: String) {
        let keyPlaceholder = bind(.of(key))
        add(
            "(\(sortColumn) > \(keyPlaceholder) OR (\(sortColumn) = \(keyPlaceholder) AND \(idColumn) > \(bind(.of(id)))))"
        )
    }

    /// `WHERE (a) AND (b)…`, or nothing when there are no conditions.
    public var whereClause: String {
        conditions.isEmpty ? "" : "WHERE " + conditions.map { "(\($0))" }.joined(separator: " AND ")
    }
}
