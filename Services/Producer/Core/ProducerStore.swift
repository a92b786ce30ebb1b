import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// The Producer service's persistence: every query it makes, written once for SQLite and PostgreSQL.
///
/// Methods throw `RPCError` for outcomes a caller must hear about (NOT_FOUND, ABORTED, FAILED_PRECONDITION) and
/// `StorageError` for the database's own failures, which the handler maps.
public struct ProducerStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    typealias Group = ProducerV1.ProducerGroup
}
