import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceStore: markets and partners.
extension MarketplaceStore {
    public func createMarket(_ market: MarketplaceV1.Market, requestID: String) async throws -> MarketplaceV1.Market {
        try await database.idempotent(operation: "CreateMarket", requestID: requestID) { session in
            var market = market
            let id = MarketID.mint()
            market.id = id.text
            try await session.execute(
                "INSERT INTO markets (id, name, country, body) VALUES ($1, $2, $3, $4)",
                [.of(market.id), .of(market.name), .of(market.country), .blob(market.serializedBytes())])
            return id
        } load: { session, id in
            try await loadMarket(id, session)
        }
    }

    func loadMarket(_ id: MarketID, _ session: any SQLSession) async throws -> MarketplaceV1.Market {
        try await session.message(MarketplaceV1.Market.self, from: "markets", id: id)
    }

    func listMarkets(country: String) async throws -> [MarketplaceV1.Market] {
        let rows =
            country.isEmpty
            ? try await database.query("SELECT body FROM markets ORDER BY country, name", [])
            : try await database.query("SELECT body FROM markets WHERE country = $1 ORDER BY name", [.of(country)])
        return try rows.map { try $0.message(MarketplaceV1.Market.self) }
    }

    func addPartner(_ partner: MarketplaceV1.RetailPartner, requestID: String) async throws
        -> MarketplaceV1.RetailPartner
    {
        try await database.idempotent(operation: "AddRetailPartner", requestID: requestID) { session in
            var partner = partner
            partner.id = RetailPartnerID.mint().text
            try await session.execute(
                """
                INSERT INTO retail_partners (id, buyer_organisation, country, region, channel, outlets, body)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                [
                    .of(partner.id), .of(partner.buyerOrganisation), .of(partner.country), .of(partner.region),
                    .of(partner.channel.rawValue), .of(partner.outlets), .blob(partner.serializedBytes()),
                ])
            return partner.id
        } load: { session, id in
            guard let row = try await session.first("SELECT body FROM retail_partners WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "partner \(id) vanished")
            }
            return try row.message(MarketplaceV1.RetailPartner.self)
        }
    }

    /// One page of partners in id order (after `after`), and where the next page starts.
    func listPartners(buyer: String, country: String, channel: MarketplaceV1.SalesChannel, after: String, limit: Int)
        async throws -> ([MarketplaceV1.RetailPartner], String)
    {
        var conditions = SQLConditions()
        conditions.equal("buyer_organisation", buyer)
        conditions.equal("country", country)
        if channel != .unspecified { conditions.add("channel = \(conditions.bind(.of(channel.rawValue)))") }
        // In id order: the page token is the last id.
        let (partners, next) = try await database.page(
            "retail_partners", conditions, sortColumn: "id", after: after.isEmpty ? nil : (after, after), limit: limit,
            as: MarketplaceV1.RetailPartner.self)
        return (partners, next?.1 ?? "")
    }

    func countPartners(buyer: String, groupBy: MarketplaceV1.PartnerGrouping) async throws
        -> MarketplaceV1.CountRetailPartnersResponse
    {
        let key =
            switch groupBy {
            case .region: "country || ' / ' || region"
            case .channel: "CAST(channel AS TEXT)"
            default: "country"
            }
        let filter = buyer.isEmpty ? "" : "WHERE buyer_organisation = $1"
        let rows = try await database.query(
            """
            SELECT \(key) AS grouping, COUNT(*) AS partners, SUM(outlets) AS outlets FROM retail_partners \(filter)
            GROUP BY \(key) ORDER BY COUNT(*) DESC, \(key)
            """, buyer.isEmpty ? [] : [.of(buyer)])
        var response = MarketplaceV1.CountRetailPartnersResponse()
        for row in rows {
            var label = try row.text("grouping")
            if groupBy == .channel, let raw = Int32(label) {
                label = CSV.cell(MarketplaceV1.SalesChannel(rawValue: raw))
            }
            let count = MarketplaceV1.PartnerCount(
                key: label, partners: Int32(try row.int("partners")), outlets: Int32(try row.int("outlets")))
            response.counts.append(count)
            response.totalPartners += count.partners
            response.totalOutlets += count.outlets
        }
        return response
    }
}
