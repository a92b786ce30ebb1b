import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// Activities of an IATI 2.03 file brought in as projects (ImportIatiActivities in assistance.proto says what is
/// read from where). Read and checked in three steps: the file itself (every field as the methods that record it
/// check it), then what it names (organisations here, producer groups with the Producer service, parent
/// activities), then, in the one transaction that records it all, each flow against its project and what its group
/// owes. Any problem fails the import naming the activity and the element; nothing is recorded.
struct IATIImport: Sendable {

    /// Activities a file may hold; a bigger one is split.
    static let maxActivities = 1_000

    /// An organisation as an IATI file names it.
    struct Organisation: Hashable, Sendable {
        var ref: String
        var name: String
        var type: String
        var label: String { name.isEmpty ? ref : name }
    }

    struct Flow: Sendable {
        var transaction: AssistanceV1.Transaction
        var provider: Organisation?
        /// The producer group the flow goes to (or, for a repayment, comes from), by name; empty for none.
        var group: String
        /// The name of the other party, when it may be a group but need not be.
        var maybeGroup: String
        let place: String
    }

    struct Result: Sendable {
        var indicator: AssistanceV1.Indicator
        var group: String
        let place: String
    }

    struct Activity: Sendable {
        let number: Int
        let identifier: String
        var project: AssistanceV1.Project
        var reporting: Organisation
        var participants: [(organisation: Organisation, role: AssistanceV1.OrganisationRole)]
        var parent: String
        var flows: [Flow]
        var results: [Result]
        var notImported: [String]
        var place: String { "activity \(number) (\(identifier))" }
    }

    var activities: [Activity] = []

    /// Reads the file; problems go to `check`, each naming its activity and element.
    init(xml: [UInt8], _ check: inout FieldValidator) {
        let root: XMLNode
        switch XMLNode.parse(xml) {
        case .success(let node): root = node
        case .failure(let problem):
            check.fail("xml", "is not well-formed XML: line \(problem.line): \(problem.message)")
            return
        }
        guard root.name == "iati-activities", root["version"]?.hasPrefix("2.") == true else {
            check.fail(
                "xml",
                "is not an IATI 2.0x activities file: its root is <\(root.name)> version \"\(root["version"] ?? "")\", not <iati-activities version=\"2.03\">"
            )
            return
        }
        let elements = root.all("iati-activity")
        if elements.isEmpty { check.fail("xml", "holds no <iati-activity>") }
        if elements.count > Self.maxActivities {
            check.fail("xml", "holds \(elements.count) activities; at most \(Self.maxActivities) go in one import")
            return
        }
        var seen: [String: Int] = [:]
        for (index, element) in elements.enumerated() {
            let activity = Self.read(element, number: index + 1, &check)
            if let first = seen[activity.identifier] {
                check.fail(activity.place, "has the same iati-identifier as activity \(first)")
            }
            seen[activity.identifier] = activity.number
            activities.append(activity)
        }
    }

    // MARK: reading

    static let handled: Set<String> = [
        "iati-identifier", "reporting-org", "title", "description", "participating-org", "activity-status",
        "activity-date", "recipient-country", "sector", "budget", "transaction", "related-activity", "result",
    ]

    static func organisation(_ node: XMLNode) -> Organisation {
        Organisation(ref: node["ref"] ?? "", name: node.narrative, type: node["type"] ?? "")
    }

