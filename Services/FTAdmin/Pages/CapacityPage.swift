import API
import Domain
import Foundation
import Schema

/// The names a page shows where the records hold ids: organisations, producer groups, markets.
struct PageNames: Sendable {
    var organisations: [String: String] = [:]
    var groups: [String: String] = [:]
    var markets: [String: String] = [:]
    var projects: [String: String] = [:]
    var trainings: [String: String] = [:]

    /// The name of the record `id` names, by its kind (og_, pg_, mk_, pj_, tr_: a training's title); the id itself
    /// when it is not known.
    func label(_ id: String) -> String {
        let known: String? =
            switch id.prefix(3) {
            case "og_": organisations[id]
            case "pg_": groups[id]
            case "mk_": markets[id]
            case "pj_": projects[id]
            case "tr_": trainings[id]
            default: nil
            }
        return known ?? id
    }

    /// Names for a list of ids, joined.
    func labels(_ ids: [String]) -> String { ids.map(label).joined(separator: ", ") }

    func organisation(_ id: String) -> String { organisations[id] ?? "(organisation name not available)" }
    func group(_ id: String) -> String { groups[id] ?? "(group name not available)" }
    func market(_ id: String) -> String { markets[id] ?? "(market name not available)" }
}

/// A money amount as a number of currency units (12.5 for 1250 minor units of USD), for charts.
func majorUnits(_ minor: Int64, _ currency: String) -> Double {
    Double(minor) / pow(10, Double(CurrencyCode.minorUnitDigits[currency] ?? 2))
}

/// A date as a year with its fraction (2024-07-02 is about 2024.5), for charts over time.
func fractionalYear(_ date: CommonV1.Date?) -> Double? {
    guard let date, date.year > 0 else { return nil }
    return Double(date.year) + (Double(max(date.month, 1)) - 1) / 12 + (Double(max(date.day, 1)) - 1) / 365
}

/// `ftadmin report capacity GROUP --html`: one group's capacity as a page a donor or board can read.
struct CapacityPage {
    let report: A.CapacityReport
    let names: PageNames
    let alerts: [MarketplaceV1.PriceAlert]

    var html: String {
        let producer = report.producer ?? A.ProducerSection()
        let groupName = producer.profile?.name ?? report.market?.bulletin?.groupName ?? names.group(report.groupID)
        let when = show(time: report.generatedAt)
        var page = HTMLPage(title: "Capacity report: \(groupName)", subtitle: "Generated \(when)")
        func source(_ status: A.SectionStatus?, _ fallback: String) -> (String, String?) {
            let service = status?.service.isEmpty == false ? status!.service : fallback
            let unavailable =
                status?.available == false ? "\(status!.service) answered \(status!.code): \(status!.reason)" : nil
            return ("From \(service), \(when).", unavailable)
        }
        let (producerSource, producerDown) = source(producer.status, "producer-service")
        page.section(
            "Profile and members", id: "profile", source: producerSource, unavailable: producerDown, profile(producer))
        page.section(
            "Skills over time", id: "skills", source: producerSource, unavailable: producerDown, skills(producer))
        page.section("Buyers", id: "buyers", source: producerSource, unavailable: producerDown, buyers(producer))
        let assistance = report.assistance ?? A.AssistanceSection()
        let (assistanceSource, assistanceDown) = source(assistance.status, "assistance-service")
        page.section(
            "Assistance per year", id: "assistance", source: assistanceSource, unavailable: assistanceDown,
            money(assistance))
        page.section(
            "Trainings and their cascade", id: "trainings", source: assistanceSource, unavailable: assistanceDown,
            trainings(assistance))
        page.section(
            "Results against targets", id: "results", source: assistanceSource, unavailable: assistanceDown,
            results(assistance.results))
        let (marketSource, marketDown) = source(report.market?.status, "marketplace-info-service")
        let bulletin = report.market?.bulletin ?? MarketplaceV1.MarketBulletin()
        page.section(
            "Prices of the group's crafts", id: "prices", source: marketSource, unavailable: marketDown,
            prices(bulletin))
        page.section(
            "Demand the group matches", id: "demand", source: marketSource, unavailable: marketDown, demand(bulletin))
        return page.html
    }

    // MARK: producer

