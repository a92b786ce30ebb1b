import API
import Domain
import RPC
import Schema

/// The documented rule for price alerts.
enum PriceRules {
    static let trailingDays = 90
    static let minimumHistory = 5
    static let highRatio = 1.5
    static let lowRatio = 0.67

    static func median(_ values: [Int64]) -> Int64 {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func alert(for checked: Valued<MarketplaceV1.PriceObservation>, median: Int64, count: Int)
        -> MarketplaceV1.PriceAlert?
    {
        guard count >= minimumHistory, median > 0 else { return nil }
        let (observation, price) = (checked.record, checked.amount)
        let ratio = Double(price.minorUnits) / Double(median)
        guard ratio > highRatio || ratio < lowRatio else { return nil }
        return MarketplaceV1.PriceAlert(
            id: PriceAlertID.mint().text, observationID: observation.id, product: observation.product,
            marketID: observation.marketID, price: price.message,
            trailingMedian: CommonV1.Money(minorUnits: median, currency: price.currency),
            ratioBp: Int32(roundingClamped: ratio * 10_000), direction: ratio > highRatio ? .aboveRange : .belowRange,
            observedOn: observation.observedOn)
    }
}
