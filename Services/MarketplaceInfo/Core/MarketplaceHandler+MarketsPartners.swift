import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceHandler: markets and partners.
extension MarketplaceHandler {
    public func createMarket(_ request: MarketplaceV1.CreateMarketRequest, context: ServerContext) async throws
        -> MarketplaceV1.Market
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var market = request.market ?? MarketplaceV1.Market()
        market.name = check.text(market.name, "market.name", required: true)
        market.country = check.country(market.country, "market.country")
        market.adminArea = check.text(market.adminArea, "market.admin_area", maxLength: 100)
        check.specified(market.kind, "market.kind")
        try check.check()
        return try await storage { try await store.createMarket(market, requestID: request.requestID) }
    }

    public func listMarkets(_ request: MarketplaceV1.ListMarketsRequest, context: ServerContext) async throws
        -> MarketplaceV1.ListMarketsResponse
    {
        var check = FieldValidator()
        let country = request.country.isEmpty ? "" : check.country(request.country, "country")
        try check.check()
        return MarketplaceV1.ListMarketsResponse(
            markets: try await storage { try await store.listMarkets(country: country) })
    }

    public func addRetailPartner(_ request: MarketplaceV1.AddRetailPartnerRequest, context: ServerContext) async throws
        -> MarketplaceV1.RetailPartner
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var partner = request.partner ?? MarketplaceV1.RetailPartner()
        partner.name = check.text(partner.name, "partner.name", required: true)
        partner.buyerOrganisation = check.text(partner.buyerOrganisation, "partner.buyer_organisation", required: true)
        partner.country = check.country(partner.country, "partner.country")
        partner.region = check.text(partner.region, "partner.region", maxLength: 100)
        check.specified(partner.channel, "partner.channel")
        check.range(partner.outlets, 1...100_000, "partner.outlets")
        try check.check()
        return try await storage { try await store.addPartner(partner, requestID: request.requestID) }
    }

    public func countRetailPartners(_ request: MarketplaceV1.CountRetailPartnersRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.CountRetailPartnersResponse
    {
        try await storage {
            try await store.countPartners(
                buyer: request.buyerOrganisation.trimmingWhitespace(), groupBy: request.groupBy)
        }
    }

    public func listRetailPartners(_ request: MarketplaceV1.ListRetailPartnersRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.ListRetailPartnersResponse
    {
        var check = FieldValidator()
        let country = check.country(request.country, "country", required: false)
        if !request.pageToken.isEmpty && RetailPartnerID(request.pageToken) == nil {
            check.fail("page_token", "is not a token from a previous ListRetailPartners answer")
        }
        try check.check()
        let (partners, next) = try await storage {
            try await store.listPartners(
                buyer: request.buyerOrganisation.trimmingWhitespace(), country: country, channel: request.channel,
                after: request.pageToken, limit: Int(request.pageSize == 0 ? 100 : request.pageSize))
        }
        return MarketplaceV1.ListRetailPartnersResponse(partners: partners, nextPageToken: next)
    }
}