    func profile(_ producer: A.ProducerSection) -> [String] {
        guard let group = producer.profile else { return [] }
        var facts: [(String, String)] = [("Name", group.name)]
        if !group.localName.isEmpty { facts.append(("Local name", group.localName)) }
        facts.append(("Kind", words(short(group.kind))))
        facts.append(
            (
                "Where",
                [group.region, (CountryCode.names[group.country] ?? group.country)].filter { !$0.isEmpty }.joined(
                    separator: ", ")
            ))
        if group.foundedYear > 0 { facts.append(("Founded", String(group.foundedYear))) }
        facts.append(("Crafts", group.crafts.joined(separator: ", ")))
        if !group.processesInHouse.isEmpty {
            facts.append(("Done in-house", group.processesInHouse.joined(separator: ", ")))
        }
        if !group.certifications.isEmpty {
            facts.append(
                (
                    "Certifications",
                    group.certifications.map { $0.scheme + ($0.validUntil.map { " (until \(show($0)))" } ?? "") }
                        .joined(separator: ", ")
                ))
        }
        var content = [definitions(facts)]
        if let members = group.members {
            let counts = [("Women", members.women), ("Men", members.men), ("Other or not said", members.other)]
            var table = HTMLTable(caption: "Members by sex", "Sex", "Members", "Share", numeric: [1, 2])
            let total = counts.reduce(Int64(0)) { $0 + Int64($1.1) }
            for (sex, count) in counts {
                table.add(sex, SVGChart.number(Double(count)), total > 0 ? percent(Double(count) / Double(total)) : "")
            }
            table.add("All", SVGChart.number(Double(total)), "")
            let chart = SVGChart.bars(
                title: "Members by sex", categories: counts.map(\.0),
                series: [.init(name: "members", values: counts.map { Double($0.1) })], xLabel: "sex",
                yLabel: "members")
            content.append(figure("Members by sex", chart: chart, table: table))
        }
        return content
    }

    func skills(_ producer: A.ProducerSection) -> [String] {
        guard !producer.skills.isEmpty else { return [] }
        let bySkill = Dictionary(grouping: producer.skills, by: \.skill)
        let series = bySkill.keys.sorted().map { skill in
            (
                name: skill,
                points: bySkill[skill]!.compactMap { assessment in
                    fractionalYear(assessment.assessedOn).map { (x: $0, y: Double(assessment.level)) }
                }
            )
        }
        let chart = SVGChart.lines(
            title: "Skill levels over time, one line per skill", series: series, xLabel: "assessed",
            yLabel: "level (0 none – 4 can teach)", xFormat: yearAndMonth, yMaximum: 4)
        var table = HTMLTable(
            caption: "Every assessment, oldest first", "Assessed", "Skill", "Level", "Members holding it", "Assessor",
            numeric: [2, 3])
        for assessment in producer.skills {
            table.add(
                show(assessment.assessedOn), assessment.skill, String(assessment.level),
                String(assessment.membersHolding), assessment.assessor)
        }
        return [figure("Skill levels over time", chart: chart, table: table)]
    }

