import ServiceKit
import Storage

/// The Marketplace-Info service's schema. Records keep their protobuf encoding (`body`) beside the columns that
/// queries filter, sort and search on.
public enum MarketplaceMigrations {
    public static let all: [Migration] = [
        Migration(version: 1, name: "markets, partners, prices, alerts, demand, library") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            var statements = [
                requestLogTable,
                """
                CREATE TABLE markets (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX markets_country ON markets (country, name)",
                """
                CREATE TABLE retail_partners (
                    id TEXT PRIMARY KEY, buyer_organisation TEXT NOT NULL, country TEXT NOT NULL, region TEXT NOT NULL,
                    channel BIGINT NOT NULL, outlets BIGINT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX retail_partners_buyer ON retail_partners (buyer_organisation)",
                """
                CREATE TABLE price_observations (
                    id TEXT PRIMARY KEY, product TEXT NOT NULL, market_id TEXT NOT NULL REFERENCES markets (id),
                    price_type BIGINT NOT NULL, unit TEXT NOT NULL, price_minor BIGINT NOT NULL, currency TEXT NOT NULL,
                    observed_on TEXT NOT NULL, source TEXT NOT NULL)
                """,
                "CREATE INDEX price_observations_series ON price_observations (product, market_id, observed_on)",
                """
                CREATE TABLE price_alerts (
                    id TEXT PRIMARY KEY, observation_id TEXT NOT NULL REFERENCES price_observations (id),
                    product TEXT NOT NULL, observed_on TEXT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX price_alerts_product ON price_alerts (product, observed_on)",
                """
                CREATE TABLE demand_signals (
                    id TEXT PRIMARY KEY, product TEXT NOT NULL, status BIGINT NOT NULL, created_at BIGINT NOT NULL,
                    body \(blob) NOT NULL)
                """,
                "CREATE INDEX demand_signals_product ON demand_signals (product, status)",
                """
                CREATE TABLE demand_matches (
                    signal_id TEXT NOT NULL REFERENCES demand_signals (id), group_id TEXT NOT NULL,
                    body \(blob) NOT NULL, PRIMARY KEY (signal_id, group_id))
                """,
                """
                CREATE TABLE demand_answers (
                    id TEXT PRIMARY KEY, signal_id TEXT NOT NULL REFERENCES demand_signals (id), body \(blob) NOT NULL)
                """,
                "CREATE INDEX demand_answers_signal ON demand_answers (signal_id)",
            ]
            switch dialect {
            case .sqlite:
                statements += [
                    """
                    CREATE TABLE library_entries (
                        id TEXT PRIMARY KEY, crafts TEXT NOT NULL, topics TEXT NOT NULL, created_at BIGINT NOT NULL,
                        body \(blob) NOT NULL)
                    """,
                    // English stemming (porter) over unicode61 tokens, as PostgreSQL's 'english' configuration.
                    """
                    CREATE VIRTUAL TABLE library_search USING fts5(
                        entry_id UNINDEXED, title, topics, body, tokenize = 'porter unicode61')
                    """,
                ]
            case .postgres:
                statements += [
                    """
                    CREATE TABLE library_entries (
                        id TEXT PRIMARY KEY, crafts TEXT NOT NULL, topics TEXT NOT NULL, created_at BIGINT NOT NULL,
                        body \(blob) NOT NULL, title_text TEXT NOT NULL, body_text TEXT NOT NULL,
                        search tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector('english', title_text), 'A')
                            || setweight(to_tsvector('english', replace(topics, '|', ' ')), 'B')
                            || setweight(to_tsvector('english', body_text), 'C')) STORED)
                    """,
                    "CREATE INDEX library_entries_search ON library_entries USING GIN (search)",
                ]
            }
            return statements
        },
        Migration(version: 2, name: "discussion groups") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                """
                CREATE TABLE discussion_groups (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, crafts TEXT NOT NULL, body \(blob) NOT NULL)
                """,
                """
                CREATE TABLE group_members (
                    group_id TEXT NOT NULL REFERENCES discussion_groups (id), kind BIGINT NOT NULL, member TEXT NOT NULL,
                    body \(blob) NOT NULL, PRIMARY KEY (group_id, kind, member))
                """,
                """
                CREATE TABLE discussion_threads (
                    id TEXT PRIMARY KEY, group_id TEXT NOT NULL REFERENCES discussion_groups (id),
                    created_at BIGINT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX discussion_threads_group ON discussion_threads (group_id, created_at)",
                """
                CREATE TABLE posts (
                    id TEXT PRIMARY KEY, thread_id TEXT NOT NULL REFERENCES discussion_threads (id),
                    created_at BIGINT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX posts_thread ON posts (thread_id, created_at)",
            ]
        },
        Migration(version: 3, name: "demand matches by group") { _ in
            ["CREATE INDEX demand_matches_group ON demand_matches (group_id)"]
        },
        Migration(version: 4, name: "price imports from spreadsheets") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                // Each import's answer, so that a retried import answers the same.
                """
                CREATE TABLE price_imports (
                    id TEXT PRIMARY KEY, source TEXT NOT NULL, created_at BIGINT NOT NULL, body \(blob) NOT NULL)
                """
            ]
        },
        // Who changed what, and which calls were refused (ServiceKit's AuditTrail).
        AuditTrail.migration(version: 5),
        RequestAnswers.migration(version: 6),
        Migration(
            version: 7, name: "each price series' window read from an index that holds its prices",
            [
                """
                CREATE INDEX price_observations_window
                ON price_observations (product, market_id, price_type, unit, currency, observed_on, price_minor)
                """
            ]),
        // Statistics over every price type (price_type unspecified) read a range of days: the series index now
        // holds the columns they filter and the price, so they no longer look up each observation's row.
        Migration(
            version: 8, name: "the series index holds what statistics over every price type read",
            [
                "DROP INDEX price_observations_series",
                """
                CREATE INDEX price_observations_series
                ON price_observations (product, market_id, observed_on, price_type, unit, currency, price_minor)
                """,
            ]),
    ]
}
