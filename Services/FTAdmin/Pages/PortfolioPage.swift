import API
import Domain
import Foundation
import Schema

/// What the portfolio page is drawn from, gathered from the three services; a part whose service could not be
/// asked holds why.
struct PortfolioData {
    var groups: Result<[ProducerV1.ProducerGroup], PortfolioGap> = .success([])
    var trainings: Result<[AssistanceV1.Training], PortfolioGap> = .success([])
    /// Each cascade's first training and its reach, largest first.
    var cascades: Result<[(root: AssistanceV1.Training, reach: AssistanceV1.CascadeReach)], PortfolioGap> = .success([])
    /// Money per currency and year over every top-level project (each includes its children's).
    var money: Result<[AssistanceV1.FlowTotals], PortfolioGap> = .success([])
    var generatedAt = Date()
}

/// Why a part of the portfolio is missing: the service and what it answered.
struct PortfolioGap: Error {
    let service: String
    let reason: String
}

/// `ftadmin report portfolio --html`: the whole organisation on one page, as a board or a donor reads it.
struct PortfolioPage {
    let data: PortfolioData
    let names: PageNames

    var html: String {
        let when = show(time: CommonV1.Timestamp(unixMicros: Int64(data.generatedAt.timeIntervalSince1970 * 1_000_000)))
        var page = HTMLPage(title: "Portfolio: the producer groups we work with", subtitle: "Generated \(when)")
        func part<T>(_ result: Result<T, PortfolioGap>, _ service: String, _ draw: (T) -> [String]) -> (
            String, String?, [String]
        ) {
            switch result {
            case .success(let value): ("From \(service), \(when).", nil, draw(value))
            case .failure(let gap): ("From \(gap.service), \(when).", "\(gap.service): \(gap.reason)", [])
            }
        }
        var (source, gap, content) = part(data.groups, "producer-service", groupsByCountry)
        page.section("Producer groups by country", id: "groups", source: source, unavailable: gap, content)
        (source, gap, content) = part(data.trainings, "assistance-service", peopleTrained)
        page.section("People trained per year, by sex", id: "trained", source: source, unavailable: gap, content)
        (source, gap, content) = part(data.money, "assistance-service", moneyPerYear)
        page.section("Money per year and currency", id: "money", source: source, unavailable: gap, content)
        (source, gap, content) = part(data.cascades, "assistance-service", cascadeReach)
        page.section("Reach of every cascade", id: "cascades", source: source, unavailable: gap, content)
        (source, gap, content) = part(data.trainings, "assistance-service", skillsGained)
        page.section("Skills gained through trainings", id: "skills", source: source, unavailable: gap, content)
        return page.html
    }

    func groupsByCountry(_ groups: [ProducerV1.ProducerGroup]) -> [String] {
        guard !groups.isEmpty else { return [] }
        let byCountry = Dictionary(grouping: groups, by: \.country)
        let countries = byCountry.keys.sorted {
            (byCountry[$0]!.count, $1) > (byCountry[$1]!.count, $0)
        }
        func members(_ groups: [ProducerV1.ProducerGroup], _ pick: (ProducerV1.MemberCounts) -> Int32) -> Int64 {
            groups.reduce(Int64(0)) { $0 + Int64(pick($1.members ?? ProducerV1.MemberCounts())) }
        }
        var table = HTMLTable(
            caption: "Groups and their members by country", "Country", "Groups", "Women members", "Men members",
            "Other or not said", numeric: [1, 2, 3, 4])
        for country in countries {
            let here = byCountry[country]!
            table.add(
                CountryCode.names[country] ?? country, String(here.count),
                SVGChart.number(Double(members(here, \.women))), SVGChart.number(Double(members(here, \.men))),
                SVGChart.number(Double(members(here, \.other))))
        }
        table.add(
            "All", String(groups.count), SVGChart.number(Double(members(groups, \.women))),
            SVGChart.number(Double(members(groups, \.men))), SVGChart.number(Double(members(groups, \.other))))
        let chart = SVGChart.bars(
            title: "Producer groups by country", categories: countries.map { CountryCode.names[$0] ?? $0 },
            series: [.init(name: "groups", values: countries.map { Double(byCountry[$0]!.count) })],
            xLabel: "country", yLabel: "groups")
        return [figure("Producer groups by country", chart: chart, table: table)]
    }

    func peopleTrained(_ trainings: [AssistanceV1.Training]) -> [String] {
        let held = trainings.filter { ($0.heldOn?.year ?? 0) > 0 }
        guard !held.isEmpty else { return [] }
        let byYear = Dictionary(grouping: held) { $0.heldOn!.year }
        let years = byYear.keys.sorted()
        func sum(_ year: Int32, _ pick: (AssistanceV1.PeopleCount) -> Int32) -> Int64 {
            byYear[year]!.reduce(Int64(0)) { $0 + Int64(pick($1.trainees ?? AssistanceV1.PeopleCount())) }
        }
        var table = HTMLTable(
            caption: "People trained per year (each training counted in the year it was held)", "Year", "Trainings",
            "Women", "Men", "Other or not said", "All", numeric: [1, 2, 3, 4, 5])
        for year in years {
            let (women, men, other) = (sum(year, \.women), sum(year, \.men), sum(year, \.other))
            table.add(
                String(year), String(byYear[year]!.count), SVGChart.number(Double(women)),
                SVGChart.number(Double(men)), SVGChart.number(Double(other)),
                SVGChart.number(Double(women + men + other)))
        }
        let chart = SVGChart.bars(
            title: "People trained per year, by sex", categories: years.map { String($0) },
            series: [
                .init(name: "women", values: years.map { Double(sum($0, \.women)) }),
                .init(name: "men", values: years.map { Double(sum($0, \.men)) }),
                .init(name: "other or not said", values: years.map { Double(sum($0, \.other)) }),
            ], xLabel: "year", yLabel: "people", stacked: true)
        return [figure("People trained per year, by sex", chart: chart, table: table)]
    }

