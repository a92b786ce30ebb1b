import API
import ArgumentParser
import Domain
import RPC
import Schema
import ServiceKit

/// `ftadmin report …`: reports drawn from several services.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports drawn from all three services.",
        subcommands: [Capacity.self, Portfolio.self])
}

extension ReportCommand {
    struct Capacity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A producer group's capacity: profile, skills and independence; assistance; market.",
            discussion: """
                A section whose service is down is marked unavailable with the reason; the rest still prints. \
                With --html or --pdf, the report is a page with charts (each with the table of its figures) to send \
                to a donor or a board.
                """)
        @Argument(help: "Producer group id.") var group: String
        @Option(parsing: .unconditional, help: "Days of market information, 1-365.") var marketDays: Int32 = 90
        @OptionGroup var page: ReportFileOptions
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let report = try await client.getCapacityReport(
                    AssistanceV1.GetCapacityReportRequest(groupID: group, marketDays: marketDays),
                    options: global.callOptions)
                if page.wanted {
                    try page.write(await capacityPage(report))
                    return
                }
                let trainings = report.assistance?.trainings ?? []
                let names = await global.pageNames(
                    groups: groupIDs(of: trainings).union([report.groupID]), trainings: parentIDs(of: trainings))
                try emit(report, global) { capacityText(report, names: names) }
            }
        }
    }
}

extension ReportCommand {
    struct Portfolio: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The whole organisation on one page: groups by country, people trained, money, cascades, skills.",
            discussion: """
                Drawn from every producer group, training and project. A part whose service is down says so; the \
                rest still renders.
                """)
        @OptionGroup var page: ReportFileOptions
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard page.wanted else {
                throw ValidationError("say where the page goes: --html FILE, --pdf FILE, or both")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let data = await gather()
                let trainers = (try? data.trainings.get())?.map(\.trainerGroupID) ?? []
                let names = await global.pageNames(groups: Set(trainers))
                try page.write(PortfolioPage(data: data, names: names).html)
            }
        }

        /// Every group, training and top-level project's money, each part from its own service.
        func gather() async -> PortfolioData {
            var data = PortfolioData()
            let options = global.callOptions(defaultSeconds: 120)
            func gap(_ service: ServiceAddress, _ error: any Error) -> PortfolioGap {
                PortfolioGap(
                    service: service.executable,
                    reason: (error as? RPCError).map { "\($0.code): \($0.message)" } ?? "\(error)")
            }
            do {
                let channel = try global.channel(to: ServiceDirectory.producer)
                defer { channel.close() }
                let client = ProducerV1.ProducerServiceClient(channel: channel)
                var groups: [ProducerV1.ProducerGroup] = []
                var request = ProducerV1.ListProducerGroupsRequest(pageSize: 500)
                repeat {
                    let page = try await client.listProducerGroups(request, options: options)
                    groups += page.groups
                    request.pageToken = page.nextPageToken
                } while !request.pageToken.isEmpty
                data.groups = .success(groups)
            } catch {
                data.groups = .failure(gap(ServiceDirectory.producer, error))
            }
            // Trainings, cascades and money are asked apart: one refused leaves the others on the page. A service
            // that cannot be reached is not asked again (each call would wait out its deadline).
            let assistance = Result { try global.channel(to: ServiceDirectory.assistance) }
            defer { try? assistance.get().close() }
            var unreachable: PortfolioGap?
            func ask<T>(_ body: (AssistanceV1.AssistanceServiceClient) async throws -> T) async -> Result<
                T, PortfolioGap
            > {
                if let unreachable { return .failure(unreachable) }
                do {
                    return .success(try await body(AssistanceV1.AssistanceServiceClient(channel: try assistance.get())))
                } catch {
                    let missing = gap(ServiceDirectory.assistance, error)
                    if let code = (error as? RPCError)?.code, code != .unavailable && code != .deadlineExceeded {
                        return .failure(missing)
                    }
                    unreachable = missing
                    return .failure(missing)
                }
            }
            data.trainings = await ask { client in
                var trainings: [AssistanceV1.Training] = []
                var request = AssistanceV1.ListTrainingsRequest(pageSize: 1000)
                repeat {
                    let page = try await client.listTrainings(request, options: options)
                    trainings += page.trainings
                    request.pageToken = page.nextPageToken
                } while !request.pageToken.isEmpty
                return trainings
            }
            switch data.trainings {
            case .failure(let missing): data.cascades = .failure(missing)
            case .success(let trainings):
                data.cascades = await ask { client in
                    let parents = Set(trainings.map(\.cascadesFrom))
                    var cascades: [(root: AssistanceV1.Training, reach: AssistanceV1.CascadeReach)] = []
                    for root in trainings where root.cascadesFrom.isEmpty && parents.contains(root.id) {
                        cascades.append(
                            (root, try await client.getCascadeReach(.init(trainingID: root.id), options: options)))
                    }
                    return cascades.sorted { $0.reach.total > $1.reach.total }
                }
            }
            data.money = await ask { client in
                var money: [String: AssistanceV1.FlowTotals] = [:]
                for project in try await client.listProjects(.init(), options: options).projects
                where project.parentID.isEmpty {
                    let totals = try await client.getMoneyTotals(.init(projectID: project.id), options: options)
                    for line in totals.byYear {
                        var sum =
                            money["\(line.currency) \(line.year)"]
                            ?? AssistanceV1.FlowTotals(currency: line.currency, year: line.year)
                        sum.commitments &+= line.commitments
                        sum.disbursements &+= line.disbursements
                        sum.expenditure &+= line.expenditure
                        sum.loans &+= line.loans
                        sum.loanRepayments &+= line.loanRepayments
                        sum.loansOutstanding &+= line.loansOutstanding
                        sum.transactions &+= line.transactions
                        money["\(line.currency) \(line.year)"] = sum
                    }
                }
                return Array(money.values)
            }
            return data
        }
    }
}