    func buyers(_ producer: A.ProducerSection) -> [String] {
        guard !producer.buyers.isEmpty else { return [] }
        var content: [String] = []
        let current = producer.buyers.filter { $0.endedOn == nil }
        // Shares of the last full year's purchases, per currency (shares across currencies mean nothing).
        for (currency, buyers) in Dictionary(grouping: current, by: { $0.yearlyPurchases?.currency ?? "" })
            .sorted(by: { $0.key < $1.key }) where !currency.isEmpty
        {
            let total = buyers.reduce(Int64(0)) { $0 + ($1.yearlyPurchases?.minorUnits ?? 0) }
            guard total > 0 else { continue }
            let sorted = buyers.sorted { ($0.yearlyPurchases?.minorUnits ?? 0) > ($1.yearlyPurchases?.minorUnits ?? 0) }
            var table = HTMLTable(
                caption: "Current buyers' purchases over the last full year, in \(currency)", "Buyer", "Since",
                "Relationship", "Purchases a year", "Share", numeric: [3, 4])
            for buyer in sorted {
                let amount = buyer.yearlyPurchases?.minorUnits ?? 0
                table.add(
                    buyer.organisation, show(buyer.since), words(short(buyer.kind)), formatMoney(buyer.yearlyPurchases),
                    percent(Double(amount) / Double(total)))
            }
            let chart = SVGChart.bars(
                title: "Share of purchases by buyer (\(currency))", categories: sorted.map(\.organisation),
                series: [
                    .init(
                        name: "share of purchases, %",
                        values: sorted.map { Double($0.yearlyPurchases?.minorUnits ?? 0) / Double(total) * 100 })
                ], xLabel: "buyer", yLabel: "% of purchases")
            content.append(figure("Share of purchases by buyer, \(currency)", chart: chart, table: table))
        }
        // Concentration per year: each relationship counted, at its yearly purchases, in the years it lasted.
        let thisYear = Calendar(identifier: .gregorian).component(.year, from: Date())
        let first = producer.buyers.compactMap { $0.since?.year }.filter { $0 > 0 }.min().map(Int.init) ?? thisYear
        var concentration = HTMLTable(
            caption:
                "Buyer concentration (Herfindahl–Hirschman index, 0–10,000: above 2,500 is concentrated), each relationship at its yearly purchases in the years it lasted; the years it changed",
            "Year", "Buyers", "Largest buyer", "Largest share", "Index", numeric: [1, 3, 4])
        var points: [(x: Double, y: Double)] = []
        var lastRow: [String] = []
        for year in max(first, thisYear - 15)...thisYear {
            let active = producer.buyers.filter { buyer in
                Int(buyer.since?.year ?? 0) <= year && (buyer.endedOn.map { Int($0.year) >= year } ?? true)
            }
            let currency =
                Dictionary(grouping: active, by: { $0.yearlyPurchases?.currency ?? "" })
                .max { $0.value.count < $1.value.count }?.key ?? ""
            let amounts = active.filter { $0.yearlyPurchases?.currency == currency }
                .map { (name: $0.organisation, amount: Double($0.yearlyPurchases?.minorUnits ?? 0)) }
            let total = amounts.reduce(0) { $0 + $1.amount }
            guard total > 0 else { continue }
            let index = amounts.reduce(0) { $0 + pow($1.amount / total * 100, 2) }
            let largest = amounts.max { $0.amount < $1.amount }!
            // The table lists the years the figures changed (and this one); the chart shows every year.
            let row = [
                String(amounts.count), largest.name, percent(largest.amount / total), SVGChart.number(index.rounded()),
            ]
            if row != lastRow || year == thisYear { concentration.add([String(year)] + row) }
            lastRow = row
            points.append((Double(year), index.rounded()))
        }
        if !points.isEmpty {
            let chart = SVGChart.lines(
                title: "Buyer concentration over the years", series: [(name: "concentration index", points: points)],
                xLabel: "year", yLabel: "index (0–10,000)", xFormat: { String(Int($0)) }, yMaximum: 10_000)
            content.append(figure("Buyer concentration over the years", chart: chart, table: concentration))
        }
        if let independence = producer.independence, independence.buyersCounted > 0 {
            content.append(
                paragraph(
                    "Today: the largest buyer, \(independence.largestBuyer), takes \(percent(Double(independence.largestBuyerShareBp) / 10_000)) of purchases; \(percent(Double(independence.inHouseProcessShareBp) / 10_000)) of the processes are done in-house."
                ))
        }
        return content
    }

    // MARK: assistance

