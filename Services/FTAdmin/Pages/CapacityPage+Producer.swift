import API
import Domain
import Foundation
import Schema

/// CapacityPage: producer.
extension CapacityPage {
    func profile(_ producer: AssistanceV1.ProducerSection) -> [String] {
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

    func skills(_ producer: AssistanceV1.ProducerSection) -> [String] {
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

    func buyers(_ producer: AssistanceV1.ProducerSection) -> [String] {
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
}
