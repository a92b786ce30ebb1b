import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceHandler: bulletin.
extension MarketplaceHandler {
    /// Prices for the group's crafts in every market observing them, open demand that fits the group, and practices
    /// added for its crafts — over the last `days` days.
    public func getMarketBulletin(_ request: MarketplaceV1.GetMarketBulletinRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.MarketBulletin
    {
        try await offTheIOThread {
            var check = FieldValidator()
            check.id(request.groupID, "group_id", ProducerGroupID.self)
            if request.days != 0 { check.range(request.days, 1...365, "days") }
            try check.check()
            let days = Int(request.days == 0 ? 90 : request.days)
            var group = ProducerV1.ProducerGroup(
                id: request.groupID, name: request.groupName, country: request.country,
                crafts: request.crafts)
            if request.crafts.isEmpty {
                do throws(RPCError) {
                    group = try await producer.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: request.groupID))
                } catch {
                    if error.code == .notFound { throw RPCError(.notFound, error.message) }
                    throw RPCError(
                        .unavailable, "the bulletin needs producer-service, which did not answer: \(error.message)")
                }
            }
            let today = ISODate.today()
            let since = today.adding(days: -(days - 1))
            var bulletin = MarketplaceV1.MarketBulletin(groupID: group.id, groupName: group.name, crafts: group.crafts)
            try await storage {
                bulletin.matchedDemand = try await store.matchedDemand(groupID: group.id)
                for craft in group.crafts {
                    for market in try await store.markets(observing: craft, since: since) {
                        bulletin.prices.append(
                            try await statistics(
                                product: craft, marketID: market, priceType: 0, days: days,
                                end: today))
                    }
                    bulletin.openDemand += try await store.listDemand(product: craft, status: .unspecified).filter {
                        $0.countries.isEmpty || $0.countries.contains(group.country)
                    }
                    bulletin.newPractices += try await store.entries(
                        craft: craft, sinceMicros: Clock.unixMicros() - Int64(days) * 86_400_000_000, limit: 10)
                }
            }
            var seen = Set<String>()
            bulletin.newPractices = bulletin.newPractices.filter { seen.insert($0.id).inserted }
            return bulletin
        }
    }
}