    func money(_ assistance: A.AssistanceSection) -> [String] {
        var content: [String] = []
        let byYear = assistance.money?.byYear ?? []
        var equipment: [String: [Int32: Int64]] = [:]
        for item in assistance.equipment {
            guard let value = item.value, let year = item.deliveredOn?.year else { continue }
            equipment[value.currency, default: [:]][year, default: 0] &+= value.minorUnits
        }
        let currencies = Set(byYear.map(\.currency)).union(equipment.keys).sorted()
        for currency in currencies {
            let lines = byYear.filter { $0.currency == currency }
            let years = Set(lines.map(\.year)).union(equipment[currency]?.keys ?? [:].keys).sorted()
            func value(_ year: Int32, _ pick: (A.FlowTotals) -> Int64) -> Double {
                majorUnits(lines.first { $0.year == year }.map(pick) ?? 0, currency)
            }
            let series: [SVGChart.Series] = [
                .init(name: "grants disbursed", values: years.map { value($0, \.disbursements) }),
                .init(name: "loans", values: years.map { value($0, \.loans) }),
                .init(name: "loan repayments", values: years.map { value($0, \.loanRepayments) }),
                .init(
                    name: "equipment",
                    values: years.map { majorUnits(equipment[currency]?[$0] ?? 0, currency) }),
            ]
            var table = HTMLTable(
                caption: "Assistance per year in \(currency)", "Year", "Committed", "Grants disbursed", "Loans",
                "Repaid", "Owed", "Equipment", numeric: [1, 2, 3, 4, 5, 6])
            for year in years {
                let line = lines.first { $0.year == year } ?? A.FlowTotals()
                func show(_ minor: Int64) -> String {
                    formatMoney(CommonV1.Money(minorUnits: minor, currency: currency))
                }
                table.add(
                    String(year), show(line.commitments), show(line.disbursements), show(line.loans),
                    show(line.loanRepayments), show(line.loansOutstanding), show(equipment[currency]?[year] ?? 0))
            }
            let chart = SVGChart.bars(
                title: "Assistance per year in \(currency)", categories: years.map { String($0) }, series: series,
                xLabel: "year", yLabel: currency)
            content.append(figure("Assistance per year, \(currency)", chart: chart, table: table))
        }
        if !assistance.equipment.isEmpty {
            var table = HTMLTable(
                caption: "Equipment delivered", "Delivered", "Equipment", "Value", "Replaces", numeric: [2])
            for item in assistance.equipment {
                table.add(show(item.deliveredOn), item.description, formatMoney(item.value), item.replaces)
            }
            content.append(table.html)
        }
        if !assistance.referrals.isEmpty {
            var table = HTMLTable(caption: "Referrals to development organisations", "Referred", "To", "For", "Outcome")
            for referral in assistance.referrals {
                table.add(
                    show(referral.referredOn), names.organisation(referral.organisationID), referral.purpose,
                    words(short(referral.outcome)))
            }
            content.append(table.html)
        }
        return content
    }

    func trainer(_ training: A.Training) -> String {
        training.trainerGroupID.isEmpty
            ? names.organisation(training.trainerOrganisationID) : names.group(training.trainerGroupID)
    }

    func trainings(_ assistance: A.AssistanceSection) -> [String] {
        let trainings = assistance.trainings
        guard !trainings.isEmpty else { return [] }
        let ids = Set(trainings.map(\.id))
        func people(_ count: A.PeopleCount?) -> String {
            let count = count ?? A.PeopleCount()
            let total = Int64(count.women) + Int64(count.men) + Int64(count.other)
            return "\(SVGChart.number(Double(total))) (\(count.women) women, \(count.men) men)"
        }
        let nodes = trainings.map { training in
            SVGChart.Node(
                id: training.id, label: training.title.isEmpty ? training.skill : training.title,
                detail: "\(show(training.heldOn)) · \(people(training.trainees))",
                parent: ids.contains(training.cascadesFrom) ? training.cascadesFrom : nil)
        }
        // Tiers: the first training of a cascade is tier 1; each training given by its trainees one further down.
        var tier: [String: Int] = [:]
        func tierOf(_ training: A.Training, _ depth: Int = 0) -> Int {
            if let known = tier[training.id] { return known }
            let parent = trainings.first { $0.id == training.cascadesFrom }
            let value = parent.map { depth < 50 ? tierOf($0, depth + 1) + 1 : 1 } ?? 1
            tier[training.id] = value
            return value
        }
        var tiers: [Int: (trainings: Int, women: Int64, men: Int64, other: Int64)] = [:]
        for training in trainings {
            let count = training.trainees ?? A.PeopleCount()
            let level = tierOf(training)
            let sum = tiers[level] ?? (0, 0, 0, 0)
            tiers[level] = (
                sum.trainings + 1, sum.women + Int64(count.women), sum.men + Int64(count.men),
                sum.other + Int64(count.other)
            )
        }
        var tierTable = HTMLTable(
            caption: "People reached per tier of the cascade, by sex", "Tier", "Trainings", "Women", "Men",
            "Other or not said", "All", numeric: [0, 1, 2, 3, 4, 5])
        for level in tiers.keys.sorted() {
            let sum = tiers[level]!
            tierTable.add(
                String(level), String(sum.trainings), SVGChart.number(Double(sum.women)),
                SVGChart.number(Double(sum.men)), SVGChart.number(Double(sum.other)),
                SVGChart.number(Double(sum.women + sum.men + sum.other)))
        }
        let tree = SVGChart.tree(title: "The cascade of trainings: who trained whom", nodes: nodes)
        var content = [figure("The cascade of trainings", chart: tree, table: tierTable)]
        let levels = tiers.keys.sorted()
        let reach = SVGChart.bars(
            title: "People reached per tier, by sex", categories: levels.map { "tier \($0)" },
            series: [
                .init(name: "women", values: levels.map { Double(tiers[$0]!.women) }),
                .init(name: "men", values: levels.map { Double(tiers[$0]!.men) }),
                .init(name: "other or not said", values: levels.map { Double(tiers[$0]!.other) }),
            ], xLabel: "tier", yLabel: "people", stacked: true)
        var list = HTMLTable(
            caption: "Every training", "Held", "Training", "Skill", "Trainer", "Groups trained", "Trainees", "Status")
        for training in trainings {
            list.add(
                show(training.heldOn), training.title, training.skill, trainer(training),
                training.trainedGroupIDs.map(names.group).joined(separator: ", "), people(training.trainees),
                words(short(training.status)))
        }
        content.append(figure("People reached per tier", chart: reach, table: list))
        return content
    }

