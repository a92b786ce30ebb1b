import API
import RPC
import Schema
import TestSupport
import Testing

@Suite("Price observations from spreadsheets", .serialized)
struct PriceImportTests {
    typealias M = MarketplaceV1

    static let header = "product,market,price_type,unit,price,currency,observed_on,source\n"

    func market(_ client: M.MarketplaceInfoServiceClient, _ name: String) async throws -> M.Market {
        try await client.createMarket(
            M.CreateMarketRequest(
                market: M.Market(name: name, country: "GH", kind: .localMarket), requestID: "market-\(name)"))
    }

    func count(_ client: M.MarketplaceInfoServiceClient, _ marketID: String) async throws -> Int32 {
        try await client.getPriceStatistics(
            M.GetPriceStatisticsRequest(
                product: "baskets", marketID: marketID, windowDays: 3650, asOf: date("2025-12-31"))
        ).count
    }

    @Test(
        "rows are recorded in date order against the alert rule; rows already recorded are skipped, never doubled",
        arguments: Backend.allCases)
    func record(backend: Backend) async throws {
        try await withMarketplace(backend, producerEndpoint: deadEndpoint()) { marketplace in
            let client = marketplace.client
            let bolga = try await market(client, "Bolga")
            // The high price comes first in the file but last by date: the alert rule sees the five before it.
            let csv =
                Self.header
                    + """
                    baskets,Bolga,producer,piece,20.00,GHS,2025-06-01,survey
                    baskets,bolga,producer,piece,10.00,GHS,2025-04-05,survey
                    baskets,\(bolga.id),producer,piece,"1,000",GHS,2025-04-20,survey
                    Baskets,Bolga,Producer,piece,9.50,ghs,2025-05-01,survey
                    baskets,Bolga,producer,piece,10.00,GHS,2025-05-10,survey
                    baskets,Bolga,producer,piece,10.50,GHS,2025-05-20,survey
                    baskets,Bolga,producer,piece,10.00,GHS,2025-04-05,survey
                    """
            let request = M.ImportPricesRequest(csv: Array((csv).utf8), requestID: "prices-1", source: "june.csv")
            let response = try await client.importPrices(request)
            #expect(response.recorded == 6 && response.alreadyRecordedRows == [8] && !response.importID.isEmpty)
            #expect(response.alerts.count == 1)
            #expect(response.alerts.first?.direction == .aboveRange && response.alerts.first?.ratioBp == 20_000)
            let alerts = try await client.listPriceAlerts(M.ListPriceAlertsRequest(product: "baskets"))
            #expect(alerts.alerts.map(\.observedOn) == [date("2025-06-01")])
            let stored1 = try await count(client, bolga.id)
            #expect(stored1 == 6)

            let retry = try await client.importPrices(request)
            #expect(retry == response, "a retried import must answer as the first did")
            let again = try await client.importPrices(
                M.ImportPricesRequest(csv: Array((csv).utf8), requestID: "prices-2", source: "june.csv"))
            #expect(again.recorded == 0 && again.alreadyRecordedRows == [2, 3, 4, 5, 6, 7, 8] && again.alerts.isEmpty)
            let stored2 = try await count(client, bolga.id)
            #expect(stored2 == 6, "importing a file twice recorded rows twice")
        }
    }

    @Test(
        "any wrong cell fails the whole import, naming row and column; nothing is recorded", arguments: Backend.allCases
    )
    func wrongCells(backend: Backend) async throws {
        try await withMarketplace(backend, producerEndpoint: deadEndpoint()) { marketplace in
            let client = marketplace.client
            let bolga = try await market(client, "Bolga")
            _ = try await market(client, "Central")
            _ = try await client.createMarket(
                M.CreateMarketRequest(
                    market: M.Market(name: "Central", country: "KE", kind: .wholesale), requestID: "market-central-ke"))
            let csv =
                Self.header
                    + """
                    baskets,Bolga,producer,piece,40.00,GHS,2025-04-05,
                    baskets,Nowhere,producer,piece,40.00,GHS,2025-04-05,
                    baskets,Central,producer,piece,40.00,GHS,2025-04-05,
                    baskets,Bolga,barter,bundle,abc,GHS,05/04/2025,
                    ,Bolga,retail,piece,-5.00,XYZ,2099-01-01,
                    baskets,Bolga,retail,piece,40.001,GHS,2025-04-05,
                    """
            let error = await failure {
                try await client.importPrices(M.ImportPricesRequest(csv: Array((csv).utf8), requestID: "bad-1"))
            }
            #expect(error?.code == .invalidArgument)
            #expect(
                Set(error?.fieldViolations.map(\.field) ?? []) == [
                    "row 3, market", "row 4, market", "row 5, price_type", "row 5, unit", "row 5, price",
                    "row 5, observed_on", "row 6, product", "row 6, currency", "row 6, observed_on", "row 7, price",
                ])
            #expect(error?.message.contains("\"Central\" names 2 markets") == true)
            #expect(error?.fieldViolations.filter { $0.field == "row 5, price" }.count == 1)

            let header = await failure {
                try await client.importPrices(
                    M.ImportPricesRequest(
                        csv: Array(("product,market,price\nbaskets,Bolga,1.00\n").utf8), requestID: "bad-2"))
            }
            #expect(header?.fieldViolations.map(\.field) == ["header", "header", "header", "header"])
            let stored3 = try await count(client, bolga.id)
            #expect(stored3 == 0, "a failed import recorded something")

            let dryRun = try await client.importPrices(
                M.ImportPricesRequest(
                    csv: Array((Self.header + "baskets,Bolga,producer,piece,40.00,GHS,2025-04-05,\n").utf8),
                    validateOnly: true))
            #expect(dryRun.validateOnly && dryRun.recorded == 1 && dryRun.importID.isEmpty)
            let stored4 = try await count(client, bolga.id)
            #expect(stored4 == 0, "a dry run recorded something")
        }
    }
}
