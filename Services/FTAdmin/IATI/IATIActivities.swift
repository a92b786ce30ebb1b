import API
import Domain
import Foundation
import Schema

/// What an IATI activities file is made from: projects with their money flows and results, and the names of the
/// organisations and producer groups they mention.
struct IATISource {
    var projects: [AssistanceV1.Project] = []
    var transactions: [String: [AssistanceV1.Transaction]] = [:]
    var indicators: [String: [AssistanceV1.Indicator]] = [:]
    var organisations: [String: AssistanceV1.Organisation] = [:]
    var groupNames: [String: String] = [:]
    /// Every project known, exported or not: a related activity names its IATI identifier.
    var allProjects: [String: AssistanceV1.Project] = [:]
}

/// A project that cannot be published, and why (the fix is in the message).
struct IATIExportError: Error, CustomStringConvertible {
    let description: String
}

/// An IATI 2.03 activities file (iatistandard.org/en/iati-standard/203/activity-standard/), one activity per
/// project: identifiers, organisations and their roles, status and dates, countries and DAC sectors with
/// percentages, budgets per period of at most a year, every transaction, related activities and results with their
/// targets and actuals by sex, age and place.
enum IATIActivities {
    /// The activity's identifier: the project's own when it has one, or the reporting organisation's identifier, a
    /// hyphen, and the project's id.
    static func identifier(_ project: AssistanceV1.Project, _ source: IATISource) throws -> String {
        if !project.iatiIdentifier.isEmpty { return project.iatiIdentifier }
        guard let reporter = source.organisations[project.reportingOrganisationID] else {
            throw IATIExportError(
                description:
                    "project \(project.id) (\(project.title)) names reporting organisation \(project.reportingOrganisationID), which is not recorded"
            )
        }
        guard !reporter.iatiIdentifier.isEmpty else {
            throw IATIExportError(
                description:
                    "project \(project.id) (\(project.title)): its reporting organisation \(reporter.name) has no IATI organisation identifier, which every IATI activity's identifier starts with; record the organisation with one (assistance create-organisation --iati ID, e.g. US-EIN-123456789)"
            )
        }
        return "\(reporter.iatiIdentifier)-\(project.id)"
    }

