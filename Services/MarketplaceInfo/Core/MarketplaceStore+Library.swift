import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceStore: library.
extension MarketplaceStore {
    func addEntry(_ entry: MarketplaceV1.LibraryEntry, requestID: String) async throws -> MarketplaceV1.LibraryEntry {
        try await database.idempotent(operation: "AddLibraryEntry", requestID: requestID) { session in
            var entry = entry
            let id = LibraryEntryID.mint()
            entry.id = id.text
            entry.createdAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            try await insertEntry(entry, session)
            return id
        } load: { session, id in
            try await loadEntry(id, session)
        }
    }

    func insertEntry(_ entry: MarketplaceV1.LibraryEntry, _ session: any SQLSession) async throws {
        let crafts = "|" + entry.crafts.joined(separator: "|") + "|"
        let topics = "|" + entry.topics.joined(separator: "|") + "|"
        switch session.dialect {
        case .sqlite:
            try await session.execute(
                """
                INSERT INTO library_entries (id, crafts, topics, created_at, body) VALUES ($1, $2, $3, $4, $5)
                """,
                [
                    .of(entry.id), .of(crafts), .of(topics),
                    .of((try entry.createdAt.checked("created_at")).unixMicros),
                    .blob(entry.serializedBytes()),
                ])
            try await session.execute(
                "INSERT INTO library_search (entry_id, title, topics, body) VALUES ($1, $2, $3, $4)",
                [.of(entry.id), .of(entry.title), .of(entry.topics.joined(separator: " ")), .of(entry.body)])
        case .postgres:
            try await session.execute(
                """
                INSERT INTO library_entries (id, crafts, topics, created_at, body, title_text, body_text)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                [
                    .of(entry.id), .of(crafts), .of(topics),
                    .of((try entry.createdAt.checked("created_at")).unixMicros),
                    .blob(entry.serializedBytes()), .of(entry.title), .of(entry.body),
                ])
        }
    }

    /// Many entries in one transaction (benchmarks, bulk import); they must already be validated.
    public func bulkAddEntries(_ entries: [MarketplaceV1.LibraryEntry]) async throws {
        try await database.transaction { session in
            for var entry in entries {
                entry.id = LibraryEntryID.mint().text
                entry.createdAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
                try await insertEntry(entry, session)
            }
        }
    }

    func loadEntry(_ id: LibraryEntryID, _ session: any SQLSession) async throws -> MarketplaceV1.LibraryEntry {
        try await session.message(MarketplaceV1.LibraryEntry.self, from: "library_entries", id: id)
    }

    func getEntry(_ id: LibraryEntryID) async throws -> MarketplaceV1.LibraryEntry {
        try await database.read { session in try await loadEntry(id, session) }
    }

    /// Entries containing every word of `words`, most relevant first: FTS5's bm25 (title weighted 10, topics 5,
    /// body 1) on SQLite, ts_rank over title (A), topics (B) and body (C) on PostgreSQL.
    func search(words: [String], craft: String, topic: String, limit: Int) async throws -> [MarketplaceV1.LibraryHit] {
        var query = SQLConditions()
        var filters: [String] = []
        func bind(_ value: SQLValue) -> String { query.bind(value) }
        let sql: String
        switch database.dialect {
        case .sqlite:
            let match = bind(.of(words.map { "\"\($0)\"" }.joined(separator: " ")))
            if !craft.isEmpty { filters.append("e.crafts LIKE \(bind(.of("%|" + craft + "|%")))") }
            if !topic.isEmpty { filters.append("e.topics LIKE \(bind(.of("%|" + topic + "|%")))") }
            sql = """
                SELECT e.body, -bm25(library_search, 0.0, 10.0, 5.0, 1.0) AS score
                FROM library_search JOIN library_entries e ON e.id = library_search.entry_id
                WHERE library_search MATCH \(match) \(filters.map { "AND " + $0 }.joined(separator: " "))
                ORDER BY bm25(library_search, 0.0, 10.0, 5.0, 1.0) LIMIT \(bind(.of(limit)))
                """
        case .postgres:
            let query = bind(.of(words.joined(separator: " ")))
            if !craft.isEmpty { filters.append("crafts LIKE \(bind(.of("%|" + craft + "|%")))") }
            if !topic.isEmpty { filters.append("topics LIKE \(bind(.of("%|" + topic + "|%")))") }
            sql = """
                SELECT body, ts_rank(search, plainto_tsquery('english', \(query)))::float8 AS score FROM library_entries
                WHERE search @@ plainto_tsquery('english', \(query)) \(filters.map { "AND " + $0 }.joined(separator: " "))
                ORDER BY score DESC, id LIMIT \(bind(.of(limit)))
                """
        }
        return try await database.query(sql, query.binds).map { row in
            MarketplaceV1.LibraryHit(
                entry: try row.message(MarketplaceV1.LibraryEntry.self), score: try row.real("score"))
        }
    }
}
