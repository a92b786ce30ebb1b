import Schema

/// An amount of money its rules accepted: an active ISO 4217 currency and minor units within what the services
/// take (not negative, at most `CurrencyCode.maxMinorUnits`). Only the checks make one — `FieldValidator.money` for
/// a request's field, `init(checking:)` for a record whose field those checks already passed — so code holding an
/// Amount never looks again at whether its currency is known or its value in range.
public struct Amount: Sendable, Hashable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: String

    fileprivate init(minorUnits: Int64, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// The amount of a money field its rules have checked; DomainError(.broken), naming `field` and where it was
    /// read, when they let through one without a known currency or out of range: a bug, said as such.
    public init(checking money: CommonV1.Money?, _ field: String, file: String = #fileID, line: Int = #line)
        throws(DomainError)
    {
        guard let money, CurrencyCode.isValid(money.currency),
            (0...CurrencyCode.maxMinorUnits).contains(money.minorUnits)
        else {
            throw DomainError(
                .broken, "\(field): the rules let it through without an amount in a known currency", file: file,
                line: line)
        }
        self.init(minorUnits: money.minorUnits, currency: money.currency)
    }

    /// As the schema carries it.
    public var message: CommonV1.Money { CommonV1.Money(minorUnits: minorUnits, currency: currency) }

    /// As people write it: "1,200.50 USD".
    public var description: String { CurrencyCode.format(minorUnits, currency) }
}

extension FieldValidator {
    /// A required amount of money: its currency an ISO 4217 code (upper-cased), its minor units not negative
    /// (positive when `positive`) and at most 10^15. Each problem is reported under `field.currency` or
    /// `field.minor_units`; the amount comes back only when there is none.
    public mutating func money(_ value: CommonV1.Money?, _ field: String, positive: Bool) -> Amount? {
        guard let value else {
            fail(field, "is required (minor units and an ISO 4217 currency)")
            return nil
        }
        let before = violations.count
        let currency = self.currency(value.currency, "\(field).currency")
        amount(value.minorUnits, "\(field).minor_units", positive: positive, currency: currency)
        guard violations.count == before else { return nil }
        return Amount(minorUnits: value.minorUnits, currency: currency)
    }
}
