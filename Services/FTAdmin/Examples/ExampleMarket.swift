import API
import Domain
import Foundation
import RPC
import Schema
import ServiceKit

/// The market side of the example data, from the spreadsheets in docs/examples (ExampleFiles): markets, a year of
/// prices with one alert, through ImportPrices, and buyers' demand matched to the groups.
extension ExampleData {
    /// The last day of the year of prices in docs/examples/prices.csv: loading moves every date by the days from it
    /// to yesterday, so that the year ends now and the bulletin's last 90 days hold prices.
    static let pricesEnd = ISODate(year: 2026, month: 11, day: 30)!

    /// A file's rows, read as an import reads them (the files are ours: a problem is a bug, said plainly).
    static func rows(_ file: String, columns: [String]) throws -> [CSV.Sheet.Row] {
        var check = FieldValidator()
        let sheet = CSV.Sheet(
            Array((ExampleFiles.files[file] ?? "").utf8), known: columns, required: columns, purpose: "example data",
            maxRows: 1_000, &check)
        try check.check()
        return sheet.rows
    }

    /// `date` moved by `days`.
    static func moved(_ text: String?, _ days: Int) -> CommonV1.Date? {
        ISODate(iso: text ?? "").map { $0.adding(days: days).message }
    }

    static func loadMarketFiles(_ client: MarketplaceV1.MarketplaceInfoServiceClient, _ options: CallOptions)
        async throws
    {
        for row in try rows("markets.csv", columns: ["name", "country", "admin_area", "kind"]) {
            _ = try await client.createMarket(
                MarketplaceV1.CreateMarketRequest(
                    market: MarketplaceV1.Market(
                        name: row["name"] ?? "", country: row["country"] ?? "", adminArea: row["admin_area"] ?? "",
                        kind: CSV.enumValue(
                            row["kind"] ?? "", among: Array(MarketplaceV1.MarketKind.allCases.dropFirst()))
                            ?? .localMarket),
                    requestID: "example-market-\(row.number)"), options: options)
        }
        let shift = ISODate.today().adding(days: -1).dayNumber - pricesEnd.dayNumber
        let columns = ["product", "market", "price_type", "unit", "price", "currency", "observed_on", "source"]
        var csv = CSV.line(columns)
        for row in try rows("prices.csv", columns: columns) {
            csv += CSV.line(
                columns.map { column in
                    column == "observed_on" ? show(moved(row[column], shift)) : row[column] ?? ""
                })
        }
        _ = try await client.importPrices(
            MarketplaceV1.ImportPricesRequest(
                csv: Array(csv.utf8), requestID: "example-prices", source: "docs/examples/prices.csv"),
            options: options)
        let demand = ["buyer", "product", "quantity", "unit", "target_price", "currency", "needed_by", "countries"]
        for row in try rows("demand.csv", columns: demand + ["notes"]) {
            let currency = row["currency"] ?? ""
            let signal = try await client.postDemand(
                MarketplaceV1.PostDemandRequest(
                    signal: MarketplaceV1.DemandSignal(
                        buyer: row["buyer"] ?? "", product: row["product"] ?? "",
                        quantity: MarketplaceV1.DemandQuantity(
                            amount: Int64(row["quantity"] ?? "") ?? 0, unit: row["unit"] ?? ""),
                        targetPrice: CurrencyCode.minorUnits(of: row["target_price"] ?? "", currency: currency).map {
                            CommonV1.Money(minorUnits: $0, currency: currency)
                        },
                        neededBy: moved(row["needed_by"], shift), countries: CSV.RowCheck.list(row["countries"]) ?? [],
                        notes: row["notes"] ?? ""),
                    requestID: "example-demand-\(row.number)"), options: options)
            _ = try await client.matchDemand(
                MarketplaceV1.MatchDemandRequest(signalID: signal.id, requestID: "example-match-\(row.number)"),
                options: options)
        }
    }
}
