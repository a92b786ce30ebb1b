import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// `fairtrade.marketplace.v1.MarketplaceInfoService`: validates each request field by field, then hands it to the
/// store; demand matching asks the Producer service which groups fit.
public struct MarketplaceHandler: MarketplaceV1.MarketplaceInfoServiceHandler {
    let store: MarketplaceStore
    let producer: ProducerV1.ProducerServiceClient
    let events: EventPublisher?

    /// - Parameter events: where live events go (new posts, price alerts, demand); nil publishes none.
    public init(database: any Database, producer: ProducerV1.ProducerServiceClient, events: EventPublisher? = nil) {
        self.store = MarketplaceStore(database: database)
        self.producer = producer
        self.events = events
    }

    /// Event topics; a subscription matches prefixes, so each ends with "/".
    public enum Topic {
        public static func posts(_ groupID: String) -> String { "post/\(groupID)/" }
        public static func alerts(_ craft: String) -> String { "alert/\(craft)/" }
        public static func demand(_ craft: String) -> String { "demand/\(craft)/" }
    }

    /// Units prices and quantities may be given in.
    public static let units: Set<String> = [
        "piece", "dozen", "pair", "set", "kg", "g", "metre", "square-metre", "litre",
    ]

    static func unit(_ value: String, _ field: String, _ check: inout FieldValidator) -> String {
        let unit = value.trimmingWhitespace().lowercased()
        if !units.contains(unit) {
            check.fail(field, "\"\(value)\" is not a known unit (\(units.sorted().joined(separator: ", ")))")
        }
        return unit
    }

    static func product(_ value: String, _ field: String, _ check: inout FieldValidator) -> String {
        check.text(value, field, required: true, maxLength: 60).lowercased()
    }
}
