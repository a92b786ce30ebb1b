import API
import ArgumentParser
import Domain
import Foundation
import Logging
import RPC
import Schema

/// `rpc-bench capacity`: the capacity report through the RPC, against each downstream call it makes, with the three
/// services as separate processes on SQLite. Every round times each downstream call on its own (the same request
/// the report sends) and then the report, so all of them see the same machine. The report runs its downstream calls
/// in parallel; the target is its p50 ≤ 1.5× the slowest of theirs.
struct CapacityBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity", abstract: "Benchmark the capacity report against the downstream calls it makes.")

    @Option(help: "Rounds measured (each times every downstream call and the report once).") var rounds = 2_000
    @Option(help: "Price observations per craft and market (90 days back).") var pricesPerSeries = 60
    @Flag(help: "One JSON object per line.") var json = false

    func run() throws {
        let logger = Logger(label: "capacity-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let services = try ServiceProcesses(["producer-service", "marketplace-info-service", "assistance-service"])
        defer { withExtendedLifetime(services) {} }
        let producerEndpoint = services.endpoint(0)
        let marketEndpoint = services.endpoint(1)
        let assistanceEndpoint = services.endpoint(2)

        let (results, seeded): ([Measurement], Duration) = try blockingRun {
            func channel(_ endpoint: String) throws -> ClientChannel {
                try ClientChannel(
                    endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(30)), logger: logger)
            }
            let channels = [
                try channel(producerEndpoint), try channel(marketEndpoint), try channel(assistanceEndpoint),
            ]
            defer { channels.forEach { $0.close() } }
            for channel in channels { try await HealthV1.HealthClient(channel: channel).waitUntilServing() }
            let producer = ProducerV1.ProducerServiceClient(channel: channels[0])
            let market = MarketplaceV1.MarketplaceInfoServiceClient(channel: channels[1])
            let assistance = AssistanceV1.AssistanceServiceClient(channel: channels[2])
            let seedStart = ContinuousClock.now
            let group = try await Self.seed(producer, market, assistance, pricesPerSeries: pricesPerSeries)
            let seeded = ContinuousClock.now - seedStart

            // The report's own requests, as it sends them (the bulletin with the crafts it already knows).
            let bulletinRequest = MarketplaceV1.GetMarketBulletinRequest(
                groupID: group.id, crafts: group.crafts, country: group.country, groupName: group.name)
            let operations: [(String, () async throws -> Void)] = [
                ("producer.GetProducerGroup", { _ = try await producer.getProducerGroup(.init(id: group.id)) }),
                (
                    "producer.ListSkillAssessments",
                    { _ = try await producer.listSkillAssessments(.init(groupID: group.id)) }
                ),
                (
                    "producer.GetIndependenceProfile",
                    { _ = try await producer.getIndependenceProfile(.init(groupID: group.id)) }
                ),
                (
                    "producer.ListBuyerRelationships",
                    { _ = try await producer.listBuyerRelationships(.init(groupID: group.id)) }
                ),
                ("market.GetMarketBulletin", { _ = try await market.getMarketBulletin(bulletinRequest) }),
                (
                    "assistance.GetCapacityReport",
                    {
                        let report = try await assistance.getCapacityReport(.init(groupID: group.id))
                        precondition(
                            report.producer?.status?.available == true && report.market?.status?.available == true
                                && report.assistance?.status?.available == true,
                            "a section of the report was unavailable")
                    }
                ),
            ]
            for _ in 0..<100 { for (_, call) in operations { try await call() } }
            var samples = Array(repeating: [UInt64](), count: operations.count)
            let start = ContinuousClock.now
            for _ in 0..<rounds {
                for (index, (_, call)) in operations.enumerated() {
                    let before = nowNanos()
                    try await call()
                    samples[index].append(nowNanos() - before)
                }
            }
            let elapsed = ContinuousClock.now - start
            return (
                operations.enumerated().map { index, operation in
                    Measurement(
                        system: "capacity", mode: operation.0, samples: samples[index], elapsed: elapsed, calls: rounds)
                }, seeded
            )
        }
        let downstream = results.dropLast()
        let slowest = downstream.max { $0.p50 < $1.p50 }!
        let report = results.last!
        let ratio = report.p50 / slowest.p50
        if json {
            for result in results { print(result.json) }
            print(
                String(
                    format: #"{"system": "capacity", "report_p50_over_slowest_downstream_p50": %.3f, "slowest": "%@"}"#,
                    ratio, slowest.mode))
        } else {
            print("capacity report: 3 service processes on SQLite (seeded in \(seeded)), \(rounds) rounds")
            print("call                              p50 µs    p99 µs")
            for result in results {
                print(
                    result.mode.padding(toLength: 34, withPad: " ", startingAt: 0)
                        + String(format: "%-10.1f%-10.1f", result.p50, result.p99))
            }
            print(
                String(format: "report p50 / slowest downstream p50 (%@): %.2f× (target ≤ 1.5×)", slowest.mode, ratio))
            let serial = downstream.map(\.p50).reduce(0, +)
            print(
                String(
                    format:
                        "report p50 / sum of downstream p50s (what calling them one after another would cost): %.2f×",
                    report.p50 / serial))
        }
    }

    /// A group with a realistic history in all three services: assessments, buyers, money, trainings, referrals and
    /// results; prices for its crafts in 10 markets and demand for them.
    static func seed(
        _ producer: ProducerV1.ProducerServiceClient, _ market: MarketplaceV1.MarketplaceInfoServiceClient,
        _ assistance: AssistanceV1.AssistanceServiceClient, pricesPerSeries: Int
    ) async throws
        -> ProducerV1.ProducerGroup
    {
        let group = try await producer.createProducerGroup(
            .init(
                group: ProducerV1.ProducerGroup(
                    name: "Bolga Basket Weavers", kind: .cooperative, country: "GH", crafts: ["baskets", "hats"],
                    processesInHouse: ["weaving", "dyeing"], processesOutsourced: ["straw"],
                    members: ProducerV1.MemberCounts(women: 18, men: 2)), requestID: "g"))
        let villages = try await (0..<3).asyncMap { index in
            try await producer.createProducerGroup(
                .init(
                    group: ProducerV1.ProducerGroup(
                        name: "Village \(index)", kind: .womensGroup, country: "GH", crafts: ["baskets"]),
                    requestID: "v\(index)"))
        }
        let today = ISODate.today()
        for (index, skill) in ["basketry", "natural-dyeing", "bookkeeping", "export-pricing", "training-others"]
            .enumerated()
        {
            for year in 0..<4 {
                _ = try await producer.recordSkillAssessment(
                    .init(
                        assessment: ProducerV1.SkillAssessment(
                            groupID: group.id, skill: skill,
                            assessedOn: today.adding(days: -365 * year - index).message,
                            level: Int32(max(0, 4 - year)), membersHolding: 20), requestID: "s\(index)-\(year)"))
            }
        }
        for index in 0..<5 {
            _ = try await producer.addBuyerRelationship(
                .init(
                    relationship: ProducerV1.BuyerRelationship(
                        groupID: group.id, organisation: "Buyer \(index)",
                        since: today.adding(days: -400 * (index + 1)).message,
                        kind: .directPurchase,
                        yearlyPurchases: CommonV1.Money(minorUnits: Int64(100_000 * (index + 1)), currency: "USD")),
                    requestID: "b\(index)"))
        }
        let serrv = try await assistance.createOrganisation(
            .init(
                organisation: AssistanceV1.Organisation(name: "SERRV", kind: .member), requestID: "o1"))
        let tradeAid = try await assistance.createOrganisation(
            .init(
                organisation: AssistanceV1.Organisation(name: "Trade Aid Integrated", kind: .development),
                requestID: "o2"))
        let project = try await assistance.createProject(
            .init(
                project: AssistanceV1.Project(
                    title: "Africa capacity building", reportingOrganisationID: serrv.id, status: .implementation,
                    plannedStart: today.adding(days: -1000).message, plannedEnd: today.adding(days: 365).message,
                    budget: [
                        CommonV1.Money(minorUnits: 10_000_000, currency: "USD"),
                        CommonV1.Money(minorUnits: 50_000_000, currency: "GHS"),
                    ]),
                requestID: "p"))
        let types: [AssistanceV1.TransactionType] = [.disbursement, .loan, .advancePayment, .loanRepayment]
        for index in 0..<60 {
            _ = try await assistance.recordTransaction(
                .init(
                    transaction: AssistanceV1.Transaction(
                        projectID: project.id, type: types[index % 4],
                        value: CommonV1.Money(minorUnits: 10_000, currency: (index / 4) % 3 == 0 ? "USD" : "GHS"),
                        date: today.adding(days: -600 + index * 5).message, groupID: group.id), requestID: "t\(index)"))
        }
        let first = try await assistance.recordTraining(
            .init(
                training: AssistanceV1.Training(
                    title: "Train the trainers", skill: "basketry", heldOn: today.adding(days: -900).message,
                    trainerOrganisationID: tradeAid.id, trainedGroupIDs: [group.id],
                    trainees: AssistanceV1.PeopleCount(women: 10, men: 2)),
                requestID: "tr"))
        for (index, village) in villages.enumerated() {
            _ = try await assistance.recordTraining(
                .init(
                    training: AssistanceV1.Training(
                        title: "Basketry \(index)", skill: "basketry", heldOn: today.adding(days: -800 + index).message,
                        trainerGroupID: group.id, trainedGroupIDs: [village.id],
                        trainees: AssistanceV1.PeopleCount(women: 76, men: 4),
                        cascadesFrom: first.id), requestID: "tr\(index)"))
        }
        for index in 0..<4 {
            _ = try await assistance.createReferral(
                .init(
                    referral: AssistanceV1.Referral(
                        groupID: group.id, organisationID: tradeAid.id, purpose: "referral \(index)",
                        referredOn: today.adding(days: -100 * index).message), requestID: "r\(index)"))
            _ = try await assistance.defineIndicator(
                .init(
                    indicator: AssistanceV1.Indicator(
                        projectID: project.id, groupID: group.id, level: .outcome, measure: .jobsCreated,
                        title: "Jobs \(index)",
                        unit: "jobs",
                        periods: [
                            AssistanceV1.IndicatorPeriod(
                                start: date(2025, 1, 1), end: date(2025, 12, 31),
                                actual: AssistanceV1.IndicatorValue(bySex: AssistanceV1.PeopleCount(women: 3, men: 1)))
                        ]),
                    requestID: "i\(index)"))
        }
        _ = try await assistance.recordEquipment(
            .init(
                equipment: AssistanceV1.Equipment(
                    groupID: group.id, description: "Dye vats",
                    value: CommonV1.Money(minorUnits: 250_000, currency: "GHS"),
                    deliveredOn: today.adding(days: -300).message), requestID: "e"))

        for index in 0..<10 {
            let place = try await market.createMarket(
                .init(
                    market: MarketplaceV1.Market(
                        name: "Market \(index)", country: "GH", kind: .localMarket), requestID: "m\(index)"))
            for craft in group.crafts {
                for day in 0..<pricesPerSeries {
                    _ = try await market.recordPrice(
                        .init(
                            observation: MarketplaceV1.PriceObservation(
                                product: craft, marketID: place.id, priceType: .producer, unit: "piece",
                                price: CommonV1.Money(
                                    minorUnits: Int64(4_000 + (day * 37 + index * 11) % 900), currency: "GHS"),
                                observedOn: today.adding(days: -(day * 90 / pricesPerSeries)).message),
                            requestID: "pr\(index)-\(craft)-\(day)"))
                }
            }
        }
        for index in 0..<8 {
            let signal = try await market.postDemand(
                .init(
                    signal: MarketplaceV1.DemandSignal(
                        buyer: "Buyer \(index)", product: "baskets",
                        quantity: MarketplaceV1.DemandQuantity(amount: 100, unit: "piece"),
                        neededBy: today.adding(days: 120).message, countries: ["GH"]), requestID: "d\(index)"))
            if index % 2 == 0 { _ = try await market.matchDemand(.init(signalID: signal.id)) }
        }
        for index in 0..<10 {
            _ = try await market.addLibraryEntry(
                .init(
                    entry: MarketplaceV1.LibraryEntry(
                        title: "Lesson \(index)", body: "Weaving tight baskets for export: lesson \(index).",
                        crafts: ["baskets"],
                        authorKind: .organisation, author: "SERRV"), requestID: "l\(index)"))
        }
        return group
    }

    static func date(_ year: Int32, _ month: Int32, _ day: Int32) -> CommonV1.Date {
        CommonV1.Date(year: year, month: month, day: day)
    }
}

extension Range where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async throws -> [T] {
        var results: [T] = []
        for index in self { results.append(try await transform(index)) }
        return results
    }
}
