import API
import Domain
import Foundation
import Schema

/// CapacityPage: assistance.
extension CapacityPage {
    func money(_ assistance: AssistanceV1.AssistanceSection) -> [String] {
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
            func value(_ year: Int32, _ pick: (AssistanceV1.FlowTotals) -> Int64) -> Double {
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
                let line = lines.first { $0.year == year } ?? AssistanceV1.FlowTotals()
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

    func trainer(_ training: AssistanceV1.Training) -> String {
        training.trainerGroupID.isEmpty
            ? names.organisation(training.trainerOrganisationID) : names.group(training.trainerGroupID)
    }

    func trainings(_ assistance: AssistanceV1.AssistanceSection) -> [String] {
        let trainings = assistance.trainings
        guard !trainings.isEmpty else { return [] }
        let ids = Set(trainings.map(\.id))
        func people(_ count: AssistanceV1.PeopleCount?) -> String {
            let count = count ?? AssistanceV1.PeopleCount()
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
        func tierOf(_ training: AssistanceV1.Training, _ depth: Int = 0) -> Int {
            if let known = tier[training.id] { return known }
            let parent = trainings.first { $0.id == training.cascadesFrom }
            let value = parent.map { depth < 50 ? tierOf($0, depth + 1) + 1 : 1 } ?? 1
            tier[training.id] = value
            return value
        }
        var tiers: [Int: (trainings: Int, women: Int64, men: Int64, other: Int64)] = [:]
        for training in trainings {
            let count = training.trainees ?? AssistanceV1.PeopleCount()
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

    func results(_ indicators: [AssistanceV1.Indicator]) -> [String] {
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
}
