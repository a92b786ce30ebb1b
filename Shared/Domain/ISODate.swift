import Schema

#if canImport(Glibc)
    import Glibc
#endif

/// A calendar date as stored (ISO 8601 `YYYY-MM-DD`, which sorts as text) and as sent (`CommonV1.Date`).
public struct ISODate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A valid date, or nil (February 30 is nil; years 1800–2200).
    public init?(year: Int, month: Int, day: Int) {
        guard (1800...2200).contains(year), (1...12).contains(month), day >= 1,
            day <= ISODate.daysIn(month: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public init?(_ date: CommonV1.Date) {
        self.init(year: Int(date.year), month: Int(date.month), day: Int(date.day))
    }

    /// Parses `YYYY-MM-DD`.
    public init?(iso text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Today in UTC.
    public static func today() -> ISODate {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return ISODate(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday))!
    }

    public var description: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))"
    }

    public var message: CommonV1.Date { CommonV1.Date(year: Int32(year), month: Int32(month), day: Int32(day)) }

    /// Days since 1970-01-01 (proleptic Gregorian).
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `dayNumber` days after 1970-01-01.
    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        self.year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
        self.day = day
    }

    /// The date `days` later (earlier when negative).
    public func adding(days: Int) -> ISODate { ISODate(dayNumber: dayNumber + days) }

    /// The same day a number of years earlier (February 29 becomes February 28).
    public func yearsEarlier(_ years: Int) -> ISODate {
        ISODate(year: year - years, month: month, day: min(day, ISODate.daysIn(month: month, year: year - years)))
            ?? self
    }

    public static func < (lhs: ISODate, rhs: ISODate) -> Bool { lhs.dayNumber < rhs.dayNumber }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension ISODate {
    /// A date as its ISO text ("2009-03-02"), which sorts as the dates do; "" for none or an impossible one, first.
    public static func text(_ date: CommonV1.Date?) -> String { date.flatMap(ISODate.init)?.description ?? "" }
}