    static func document(_ source: IATISource, generatedAt: Date) throws -> String {
        var xml = XMLWriter()
        let identifiers = try Dictionary(
            uniqueKeysWithValues: source.allProjects.values.map { ($0.id, try identifier($0, source)) })
        xml.element(
            "iati-activities", [("version", "2.03"), ("generated-datetime", timestamp(generatedAt))]
        ) { xml in
            for project in source.projects {
                activity(project, source, identifiers, &xml)
            }
        }
        return xml.text
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func iso(_ date: CommonV1.Date?) -> String? { date.flatMap(ISODate.init)?.description }

    /// Shares of 100 for `count` items that add up to exactly 100.
    static func percentages(_ count: Int) -> [String] {
        guard count > 1 else { return count == 1 ? ["100"] : [] }
        let each = 100 / count
        return (0..<count).map { String($0 == 0 ? 100 - each * (count - 1) : each) }
    }

    /// An amount in currency units as IATI writes values: "8000.00", "-12.5" (no grouping).
    static func value(_ minor: Int64, _ currency: String) -> String {
        let digits = CurrencyCode.minorUnitDigits[currency] ?? 2
        guard digits > 0 else { return String(minor) }
        let scale = Int64(pow(10, Double(digits)))
        let whole = minor / scale
        let part = (minor % scale).magnitude
        let sign = minor < 0 && whole == 0 ? "-" : ""
        return "\(sign)\(whole).\(String(repeating: "0", count: digits - String(part).count))\(part)"
    }

    static func narrative(_ name: String, _ text: String, _ xml: inout XMLWriter, _ pairs: [(String, String?)] = []) {
        xml.element(name, pairs) { $0.leaf("narrative", text: text) }
    }

    static func activity(
        _ project: AssistanceV1.Project, _ source: IATISource, _ identifiers: [String: String], _ xml: inout XMLWriter
    ) {
        let reporter = source.organisations[project.reportingOrganisationID] ?? AssistanceV1.Organisation()
        let currencies = Set(project.budget.map(\.currency)).sorted()
        xml.element(
            "iati-activity",
            [
                ("xml:lang", "en"), ("default-currency", currencies.count == 1 ? currencies[0] : nil),
                ("hierarchy", project.parentID.isEmpty ? "1" : "2"),
            ]
        ) { xml in
            xml.leaf("iati-identifier", text: identifiers[project.id] ?? "")
            narrative(
                "reporting-org", reporter.name, &xml,
                [("ref", reporter.iatiIdentifier), ("type", IATICodes.organisationType(reporter.kind))])
            narrative("title", project.title, &xml)
            narrative(
                "description", project.description.isEmpty ? project.title : project.description, &xml,
                [("type", "1")])
            for participation in project.participants {
                let organisation = source.organisations[participation.organisationID] ?? AssistanceV1.Organisation()
                narrative(
                    "participating-org", organisation.name, &xml,
                    [
                        ("ref", organisation.iatiIdentifier.isEmpty ? nil : organisation.iatiIdentifier),
                        ("type", IATICodes.organisationType(organisation.kind)),
                        ("role", String(participation.role.rawValue)),
                    ])
            }
            if !project.participants.contains(where: { $0.organisationID == project.reportingOrganisationID }) {
                // The reporting organisation takes part as the one accountable for the activity.
                narrative(
                    "participating-org", reporter.name, &xml,
                    [
                        ("ref", reporter.iatiIdentifier), ("type", IATICodes.organisationType(reporter.kind)),
                        ("role", "2"),
                    ])
            }
            xml.empty("activity-status", [("code", String(project.status.rawValue))])
            for (type, date) in [
                ("1", project.plannedStart), ("2", project.actualStart), ("3", project.plannedEnd),
                ("4", project.actualEnd),
            ] {
                if let day = iso(date) { xml.empty("activity-date", [("iso-date", day), ("type", type)]) }
            }
            for (country, share) in zip(project.countries, percentages(project.countries.count)) {
                xml.empty(
                    "recipient-country",
                    [("code", country), ("percentage", project.countries.count > 1 ? share : "100")])
            }
            for (sector, share) in zip(project.sectors, percentages(project.sectors.count)) {
                xml.empty("sector", [("vocabulary", "1"), ("code", String(sector)), ("percentage", share)])
            }
            budgets(project, &xml)
            // In a stable order (ids are random), so that the same records always give the same file.
            let flows = (source.transactions[project.id] ?? []).sorted {
                (iso($0.date) ?? "", $0.type.rawValue, $0.value?.minorUnits ?? 0, $0.description)
                    < (iso($1.date) ?? "", $1.type.rawValue, $1.value?.minorUnits ?? 0, $1.description)
            }
            for transaction in flows {
                self.transaction(transaction, project, reporter, source, &xml)
            }
            if !project.parentID.isEmpty, let parent = identifiers[project.parentID] {
                xml.empty("related-activity", [("ref", parent), ("type", "1")])
            }
            for child in project.childIDs {
                if let identifier = identifiers[child] {
                    xml.empty("related-activity", [("ref", identifier), ("type", "2")])
                }
            }
            for indicator in (source.indicators[project.id] ?? []).sorted(by: {
                ($0.title, $0.groupID) < ($1.title, $1.groupID)
            }) {
                result(indicator, source, &xml)
            }
        }
    }

    /// The budget per currency, split into calendar-year periods (at most a year each, as IATI asks) in proportion to
    /// the days of each, marked indicative (status 1): the project records one figure for its whole length.
    static func budgets(_ project: AssistanceV1.Project, _ xml: inout XMLWriter) {
        guard let start = project.plannedStart.flatMap(ISODate.init) ?? project.actualStart.flatMap(ISODate.init),
            let end = project.plannedEnd.flatMap(ISODate.init) ?? project.actualEnd.flatMap(ISODate.init),
            start <= end
        else { return }
        var periods: [(ISODate, ISODate)] = []
        var from = start
        while from <= end {
            let yearEnd = ISODate(year: from.year, month: 12, day: 31)!
            let to = min(yearEnd, end)
            periods.append((from, to))
            from = to.adding(days: 1)
        }
        let days = Double(end.dayNumber - start.dayNumber + 1)
        for money in project.budget {
            var given: Int64 = 0
            for (index, (from, to)) in periods.enumerated() {
                let share =
                    index == periods.count - 1
                    ? money.minorUnits - given
                    : Int64((Double(money.minorUnits) * Double(to.dayNumber - from.dayNumber + 1) / days).rounded())
                given += share
                xml.element("budget", [("type", "1"), ("status", "1")]) { xml in
                    xml.empty("period-start", [("iso-date", from.description)])
                    xml.empty("period-end", [("iso-date", to.description)])
                    xml.leaf(
                        "value", [("currency", money.currency), ("value-date", from.description)],
                        text: value(share, money.currency))
                }
            }
        }
    }

    static func transaction(
        _ transaction: AssistanceV1.Transaction, _ project: AssistanceV1.Project, _ reporter: AssistanceV1.Organisation,
        _ source: IATISource,
        _ xml: inout XMLWriter
    ) {
        let (type, finance) = IATICodes.transaction(transaction.type)
        let funder =
            project.participants.first { $0.role == .funding }?.organisationID ?? project.reportingOrganisationID
        let provider = source.organisations[
            transaction.providerOrganisationID.isEmpty ? funder : transaction.providerOrganisationID]
        let group = source.groupNames[transaction.groupID]
        xml.element("transaction") { xml in
            xml.empty("transaction-type", [("code", type)])
            xml.empty("transaction-date", [("iso-date", iso(transaction.date) ?? "")])
            let currency = transaction.value?.currency ?? ""
            xml.leaf(
                "value", [("currency", currency), ("value-date", iso(transaction.date))],
                text: value(transaction.value?.minorUnits ?? 0, currency))
            let kind = words(short(transaction.type))
            narrative(
                "description", transaction.description.isEmpty ? kind : "\(kind): \(transaction.description)", &xml)
            func organisation(_ name: String, _ organisation: AssistanceV1.Organisation?, activity: String?) {
                xml.element(
                    name,
                    [
                        ("ref", organisation.flatMap { $0.iatiIdentifier.isEmpty ? nil : $0.iatiIdentifier }),
                        ("\(name == "provider-org" ? "provider" : "receiver")-activity-id", activity),
                        ("type", organisation.map { IATICodes.organisationType($0.kind) }),
                    ]
                ) { xml in
                    xml.leaf("narrative", text: organisation?.name ?? group ?? "producer group \(transaction.groupID)")
                }
            }
            if transaction.type == .loanRepayment {
                organisation("provider-org", nil, activity: nil)
                organisation("receiver-org", provider, activity: nil)
            } else {
                if let provider { organisation("provider-org", provider, activity: nil) }
                if group != nil || !transaction.groupID.isEmpty { organisation("receiver-org", nil, activity: nil) }
            }
            if let finance { xml.empty("finance-type", [("code", finance)]) }
        }
    }

    static func result(_ indicator: AssistanceV1.Indicator, _ source: IATISource, _ xml: inout XMLWriter) {
        let type: String =
            switch indicator.level {
            case .output: "1"
            case .outcome: "2"
            case .impact: "3"
            default: "9"
            }
        // Basis points are a percentage; everything else here is a count of units (people, jobs, money).
        let percentage = indicator.measure == .incomeChange || indicator.unit == "basis-points"
        func number(_ value: Int64) -> String {
            if percentage { return String(format: "%.2f", Double(value) / 100) }
            if indicator.measure == .moneySaved { return Self.value(value, indicator.unit) }
            return String(value)
        }
        xml.element("result", [("type", type), ("aggregation-status", "0")]) { xml in
            narrative("title", indicator.title, &xml)
            xml.element("indicator", [("measure", percentage ? "2" : "1"), ("ascending", "1")]) { xml in
                narrative("title", indicator.title, &xml)
                // The group it measures, and this system's measure and unit (IATI has neither), so that an import
                // of the file reads them back.
                let group = source.groupNames[indicator.groupID] ?? "producer group \(indicator.groupID)"
                narrative(
                    "description",
                    indicator.groupID.isEmpty
                        ? "\(words(short(indicator.measure))), in \(indicator.unit)" : "Producer group: \(group)",
                    &xml)
                xml.empty("reference", [("vocabulary", "99"), ("code", "measure:\(short(indicator.measure))")])
                xml.empty("reference", [("vocabulary", "99"), ("code", "unit:\(indicator.unit)")])
                if let baseline = indicator.baseline, indicator.baselineYear > 0 {
                    for (value, dimension) in values(baseline) {
                        xml.element("baseline", [("year", String(indicator.baselineYear)), ("value", value)]) { xml in
                            if let dimension {
                                xml.empty("dimension", [("name", dimension.0), ("value", dimension.1)])
                            }
                        }
                    }
                }
                for period in indicator.periods {
                    xml.element("period") { xml in
                        xml.empty("period-start", [("iso-date", iso(period.start) ?? "")])
                        xml.empty("period-end", [("iso-date", iso(period.end) ?? "")])
                        for (name, measured) in [("target", period.target), ("actual", period.actual)] {
                            for (value, dimension) in measured.map(values) ?? [] {
                                xml.element(name, [("value", value)]) { xml in
                                    if let dimension {
                                        xml.empty("dimension", [("name", dimension.0), ("value", dimension.1)])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        /// A value as IATI disaggregates it: the whole, without a dimension, then one value per sex, age band and
        /// place, each with its dimension.
        func values(_ value: AssistanceV1.IndicatorValue) -> [(String, (String, String)?)] {
            var values: [(String, (String, String)?)] = [(number(value.value), nil)]
            if indicator.countsPeople, let sex = value.bySex {
                values.append((String(sex.women), ("sex", "female")))
                values.append((String(sex.men), ("sex", "male")))
                if sex.other > 0 { values.append((String(sex.other), ("sex", "other or not said"))) }
            }
            for band in value.byAge { values.append((String(band.people), ("age", band.band))) }
            for place in value.byLocation { values.append((String(place.people), ("place", place.location))) }
            return values
        }
    }
}
