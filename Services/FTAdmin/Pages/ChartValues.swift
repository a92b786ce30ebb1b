import API
import Domain
import Foundation
import Schema

/// A money amount as a number of currency units (12.5 for 1250 minor units of USD), for charts.
func majorUnits(_ minor: Int64, _ currency: String) -> Double {
    Double(minor) / pow(10, Double(CurrencyCode.minorUnitDigits[currency] ?? 2))
}

/// A date as a year with its fraction (2024-07-02 is about 2024.5), for charts over time.
func fractionalYear(_ date: CommonV1.Date?) -> Double? {
    guard let date, date.year > 0 else { return nil }
    return Double(date.year) + (Double(max(date.month, 1)) - 1) / 12 + (Double(max(date.day, 1)) - 1) / 365
}

/// A fractional year as the year and month it falls in: 2024.5 → "2024-07".
func yearAndMonth(_ value: Double) -> String {
    let year = Int(value.rounded(.down))
    let month = min(12, Int(((value - Double(year)) * 12).rounded(.down)) + 1)
    return String(format: "%d-%02d", year, month)
}

/// An enum's short name as words: "womens-group" → "womens group".
func words(_ name: String) -> String { name.replacingOccurrences(of: "-", with: " ") }
