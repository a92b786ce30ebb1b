import ServiceKit
import Storage

/// The Producer service's schema, one migration per version. Each group row keeps its full protobuf encoding
/// (`body`) as the source of truth for nested fields, and copies of the fields that queries filter and sort on.
public enum ProducerMigrations {
    public static let all: [Migration] = [
        Migration(version: 1, name: "producer groups, skills, relationships, connections, dialogue") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                """
                CREATE TABLE producer_groups (
                    id TEXT PRIMARY KEY,
                    name_key TEXT NOT NULL,
                    local_name_key TEXT NOT NULL,
                    kind BIGINT NOT NULL,
                    country TEXT NOT NULL,
                    status BIGINT NOT NULL,
                    merged_into TEXT,
                    version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    body \(blob) NOT NULL)
                """,
                // Lists are ordered by (name_key, id): indexes lead with the filter and then give that order, so a
                // page is an index range scan; status is checked on the way.
                "CREATE INDEX producer_groups_listing ON producer_groups (name_key, id)",
                "CREATE INDEX producer_groups_country ON producer_groups (country, name_key, id)",
                "CREATE INDEX producer_groups_merged_into ON producer_groups (merged_into)",
                """
                CREATE TABLE group_crafts (
                    craft TEXT NOT NULL,
                    group_id TEXT NOT NULL REFERENCES producer_groups (id),
                    PRIMARY KEY (craft, group_id))
                """,
                "CREATE INDEX group_crafts_group ON group_crafts (group_id)",
                requestLogTable,
                """
                CREATE TABLE duplicate_rejections (
                    group_a TEXT NOT NULL,
                    group_b TEXT NOT NULL,
                    rejected_at BIGINT NOT NULL,
                    PRIMARY KEY (group_a, group_b))
                """,
                """
                CREATE TABLE skills (
                    code TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    category TEXT NOT NULL,
                    description TEXT NOT NULL)
                """,
                """
                CREATE TABLE skill_assessments (
                    id TEXT PRIMARY KEY,
                    group_id TEXT NOT NULL REFERENCES producer_groups (id),
                    skill TEXT NOT NULL REFERENCES skills (code),
                    assessed_on TEXT NOT NULL,
                    level BIGINT NOT NULL,
                    members_holding BIGINT NOT NULL,
                    assessor TEXT NOT NULL,
                    notes TEXT NOT NULL,
                    created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX skill_assessments_group ON skill_assessments (group_id, skill, assessed_on)",
                """
                CREATE TABLE buyer_relationships (
                    id TEXT PRIMARY KEY,
                    group_id TEXT NOT NULL REFERENCES producer_groups (id),
                    organisation TEXT NOT NULL,
                    since TEXT NOT NULL,
                    kind BIGINT NOT NULL,
                    purchases_minor BIGINT,
                    purchases_currency TEXT,
                    ended_on TEXT,
                    notes TEXT NOT NULL)
                """,
                "CREATE INDEX buyer_relationships_group ON buyer_relationships (group_id)",
                """
                CREATE TABLE group_connections (
                    id TEXT PRIMARY KEY,
                    from_group TEXT NOT NULL REFERENCES producer_groups (id),
                    to_group TEXT NOT NULL REFERENCES producer_groups (id),
                    kind BIGINT NOT NULL,
                    since TEXT,
                    notes TEXT NOT NULL,
                    UNIQUE (from_group, to_group, kind))
                """,
                "CREATE INDEX group_connections_to ON group_connections (to_group)",
                """
                CREATE TABLE dialogue_contacts (
                    id TEXT PRIMARY KEY,
                    group_id TEXT NOT NULL REFERENCES producer_groups (id),
                    organisation TEXT NOT NULL,
                    contact_date TEXT NOT NULL,
                    kind BIGINT NOT NULL,
                    topics TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX dialogue_contacts_group ON dialogue_contacts (group_id, contact_date)",
                """
                CREATE TABLE follow_ups (
                    id TEXT PRIMARY KEY,
                    contact_id TEXT NOT NULL REFERENCES dialogue_contacts (id),
                    group_id TEXT NOT NULL REFERENCES producer_groups (id),
                    description TEXT NOT NULL,
                    due_on TEXT NOT NULL,
                    done BIGINT NOT NULL,
                    done_on TEXT)
                """,
                "CREATE INDEX follow_ups_open ON follow_ups (done, due_on)",
                "CREATE INDEX follow_ups_contact ON follow_ups (contact_id)",
            ]
                + SkillCatalogue.defaults.map { skill in
                    "INSERT INTO skills (code, name, category, description) VALUES ('\(skill.code)', '\(skill.name)', '\(skill.category)', '\(skill.description)')"
                }
        },
        Migration(version: 2, name: "imports from spreadsheets") { dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            return [
                // Each import's answer (the rows it made or changed), so that a retried import answers the same.
                """
                CREATE TABLE group_imports (
                    id TEXT PRIMARY KEY,
                    source TEXT NOT NULL,
                    mode BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    body \(blob) NOT NULL)
                """
            ]
        },
        // Who changed what, and which calls were refused (ServiceKit's AuditTrail).
        AuditTrail.migration(version: 3),
        RequestAnswers.migration(version: 4),
    ]
}

/// The skills catalogue every registry starts with: the crafts and the business skills that decide whether a
/// group can sell on its own. Organisations add their own with AddSkill.
public enum SkillCatalogue {
    public static let defaults: [(code: String, name: String, category: String, description: String)] = [
        ("weaving", "Weaving", "craft", "Weaving baskets, mats or cloth"),
        ("basketry", "Basketry", "craft", "Coiling, twining and plaiting baskets from grasses and fibres"),
        ("screen-printing", "Screen printing", "craft", "Printing fabric through mesh screens"),
        ("natural-dyeing", "Natural dyeing", "craft", "Dyeing with plant and mineral dyes"),
        ("block-printing", "Block printing", "craft", "Printing fabric with carved wooden blocks"),
        ("sewing", "Sewing and tailoring", "craft", "Cutting and stitching finished products"),
        ("embroidery", "Embroidery", "craft", "Hand and machine embroidery"),
        ("woodcarving", "Woodcarving", "craft", "Carving and finishing wood"),
        ("metalwork", "Metalwork", "craft", "Working metal and recycled metal"),
        ("pottery", "Pottery", "craft", "Shaping, glazing and firing clay"),
        ("jewellery", "Jewellery making", "craft", "Beads, metal and recycled materials"),
        ("product-design", "Product design", "market", "Designing products for export markets"),
        ("bookkeeping", "Bookkeeping", "business", "Keeping accounts and records"),
        ("export-pricing", "Export pricing", "business", "Costing products and pricing for export"),
        ("quality-control", "Quality control", "quality", "Inspecting against specifications before shipping"),
        (
            "sustainable-materials", "Sustainable materials", "quality",
            "Using local, recycled, reused and natural materials"
        ),
        ("order-management", "Order management", "business", "Planning production to meet order and lead times"),
        ("training-others", "Training others", "business", "Passing skills on to other artisans"),
    ]
}