    func moneyPerYear(_ totals: [AssistanceV1.FlowTotals]) -> [String] {
        Set(totals.map(\.currency)).sorted().map { currency in
            let lines = totals.filter { $0.currency == currency }.sorted { $0.year < $1.year }
            func amount(_ minor: Int64) -> String { formatMoney(CommonV1.Money(minorUnits: minor, currency: currency)) }
            var table = HTMLTable(
                caption: "Money per year in \(currency), over every project (each with the projects under it)", "Year",
                "Committed", "Disbursed", "Spent", "Loans", "Repaid", "Owed", numeric: [1, 2, 3, 4, 5, 6])
            for line in lines {
                table.add(
                    String(line.year), amount(line.commitments), amount(line.disbursements), amount(line.expenditure),
                    amount(line.loans), amount(line.loanRepayments), amount(line.loansOutstanding))
            }
            let chart = SVGChart.bars(
                title: "Money per year in \(currency)", categories: lines.map { String($0.year) },
                series: [
                    .init(name: "committed", values: lines.map { majorUnits($0.commitments, currency) }),
                    .init(name: "disbursed", values: lines.map { majorUnits($0.disbursements, currency) }),
                    .init(name: "spent", values: lines.map { majorUnits($0.expenditure, currency) }),
                    .init(name: "loans", values: lines.map { majorUnits($0.loans, currency) }),
                ], xLabel: "year", yLabel: currency)
            return figure("Money per year, \(currency)", chart: chart, table: table)
        }
    }

    func cascadeReach(_ cascades: [(root: AssistanceV1.Training, reach: AssistanceV1.CascadeReach)]) -> [String] {
        guard !cascades.isEmpty else { return [] }
        func title(_ training: AssistanceV1.Training) -> String {
            "\(training.title.isEmpty ? training.skill : training.title) (\(show(training.heldOn)))"
        }
        var table = HTMLTable(
            caption: "Every cascade: the people its first training reached, and those they trained in turn", "Cascade",
            "Trainer", "Tiers", "Groups reached", "Women", "Men", "All", "Multiplier", numeric: [2, 3, 4, 5, 6, 7])
        for (root, reach) in cascades {
            let people = reach.people ?? AssistanceV1.PeopleCount()
            let first = reach.tiers.first?.total ?? 0
            table.add(
                title(root),
                root.trainerGroupID.isEmpty
                    ? names.organisation(root.trainerOrganisationID) : names.group(root.trainerGroupID),
                String(reach.tiers.count), String(reach.groupsReached), SVGChart.number(Double(people.women)),
                SVGChart.number(Double(people.men)), SVGChart.number(Double(reach.total)),
                first > 0 ? String(format: "%.1f×", Double(reach.total) / Double(first)) : "")
        }
        let chart = SVGChart.bars(
            title: "People reached by each cascade, by sex", categories: cascades.map { title($0.root) },
            series: [
                .init(name: "women", values: cascades.map { Double($0.reach.people?.women ?? 0) }),
                .init(name: "men", values: cascades.map { Double($0.reach.people?.men ?? 0) }),
                .init(name: "other or not said", values: cascades.map { Double($0.reach.people?.other ?? 0) }),
            ], xLabel: "cascade", yLabel: "people", stacked: true)
        return [figure("Reach of every cascade", chart: chart, table: table)]
    }

    func skillsGained(_ trainings: [AssistanceV1.Training]) -> [String] {
        let completed = trainings.filter { !$0.results.isEmpty }
        guard !completed.isEmpty else { return [] }
        let bySkill = Dictionary(grouping: completed, by: \.skill)
        let skills = bySkill.keys.sorted()
        var table = HTMLTable(
            caption: "Levels recorded when trainings were completed (0 none – 4 can teach others)", "Skill",
            "Trainings", "Groups", "Members holding the skill", "Average level", numeric: [1, 2, 3, 4])
        var average: [Double] = []
        for skill in skills {
            let results = bySkill[skill]!.flatMap(\.results)
            let mean = results.isEmpty ? 0 : Double(results.reduce(0) { $0 + Int($1.level) }) / Double(results.count)
            average.append(mean)
            table.add(
                skill, String(bySkill[skill]!.count), String(Set(results.map(\.groupID)).count),
                SVGChart.number(Double(results.reduce(Int64(0)) { $0 + Int64($1.membersHolding) })),
                String(format: "%.1f", mean))
        }
        let chart = SVGChart.bars(
            title: "Average level reached per skill at the end of its trainings", categories: skills,
            series: [.init(name: "average level", values: average)], xLabel: "skill", yLabel: "level (0–4)")
        return [figure("Skills gained", chart: chart, table: table)]
    }
}