    static func read(_ node: XMLNode, number: Int, _ check: inout FieldValidator) -> Activity {
        let identifier = node.child("iati-identifier")?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let place = "activity \(number) (\(identifier.isEmpty ? "line \(node.line)" : identifier))"
        if identifier.isEmpty { check.fail(place, "has no iati-identifier") }
        var activity = Activity(
            number: number, identifier: identifier, project: AssistanceV1.Project(),
            reporting: node.child("reporting-org").map(organisation) ?? Organisation(ref: "", name: "", type: ""),
            participants: [], parent: "", flows: [], results: [], notImported: [])
        if activity.reporting.label.isEmpty { check.fail("\(place), reporting-org", "needs a ref or a narrative") }
        var project = AssistanceV1.Project(iatiIdentifier: identifier)
        project.title = node.child("title")?.narrative ?? ""
        let descriptions = node.all("description")
        project.description =
            (descriptions.first { ($0["type"] ?? "1") == "1" } ?? descriptions.first)?.narrative ?? ""
        for (index, element) in node.all("participating-org").enumerated() {
            let role = Int32(element["role"] ?? "").flatMap {
                (1...4).contains($0) ? AssistanceV1.OrganisationRole(rawValue: $0) : nil
            }
            guard let role else {
                check.fail(
                    "\(place), participating-org \(index + 1)",
                    "role \"\(element["role"] ?? "")\" is not an IATI organisation role (1 funding to 4 implementing)")
                continue
            }
            let organisation = organisation(element)
            if organisation.label.isEmpty {
                check.fail("\(place), participating-org \(index + 1)", "needs a ref or a narrative")
                continue
            }
            activity.participants.append((organisation, role))
        }
        let status = node.child("activity-status")?["code"]
        if let status = Int32(status ?? ""), (1...6).contains(status) {
            project.status = AssistanceV1.ProjectStatus(rawValue: status)
        } else {
            check.fail("\(place), activity-status", "code \"\(status ?? "")\" is not an IATI activity status (1 to 6)")
        }
        for date in node.all("activity-date") {
            guard let day = ISODate(iso: date["iso-date"] ?? "") else {
                check.fail("\(place), activity-date", "\"\(date["iso-date"] ?? "")\" is not a date (YYYY-MM-DD)")
                continue
            }
            switch date["type"] {
            case "1": project.plannedStart = day.message
            case "2": project.actualStart = day.message
            case "3": project.plannedEnd = day.message
            case "4": project.actualEnd = day.message
            default: check.fail("\(place), activity-date", "type \"\(date["type"] ?? "")\" is not 1 to 4")
            }
        }
        project.countries = node.all("recipient-country").map { ($0["code"] ?? "").uppercased() }
        for sector in node.all("sector") {
            let vocabulary = sector["vocabulary"] ?? "1"
            if vocabulary == "1", let code = Int32(sector["code"] ?? "") {
                project.sectors.append(code)
            } else {
                activity.notImported.append("sector \(sector["code"] ?? "") of vocabulary \(vocabulary)")
            }
        }
        let defaultCurrency = node["default-currency"] ?? ""
        var budget: [String: Int64] = [:]
        for (index, element) in node.all("budget").enumerated() {
            if let money = money(element.child("value"), defaultCurrency, "\(place), budget \(index + 1)", &check) {
                budget[money.currency, default: 0] = budget[money.currency, default: 0].addingClamped(money.minorUnits)
            }
        }
        project.budget = budget.sorted { $0.key < $1.key }.map {
            CommonV1.Money(minorUnits: $0.value, currency: $0.key)
        }
        activity.parent =
            node.all("related-activity").first { $0["type"] == "1" }?["ref"] ?? ""
        for (index, element) in node.all("transaction").enumerated() {
            if let flow = Self.flow(element, defaultCurrency, "\(place), transaction \(index + 1)", &check) {
                activity.flows.append(flow)
            } else if let code = element.child("transaction-type")?["code"], !["2", "3", "4", "6"].contains(code) {
                activity.notImported.append("transaction \(index + 1) of IATI type \(code)")
            }
        }
        for (index, result) in node.all("result").enumerated() {
            activity.results += Self.results(result, "\(place), result \(index + 1)", &activity.notImported, &check)
        }
        let others = Dictionary(grouping: node.children.map(\.name).filter { !handled.contains($0) }, by: { $0 })
        for (name, found) in others.sorted(by: { $0.key < $1.key }) {
            activity.notImported.append("\(found.count) \(name) element\(found.count == 1 ? "" : "s")")
        }
        // The project's own checks, but for the organisations, which are found later.
        project.reportingOrganisationID = "later"
        AssistanceHandler.validate(&project, prefix: "\(place): project", &check)
        project.reportingOrganisationID = ""
        activity.project = project
        return activity
    }

    /// A value element as money, in its currency or the activity's default one.
    static func money(_ node: XMLNode?, _ defaultCurrency: String, _ place: String, _ check: inout FieldValidator)
        -> CommonV1.Money?
    {
        guard let node else {
            check.fail(place, "has no value")
            return nil
        }
        let currency = (node["currency"] ?? defaultCurrency).uppercased()
        guard CurrencyCode.isValid(currency) else {
            check.fail(
                "\(place), value", "currency \"\(currency)\" is not an ISO 4217 code (nor is a default-currency)")
            return nil
        }
        let text = node.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let minor = CurrencyCode.minorUnits(of: text, currency: currency) else {
            check.fail("\(place), value", "\"\(text)\" is not an amount in \(currency)")
            return nil
        }
        return CommonV1.Money(minorUnits: minor, currency: currency)
    }