extension ReportCommand.Capacity {
    /// The report as a page: with the names of the groups, organisations and markets it mentions, and the price
    /// alerts of the group's crafts in the market window.
    func capacityPage(_ report: AssistanceV1.CapacityReport) async -> String {
        let trainings = report.assistance?.trainings ?? []
        let groupIDs = Set(trainings.flatMap { $0.trainedGroupIDs + [$0.trainerGroupID] } + [report.groupID])
        let names = await global.pageNames(groups: groupIDs)
        let bulletin = report.market?.bulletin ?? MarketplaceV1.MarketBulletin()
        let options = global.callOptions
        let alerts = await global.ask(
            ServiceDirectory.marketplaceInfo, MarketplaceV1.MarketplaceInfoServiceClient.init(channel:)
        ) { client in
            var alerts: [MarketplaceV1.PriceAlert] = []
            for product in Set(bulletin.prices.map(\.product)).sorted() {
                let since = bulletin.prices.first { $0.product == product }?.windowStart
                alerts += try await client.listPriceAlerts(
                    MarketplaceV1.ListPriceAlertsRequest(product: product, since: since), options: options
                ).alerts.filter { alert in
                    bulletin.prices.contains { $0.product == alert.product && $0.marketID == alert.marketID }
                }
            }
            return alerts
        }
        return CapacityPage(report: report, names: names, alerts: alerts ?? []).html
    }
}

func sectionHeading(_ title: String, _ status: AssistanceV1.SectionStatus?) -> String {
    guard let status, !status.available else { return "== \(title) ==" }
    return "== \(title) == UNAVAILABLE (\(status.service): \(status.code): \(status.reason))"
}

/// - Parameter names: the names of the organisations, groups and markets the report mentions.
func capacityText(_ report: AssistanceV1.CapacityReport, names: PageNames = PageNames()) -> String {
    var lines: [String] = []
    let producer = report.producer ?? AssistanceV1.ProducerSection()
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
    let assistance = report.assistance ?? AssistanceV1.AssistanceSection()
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
            "referred to \(names.label(referral.organisationID)) for \(referral.purpose) on \(show(referral.referredOn)): \(short(referral.outcome))"
        )
    }
    if !assistance.results.isEmpty { lines.append(indicatorText(assistance.results, names: names)) }
    lines.append("")
    lines.append(sectionHeading("Market", report.market?.status))
    if let bulletin = report.market?.bulletin {
        for price in bulletin.prices {
            lines.append(
                "price: \(price.product) at \(names.label(price.marketID)): median \(formatMoney(price.median)) per \(price.unit) (\(price.count) observations)"
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
