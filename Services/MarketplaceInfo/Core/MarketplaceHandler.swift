import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// `fairtrade.marketplace.v1.MarketplaceInfoService`: validates each request field by field, then hands it to the
/// store; demand matching asks the Producer service which groups fit.
public struct MarketplaceHandler: MarketplaceV1.MarketplaceInfoServiceHandler {
    let store: MarketplaceStore
    let producer: ProducerV1.ProducerServiceClient

    public init(database: any Database, producer: ProducerV1.ProducerServiceClient) {
        self.store = MarketplaceStore(database: database)
        self.producer = producer
    }

    public typealias M = MarketplaceV1

    /// Units prices and quantities may be given in.
    public static let units: Set<String> = ["piece", "dozen", "pair", "set", "kg", "g", "metre", "square-metre", "litre"]

    static func unit(_ value: String, _ field: String, _ check: inout FieldValidator) -> String {
        let unit = value.trimmingWhitespace().lowercased()
        if !units.contains(unit) {
            check.fail(field, "\"\(value)\" is not a known unit (\(units.sorted().joined(separator: ", ")))")
        }
        return unit
    }

    static func product(_ value: String, _ field: String, _ check: inout FieldValidator) -> String {
        check.text(value, field, required: true, maxLength: 60).lowercased()
    }

    // MARK: markets and partners

    public func createMarket(_ request: M.CreateMarketRequest, context: ServerContext) async throws -> M.Market {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var market = request.market ?? M.Market()
        market.name = check.text(market.name, "market.name", required: true)
        market.country = check.country(market.country, "market.country")
        market.adminArea = check.text(market.adminArea, "market.admin_area", maxLength: 100)
        check.specified(market.kind, "market.kind")
        try check.check()
        return try await storage { try await store.createMarket(market, requestID: request.requestID) }
    }

    public func listMarkets(_ request: M.ListMarketsRequest, context: ServerContext) async throws -> M.ListMarketsResponse {
        var check = FieldValidator()
        let country = request.country.isEmpty ? "" : check.country(request.country, "country")
        try check.check()
        return M.ListMarketsResponse(markets: try await storage { try await store.listMarkets(country: country) })
    }

