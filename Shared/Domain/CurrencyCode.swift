import Schema

/// ISO 4217 currency codes in use, with their minor-unit exponents (2 for USD cents, 0 for JPY, 3 for KWD).
public enum CurrencyCode {
    public static let minorUnitDigits: [String: Int] = [
        "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2, "BAM": 2,
        "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2,
        "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2, "CUP": 2,
        "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2,
        "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2,
        "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0,
        "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2,
        "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2,
        "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2,
        "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2,
        "RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2,
        "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2, "TJS": 2, "TMT": 2,
        "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2,
        "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2,
        "ZWG": 2,
    ]

    /// Whether `code` is an active ISO 4217 code (upper case, as stored).
    public static func isValid(_ code: String) -> Bool { minorUnitDigits[code] != nil }
}

extension CurrencyCode {
    /// The largest amount the services take, in minor units: 10^15, far above any real amount (10 trillion in a
    /// currency of cents), and small enough that thousands of them add up within Int64.
    public static let maxMinorUnits: Int64 = 1_000_000_000_000_000

    /// "1,200.50" in `currency` as minor units (120050 for USD), without passing through a float; nil when the text
    /// is not an amount with at most the currency's decimals (or the currency is unknown).
    public static func minorUnits(of text: String, currency: String) -> Int64? {
        guard let digits = minorUnitDigits[currency.uppercased()] else { return nil }
        let parts = text.replacingOccurrences(of: ",", with: "").split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]),
            parts.count == 1 || (parts[1].count <= digits && parts[1].allSatisfy(\.isNumber))
        else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        while fraction.count < digits { fraction += "0" }
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        let sign: Int64 = parts[0].hasPrefix("-") ? -1 : 1
        let (total, overflowAgain) = scaled.addingReportingOverflow(sign * (Int64(fraction) ?? 0))
        return overflowAgain ? nil : total
    }
}

extension CurrencyCode {
    /// The minor units an amount may hold: the schema's range of Money.minor_units (docs/LIMITS.md).
    public static let amountRange: ClosedRange<Int64> =
        SchemaRegistry.fieldLimits["fairtrade.common.v1.Money"]?[1]?.range ?? Int64.min...Int64.max

    /// What is wrong with `minorUnits` of `currency` as an amount, in the currency's units; nil when it is in range.
    public static func rangeProblem(_ minorUnits: Int64, _ currency: String) -> String? {
        guard !amountRange.contains(minorUnits) else { return nil }
        return "\(format(minorUnits, currency)) is out of the range an amount may take, "
            + "\(format(amountRange.lowerBound, currency)) to \(format(amountRange.upperBound, currency))"
    }

    /// Minor units as people write the amount: "1,200.50 USD", "-3 JPY" (grouped thousands, the currency's own
    /// decimals; two for a code it does not know).
    public static func format(_ minorUnits: Int64, _ currency: String) -> String {
        let digits = minorUnitDigits[currency] ?? 2
        var units = String(minorUnits.magnitude)
        if digits > 0 {
            while units.count <= digits { units = "0" + units }
            units.insert(".", at: units.index(units.endIndex, offsetBy: -digits))
        }
        let parts = units.split(separator: ".", maxSplits: 1)
        var grouped = ""
        for (index, character) in parts[0].reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        let text = String(grouped.reversed()) + (parts.count > 1 ? "." + parts[1] : "")
        return (minorUnits < 0 ? "-" : "") + text + " " + currency
    }
}
