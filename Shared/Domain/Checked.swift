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
