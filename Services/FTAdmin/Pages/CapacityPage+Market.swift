import API
import Domain
import Foundation
import Schema

/// CapacityPage: market.
extension CapacityPage {
    func prices(_ bulletin: MarketplaceV1.MarketBulletin) -> [String] {
        let prices = bulletin.prices.filter { $0.count > 0 }
        guard !prices.isEmpty else { return [] }
        var content: [String] = []
        for (currency, series) in Dictionary(grouping: prices, by: \.currency).sorted(by: { $0.key < $1.key }) {
            let alerted = Set(
                series.indices.filter { index in
                    alerts.contains { $0.product == series[index].product && $0.marketID == series[index].marketID }
                })
            let categories = series.map { "\($0.product), \(names.market($0.marketID))" }
            let chart = SVGChart.bars(
                title: "Median, lowest and highest price per unit (\(currency))", categories: categories,
                series: [
                    .init(name: "lowest", values: series.map { majorUnits($0.min?.minorUnits ?? 0, currency) }),
                    .init(name: "median", values: series.map { majorUnits($0.median?.minorUnits ?? 0, currency) }),
                    .init(name: "highest", values: series.map { majorUnits($0.max?.minorUnits ?? 0, currency) }),
                ], xLabel: "craft and market", yLabel: currency, marked: alerted,
                markLabel: "a price alert in the window")
            var table = HTMLTable(
                caption: "Prices from \(show(series.first?.windowStart)) to \(show(series.first?.windowEnd))",
                "Craft", "Market", "Unit", "Median", "Lowest", "Highest", "Observations",
                "Change from the window before",
                "Alerts", numeric: [3, 4, 5, 6, 7])
            for statistics in series {
                let raised = alerts.filter { $0.product == statistics.product && $0.marketID == statistics.marketID }
                table.add(
                    statistics.product, names.market(statistics.marketID), statistics.unit,
                    formatMoney(statistics.median), formatMoney(statistics.min), formatMoney(statistics.max),
                    String(statistics.count),
                    statistics.previousCount > 0 ? percent(Double(statistics.medianChangeBp) / 10_000) : "",
                    raised.map { "\(show($0.observedOn)): \(formatMoney($0.price)), \(words(short($0.direction)))" }
                        .joined(separator: "; "))
            }
            content.append(figure("Prices, \(currency)", chart: chart, table: table))
        }
        for alert in alerts {
            content.append(
                "<p class=\"alert\">Price alert: \(escapeHTML(alert.product)) at \(escapeHTML(names.market(alert.marketID))) on \(show(alert.observedOn)): \(escapeHTML(formatMoney(alert.price))) against a usual \(escapeHTML(formatMoney(alert.trailingMedian))) (\(escapeHTML(words(short(alert.direction))))).</p>"
            )
        }
        return content
    }

    func demand(_ bulletin: MarketplaceV1.MarketBulletin) -> [String] {
        var content: [String] = []
        for (caption, signals) in [
            ("Buyers' demand the group was matched to", bulletin.matchedDemand),
            (
                "Other open demand for the group's crafts",
                bulletin.openDemand.filter { open in !bulletin.matchedDemand.contains { $0.id == open.id } }
            ),
        ] where !signals.isEmpty {
            var table = HTMLTable(
                caption: caption, "Buyer", "Craft", "Quantity", "Target price", "Needed by", "Status", numeric: [2, 3])
            for signal in signals {
                table.add(
                    signal.buyer, signal.product,
                    "\(SVGChart.number(Double(signal.quantity?.amount ?? 0))) \(signal.quantity?.unit ?? "")",
                    formatMoney(signal.targetPrice), show(signal.neededBy), words(short(signal.status)))
            }
            content.append(table.html)
        }
        return content
    }
}
