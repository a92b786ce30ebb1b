import Domain
import RPC
import Schema
import Storage

extension SQLRow {
    /// The protobuf message a record keeps beside its query columns (in `body` by default).
    public func message<T: ProtoMessage>(_ type: T.Type, column: String = "body") throws -> T {
        guard case .blob(let bytes) = self[column] else { throw StorageError(.corrupt, "row without a \(column)") }
        return try T(serializedBytes: bytes)
    }
}

extension SQLSession {
    /// The message `table` keeps in its `body` column for `id`, or NOT_FOUND naming the record ("market \"mk_…\" not
    /// found") when there is none.
    public func message<T: ProtoMessage, Kind>(_ type: T.Type, from table: String, id: RecordID<Kind>) async throws
        -> T
    {
        guard let row = try await first("SELECT body FROM \(table) WHERE id = $1", [.of(id.text)]) else {
            throw id.notFound()
        }
        return try row.message(T.self)
    }
}

/// How much of an answer one page of records may take: a quarter of the 4 MiB a client accepts, so that a page of
/// the largest records the limits allow (docs/LIMITS.md) always fits with room to spare. A page holds what fits,
/// at least one record, and says where the next one starts.
public enum PageBudget {
    public static let bytes = 1 << 20

    /// How many of `records`, from the first, fit in the budget (at least one, when there are any).
    public static func fitting<T: ProtoMessage>(_ records: some Sequence<T>, limit: Int, bytes: Int = bytes) -> Int {
        var used = 0
        var count = 0
        for record in records.prefix(limit) {
            used += record.serializedBytes().count + 8
            if used > bytes && count > 0 { break }
            count += 1
        }
        return count
    }
}

extension Database {
    /// One page of `table`'s rows matching `filter`, ordered by (`sortColumn`, id), after the (sort key, id) of the
    /// previous page's last row; and that key for this page's last row when more follow.
    public func page<T: ProtoMessage>(
        _ table: String, _ conditions: SQLConditions, sortColumn: String, after: (String, String)?, limit: Int,
        as: T.Type
    ) async throws -> ([T], (String, String)?) {
        var conditions = conditions
        if let (key, id) = after { conditions.after(sortColumn, key, id) }
        let rows = try await query(
            """
            SELECT \(sortColumn) AS sort_key, id, body FROM \(table) \(conditions.whereClause)
            ORDER BY \(sortColumn), id LIMIT \(limit + 1)
            """, conditions.binds)
        let decoded = try rows.prefix(limit).map { try $0.message(T.self) }
        // As many as fit in an answer (PageBudget): the next page starts after the last one kept.
        let kept = PageBudget.fitting(decoded, limit: limit)
        guard rows.count > kept else { return (decoded, nil) }
        return (Array(decoded.prefix(kept)), (try rows[kept - 1].text("sort_key"), try rows[kept - 1].text("id")))
    }
}