    /// The kinds of flow as this system writes them at the start of a transaction's description.
    static let described: [(String, AssistanceV1.TransactionType)] = [
        ("advance payment: ", .advancePayment), ("loan repayment: ", .loanRepayment), ("loan: ", .loan),
        ("commitment: ", .commitment), ("disbursement: ", .disbursement), ("expenditure: ", .expenditure),
    ]

    static func flow(_ node: XMLNode, _ defaultCurrency: String, _ place: String, _ check: inout FieldValidator)
        -> Flow?
    {
        let code = node.child("transaction-type")?["code"] ?? ""
        var description = node.child("description")?.narrative ?? ""
        // "loan: …" as this system exports a loan's description, or the bare kind when it had none.
        let said = described.first {
            description.lowercased().hasPrefix($0.0) || description.lowercased() == $0.0.dropLast(2)
        }
        if let said { description = String(description.dropFirst(min(said.0.count, description.count))) }
        let loanFinance = (node.child("finance-type")?["code"]).map(IATICodes.loanFinanceTypes.contains) ?? false
        let type: AssistanceV1.TransactionType
        switch code {
        case "2": type = .commitment
        case "3": type = loanFinance ? .loan : said?.1 == .advancePayment ? .advancePayment : .disbursement
        case "4": type = .expenditure
        case "6": type = .loanRepayment
        default: return nil
        }
        guard let day = ISODate(iso: node.child("transaction-date")?["iso-date"] ?? "") else {
            check.fail("\(place), transaction-date", "is missing or not a date (YYYY-MM-DD)")
            return nil
        }
        guard let value = money(node.child("value"), defaultCurrency, place, &check) else { return nil }
        let provider = node.child("provider-org").map(organisation)
        let receiver = node.child("receiver-org").map(organisation)
        // A repayment comes from the group; every other flow goes to the receiver, which may be a group.
        let party = type == .loanRepayment ? provider : receiver
        let group = MoneyRules.toGroup.contains(type) ? party?.name ?? "" : ""
        // Checked as RecordTransaction checks one; the project and the group are found later.
        var transaction = AssistanceV1.Transaction(
            projectID: "later", type: type, value: value, date: day.message,
            groupID: MoneyRules.toGroup.contains(type) ? "later" : "",
            description: description)
        transaction = AssistanceHandler.validated(transaction, &check) { "\(place): \($0)" }
        transaction.projectID = ""
        transaction.groupID = ""
        if MoneyRules.toGroup.contains(type) && group.isEmpty {
            check.fail(
                "\(place), \(type == .loanRepayment ? "provider-org" : "receiver-org")",
                "must name the producer group (a \(CSV.cell(type)) goes to or comes from one)")
        }
        return Flow(
            transaction: transaction, provider: type == .loanRepayment ? receiver : provider, group: group,
            maybeGroup: group.isEmpty ? (party?.ref.isEmpty == true ? party?.name ?? "" : "") : "", place: place)
    }

