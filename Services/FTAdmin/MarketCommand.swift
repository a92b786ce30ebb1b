import API
import ArgumentParser
import Domain
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin market …`: market information — markets, partners, prices, demand, the library, discussion groups, and
/// a live feed.
struct MarketCommand: AsyncParsableCommand {

    static let configuration = CommandConfiguration(
        commandName: "market",
        abstract: "Market information: prices, demand, partners, library, discussions, live feed.",
        subcommands: [
            AddMarket.self, Markets.self, AddPartner.self, Partners.self, ListPartners.self, RecordPrice.self,
            Stats.self, Alerts.self,
            PostDemand.self, Demand.self, Match.self, Answer.self, Answers.self, CloseDemand.self, AddPractice.self,
            Search.self, Practice.self, CreateGroup.self, Groups.self, Join.self, Members.self, StartThread.self,
            Reply.self, Threads.self,
            Posts.self,
            Bulletin.self, Follow.self, ImportPrices.self,
        ])
}

func withMarket(
    _ command: some AsyncParsableCommand, _ global: GlobalOptions,
    _ body: (MarketplaceV1.MarketplaceInfoServiceClient) async throws -> Void
) async throws {
    try await command.withClient(
        ServiceDirectory.marketplaceInfo, global, MarketplaceV1.MarketplaceInfoServiceClient.init(channel:), body)
}

private func statisticsLine(_ s: MarketplaceV1.PriceStatistics, names: PageNames) -> String {
    guard s.count > 0 else {
        return
            "\(s.product) at \(names.label(s.marketID)): no observations from \(show(s.windowStart)) to \(show(s.windowEnd))"
    }
    let change =
        s.previousMedian == nil
        ? "no earlier window" : String(format: "%+.1f%% on the window before", Double(s.medianChangeBp) / 100)
    return
        "\(s.product) at \(names.label(s.marketID)), \(show(s.windowStart))–\(show(s.windowEnd)), per \(s.unit): median \(formatMoney(s.median)), min \(formatMoney(s.min)), max \(formatMoney(s.max)), \(s.count) observations; \(change)"
}

extension MarketCommand {
    struct AddMarket: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-market", abstract: "Register a market.")
        @Option var name: String
        @Option var country: String
        func validate() throws { try checkCountries([country]) }
        @Option var area: String = ""
        @Option(help: "Kind.") var kind: MarketplaceV1.MarketKind
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let market = try await client.createMarket(
                    MarketplaceV1.CreateMarketRequest(
                        market: MarketplaceV1.Market(
                            name: name, country: country, adminArea: area,
                            kind: kind),
                        requestID: RequestID.make()), options: global.callOptions)
                try emit(market, global) { "\(market.id): \(market.name) (\(market.country))" }
            }
        }
    }

    struct Markets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List markets.")
        @Option var country: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listMarkets(
                    MarketplaceV1.ListMarketsRequest(country: country), options: global.callOptions)
                try emit(response, global) {
                    var table = Table("ID", "NAME", "COUNTRY", "AREA", "KIND")
                    for market in response.markets {
                        table.add(market.id, market.name, market.country, market.adminArea, short(market.kind))
                    }
                    return table.render()
                }
            }
        }
    }

    struct AddPartner: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-partner", abstract: "Record a retail partner.")
        @Option var name: String
        @Option(help: "The organisation whose partner it is.") var buyer: String
        @Option var country: String
        func validate() throws { try checkCountries([country]) }
        @Option var region: String = ""
        @Option(help: "Sales channel.") var channel: MarketplaceV1.SalesChannel
        @Option(parsing: .unconditional) var outlets: Int32 = 1
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let partner = try await client.addRetailPartner(
                    MarketplaceV1.AddRetailPartnerRequest(
                        partner: MarketplaceV1.RetailPartner(
                            name: name, buyerOrganisation: buyer, country: country, region: region,
                            channel: channel,
                            outlets: outlets), requestID: RequestID.make()), options: global.callOptions)
                try emit(partner, global) { "\(partner.id): \(partner.name)" }
            }
        }
    }

    struct Partners: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count retail partners by country, region or channel.")
        @Option var buyer: String = ""
        @Option(help: "What to count by.") var by: MarketplaceV1.PartnerGrouping = .country
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.countRetailPartners(
                    MarketplaceV1.CountRetailPartnersRequest(
                        buyerOrganisation: buyer, groupBy: by),
                    options: global.callOptions)
                try emit(response, global) {
                    var table = Table(short(by).uppercased(), "PARTNERS", "OUTLETS")
                    for count in response.counts { table.add(count.key, "\(count.partners)", "\(count.outlets)") }
                    table.add("total", "\(response.totalPartners)", "\(response.totalOutlets)")
                    return table.render()
                }
            }
        }
    }

    struct RecordPrice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "record-price", abstract: "Record a price observation.")
        @Option var product: String
        @Option var market: String
        @Option(help: "Price type.") var type: MarketplaceV1.PriceType
        @Option(help: "piece, dozen, pair, set, kg, g, metre, square-metre, litre.") var unit: String
        @Option(parsing: .unconditional, help: "e.g. 12.50") var price: String
        @Option var currency: String
        @Option(help: "YYYY-MM-DD (default today).") var date: String?
        @Option var source: String = ""
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.recordPrice(
                    MarketplaceV1.RecordPriceRequest(
                        observation: MarketplaceV1.PriceObservation(
                            product: product, marketID: market,
                            priceType: type,
                            unit: unit, price: try parseMoney(price, currency: currency, field: "--price"),
                            observedOn: try date.map { try parseDate($0, field: "--date") } ?? ISODate.today().message,
                            source: source), requestID: RequestID.make()), options: global.callOptions)
                try emit(response, global) {
                    var text = "recorded \(response.observation?.id ?? "")"
                    if let alert = response.alert {
                        text +=
                            "\nALERT: \(formatMoney(alert.price)) is \(String(format: "%.2f", Double(alert.ratioBp) / 10000))× the 90-day median \(formatMoney(alert.trailingMedian))"
                    }
                    return text
                }
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Price statistics for a product in a market.")
        @Option var product: String
        @Option var market: String
        @Option(parsing: .unconditional) var days: Int32 = 90
        @Option(help: "YYYY-MM-DD (default today).") var asOf: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let statistics = try await client.getPriceStatistics(
                    MarketplaceV1.GetPriceStatisticsRequest(
                        product: product, marketID: market, windowDays: days,
                        asOf: try asOf.map { try parseDate($0, field: "--as-of") }), options: global.callOptions)
                let names = await global.pageNames(groups: [])
                try emit(statistics, global) { statisticsLine(statistics, names: names) }
            }
        }
    }

    struct Alerts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prices that left their usual range.")
        @Option var product: String = ""
        @Option(help: "YYYY-MM-DD.") var since: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let response = try await client.listPriceAlerts(
                    MarketplaceV1.ListPriceAlertsRequest(
                        product: product, since: try since.map { try parseDate($0, field: "--since") }),
                    options: global.callOptions)
                let names = await global.pageNames(groups: [])
                try emit(response, global) {
                    var table = Table("DATE", "PRODUCT", "MARKET", "PRICE", "90-DAY MEDIAN", "RATIO", "DIRECTION")
                    for alert in response.alerts {
                        table.add(
                            show(alert.observedOn), alert.product, names.label(alert.marketID),
                            formatMoney(alert.price),
                            formatMoney(alert.trailingMedian), String(format: "%.2f×", Double(alert.ratioBp) / 10000),
                            short(alert.direction))
                    }
                    return response.alerts.isEmpty ? "no alerts" : table.render()
                }
            }
        }
    }

    struct Bulletin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What the market says to one producer group.")
        @Argument var group: String
        @Option(parsing: .unconditional) var days: Int32 = 90
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withMarket(self, global) { client in
                let bulletin = try await client.getMarketBulletin(
                    MarketplaceV1.GetMarketBulletinRequest(groupID: group, days: days),
                    options: global.callOptions)
                let names = await global.pageNames(groups: [])
                try emit(bulletin, global) {
                    var lines = [
                        "market bulletin for \(bulletin.groupName) (\(bulletin.crafts.joined(separator: ", "))), last \(days) days"
                    ]
                    lines.append("prices:")
                    lines +=
                        bulletin.prices.isEmpty
                        ? ["  none recorded"] : bulletin.prices.map { "  " + statisticsLine($0, names: names) }
                    lines.append("open demand:")
                    lines +=
                        bulletin.openDemand.isEmpty
                        ? ["  none"]
                        : bulletin.openDemand.map {
                            "  \($0.id): \($0.buyer) wants \($0.quantity?.amount ?? 0) \($0.quantity?.unit ?? "") \($0.product) by \(show($0.neededBy))"
                        }
                    lines.append("new practices:")
                    lines +=
                        bulletin.newPractices.isEmpty
                        ? ["  none"] : bulletin.newPractices.map { "  \($0.id): \($0.title)" }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }

    struct Follow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print new posts, price alerts and demand as they happen, until Ctrl-C.",
            discussion:
                "Topics: --group ID (its posts), --craft NAME (price alerts and demand for it); none: everything.")
        @Option(help: "A discussion group whose posts to follow (repeatable).") var group: [String] = []
        @Option(help: "A craft whose price alerts and demand to follow (repeatable).") var craft: [String] = []
        @Option(help: "Event endpoints, one per instance (default: ask the service).") var events: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                var endpoints = events
                if endpoints.isEmpty,
                    let configured = ProcessInfo.processInfo.environment[
                        ServiceDirectory.marketplaceInfo.eventEnvironmentVariable]
                {
                    endpoints = configured.split(separator: ",").map { String($0) }
                }
                if endpoints.isEmpty {
                    let channel = try global.channel(to: ServiceDirectory.marketplaceInfo)
                    defer { channel.close() }
                    endpoints = try await MarketplaceV1.MarketplaceInfoServiceClient(channel: channel)
                        .getEventEndpoints(MarketplaceV1.GetEventEndpointsRequest(), options: global.callOptions)
                        .endpoints
                }
                var topics = group.map { "post/\($0)/" }
                for name in craft { topics += ["alert/\(name.lowercased())/", "demand/\(name.lowercased())/"] }
                if topics.isEmpty { topics = [""] }
                let subscriber = EventSubscriber(
                    endpoints: endpoints, topics: topics,
                    security: try global.security.clientSecurity(
                        for: ServiceDirectory.marketplaceInfo, environment: processEnvironment))
                try subscriber.start()
                FileHandle.standardError.write(
                    Data(
                        "following \(topics.joined(separator: " ")) on \(endpoints.joined(separator: " ")) (Ctrl-C stops)\n"
                            .utf8))
                for await delivery in subscriber.deliveries {
                    switch delivery {
                    case .refused(let endpoint, let reason):
                        subscriber.close()
                        throw fail(RPCError(.unauthenticated, "events at \(endpoint): \(reason)"))
                    case .gap(let topic, _, let missed):
                        print(
                            global.output == .json
                                ? #"{"gap": {"topic": "\#(topic)", "missed": \#(missed)}}"#
                                : "-- \(missed) event(s) of \(topic) missed (this follower fell behind) --")
                    case .event(let topic, _, let payload):
                        let event = try MarketplaceV1.MarketEvent(serializedBytes: payload)
                        if global.output == .json {
                            print(
                                try DescriptorJSON.decode(payload, as: MarketplaceV1.MarketEvent.protoName).text(
                                    indent: 0))
                        } else if let post = event.post {
                            print("[\(topic)] \(post.author): \(post.body)")
                        } else if let alert = event.alert {
                            print(
                                "[\(topic)] price alert: \(alert.product) at \(alert.marketID) \(formatMoney(alert.price)) (\(short(alert.direction)), 90-day median \(formatMoney(alert.trailingMedian)))"
                            )
                        } else if let demand = event.demand {
                            print(
                                "[\(topic)] demand: \(demand.buyer) wants \(demand.quantity?.amount ?? 0) \(demand.quantity?.unit ?? "") \(demand.product) by \(show(demand.neededBy))"
                            )
                        }
                        fflush(nil)
                    }
                }
            }
        }
    }

    struct ListPartners: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-partners", abstract: "List retail partners (shops, importers, catalogues), filtered.")
        @Option(help: "Only the partners of this organisation.") var buyer: String = ""
        @Option(help: "Only those in this country (ISO 3166-1 alpha-2).") var country: String = ""
        @Option(help: "Only those of this sales channel.") var channel: MarketplaceV1.SalesChannel?
        @OptionGroup var page: PageOptions
        @OptionGroup var global: GlobalOptions

        func validate() throws { try checkCountries(country.isEmpty ? [] : [country]) }

        func run() async throws {
            try await withMarket(self, global) { client in
                let (partners, next) = try await page.fetch { size, token in
                    let answer = try await client.listRetailPartners(
                        MarketplaceV1.ListRetailPartnersRequest(
                            buyerOrganisation: buyer, country: country.uppercased(),
                            channel: channel ?? .unspecified, pageSize: size, pageToken: token),
                        options: global.callOptions)
                    return (answer.partners, answer.nextPageToken)
                }
                let response = MarketplaceV1.ListRetailPartnersResponse(partners: partners, nextPageToken: next)
                try emit(response, global) {
                    var table = Table("ID", "NAME", "PARTNER OF", "COUNTRY", "REGION", "CHANNEL", "OUTLETS")
                    for partner in partners {
                        table.add(
                            partner.id, partner.name, partner.buyerOrganisation, partner.country, partner.region,
                            short(partner.channel), String(partner.outlets))
                    }
                    return partners.isEmpty ? "no partners" : table.render() + moreLine(next)
                }
            }
        }
    }
}
