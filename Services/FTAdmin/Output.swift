import ArgumentParser
import Domain
import Foundation
import Schema

/// Prints a message as the command's answer: a table or text for people, the message as JSON for scripts.
func emit<Message: ProtoMessage>(_ message: Message, _ global: GlobalOptions, human: () -> String) throws {
    switch global.output {
    case .json: print(try DescriptorJSON.decode(message.serializedBytes(), as: Message.protoName).text(indent: 0))
    case .human: print(human())
    }
}

/// Money for people: "12,000.00 USD", using the currency's minor-unit digits.
func formatMoney(_ money: CommonV1.Money?) -> String {
    guard let money else { return "" }
    return CurrencyCode.format(money.minorUnits, money.currency)
}

/// "1200.50" in `currency` as minor units (120050 for USD), without passing through a float.
func parseMoney(_ text: String, currency: String, field: String) throws -> CommonV1.Money {
    let code = currency.uppercased()
    guard let digits = CurrencyCode.minorUnitDigits[code] else {
        throw ValidationError("\(field): \"\(currency)\" is not an ISO 4217 currency code")
    }
    guard let minorUnits = CurrencyCode.minorUnits(of: text, currency: code) else {
        throw ValidationError("\(field): \"\(text)\" is not an amount with at most \(digits) decimals")
    }
    // The schema's bounds on an amount, said in the currency rather than in minor units.
    if let problem = CurrencyCode.rangeProblem(minorUnits, code) { throw ValidationError("\(field): \(problem)") }
    return CommonV1.Money(minorUnits: minorUnits, currency: code)
}

/// A date argument in ISO 8601 form.
func parseDate(_ text: String, field: String) throws -> CommonV1.Date {
    guard let date = ISODate(iso: text) else {
        throw ValidationError("\(field): \"\(text)\" is not a date like 2025-03-31")
    }
    return date.message
}

func show(_ date: CommonV1.Date?) -> String { date.flatMap(ISODate.init)?.description ?? "" }

/// The UTC day of a timestamp, YYYY-MM-DD.
func show(day time: CommonV1.Timestamp?) -> String {
    guard let micros = time?.unixMicros else { return "" }
    let day = micros >= 0 ? micros / 86_400_000_000 : (micros + 1) / 86_400_000_000 - 1
    return ISODate(dayNumber: Int(day)).description
}

/// The enum value named `text`: its full name, or the part after the enum's prefix, in any case.
func parseEnum<E: ProtoEnum>(_ text: String, _: E.Type, field: String) throws -> E {
    let wanted = text.uppercased().replacingOccurrences(of: "-", with: "_")
    if let value = E.allCases.first(where: { $0.protoName == wanted || $0.protoName.hasSuffix("_" + wanted) }),
        value.rawValue != 0
    {
        return value
    }
    let names = E.allCases.dropFirst().map { short($0) }.joined(separator: ", ")
    throw ValidationError("\(field): \"\(text)\" is not one of \(names)")
}

/// Country codes given on the command line, checked before anything is sent: a wrong one is a bad argument
/// (exit 64), like every other.
func checkCountries(_ codes: [String], flag: String = "--country") throws {
    for code in codes where !CountryCode.isValid(code.uppercased()) {
        throw ValidationError("\(flag) \"\(code)\" is not an ISO 3166-1 alpha-2 country code (e.g. GH, KH, IN)")
    }
}

/// An enum value's short name for tables: GROUP_KIND_WOMENS_GROUP → womens-group.
func short<E: ProtoEnum>(_ value: E) -> String {
    let name = value.protoName
    let prefix = E.allCases.first.map { $0.protoName.replacingOccurrences(of: "UNSPECIFIED", with: "") } ?? ""
    return String(name.dropFirst(name.hasPrefix(prefix) ? prefix.count : 0)).lowercased().replacingOccurrences(
        of: "_", with: "-")
}

/// The fields an update's flags set, by their paths in the message: the update's field mask.
struct FieldMask {
    private(set) var paths: [String] = []

    /// Sets a field from a flag that was given (`assign` runs) and masks `path`; a flag left out sets nothing.
    mutating func set<Value>(_ path: String, ifGiven value: Value?, _ assign: (Value) throws -> Void) rethrows {
        guard let value else { return }
        try assign(value)
        paths.append(path)
    }

    /// The same for a repeatable flag, given when it has values.
    mutating func set<Value>(_ path: String, ifAny values: [Value], _ assign: ([Value]) throws -> Void) rethrows {
        guard !values.isEmpty else { return }
        try assign(values)
        paths.append(path)
    }

    /// Masks a field the caller set itself.
    mutating func add(_ path: String) { paths.append(path) }
}

/// A fraction as a whole percentage ("87%"), whatever a server sends (NaN or infinity shows as "?").
func percent(_ fraction: Double) -> String {
    let value = (fraction * 100).rounded()
    guard value.isFinite, let whole = Int64(exactly: value) else { return "?" }
    return "\(whole)%"
}
