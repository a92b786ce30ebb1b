import ServiceKit
import Storage

/// The Assistance service's schema. Records keep their protobuf encoding (`body`) beside the columns that queries
/// filter, sum and join on; money is an integer count of minor units beside its currency, never a float.
public enum AssistanceMigrations {
    public static let all: [Migration] = [
        Migration(version: 1, name: "organisations, projects, money flows, equipment, trainings, referrals, results") {
            dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                requestLogTable,
                """
                CREATE TABLE organisations (
                    id TEXT PRIMARY KEY, kind BIGINT NOT NULL, name TEXT NOT NULL, iati_identifier TEXT NOT NULL,
                    body \(blob) NOT NULL)
                """,
                "CREATE UNIQUE INDEX organisations_iati ON organisations (iati_identifier) WHERE iati_identifier <> ''",
                """
                CREATE TABLE projects (
                    id TEXT PRIMARY KEY, parent_id TEXT NOT NULL, status BIGINT NOT NULL, iati_identifier TEXT NOT NULL,
                    version BIGINT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX projects_parent ON projects (parent_id)",
                "CREATE UNIQUE INDEX projects_iati ON projects (iati_identifier) WHERE iati_identifier <> ''",
                """
                CREATE TABLE transactions (
                    id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects (id), group_id TEXT NOT NULL,
                    type BIGINT NOT NULL, minor_units BIGINT NOT NULL, currency TEXT NOT NULL, day TEXT NOT NULL,
                    body \(blob) NOT NULL)
                """,
                "CREATE INDEX transactions_project ON transactions (project_id, day)",
                "CREATE INDEX transactions_group ON transactions (group_id, day)",
                """
                CREATE TABLE equipment (
                    id TEXT PRIMARY KEY, group_id TEXT NOT NULL, project_id TEXT NOT NULL, day TEXT NOT NULL,
                    body \(blob) NOT NULL)
                """,
                "CREATE INDEX equipment_group ON equipment (group_id)",
                """
                CREATE TABLE trainings (
                    id TEXT PRIMARY KEY, cascades_from TEXT NOT NULL, project_id TEXT NOT NULL, skill TEXT NOT NULL,
                    held_on TEXT NOT NULL, trainer_group_id TEXT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX trainings_cascade ON trainings (cascades_from)",
                "CREATE INDEX trainings_trainer ON trainings (trainer_group_id)",
                """
                CREATE TABLE training_groups (
                    training_id TEXT NOT NULL REFERENCES trainings (id), group_id TEXT NOT NULL,
                    PRIMARY KEY (group_id, training_id))
                """,
                """
                CREATE TABLE referrals (
                    id TEXT PRIMARY KEY, group_id TEXT NOT NULL, organisation_id TEXT NOT NULL REFERENCES organisations (id),
                    day TEXT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX referrals_group ON referrals (group_id)",
                """
                CREATE TABLE indicators (
                    id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects (id), group_id TEXT NOT NULL,
                    body \(blob) NOT NULL)
                """,
                "CREATE INDEX indicators_project ON indicators (project_id)",
                "CREATE INDEX indicators_group ON indicators (group_id)",
                // What the Producer service last said about the groups this service records: ids merged away
                // (so a group's history includes them) and the facts the capacity report's market section needs.
                """
                CREATE TABLE known_groups (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL, crafts TEXT NOT NULL,
                    updated_at BIGINT NOT NULL)
                """,
                "CREATE TABLE group_aliases (alias TEXT PRIMARY KEY, group_id TEXT NOT NULL)",
                "CREATE INDEX group_aliases_group ON group_aliases (group_id)",
            ]
        },
        Migration(version: 2, name: "training imports from spreadsheets") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                // Each import's answer, so that a retried import answers the same.
                """
                CREATE TABLE training_imports (
                    id TEXT PRIMARY KEY, source TEXT NOT NULL, created_at BIGINT NOT NULL, body \(blob) NOT NULL)
                """,
                "CREATE INDEX trainings_held_on ON trainings (held_on)",
            ]
        },
        Migration(version: 3, name: "money-flow imports from spreadsheets") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                """
                CREATE TABLE transaction_imports (
                    id TEXT PRIMARY KEY, source TEXT NOT NULL, created_at BIGINT NOT NULL, body \(blob) NOT NULL)
                """
            ]
        },
        // Who changed what, and which calls were refused (ServiceKit's AuditTrail).
        AuditTrail.migration(version: 4),
        RequestAnswers.migration(version: 5),
        Migration(version: 6, name: "IATI activity imports") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                // Each import's answer, so that a retried import answers the same.
                """
                CREATE TABLE iati_imports (
                    id TEXT PRIMARY KEY, source TEXT NOT NULL, created_at BIGINT NOT NULL, body \(blob) NOT NULL)
                """
            ]
        },
    ]
}
