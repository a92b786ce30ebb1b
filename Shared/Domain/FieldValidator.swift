import Schema

/// Collects what is wrong with a request, field by field, and turns it into one error that names every field
/// (AIP-193; INVALID_ARGUMENT at the service boundary), so that a person fixing a form sees all the problems at once.
public struct FieldValidator {
    public private(set) var violations: [DomainError.Violation] = []

    public init() {}

    public mutating func fail(_ field: String, _ description: String) {
        violations.append(DomainError.Violation(field: field, description: description))
    }

    /// Throws a DomainError naming every violation, if there are any.
    public func check(file: String = #fileID, line: Int = #line) throws(DomainError) {
        guard !violations.isEmpty else { return }
        let summary = violations.map { "\($0.field): \($0.description)" }.joined(separator: "; ")
        throw DomainError(.invalid, summary, violations: violations, file: file, line: line)
    }

    /// A required, trimmed text of at most `maxLength` characters.
    public mutating func text(_ value: String, _ field: String, required: Bool = false, maxLength: Int = 200) -> String
    {
        let trimmed = value.trimmingWhitespace()
        if required && trimmed.isEmpty { fail(field, "must not be empty") }
        if trimmed.count > maxLength { fail(field, "must be at most \(maxLength) characters, got \(trimmed.count)") }
        return trimmed
    }

    /// An ISO 3166-1 alpha-2 code, upper-cased.
    public mutating func country(_ value: String, _ field: String, required: Bool = true) -> String {
        let code = value.trimmingWhitespace().uppercased()
        if code.isEmpty {
            if required { fail(field, "must be an ISO 3166-1 alpha-2 country code such as GH, KH or IN") }
        } else if !CountryCode.isValid(code) {
            fail(field, "\"\(value)\" is not an ISO 3166-1 alpha-2 country code (e.g. GH for Ghana, KH for Cambodia)")
        }
        return code
    }

    /// An ISO 4217 code, upper-cased.
    public mutating func currency(_ value: String, _ field: String) -> String {
        let code = value.trimmingWhitespace().uppercased()
        if !CurrencyCode.isValid(code) {
            fail(
                field,
                code.isEmpty
                    ? "is required: an ISO 4217 currency code such as USD"
                    : "\"\(value)\" is not an ISO 4217 currency code (e.g. USD, GHS, KHR, INR)")
        }
        return code
    }

    /// An amount of money in minor units: not negative (positive when `positive`), at most 10^15
    /// (`CurrencyCode.maxMinorUnits`, so that sums and ratios of stored amounts stay within their types); told in
    /// `currency`'s units when it is known ("got -5.00 GHS"), for people to read.
    public mutating func amount(_ minorUnits: Int64, _ field: String, positive: Bool, currency: String = "") {
        let shown = CurrencyCode.isValid(currency) ? CurrencyCode.format(minorUnits, currency) : "\(minorUnits)"
        if minorUnits < 0 {
            fail(field, "must not be negative, got \(shown)")
        } else if positive && minorUnits == 0 {
            fail(field, "must be positive, got \(shown)")
        } else if minorUnits > CurrencyCode.maxMinorUnits {
            let most =
                CurrencyCode.isValid(currency)
                ? CurrencyCode.format(CurrencyCode.maxMinorUnits, currency) : "\(CurrencyCode.maxMinorUnits)"
            fail(field, "must be at most \(most) (10^15 minor units), got \(shown)")
        }
    }

    public mutating func nonNegative<T: BinaryInteger>(_ value: T, _ field: String) {
        if value < 0 { fail(field, "must not be negative, got \(value)") }
    }

    public mutating func range<T: BinaryInteger>(_ value: T, _ range: ClosedRange<T>, _ field: String) {
        if !range.contains(value) {
            fail(field, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    /// A date that must be set and valid.
    public mutating func date(_ value: CommonV1.Date?, _ field: String, required: Bool = true) -> ISODate? {
        guard let value else {
            if required { fail(field, "is required (a date: year, month, day)") }
            return nil
        }
        guard let date = ISODate(value) else {
            fail(field, "\(value.year)-\(value.month)-\(value.day) is not a valid date")
            return nil
        }
        return date
    }

    /// A known enum value other than the zero `UNSPECIFIED` one.
    public mutating func specified<E: ProtoEnum>(_ value: E, _ field: String) {
        if value.rawValue == 0 {
            let names = E.allCases.dropFirst().map(\.protoName).joined(separator: ", ")
            fail(field, "must be set (one of \(names))")
        }
    }

    /// A client-chosen request id, required on every change so that a retry is never applied twice.
    public mutating func requestID(_ value: String, _ field: String = "request_id") {
        if value.isEmpty {
            fail(field, "is required, so that a retried call is never applied twice")
        } else if value.count > 100 {
            fail(field, "must be at most 100 characters")
        }
    }
}

extension String {
    /// Without leading and trailing white space.
    public func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
