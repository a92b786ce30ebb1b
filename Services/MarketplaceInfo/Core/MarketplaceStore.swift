import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// The Marketplace-Info service's persistence, written once for SQLite and PostgreSQL; only full-text search
/// differs (FTS5 against tsvector).
public struct MarketplaceStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

}
