import Domain
import Schema

/// What a cascade link and a referral's outcome must respect.
public enum TrainingRules {

    /// A cascading training is given by people trained in the training it cascades from, on or after it.
    static func checkCascade(_ training: AssistanceV1.Training, from parent: AssistanceV1.Training) throws(DomainError)
    {
        if let day = training.heldOn.flatMap(ISODate.init), let parentDay = parent.heldOn.flatMap(ISODate.init),
            day < parentDay
        {
            throw DomainError(
                .refused,
                "training \(training.id.isEmpty ? "being recorded" : training.id) is held on \(day), before training \(parent.id) (\(parentDay)) it cascades from"
            )
        }
        if training.trainerGroupID.isEmpty || !parent.trainedGroupIDs.contains(training.trainerGroupID) {
            throw DomainError(
                .refused,
                """
                a cascade training is given by a group trained in the training it cascades from: trainer_group_id must be \
                one of training \(parent.id)'s trained groups (\(parent.trainedGroupIDs.joined(separator: ", ")))
                """)
        }
    }

    /// PENDING may become anything; ACCEPTED may become COMPLETED or DECLINED; DECLINED and COMPLETED are final.
    static func checkOutcome(
        _ referral: AssistanceV1.Referral, _ outcome: AssistanceV1.ReferralOutcome, on day: ISODate
    ) throws(DomainError) {
        let allowed: Set<AssistanceV1.ReferralOutcome> =
            switch referral.outcome {
            case .pending, .unspecified: [.accepted, .declined, .completed]
            case .accepted: [.completed, .declined]
            default: []
            }
        guard allowed.contains(outcome) else {
            throw DomainError(
                .refused,
                "referral \(referral.id) is \(CSV.cell(referral.outcome)): it cannot become \(CSV.cell(outcome))")
        }
        if let referred = referral.referredOn.flatMap(ISODate.init), day < referred {
            throw .invalid(field: "outcome_on", "\(day) is before the referral was made (\(referred))")
        }
    }
}

/// What an indicator's values must respect: people counted by sex, periods that do not overlap.
public enum IndicatorRules {

    /// Measures that count people, whose values are broken down by sex.
    static let peopleMeasures: Set<AssistanceV1.Measure> = [.jobsCreated, .artisansTrained, .peopleReached]

    /// Fills `value` from a by-sex breakdown when it is 0, and checks they agree.
    static func normalise(
        _ value: inout AssistanceV1.IndicatorValue?, countsPeople: Bool, field: String, _ check: inout FieldValidator
    ) {
        guard var current = value else { return }
        check.nonNegative(current.value, "\(field).value")
        if countsPeople {
            guard let bySex = current.bySex else {
                check.fail("\(field).by_sex", "is required: this indicator counts people, so give women, men and other")
                return
            }
            check.nonNegative(bySex.women, "\(field).by_sex.women")
            check.nonNegative(bySex.men, "\(field).by_sex.men")
            check.nonNegative(bySex.other, "\(field).by_sex.other")
            let sum = Int64(bySex.women) + Int64(bySex.men) + Int64(bySex.other)
            if current.value == 0 {
                current.value = sum
            } else if current.value != sum {
                check.fail("\(field).value", "is \(current.value) but women + men + other = \(sum)")
            }
            checkAges(&current, field: field, &check)
            checkLocations(&current, field: field, &check)
        } else {
            if current.bySex != nil { check.fail("\(field).by_sex", "is only for indicators that count people") }
            if !current.byAge.isEmpty { check.fail("\(field).by_age", "is only for indicators that count people") }
            if !current.byLocation.isEmpty {
                check.fail("\(field).by_location", "is only for indicators that count people")
            }
        }
        value = current
    }

    /// The oldest age a band may name.
    static let maxAge = 130
    /// People one entry of an age or location breakdown may count.
    static let maxPeoplePerEntry: Int32 = 1_000_000

    /// Age bands that parse ("15-24", "60+"), do not overlap, and add up to the value.
    static func checkAges(_ value: inout AssistanceV1.IndicatorValue, field: String, _ check: inout FieldValidator) {
        guard !value.byAge.isEmpty else { return }
        var ranges: [(range: ClosedRange<Int>, band: String, index: Int)] = []
        for (index, entry) in value.byAge.enumerated() {
            let name = "\(field).by_age[\(index)]"
            let band = entry.band.replacingOccurrences(of: " ", with: "")
            value.byAge[index].band = band
            check.range(entry.people, 0...maxPeoplePerEntry, "\(name).people")
            if let range = ageRange(band) {
                ranges.append((range, band, index))
            } else {
                check.fail(
                    "\(name).band",
                    "\"\(entry.band)\" is not an age band: whole years \"15-24\" (both included) or \"60+\", up to \(maxAge)"
                )
            }
        }
        let sorted = ranges.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.range.overlaps(later.range) {
            check.fail("\(field).by_age[\(later.index)].band", "\(later.band) overlaps \(earlier.band)")
        }
        let sum = value.byAge.reduce(Int64(0)) { $0 + Int64($1.people) }
        if sum != value.value { check.fail("\(field).by_age", "adds up to \(sum), not to the value \(value.value)") }
    }

