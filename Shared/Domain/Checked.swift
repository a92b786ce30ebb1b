import Schema

/// A field the rules have checked, read where it is used. The validators refuse a request without the value (or
/// with an impossible date) before any of this runs, so these never fail on a request; they turn a rule's own bug
/// into an error that names the field and where it was read, instead of a crash of the process.
extension Optional {
    /// The value of a field the rules require.
    public func checked(_ field: String, file: String = #fileID, line: Int = #line) throws(DomainError) -> Wrapped {
        guard let self else {
            throw DomainError(.broken, "\(field): the rules let it through without a value", file: file, line: line)
        }
        return self
    }
}

extension Optional where Wrapped == CommonV1.Date {
    /// The day of a date field the rules require to be a real calendar day.
    public func day(_ field: String, file: String = #fileID, line: Int = #line) throws(DomainError) -> ISODate {
        guard let self, let day = ISODate(self) else {
            throw DomainError(
                .broken, "\(field): the rules let it through without a calendar day", file: file, line: line)
        }
        return day
    }
}

/// A record its rules accepted, with what they proved of it as values of their own types: the day it is filed
/// under (held, delivered, referred, assessed…) as an ISODate (a record of money is `Valued`). The stores take
/// these, so that a store cannot be handed a record whose date was never checked.
public struct Checked<Record: Sendable>: Sendable {
    public private(set) var record: Record
    public let day: ISODate

    /// `record`, once its rules have passed, with the day of its date field (`field` names it, should the rules have
    /// let it through without one: a bug, said as such).
    public init(
        _ record: Record, day date: CommonV1.Date?, _ field: String, file: String = #fileID, line: Int = #line
    ) throws(DomainError) {
        self.record = record
        self.day = try date.day(field, file: file, line: line)
    }

    /// The record with the changes `change` makes to what the rules did not check (its id, say).
    public func with(_ change: (inout Record) -> Void) -> Checked {
        var copy = self
        change(&copy.record)
        return copy
    }
}

/// A record of money its rules accepted — a flow, a price seen in a market — with its day and its amount as values
/// of their own types. The stores of such records take these.
public struct Valued<Record: Sendable>: Sendable {
    public private(set) var record: Record
    public let day: ISODate
    public let amount: Amount

    /// `record`, once its rules have passed, with the day of its date field and the amount of its money field
    /// (`dayField` and `amountField` name them, should the rules have let either through unchecked: a bug, said as
    /// such).
    public init(
        _ record: Record, day date: CommonV1.Date?, _ dayField: String, amount: CommonV1.Money?,
        _ amountField: String, file: String = #fileID, line: Int = #line
    ) throws(DomainError) {
        self.record = record
        self.day = try date.day(dayField, file: file, line: line)
        self.amount = try Amount(checking: amount, amountField, file: file, line: line)
    }

    /// The record with the changes `change` makes to what the rules did not check (its id, say).
    public func with(_ change: (inout Record) -> Void) -> Valued {
        var copy = self
        change(&copy.record)
        return copy
    }
}