    func results(_ indicators: [A.Indicator]) -> [String] {
        indicators.map { indicator in
            let periods = indicator.periods
            let categories = periods.map { "\(show($0.start)) – \(show($0.end))" }
            func amount(_ value: Int64) -> Double {
                indicator.measure == .moneySaved ? majorUnits(value, indicator.unit) : Double(value)
            }
            func shown(_ value: Int64) -> String {
                indicator.measure == .moneySaved
                    ? formatMoney(CommonV1.Money(minorUnits: value, currency: indicator.unit))
                    : indicator.unit == "basis-points"
                        ? percent(Double(value) / 10_000) : SVGChart.number(Double(value))
            }
            let series: [SVGChart.Series]
            var table: HTMLTable
            if indicator.countsPeople {
                series = [
                    .init(name: "target, women", values: periods.map { Double($0.target?.bySex?.women ?? 0) }),
                    .init(name: "actual, women", values: periods.map { Double($0.actual?.bySex?.women ?? 0) }),
                    .init(name: "target, men", values: periods.map { Double($0.target?.bySex?.men ?? 0) }),
                    .init(name: "actual, men", values: periods.map { Double($0.actual?.bySex?.men ?? 0) }),
                ]
                table = HTMLTable(
                    caption: "\(indicator.title): target and actual by sex (\(indicator.unit))", "Period",
                    "Target women", "Actual women", "Target men", "Actual men", "Target all", "Actual all",
                    numeric: [1, 2, 3, 4, 5, 6])
                for period in periods {
                    table.add(
                        "\(show(period.start)) – \(show(period.end))",
                        String(period.target?.bySex?.women ?? 0), String(period.actual?.bySex?.women ?? 0),
                        String(period.target?.bySex?.men ?? 0), String(period.actual?.bySex?.men ?? 0),
                        shown(period.target?.value ?? 0), period.actual.map { shown($0.value) } ?? "not yet")
                }
            } else {
                series = [
                    .init(name: "target", values: periods.map { amount($0.target?.value ?? 0) }),
                    .init(name: "actual", values: periods.map { amount($0.actual?.value ?? 0) }),
                ]
                table = HTMLTable(
                    caption: "\(indicator.title): target and actual", "Period", "Target", "Actual", numeric: [1, 2])
                for period in periods {
                    table.add(
                        "\(show(period.start)) – \(show(period.end))", shown(period.target?.value ?? 0),
                        period.actual.map { shown($0.value) } ?? "not yet")
                }
            }
            let baseline =
                indicator.baseline.map {
                    "Baseline\(indicator.baselineYear > 0 ? " (\(indicator.baselineYear))" : ""): \(shown($0.value))."
                }
                ?? ""
            let chart = SVGChart.bars(
                title: "\(indicator.title): target and actual per period", categories: categories, series: series,
                xLabel: "period", yLabel: indicator.measure == .moneySaved ? indicator.unit : indicator.unit)
            return figure(
                "\(indicator.title) (\(words(short(indicator.level))), \(words(short(indicator.measure)))). \(baseline)",
                chart: chart, table: table)
        }
    }