    /// The indicators of a result, with this system's measure and unit when the file names them (a reference of
    /// vocabulary 99, "measure:jobs-created" and "unit:jobs", as it exports them), otherwise from IATI's measure.
    static func results(
        _ node: XMLNode, _ place: String, _ notImported: inout [String], _ check: inout FieldValidator
    ) -> [Result] {
        let level: AssistanceV1.ResultLevel =
            switch node["type"] {
            case "1": .output
            case "2": .outcome
            case "3": .impact
            default: .unspecified
            }
        if level == .unspecified {
            check.fail(place, "type \"\(node["type"] ?? "")\" is not 1 output, 2 outcome or 3 impact")
        }
        return node.all("indicator").enumerated().compactMap { index, element in
            let where_ = "\(place), indicator \(index + 1)"
            var indicator = AssistanceV1.Indicator(
                projectID: "later", level: level, title: element.child("title")?.narrative ?? "")
            // "measure:jobs-created", "unit:jobs": this system's own codes (vocabulary 99), by name.
            var references: [String: String] = [:]
            for reference in element.all("reference") where reference["vocabulary"] == "99" {
                let parts = (reference["code"] ?? "").split(separator: ":", maxSplits: 1).map(String.init)
                if parts.count == 2, references[parts[0]] == nil { references[parts[0]] = parts[1] }
            }
            let percentage = element["measure"] == "2"
            if let measure = references["measure"].flatMap({
                CSV.enumValue($0, among: Array(AssistanceV1.Measure.allCases.dropFirst()))
            }) {
                indicator.measure = measure
            } else {
                indicator.measure = percentage ? .incomeChange : .other
            }
            indicator.unit = references["unit"] ?? (percentage ? "basis-points" : "units")
            indicator.countsPeople = IndicatorRules.peopleMeasures.contains(indicator.measure)
            let description = element.child("description")?.narrative ?? ""
            let group = description.hasPrefix("Producer group: ") ? String(description.dropFirst(16)) : ""
            func number(_ text: String?) -> Int64? {
                guard let text, let value = Decimal(string: text.trimmingCharacters(in: .whitespaces)) else {
                    return nil
                }
                if indicator.unit == "basis-points" || percentage {
                    return Int64(exactly: NSDecimalNumber(decimal: value * 100).doubleValue.rounded())
                }
                if indicator.measure == .moneySaved {
                    return CurrencyCode.minorUnits(
                        of: text.trimmingCharacters(in: .whitespaces), currency: indicator.unit)
                }
                return Int64(exactly: NSDecimalNumber(decimal: value).doubleValue)
            }
            /// The whole and its breakdowns (IATI dimensions) as one value; nil without a whole.
            func value(_ nodes: [XMLNode], _ what: String) -> AssistanceV1.IndicatorValue? {
                guard !nodes.isEmpty else { return nil }
                var value = AssistanceV1.IndicatorValue()
                var whole = false
                for node in nodes {
                    guard let amount = number(node["value"]) else {
                        check.fail("\(where_), \(what)", "value \"\(node["value"] ?? "")\" is not a number")
                        continue
                    }
                    let dimensions = node.all("dimension")
                    guard let dimension = dimensions.first else {
                        value.value = amount
                        whole = true
                        continue
                    }
                    let count = Int32(clamping: amount)
                    switch (dimension["name"]?.lowercased() ?? "", dimension["value"]?.lowercased() ?? "") {
                    case ("sex", "female"):
                        value.bySex = value.bySex ?? AssistanceV1.PeopleCount()
                        value.bySex?.women = count
                    case ("sex", "male"):
                        value.bySex = value.bySex ?? AssistanceV1.PeopleCount()
                        value.bySex?.men = count
                    case ("sex", _):
                        value.bySex = value.bySex ?? AssistanceV1.PeopleCount()
                        value.bySex?.other += count
                    case ("age", let band): value.byAge.append(AssistanceV1.AgeBandCount(band: band, people: count))
                    case ("place", _):
                        value.byLocation.append(
                            AssistanceV1.LocationCount(location: dimension["value"] ?? "", people: count))
                    case (let name, _): notImported.append("\(where_), \(what): the dimension \"\(name)\"")
                    }
                }
                if !whole {
                    check.fail("\(where_), \(what)", "has no value without a dimension: the whole is required")
                    return nil
                }
                return value
            }
            if let baseline = element.all("baseline").first {
                indicator.baselineYear = Int32(baseline["year"] ?? "") ?? 0
                indicator.baseline = value(element.all("baseline"), "baseline")
            }
            for (number, period) in element.all("period").enumerated() {
                let what = "period \(number + 1)"
                guard let start = ISODate(iso: period.child("period-start")?["iso-date"] ?? ""),
                    let end = ISODate(iso: period.child("period-end")?["iso-date"] ?? "")
                else {
                    check.fail("\(where_), \(what)", "needs a period-start and a period-end (YYYY-MM-DD)")
                    continue
                }
                indicator.periods.append(
                    AssistanceV1.IndicatorPeriod(
                        start: start.message, end: end.message, target: value(period.all("target"), "\(what) target"),
                        actual: value(period.all("actual"), "\(what) actual")))
            }
            indicator = AssistanceHandler.validated(indicator, &check) { "\(where_): \($0)" }
            indicator.projectID = ""
            return Result(indicator: indicator, group: group, place: where_)
        }
    }
}
