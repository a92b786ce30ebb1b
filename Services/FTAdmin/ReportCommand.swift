import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin report …`: reports drawn from several services.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports drawn from all three services.", subcommands: [Capacity.self])
}

extension ReportCommand {
    struct Capacity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A producer group's capacity: profile, skills and independence; assistance; market.",
            discussion: "A section whose service is down is marked unavailable with the reason; the rest still prints.")
        @Argument(help: "Producer group id.") var group: String
        @Option(parsing: .unconditional, help: "Days of market information, 1-365.") var marketDays: Int32 = 90
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                async let names = try? client.listOrganisations(
                    A.ListOrganisationsRequest(), options: global.callOptions)
                let report = try await client.getCapacityReport(
                    A.GetCapacityReportRequest(groupID: group, marketDays: marketDays), options: global.callOptions)
                let organisations = await names?.organisations ?? []
                try emit(report, global) {
                    capacityText(
                        report,
                        names: Dictionary(organisations.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a }))
                }
            }
        }
    }
}

func sectionHeading(_ title: String, _ status: A.SectionStatus?) -> String {
    guard let status, !status.available else { return "== \(title) ==" }
    return "== \(title) == UNAVAILABLE (\(status.service): \(status.code): \(status.reason))"
}

/// - Parameter names: organisation names by id.
func capacityText(_ report: A.CapacityReport, names: [String: String] = [:]) -> String {
    var lines: [String] = []
    let producer = report.producer ?? A.ProducerSection()
    let name = producer.profile?.name ?? report.market?.bulletin?.groupName ?? ""
    lines.append("Capacity report for \(name.isEmpty ? report.groupID : "\(name) [\(report.groupID)]")")
    lines.append("")
    lines.append(sectionHeading("Producer", producer.status))
    if let profile = producer.profile {
        lines.append(
            "\(profile.country) \(profile.region)  \(short(profile.kind))  crafts: \(profile.crafts.joined(separator: ", "))"
        )
        if let members = profile.members {
            lines.append(
                "members: \(Int64(members.women) + Int64(members.men) + Int64(members.other)) (\(members.women) women, \(members.men) men)"
            )
        }
        if !producer.skills.isEmpty {
            var table = Table("ASSESSED", "SKILL", "LEVEL", "MEMBERS", "BY")
            for skill in producer.skills {
                table.add(
                    show(skill.assessedOn), skill.skill, String(skill.level), String(skill.membersHolding),
                    skill.assessor)
            }
            lines.append("skills over time:")
            lines.append(table.render())
        }
        if let independence = producer.independence {
            if independence.buyersCounted > 0 {
                lines.append(
                    """
                    independence: largest buyer \(independence.largestBuyer) \(Double(independence.largestBuyerShareBp) / 100)% \
                    of purchases (\(independence.currency)), HHI \(independence.buyerConcentrationHhi), \
                    \(independence.buyersCounted) buyers; in-house processes \(Double(independence.inHouseProcessShareBp) / 100)%
                    """)
            }
        }
        for buyer in producer.buyers {
            lines.append(
                "buyer: \(buyer.organisation) since \(show(buyer.since)) (\(short(buyer.kind))) \(formatMoney(buyer.yearlyPurchases))/year"
            )
        }
    }
    lines.append("")
    let assistance = report.assistance ?? A.AssistanceSection()
    lines.append(sectionHeading("Assistance", assistance.status))
    if let money = assistance.money, !money.totals.isEmpty { lines.append(totalsTable(money.totals)) }
    for item in assistance.equipment {
        lines.append(
            "equipment: \(item.description), \(formatMoney(item.value)) on \(show(item.deliveredOn))\(item.replaces.isEmpty ? "" : "; replaced \(item.replaces)")"
        )
    }
    if !assistance.trainings.isEmpty { lines.append(trainingTable(assistance.trainings, names: names)) }
    for referral in assistance.referrals {
        lines.append(
            "referred to \(names[referral.organisationID] ?? referral.organisationID) for \(referral.purpose) on \(show(referral.referredOn)): \(short(referral.outcome))"
        )
    }
    if !assistance.results.isEmpty { lines.append(indicatorText(assistance.results)) }
    lines.append("")
    lines.append(sectionHeading("Market", report.market?.status))
    if let bulletin = report.market?.bulletin {
        for price in bulletin.prices {
            lines.append(
                "price: \(price.product) at \(price.marketID): median \(formatMoney(price.median)) per \(price.unit) (\(price.count) observations)"
            )
        }
        for signal in bulletin.matchedDemand {
            lines.append(
                "matched demand: \(signal.buyer) wants \(signal.quantity?.amount ?? 0) \(signal.quantity?.unit ?? "") \(signal.product) by \(show(signal.neededBy))"
            )
        }
        for signal in bulletin.openDemand {
            lines.append(
                "open demand: \(signal.buyer) wants \(signal.quantity?.amount ?? 0) \(signal.quantity?.unit ?? "") \(signal.product) by \(show(signal.neededBy))"
            )
        }
        for entry in bulletin.newPractices { lines.append("new practice: \(entry.title)") }
    }
    return lines.joined(separator: "\n")
}