    public func addRetailPartner(_ request: M.AddRetailPartnerRequest, context: ServerContext) async throws
        -> M.RetailPartner
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var partner = request.partner ?? M.RetailPartner()
        partner.name = check.text(partner.name, "partner.name", required: true)
        partner.buyerOrganisation = check.text(partner.buyerOrganisation, "partner.buyer_organisation", required: true)
        partner.country = check.country(partner.country, "partner.country")
        partner.region = check.text(partner.region, "partner.region", maxLength: 100)
        check.specified(partner.channel, "partner.channel")
        check.range(partner.outlets, 1...100_000, "partner.outlets")
        try check.check()
        return try await storage { try await store.addPartner(partner, requestID: request.requestID) }
    }

    public func countRetailPartners(_ request: M.CountRetailPartnersRequest, context: ServerContext) async throws
        -> M.CountRetailPartnersResponse
    {
        try await storage {
            try await store.countPartners(buyer: request.buyerOrganisation.trimmingWhitespace(), groupBy: request.groupBy)
        }
    }

    // MARK: prices

    public func recordPrice(_ request: M.RecordPriceRequest, context: ServerContext) async throws -> M.RecordPriceResponse {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var observation = request.observation ?? M.PriceObservation()
        observation.product = Self.product(observation.product, "observation.product", &check)
        if observation.marketID.isEmpty { check.fail("observation.market_id", "must not be empty") }
        check.specified(observation.priceType, "observation.price_type")
        observation.unit = Self.unit(observation.unit, "observation.unit", &check)
        if var price = observation.price {
            price.currency = check.currency(price.currency, "observation.price.currency")
            if price.minorUnits <= 0 { check.fail("observation.price.minor_units", "must be positive, got \(price.minorUnits)") }
            observation.price = price
        } else {
            check.fail("observation.price", "is required (minor units and an ISO 4217 currency)")
        }
        if let day = check.date(observation.observedOn, "observation.observed_on"), day > ISODate.today().adding(days: 1) {
            check.fail("observation.observed_on", "\(day) is in the future")
        }
        observation.source = check.text(observation.source, "observation.source", maxLength: 200)
        try check.check()
        return try await storage { try await store.recordPrice(observation, requestID: request.requestID) }
    }

    public func getPriceStatistics(_ request: M.GetPriceStatisticsRequest, context: ServerContext) async throws
        -> M.PriceStatistics
    {
        var check = FieldValidator()
        let product = Self.product(request.product, "product", &check)
        if request.marketID.isEmpty { check.fail("market_id", "must not be empty") }
        if request.windowDays != 0 { check.range(request.windowDays, 1...3650, "window_days") }
        let end = check.date(request.asOf, "as_of", required: false) ?? ISODate.today()
        try check.check()
        let days = Int(request.windowDays == 0 ? 90 : request.windowDays)
        let start = end.adding(days: -(days - 1))
        let previousEnd = start.adding(days: -1), previousStart = previousEnd.adding(days: -(days - 1))
        return try await storage {
            guard try await store.marketExists(request.marketID) else {
                throw RPCError(.notFound, "market \"\(request.marketID)\" not found")
            }
            let current = try await store.prices(product: product, marketID: request.marketID,
                                                 priceType: request.priceType.rawValue, from: start, to: end)
            let previous = try await store.prices(product: product, marketID: request.marketID,
                                                  priceType: request.priceType.rawValue, from: previousStart, to: previousEnd)
            var statistics = M.PriceStatistics(product: product, marketID: request.marketID, windowStart: start.message,
                                               windowEnd: end.message)
            // One series is summarised: the currency and unit most observations use.
            let series = Dictionary(grouping: current + previous, by: { "\($0.1) \($0.2)" })
            guard let (_, sample) = series.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }) else {
                return statistics
            }
            let currency = sample[0].1, unit = sample[0].2
            statistics.currency = currency
            statistics.unit = unit
            func money(_ value: Int64) -> CommonV1.Money { CommonV1.Money(minorUnits: value, currency: currency) }
            let now = current.filter { $0.1 == currency && $0.2 == unit }.map(\.0)
            let before = previous.filter { $0.1 == currency && $0.2 == unit }.map(\.0)
            statistics.count = Int32(now.count)
            statistics.previousCount = Int32(before.count)
            if !now.isEmpty {
                statistics.median = money(PriceRules.median(now))
                statistics.min = money(now.min()!)
                statistics.max = money(now.max()!)
            }
            if !before.isEmpty { statistics.previousMedian = money(PriceRules.median(before)) }
            if let median = statistics.median?.minorUnits, let previous = statistics.previousMedian?.minorUnits, previous > 0 {
                statistics.medianChangeBp = Int32((Double(median - previous) / Double(previous) * 10_000).rounded())
            }
            return statistics
        }
    }

    public func listPriceAlerts(_ request: M.ListPriceAlertsRequest, context: ServerContext) async throws
        -> M.ListPriceAlertsResponse
    {
        var check = FieldValidator()
        let since = check.date(request.since, "since", required: false)
        try check.check()
        return M.ListPriceAlertsResponse(alerts: try await storage {
            try await store.listAlerts(product: request.product.trimmingWhitespace().lowercased(), since: since)
        })
    }

    // MARK: demand

    public func postDemand(_ request: M.PostDemandRequest, context: ServerContext) async throws -> M.DemandSignal {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var signal = request.signal ?? M.DemandSignal()
        signal.buyer = check.text(signal.buyer, "signal.buyer", required: true)
        signal.product = Self.product(signal.product, "signal.product", &check)
        if var quantity = signal.quantity {
            if quantity.amount <= 0 { check.fail("signal.quantity.amount", "must be positive, got \(quantity.amount)") }
            quantity.unit = Self.unit(quantity.unit, "signal.quantity.unit", &check)
            signal.quantity = quantity
        } else {
            check.fail("signal.quantity", "is required (amount and unit)")
        }
        if var price = signal.targetPrice {
            price.currency = check.currency(price.currency, "signal.target_price.currency")
            check.nonNegative(price.minorUnits, "signal.target_price.minor_units")
            signal.targetPrice = price
        }
        _ = check.date(signal.neededBy, "signal.needed_by")
        signal.countries = signal.countries.enumerated().map { check.country($1, "signal.countries[\($0)]") }
        signal.notes = check.text(signal.notes, "signal.notes", maxLength: 2000)
        try check.check()
        return try await storage { try await store.postDemand(signal, requestID: request.requestID) }
    }

    public func listDemand(_ request: M.ListDemandRequest, context: ServerContext) async throws -> M.ListDemandResponse {
        M.ListDemandResponse(signals: try await storage {
            try await store.listDemand(product: request.product.trimmingWhitespace().lowercased(), status: request.status)
        })
    }

    /// Asks the Producer service for groups with the signal's craft (in its countries), keeps those whose minimum
    /// order and lead time fit, then records the matches. The Producer calls come first: if it cannot be reached
    /// nothing is written and the call fails UNAVAILABLE naming it.
    public func matchDemand(_ request: M.MatchDemandRequest, context: ServerContext) async throws -> M.MatchDemandResponse {
        guard !request.signalID.isEmpty else { throw RPCError.invalidArgument(field: "signal_id", "must not be empty") }
        let signal = try await storage { try await store.getSignal(request.signalID) }
        guard signal.status == .open || signal.status == .matched else {
            throw RPCError(.failedPrecondition, "demand signal \"\(signal.id)\" is \(signal.status.protoName): nothing to match")
        }
        var candidates: [ProducerV1.ProducerGroup] = []
        do {
            for country in signal.countries.isEmpty ? [""] : signal.countries {
                var page = ProducerV1.ListProducerGroupsRequest(country: country, craft: signal.product, status: .active,
                                                                pageSize: 500)
                repeat {
                    let answer = try await producer.listProducerGroups(page)
                    candidates += answer.groups
                    page.pageToken = answer.nextPageToken
                } while !page.pageToken.isEmpty && candidates.count < 5_000
            }
        } catch {
            switch error.code {
            case .unavailable, .deadlineExceeded, .resourceExhausted:
                throw RPCError(.unavailable, "matching needs producer-service, which did not answer: \(error.message)")
            default:
                throw RPCError(.internalError, "producer-service refused the match query: \(error)")
            }
        }
        let today = ISODate.today()
        let neededBy = ISODate(signal.neededBy!)!
        let daysLeft = neededBy.dayNumber - today.dayNumber
        let matches = candidates.compactMap { group -> M.DemandMatch? in
            var reasons = ["makes \(signal.product)"]
            if !signal.countries.isEmpty { reasons.append("in \(group.country)") }
            if let order = group.minimumOrder, order.amount > 0, let quantity = signal.quantity {
                guard order.unit == quantity.unit else { return nil }
                guard order.amount <= quantity.amount else { return nil }
                reasons.append("minimum order \(order.amount) \(order.unit) ≤ \(quantity.amount)")
            } else {
                reasons.append("no minimum order")
            }
            if group.leadTimeDays > 0 {
                guard Int(group.leadTimeDays) <= daysLeft else { return nil }
                reasons.append("lead time \(group.leadTimeDays) days, \(daysLeft) days until needed")
            } else {
                reasons.append("lead time not recorded")
            }
            return M.DemandMatch(signalID: signal.id, groupID: group.id, groupName: group.name, country: group.country,
                                 reasons: reasons)
        }
        let updated = try await storage { try await store.saveMatches(signalID: signal.id, matches) }
        return M.MatchDemandResponse(signal: updated, matches: matches)
    }

    public func answerDemand(_ request: M.AnswerDemandRequest, context: ServerContext) async throws -> M.DemandAnswer {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var answer = request.answer ?? M.DemandAnswer()
        if answer.signalID.isEmpty { check.fail("answer.signal_id", "must not be empty") }
        if answer.groupID.isEmpty { check.fail("answer.group_id", "must not be empty") }
        if var price = answer.offeredPrice {
            price.currency = check.currency(price.currency, "answer.offered_price.currency")
            check.nonNegative(price.minorUnits, "answer.offered_price.minor_units")
            answer.offeredPrice = price
        }
        if var quantity = answer.quantity {
            check.nonNegative(quantity.amount, "answer.quantity.amount")
            quantity.unit = Self.unit(quantity.unit, "answer.quantity.unit", &check)
            answer.quantity = quantity
        }
        _ = check.date(answer.canDeliverBy, "answer.can_deliver_by", required: false)
        answer.message = check.text(answer.message, "answer.message", maxLength: 2000)
        try check.check()
        // The answering group must exist: asked of the Producer service, with the remaining deadline.
        do {
            _ = try await producer.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: answer.groupID))
        } catch {
            if error.code == .notFound { throw RPCError.invalidArgument(field: "answer.group_id", error.message) }
            throw RPCError(.unavailable, "checking the group needs producer-service, which did not answer: \(error.message)")
        }
        return try await storage { try await store.answer(answer, requestID: request.requestID) }
    }

    public func listDemandAnswers(_ request: M.ListDemandAnswersRequest, context: ServerContext) async throws
        -> M.ListDemandAnswersResponse
    {
        guard !request.signalID.isEmpty else { throw RPCError.invalidArgument(field: "signal_id", "must not be empty") }
        return M.ListDemandAnswersResponse(answers: try await storage { try await store.answers(signalID: request.signalID) })
    }

    public func setDemandStatus(_ request: M.SetDemandStatusRequest, context: ServerContext) async throws -> M.DemandSignal {
        var check = FieldValidator()
        if request.signalID.isEmpty { check.fail("signal_id", "must not be empty") }
        if request.status != .fulfilled && request.status != .withdrawn {
            check.fail("status", "must be DEMAND_STATUS_FULFILLED or DEMAND_STATUS_WITHDRAWN")
        }
        try check.check()
        return try await storage { try await store.setStatus(signalID: request.signalID, request.status) }
    }

    // MARK: library

    public func addLibraryEntry(_ request: M.AddLibraryEntryRequest, context: ServerContext) async throws -> M.LibraryEntry {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var entry = request.entry ?? M.LibraryEntry()
        entry.title = check.text(entry.title, "entry.title", required: true)
        entry.body = check.text(entry.body, "entry.body", required: true, maxLength: 100_000)
        entry.topics = entry.topics.enumerated().map { check.text($1, "entry.topics[\($0)]", required: true, maxLength: 60).lowercased() }
        entry.crafts = entry.crafts.enumerated().map { check.text($1, "entry.crafts[\($0)]", required: true, maxLength: 60).lowercased() }
        for (index, value) in (entry.topics + entry.crafts).enumerated() where value.contains("|") {
            check.fail(index < entry.topics.count ? "entry.topics" : "entry.crafts", "\"\(value)\" must not contain |")
        }
        check.specified(entry.authorKind, "entry.author_kind")
        entry.author = check.text(entry.author, "entry.author", required: true)
        try check.check()
        return try await storage { try await store.addEntry(entry, requestID: request.requestID) }
    }

    public func getLibraryEntry(_ request: M.GetLibraryEntryRequest, context: ServerContext) async throws -> M.LibraryEntry {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(field: "id", "must not be empty") }
        return try await storage { try await store.getEntry(request.id) }
    }

    public func searchLibrary(_ request: M.SearchLibraryRequest, context: ServerContext) async throws
        -> M.SearchLibraryResponse
    {
        var check = FieldValidator()
        let words = request.query.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).prefix(20)
        if words.isEmpty { check.fail("query", "must contain at least one word") }
        if request.limit != 0 { check.range(request.limit, 1...100, "limit") }
        try check.check()
        return M.SearchLibraryResponse(hits: try await storage {
            try await store.search(words: Array(words), craft: request.craft.trimmingWhitespace().lowercased(),
                                   topic: request.topic.trimmingWhitespace().lowercased(),
                                   limit: Int(request.limit == 0 ? 20 : request.limit))
        })
    }
}
