import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// `fairtrade.producer.v1.ProducerService`: validates each request field by field, then hands it to the store.
public struct ProducerHandler: ProducerV1.ProducerServiceHandler {
    let store: ProducerStore

    public init(database: any Database) { self.store = ProducerStore(database: database) }

    public typealias Group = ProducerV1.ProducerGroup
}