    /// Whole years of a band: "15-24" is 15...24, "60+" is 60...maxAge.
    static func ageRange(_ band: String) -> ClosedRange<Int>? {
        if band.hasSuffix("+"), let low = Int(band.dropLast()), (0...maxAge).contains(low) { return low...maxAge }
        let ends = band.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let low = Int(ends[0]), let high = Int(ends[1]), 0 <= low, low <= high,
            high <= maxAge
        else { return nil }
        return low...high
    }

    /// Locations that name a country (and an area), each once, adding up to the value.
    static func checkLocations(_ value: inout AssistanceV1.IndicatorValue, field: String, _ check: inout FieldValidator)
    {
        guard !value.byLocation.isEmpty else { return }
        var seen: Set<String> = []
        for (index, entry) in value.byLocation.enumerated() {
            let name = "\(field).by_location[\(index)]"
            let parts = entry.location.split(separator: "/", maxSplits: 1).map { String($0).trimmingWhitespace() }
            let country = check.country(parts.first ?? "", "\(name).location")
            let area = parts.count == 2 ? check.text(parts[1], "\(name).location", required: true, maxLength: 100) : ""
            let location = area.isEmpty ? country : "\(country)/\(area)"
            value.byLocation[index].location = location
            if !seen.insert(location.lowercased()).inserted {
                check.fail("\(name).location", "\(location) appears twice")
            }
            check.range(entry.people, 0...maxPeoplePerEntry, "\(name).people")
        }
        let sum = value.byLocation.reduce(Int64(0)) { $0 + Int64($1.people) }
        if sum != value.value {
            check.fail("\(field).by_location", "adds up to \(sum), not to the value \(value.value)")
        }
    }

    static func checkPeriod(
        _ period: inout AssistanceV1.IndicatorPeriod, countsPeople: Bool, field: String, _ check: inout FieldValidator
    ) {
        let start = check.date(period.start, "\(field).start")
        let end = check.date(period.end, "\(field).end")
        if let start, let end, end < start { check.fail("\(field).end", "\(end) is before the start \(start)") }
        if period.target == nil && period.actual == nil { check.fail(field, "needs a target, an actual or both") }
        normalise(&period.target, countsPeople: countsPeople, field: "\(field).target", &check)
        normalise(&period.actual, countsPeople: countsPeople, field: "\(field).actual", &check)
    }

    /// The period checked against its indicator, with people counts summed from their breakdown.
    static func normalised(_ period: AssistanceV1.IndicatorPeriod, of indicator: AssistanceV1.Indicator, field: String)
        throws(DomainError)
        -> AssistanceV1.IndicatorPeriod
    {
        var check = FieldValidator()
        var period = period
        checkPeriod(&period, countsPeople: indicator.countsPeople, field: field, &check)
        try check.check()
        return period
    }

    /// Replaces the period with the same dates or adds it in start order; true when one was replaced.
    static func merge(_ period: AssistanceV1.IndicatorPeriod, into indicator: inout AssistanceV1.Indicator)
        throws(DomainError) -> Bool
    {
        let start = try period.start.day("period.start")
        let end = try period.end.day("period.end")
        if let index = indicator.periods.firstIndex(where: { $0.start == period.start && $0.end == period.end }) {
            indicator.periods[index] = period
            return true
        }
        for other in indicator.periods {
            let otherStart = try other.start.day("periods.start")
            let otherEnd = try other.end.day("periods.end")
            if start <= otherEnd && otherStart <= end {
                throw DomainError(
                    .refused,
                    """
                    period \(start)…\(end) overlaps the stored period \(otherStart)…\(otherEnd) of indicator \(indicator.id); \
                    give the same dates to replace it
                    """)
            }
        }
        indicator.periods.append(period)
        // ISO dates sort as text; every stored period has its start.
        indicator.periods.sort { ISODate.text($0.start) < ISODate.text($1.start) }
        return false
    }
}
