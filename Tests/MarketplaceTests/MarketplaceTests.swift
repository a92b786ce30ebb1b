import API
import Domain
import RPC
import Schema
import TestSupport
import Testing

@Suite("Marketplace-Info", .serialized)
struct MarketplaceTests {
    typealias M = MarketplaceV1

    @Test("markets and retail partners, counted by region and channel", arguments: Backend.allCases)
    func marketsAndPartners(backend: Backend) async throws {
        try await withMarketplace(backend, producerEndpoint: deadEndpoint()) { market in
            let client = market.client
            let request = M.CreateMarketRequest(
                market: M.Market(
                    name: "Bolgatanga central market", country: "gh", adminArea: "Upper East", kind: .localMarket),
                requestID: "mk-1")
            let created = try await client.createMarket(request)
            #expect(created.country == "GH" && created.id.hasPrefix("mk_"))
            #expect(try await client.createMarket(request).id == created.id)
            _ = try await client.createMarket(
                M.CreateMarketRequest(
                    market: M.Market(name: "Phnom Penh export", country: "KH", kind: .export), requestID: "mk-2"))
            #expect(try await client.listMarkets(M.ListMarketsRequest(country: "GH")).markets.map(\.id) == [created.id])
            let bad = await failure {
                try await client.createMarket(
                    M.CreateMarketRequest(market: M.Market(name: "", country: "ZZ"), requestID: "x"))
            }
            #expect(Set(bad?.fieldViolations.map(\.field) ?? []) == ["market.name", "market.country", "market.kind"])

            for (index, (region, channel, outlets)) in [
                ("California", M.SalesChannel.retailStore, 3), ("California", .onlineShop, 1),
                ("Oregon", .retailStore, 2),
                ("New York", .museumShop, 1),
            ].enumerated() {
                _ = try await client.addRetailPartner(
                    M.AddRetailPartnerRequest(
                        partner: M.RetailPartner(
                            name: "Shop \(index)", buyerOrganisation: "Handmade Expressions", country: "US",
                            region: region, channel: channel, outlets: Int32(outlets)),
                        requestID: "rp-\(index)"))
            }
            let byRegion = try await client.countRetailPartners(
                M.CountRetailPartnersRequest(buyerOrganisation: "Handmade Expressions", groupBy: .region))
            #expect(byRegion.totalPartners == 4 && byRegion.totalOutlets == 7)
            #expect(byRegion.counts.first == M.PartnerCount(key: "US / California", partners: 2, outlets: 4))
            let byChannel = try await client.countRetailPartners(M.CountRetailPartnersRequest(groupBy: .channel))
            #expect(
                byChannel.counts.first == M.PartnerCount(key: "retail-store", partners: 2, outlets: 5))
        }
    }

    @Test("prices: an alert when a price leaves its usual range, statistics over a window", arguments: Backend.allCases)
    func prices(backend: Backend) async throws {
        try await withMarketplace(backend, producerEndpoint: deadEndpoint()) { market in
            let client = market.client
            let place = try await client.createMarket(
                M.CreateMarketRequest(
                    market: M.Market(name: "Bolga", country: "GH", kind: .localMarket), requestID: "mk"))
            // As a monitor types them: the product capitalised, the currency in lower case.
            func record(_ minor: Int64, _ day: String, _ key: String) async throws -> M.RecordPriceResponse {
                try await recordPrice(
                    client, market: place.id, minor, day, requestID: key, product: "Baskets", currency: "ghs",
                    source: "survey")
            }
            // The previous window (90 days before 2025-06-30 starts 2025-04-01): two observations at 800.
            _ = try await record(800, "2025-02-10", "p0")
            _ = try await record(800, "2025-03-10", "p1")
            for (index, (minor, day)) in [
                (1000, "2025-04-05"), (1100, "2025-04-20"), (900, "2025-05-01"), (1000, "2025-05-10"),
                (1050, "2025-05-20"),
            ].enumerated() {
                let response = try await record(Int64(minor), day, "n\(index)")
                #expect(response.alert == nil)
            }
            let high = try await record(2000, "2025-06-01", "high")
            #expect(high.alert?.direction == .aboveRange && high.alert?.ratioBp == 20_000)
            #expect(high.alert?.trailingMedian == CommonV1.Money(minorUnits: 1000, currency: "GHS"))
            let low = try await record(500, "2025-06-02", "low")
            #expect(low.alert?.direction == .belowRange)
            let retry = try await record(500, "2025-06-02", "low")
            #expect(retry.observation == low.observation, "a retried record made a second observation")
            let alerts = try await client.listPriceAlerts(M.ListPriceAlertsRequest(product: "baskets"))
            #expect(alerts.alerts.map(\.direction) == [.belowRange, .aboveRange])

            let statistics = try await client.getPriceStatistics(
                M.GetPriceStatisticsRequest(
                    product: "baskets", marketID: place.id, windowDays: 90, asOf: date("2025-06-30")))
            #expect(statistics.count == 7 && statistics.currency == "GHS" && statistics.unit == "piece")
            #expect(statistics.median == CommonV1.Money(minorUnits: 1000, currency: "GHS"))
            #expect(statistics.min?.minorUnits == 500 && statistics.max?.minorUnits == 2000)
            #expect(statistics.previousCount == 2 && statistics.previousMedian?.minorUnits == 800)
            #expect(statistics.medianChangeBp == 2500)

            let bad = await failure {
                try await client.recordPrice(
                    M.RecordPriceRequest(
                        observation: M.PriceObservation(
                            product: "baskets", marketID: place.id, priceType: .producer, unit: "bushel",
                            price: CommonV1.Money(minorUnits: -1, currency: "XYZ"), observedOn: date("2999-01-01")),
                        requestID: "bad"))
            }
            #expect(
                Set(bad?.fieldViolations.map(\.field) ?? []) == [
                    "observation.unit", "observation.price.currency", "observation.price.minor_units",
                    "observation.observed_on",
                ])
            let unknownMarket = await failure {
                try await client.recordPrice(
                    M.RecordPriceRequest(
                        observation: M.PriceObservation(
                            product: "baskets", marketID: "mk_nope", priceType: .producer, unit: "piece",
                            price: CommonV1.Money(minorUnits: 100, currency: "GHS"), observedOn: date("2025-01-01")),
                        requestID: "unknown-market"))
            }
            #expect(unknownMarket == RPCError(.notFound, "market \"mk_nope\" not found"))
            let missing = await failure {
                try await client.getPriceStatistics(
                    M.GetPriceStatisticsRequest(product: "baskets", marketID: "mk_nope"))
            }
            #expect(missing == RPCError(.notFound, "market \"mk_nope\" not found"))
        }
    }

    @Test("amounts past 10^15 are refused; ratios of extreme prices are held at Int32's range, not trapped")
    func extremePrices() async throws {
        try await withMarketplace(.sqlite, producerEndpoint: deadEndpoint()) { market in
            let client = market.client
            let place = try await client.createMarket(
                M.CreateMarketRequest(
                    market: M.Market(name: "Bolga", country: "GH", kind: .localMarket), requestID: "mk"))
            func record(_ minor: Int64, _ day: String, _ key: String) async throws -> M.RecordPriceResponse {
                try await recordPrice(client, market: place.id, minor, day, requestID: key)
            }
            let tooLarge = await failure { try await record(9_000_000_000_000_000_000, "2025-01-09", "huge") }
            #expect(tooLarge?.fieldViolations.map(\.field) == ["observation.price.minor_units"])
            #expect(tooLarge?.message.contains("must be at most 1000000000000000") == true)
            for day in 1...5 { _ = try await record(1, "2025-01-0\(day)", "one-\(day)") }
            // 10^15 times the trailing median: 10^19 basis points, far past Int32.
            let spike = try await record(CurrencyCode.maxMinorUnits, "2025-01-10", "spike")
            #expect(spike.alert?.direction == .aboveRange && spike.alert?.ratioBp == Int32.max)
            _ = try await record(CurrencyCode.maxMinorUnits, "2025-05-01", "later")
            let statistics = try await client.getPriceStatistics(
                M.GetPriceStatisticsRequest(
                    product: "baskets", marketID: place.id, windowDays: 90, asOf: date("2025-06-30")))
            #expect(statistics.previousMedian?.minorUnits == 1 && statistics.medianChangeBp == Int32.max)
            #expect(try await client.listPriceAlerts(M.ListPriceAlertsRequest(product: "baskets")).alerts.count == 1)
        }
    }

    @Test("demand is matched to producer groups through a real Producer service process", arguments: Backend.allCases)
    func matching(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withMarketplace(backend, producerEndpoint: producerEndpoint) { market in
                let producer = market.producer
                func group(_ name: String, country: String, crafts: [String], minimum: Int64, leadTime: Int32)
                    async throws -> String
                {
                    try await producer.createProducerGroup(
                        ProducerV1.CreateProducerGroupRequest(
                            group: ProducerV1.ProducerGroup(
                                name: name, kind: .cooperative, country: country, crafts: crafts,
                                minimumOrder: ProducerV1.Quantity(amount: minimum, unit: "piece"),
                                leadTimeDays: leadTime),
                            requestID: name)
                    ).id
                }
                let fits = try await group(
                    "Bolga Basket Weavers", country: "GH", crafts: ["baskets"], minimum: 100, leadTime: 30)
                _ = try await group(
                    "Big order weavers", country: "GH", crafts: ["baskets"], minimum: 5000, leadTime: 30)
                _ = try await group("Slow weavers", country: "GH", crafts: ["baskets"], minimum: 100, leadTime: 400)
                _ = try await group("Potters", country: "GH", crafts: ["pottery"], minimum: 10, leadTime: 10)
                _ = try await group("Kenyan weavers", country: "KE", crafts: ["baskets"], minimum: 10, leadTime: 10)
                let neededBy = ISODate.today().adding(days: 120).message
                let signal = try await market.client.postDemand(
                    MarketplaceV1.PostDemandRequest(
                        signal: MarketplaceV1.DemandSignal(
                            buyer: "SERRV International", product: "Baskets",
                            quantity: MarketplaceV1.DemandQuantity(amount: 500, unit: "piece"),
                            targetPrice: CommonV1.Money(minorUnits: 1200, currency: "USD"), neededBy: neededBy,
                            countries: ["GH"]),
                        requestID: "ds-1"))
                #expect(signal.status == .open)
                let matched = try await market.client.matchDemand(
                    MarketplaceV1.MatchDemandRequest(signalID: signal.id, requestID: RequestID.make()))
                #expect(matched.matches.map(\.groupID) == [fits])
                #expect(matched.signal?.status == .matched)
                let answer = try await market.client.answerDemand(
                    MarketplaceV1.AnswerDemandRequest(
                        answer: MarketplaceV1.DemandAnswer(
                            signalID: signal.id, groupID: fits,
                            offeredPrice: CommonV1.Money(minorUnits: 1150, currency: "USD"),
                            quantity: MarketplaceV1.DemandQuantity(amount: 500, unit: "piece"),
                            message: "We can weave these"),
                        requestID: "da-1"))
                let answers = try await market.client.listDemandAnswers(
                    MarketplaceV1.ListDemandAnswersRequest(signalID: signal.id))
                #expect(answers.answers == [answer])
                let stranger = await failure {
                    try await market.client.answerDemand(
                        MarketplaceV1.AnswerDemandRequest(
                            answer: MarketplaceV1.DemandAnswer(signalID: signal.id, groupID: "pg_nobody"),
                            requestID: "da-2"))
                }
                #expect(stranger?.fieldViolations.map(\.field) == ["answer.group_id"])
                let done = try await market.client.setDemandStatus(
                    MarketplaceV1.SetDemandStatusRequest(
                        signalID: signal.id, status: .fulfilled, requestID: RequestID.make()))
                #expect(done.status == .fulfilled)
                let late = await failure {
                    try await market.client.answerDemand(
                        MarketplaceV1.AnswerDemandRequest(
                            answer: MarketplaceV1.DemandAnswer(signalID: signal.id, groupID: fits), requestID: "da-3"))
                }
                #expect(late?.code == .failedPrecondition)
            }
        }
    }

    @Test(
        "with the Producer service down, matching fails UNAVAILABLE naming it and writes nothing",
        arguments: Backend.allCases)
    func producerDown(backend: Backend) async throws {
        try await withMarketplace(backend, producerEndpoint: deadEndpoint()) { market in
            let signal = try await market.client.postDemand(
                MarketplaceV1.PostDemandRequest(
                    signal: MarketplaceV1.DemandSignal(
                        buyer: "SERRV", product: "baskets",
                        quantity: MarketplaceV1.DemandQuantity(amount: 10, unit: "piece"),
                        neededBy: ISODate.today().adding(days: 30).message), requestID: "ds"))
            let error = await failure {
                try await market.client.matchDemand(
                    MarketplaceV1.MatchDemandRequest(signalID: signal.id, requestID: RequestID.make()))
            }
            #expect(error?.code == .unavailable && error?.message.contains("producer-service") == true)
            let listed = try await market.client.listDemand(MarketplaceV1.ListDemandRequest(product: "baskets"))
            #expect(listed.signals.map(\.status) == [.open], "a failed match changed the signal")
        }
    }

    @Test(
        "the library: full-text search ranked by relevance, with stemming, craft and topic filters",
        arguments: Backend.allCases)
    func library(backend: Backend) async throws {
        try await withMarketplace(backend, producerEndpoint: deadEndpoint()) { market in
            let client = market.client
            func add(_ title: String, _ body: String, topics: [String], crafts: [String], key: String) async throws
                -> String
            {
                try await client.addLibraryEntry(
                    MarketplaceV1.AddLibraryEntryRequest(
                        entry: MarketplaceV1.LibraryEntry(
                            title: title, body: body, topics: topics, crafts: crafts,
                            authorKind: .organisation, author: "SERRV International"),
                        requestID: key)
                ).id
            }
            let dyeing = try await add(
                "Natural dyeing with local plants",
                "Indigo and mango bark give fast colours; mordants matter.",
                topics: ["materials"], crafts: ["textiles"], key: "l1")
            let printing = try await add(
                "Running your own screen-printing workshop",
                "VillageWorks saved money once it printed its own fabric. Dye costs fell too.",
                topics: ["equipment"], crafts: ["textiles", "bags"], key: "l2")
            _ = try await add(
                "Pricing baskets for export", "Count every hour of weaving.", topics: ["pricing"],
                crafts: ["baskets"], key: "l3")
            let hits = try await client.searchLibrary(MarketplaceV1.SearchLibraryRequest(query: "dyes"))
            #expect(
                hits.hits.map { $0.entry?.id } == [dyeing, printing], "title matches rank first; dyes finds dyeing")
            #expect(hits.hits[0].score > hits.hits[1].score)
            let bags = try await client.searchLibrary(MarketplaceV1.SearchLibraryRequest(query: "dye", craft: "bags"))
            #expect(bags.hits.map { $0.entry?.id } == [printing])
            let topic = try await client.searchLibrary(
                MarketplaceV1.SearchLibraryRequest(query: "dye", topic: "materials"))
            #expect(topic.hits.map { $0.entry?.id } == [dyeing])
            let none = try await client.searchLibrary(MarketplaceV1.SearchLibraryRequest(query: "\"quote\" OR *"))
            #expect(none.hits.isEmpty)
            let empty = await failure {
                try await client.searchLibrary(MarketplaceV1.SearchLibraryRequest(query: "  "))
            }
            #expect(empty?.fieldViolations.map(\.field) == ["query"])
            #expect(
                try await client.getLibraryEntry(MarketplaceV1.GetLibraryEntryRequest(id: dyeing)).title
                    == "Natural dyeing with local plants")
        }
    }
}