    // MARK: market

    func prices(_ bulletin: MarketplaceV1.MarketBulletin) -> [String] {
        let prices = bulletin.prices.filter { $0.count > 0 }
        guard !prices.isEmpty else { return [] }
        var content: [String] = []
        for (currency, series) in Dictionary(grouping: prices, by: \.currency).sorted(by: { $0.key < $1.key }) {
            let alerted = Set(
                series.indices.filter { index in
                    alerts.contains { $0.product == series[index].product && $0.marketID == series[index].marketID }
                })
            let categories = series.map { "\($0.product), \(names.market($0.marketID))" }
            let chart = SVGChart.bars(
                title: "Median, lowest and highest price per unit (\(currency))", categories: categories,
                series: [
                    .init(name: "lowest", values: series.map { majorUnits($0.min?.minorUnits ?? 0, currency) }),
                    .init(name: "median", values: series.map { majorUnits($0.median?.minorUnits ?? 0, currency) }),
                    .init(name: "highest", values: series.map { majorUnits($0.max?.minorUnits ?? 0, currency) }),
                ], xLabel: "craft and market", yLabel: currency, marked: alerted,
                markLabel: "a price alert in the window")
            var table = HTMLTable(
                caption: "Prices from \(show(series.first?.windowStart)) to \(show(series.first?.windowEnd))",
                "Craft", "Market", "Unit", "Median", "Lowest", "Highest", "Observations",
                "Change from the window before",
                "Alerts", numeric: [3, 4, 5, 6, 7])
            for statistics in series {
                let raised = alerts.filter { $0.product == statistics.product && $0.marketID == statistics.marketID }
                table.add(
                    statistics.product, names.market(statistics.marketID), statistics.unit,
                    formatMoney(statistics.median), formatMoney(statistics.min), formatMoney(statistics.max),
                    String(statistics.count),
                    statistics.previousCount > 0 ? percent(Double(statistics.medianChangeBp) / 10_000) : "",
                    raised.map { "\(show($0.observedOn)): \(formatMoney($0.price)), \(words(short($0.direction)))" }
                        .joined(separator: "; "))
            }
            content.append(figure("Prices, \(currency)", chart: chart, table: table))
        }
        for alert in alerts {
            content.append(
                "<p class=\"alert\">Price alert: \(escapeHTML(alert.product)) at \(escapeHTML(names.market(alert.marketID))) on \(show(alert.observedOn)): \(escapeHTML(formatMoney(alert.price))) against a usual \(escapeHTML(formatMoney(alert.trailingMedian))) (\(escapeHTML(words(short(alert.direction))))).</p>"
            )
        }
        return content
    }

    func demand(_ bulletin: MarketplaceV1.MarketBulletin) -> [String] {
        var content: [String] = []
        for (caption, signals) in [
            ("Buyers' demand the group was matched to", bulletin.matchedDemand),
            (
                "Other open demand for the group's crafts",
                bulletin.openDemand.filter { open in !bulletin.matchedDemand.contains { $0.id == open.id } }
            ),
        ] where !signals.isEmpty {
            var table = HTMLTable(
                caption: caption, "Buyer", "Craft", "Quantity", "Target price", "Needed by", "Status", numeric: [2, 3])
            for signal in signals {
                table.add(
                    signal.buyer, signal.product,
                    "\(SVGChart.number(Double(signal.quantity?.amount ?? 0))) \(signal.quantity?.unit ?? "")",
                    formatMoney(signal.targetPrice), show(signal.neededBy), words(short(signal.status)))
            }
            content.append(table.html)
        }
        return content
    }
}

/// A fractional year as the year and month it falls in: 2024.5 → "2024-07".
func yearAndMonth(_ value: Double) -> String {
    let year = Int(value.rounded(.down))
    let month = min(12, Int(((value - Double(year)) * 12).rounded(.down)) + 1)
    return String(format: "%d-%02d", year, month)
}

/// An enum's short name as words: "womens-group" → "womens group".
func words(_ name: String) -> String { name.replacingOccurrences(of: "-", with: " ") }
