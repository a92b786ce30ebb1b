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
    let events: EventPublisher?

    /// - Parameter events: where live events go (new posts, price alerts, demand); nil publishes none.
    public init(database: any Database, producer: ProducerV1.ProducerServiceClient, events: EventPublisher? = nil) {
        self.store = MarketplaceStore(database: database)
        self.producer = producer
        self.events = events
    }

    /// Event topics; a subscription matches prefixes, so each ends with "/".
    public enum Topic {
        public static func posts(_ groupID: String) -> String { "post/\(groupID)/" }
        public static func alerts(_ craft: String) -> String { "alert/\(craft)/" }
        public static func demand(_ craft: String) -> String { "demand/\(craft)/" }
    }

    public typealias M = MarketplaceV1

    /// Units prices and quantities may be given in.
    public static let units: Set<String> = [
        "piece", "dozen", "pair", "set", "kg", "g", "metre", "square-metre", "litre",
    ]

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

    public func listMarkets(_ request: M.ListMarketsRequest, context: ServerContext) async throws
        -> M.ListMarketsResponse
    {
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
            try await store.countPartners(
                buyer: request.buyerOrganisation.trimmingWhitespace(), groupBy: request.groupBy)
        }
    }

    public func listRetailPartners(_ request: M.ListRetailPartnersRequest, context: ServerContext) async throws
        -> M.ListRetailPartnersResponse
    {
        var check = FieldValidator()
        let country = check.country(request.country, "country", required: false)
        if !request.pageToken.isEmpty && !request.pageToken.hasPrefix("rp_") {
            check.fail("page_token", "is not a token from a previous ListRetailPartners answer")
        }
        try check.check()
        let (partners, next) = try await storage {
            try await store.listPartners(
                buyer: request.buyerOrganisation.trimmingWhitespace(), country: country, channel: request.channel,
                after: request.pageToken, limit: Int(request.pageSize == 0 ? 100 : request.pageSize))
        }
        return M.ListRetailPartnersResponse(partners: partners, nextPageToken: next)
    }

    // MARK: prices

    public func recordPrice(_ request: M.RecordPriceRequest, context: ServerContext) async throws
        -> M.RecordPriceResponse
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let observation = Self.validated(request.observation ?? M.PriceObservation(), &check) { "observation.\($0)" }
        try check.check()
        let outcome = try await storage { try await store.recordPrice(observation, requestID: request.requestID) }
        // Events go out once, when the change is first committed: a replay publishes nothing.
        if outcome.created, let alert = outcome.value.alert {
            events?.publish(topic: Topic.alerts(alert.product), M.MarketEvent(kind: .priceAlert, alert: alert))
        }
        return outcome.value
    }

    public func importPrices(_ request: M.ImportPricesRequest, context: ServerContext) async throws
        -> M.ImportPricesResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            let source = check.importRequest(
                validateOnly: request.validateOnly, requestID: request.requestID, source: request.source)
            try check.check()
            let priceImport = PriceImport(csv: request.csv, &check)
            try check.check()
            let outcome = try await storage {
                try await store.importPrices(
                    priceImport, validateOnly: request.validateOnly, requestID: request.requestID, source: source)
            }
            for alert in outcome.created ? outcome.value.alerts : [] {
                events?.publish(topic: Topic.alerts(alert.product), M.MarketEvent(kind: .priceAlert, alert: alert))
            }
            return outcome.value
        }
    }

    /// A clean copy of `input`, each problem reported under `name(field)` for its field in PriceObservation
    /// ("product", "market_id", "price_type", "unit", "price", "price.currency", "price.minor_units",
    /// "observed_on", "source").
    static func validated(
        _ input: M.PriceObservation, _ check: inout FieldValidator, name: (String) -> String
    ) -> M.PriceObservation {
        var observation = input
        observation.product = product(observation.product, name("product"), &check)
        if observation.marketID.isEmpty { check.fail(name("market_id"), "must not be empty") }
        check.specified(observation.priceType, name("price_type"))
        observation.unit = unit(observation.unit, name("unit"), &check)
        if var price = observation.price {
            price.currency = check.currency(price.currency, name("price.currency"))
            check.amount(price.minorUnits, name("price.minor_units"), positive: true, currency: price.currency)
            observation.price = price
        } else {
            check.fail(name("price"), "is required (minor units and an ISO 4217 currency)")
        }
        if let day = check.date(observation.observedOn, name("observed_on")), day > ISODate.today().adding(days: 1) {
            check.fail(name("observed_on"), "\(day) is in the future")
        }
        observation.source = check.text(observation.source, name("source"), maxLength: 200)
        return observation
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
        return try await storage {
            guard try await store.marketExists(request.marketID) else {
                throw RPCError(.notFound, "market \"\(request.marketID)\" not found")
            }
            return try await statistics(
                product: product, marketID: request.marketID, priceType: request.priceType.rawValue,
                days: Int(request.windowDays == 0 ? 90 : request.windowDays), end: end)
        }
    }

    /// Count, median, min and max over `days` ending on `end`, against the window before, for the currency and unit
    /// most observations use.
    func statistics(product: String, marketID: String, priceType: Int32, days: Int, end: ISODate) async throws
        -> M.PriceStatistics
    {
        let start = end.adding(days: -(days - 1))
        let previousEnd = start.adding(days: -1)
        let previousStart = previousEnd.adding(days: -(days - 1))
        var statistics = M.PriceStatistics(
            product: product, marketID: marketID, windowStart: start.message,
            windowEnd: end.message)
        // Counted, ordered and picked by the database from an index that holds the prices: a series of thousands
        // of observations costs a few small queries, not thousands of rows.
        guard
            let (currency, unit) = try await store.commonSeries(
                product: product, marketID: marketID, priceType: priceType, from: previousStart, to: end)
        else { return statistics }
        statistics.currency = currency
        statistics.unit = unit
        func money(_ value: Int64) -> CommonV1.Money { CommonV1.Money(minorUnits: value, currency: currency) }
        let now = try await store.summary(
            product: product, marketID: marketID, priceType: priceType, currency: currency, unit: unit, from: start,
            to: end)
        let before = try await store.summary(
            product: product, marketID: marketID, priceType: priceType, currency: currency, unit: unit,
            from: previousStart, to: previousEnd)
        statistics.count = Int32(now.count)
        statistics.previousCount = Int32(before.count)
        if now.count > 0 {
            statistics.median = money(now.median)
            statistics.min = money(now.min)
            statistics.max = money(now.max)
        }
        if before.count > 0 { statistics.previousMedian = money(before.median) }
        if let median = statistics.median?.minorUnits, let previous = statistics.previousMedian?.minorUnits,
            previous > 0
        {
            statistics.medianChangeBp = Int32(roundingClamped: Double(median - previous) / Double(previous) * 10_000)
        }
        return statistics
    }

    public func listPriceAlerts(_ request: M.ListPriceAlertsRequest, context: ServerContext) async throws
        -> M.ListPriceAlertsResponse
    {
        var check = FieldValidator()
        let since = check.date(request.since, "since", required: false)
        try check.check()
        return M.ListPriceAlertsResponse(
            alerts: try await storage {
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
            check.amount(price.minorUnits, "signal.target_price.minor_units", positive: false, currency: price.currency)
            signal.targetPrice = price
        }
        _ = check.date(signal.neededBy, "signal.needed_by")
        signal.countries = signal.countries.enumerated().map { check.country($1, "signal.countries[\($0)]") }
        signal.notes = check.text(signal.notes, "signal.notes", maxLength: 2000)
        try check.check()
        let outcome = try await storage { try await store.postDemand(signal, requestID: request.requestID) }
        if outcome.created {
            events?.publish(
                topic: Topic.demand(outcome.value.product), M.MarketEvent(kind: .demand, demand: outcome.value))
        }
        return outcome.value
    }

    public func listDemand(_ request: M.ListDemandRequest, context: ServerContext) async throws -> M.ListDemandResponse
    {
        M.ListDemandResponse(
            signals: try await storage {
                try await store.listDemand(
                    product: request.product.trimmingWhitespace().lowercased(), status: request.status)
            })
    }

    /// Asks the Producer service for groups with the signal's craft (in its countries), keeps those whose minimum
    /// order and lead time fit, then records the matches. The Producer calls come first: if it cannot be reached
    /// nothing is written and the call fails UNAVAILABLE naming it.
    public func matchDemand(_ request: M.MatchDemandRequest, context: ServerContext) async throws
        -> M.MatchDemandResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            check.requestID(request.requestID)
            if request.signalID.isEmpty { check.fail("signal_id", "must not be empty") }
            try check.check()
            // A replay answers as the first attempt did, without asking the Producer service again.
            if let answer = try await storage({
                try await store.database.keptAnswer(
                    M.MatchDemandResponse.self, "MatchDemand", requestID: request.requestID)
            }) {
                return answer
            }
            let signal = try await storage { try await store.getSignal(request.signalID) }
            guard signal.status == .open || signal.status == .matched else {
                throw RPCError(
                    .failedPrecondition,
                    "demand signal \"\(signal.id)\" is \(CSV.cell(signal.status)): nothing to match")
            }
            var candidates: [ProducerV1.ProducerGroup] = []
            do throws(RPCError) {
                for country in signal.countries.isEmpty ? [""] : signal.countries {
                    var page = ProducerV1.ListProducerGroupsRequest(
                        country: country, craft: signal.product, status: .active,
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
                    throw RPCError(
                        .unavailable, "matching needs producer-service, which did not answer: \(error.message)")
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
                return M.DemandMatch(
                    signalID: signal.id, groupID: group.id, groupName: group.name, country: group.country,
                    reasons: reasons)
            }
            return try await storage {
                try await store.saveMatches(signalID: signal.id, matches, requestID: request.requestID)
            }
        }
    }

    public func answerDemand(_ request: M.AnswerDemandRequest, context: ServerContext) async throws -> M.DemandAnswer {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var answer = request.answer ?? M.DemandAnswer()
        if answer.signalID.isEmpty { check.fail("answer.signal_id", "must not be empty") }
        if answer.groupID.isEmpty { check.fail("answer.group_id", "must not be empty") }
        if var price = answer.offeredPrice {
            price.currency = check.currency(price.currency, "answer.offered_price.currency")
            check.amount(
                price.minorUnits, "answer.offered_price.minor_units", positive: false, currency: price.currency)
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
        try await requireProducerGroup(answer.groupID, field: "answer.group_id")
        return try await storage { try await store.answer(answer, requestID: request.requestID) }
    }

    public func listDemandAnswers(_ request: M.ListDemandAnswersRequest, context: ServerContext) async throws
        -> M.ListDemandAnswersResponse
    {
        guard !request.signalID.isEmpty else { throw RPCError.invalidArgument(field: "signal_id", "must not be empty") }
        return M.ListDemandAnswersResponse(
            answers: try await storage { try await store.answers(signalID: request.signalID) })
    }

    public func setDemandStatus(_ request: M.SetDemandStatusRequest, context: ServerContext) async throws
        -> M.DemandSignal
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        if request.signalID.isEmpty { check.fail("signal_id", "must not be empty") }
        if request.status != .fulfilled && request.status != .withdrawn {
            check.fail("status", "must be DEMAND_STATUS_FULFILLED or DEMAND_STATUS_WITHDRAWN")
        }
        try check.check()
        return try await storage {
            try await store.setStatus(signalID: request.signalID, request.status, requestID: request.requestID)
        }
    }

    // MARK: library

    public func addLibraryEntry(_ request: M.AddLibraryEntryRequest, context: ServerContext) async throws
        -> M.LibraryEntry
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var entry = request.entry ?? M.LibraryEntry()
        entry.title = check.text(entry.title, "entry.title", required: true)
        entry.body = check.text(entry.body, "entry.body", required: true, maxLength: 100_000)
        entry.topics = entry.topics.enumerated().map {
            check.text($1, "entry.topics[\($0)]", required: true, maxLength: 60).lowercased()
        }
        entry.crafts = entry.crafts.enumerated().map {
            check.text($1, "entry.crafts[\($0)]", required: true, maxLength: 60).lowercased()
        }
        for (index, value) in (entry.topics + entry.crafts).enumerated() where value.contains("|") {
            check.fail(index < entry.topics.count ? "entry.topics" : "entry.crafts", "\"\(value)\" must not contain |")
        }
        check.specified(entry.authorKind, "entry.author_kind")
        entry.author = check.text(entry.author, "entry.author", required: true)
        try check.check()
        return try await storage { try await store.addEntry(entry, requestID: request.requestID) }
    }

    public func getLibraryEntry(_ request: M.GetLibraryEntryRequest, context: ServerContext) async throws
        -> M.LibraryEntry
    {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(field: "id", "must not be empty") }
        return try await storage { try await store.getEntry(request.id) }
    }

    public func searchLibrary(_ request: M.SearchLibraryRequest, context: ServerContext) async throws
        -> M.SearchLibraryResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            let words = request.query.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).prefix(20)
            if words.isEmpty { check.fail("query", "must contain at least one word") }
            if request.limit != 0 { check.range(request.limit, 1...100, "limit") }
            try check.check()
            return M.SearchLibraryResponse(
                hits: try await storage {
                    try await store.search(
                        words: Array(words), craft: request.craft.trimmingWhitespace().lowercased(),
                        topic: request.topic.trimmingWhitespace().lowercased(),
                        limit: Int(request.limit == 0 ? 20 : request.limit))
                })
        }
    }

    // MARK: discussion groups

    public func createDiscussionGroup(_ request: M.CreateDiscussionGroupRequest, context: ServerContext) async throws
        -> M.DiscussionGroup
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var group = request.group ?? M.DiscussionGroup()
        group.name = check.text(group.name, "group.name", required: true)
        group.description = check.text(group.description, "group.description", maxLength: 2000)
        group.crafts = group.crafts.enumerated().map { index, craft in
            let clean = check.text(craft, "group.crafts[\(index)]", required: true, maxLength: 60).lowercased()
            if clean.contains("|") { check.fail("group.crafts[\(index)]", "must not contain |") }
            return clean
        }
        try check.check()
        return try await storage { try await store.createGroup(group, requestID: request.requestID) }
    }

    public func listDiscussionGroups(_ request: M.ListDiscussionGroupsRequest, context: ServerContext) async throws
        -> M.ListDiscussionGroupsResponse
    {
        M.ListDiscussionGroupsResponse(
            groups: try await storage {
                try await store.listGroups(craft: request.craft.trimmingWhitespace().lowercased())
            })
    }

    public func joinDiscussionGroup(_ request: M.JoinDiscussionGroupRequest, context: ServerContext) async throws
        -> M.GroupMember
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var member = request.member ?? M.GroupMember()
        if member.groupID.isEmpty { check.fail("member.group_id", "must not be empty") }
        check.specified(member.kind, "member.kind")
        member.member = check.text(member.member, "member.member", required: true)
        try check.check()
        if member.kind == .producerGroup {
            try await requireProducerGroup(member.member, field: "member.member")
        }
        let checked = member
        return try await storage { try await store.join(checked, requestID: request.requestID) }
    }

    /// A producer group must exist: asked of the Producer service, with the remaining deadline and request id.
    func requireProducerGroup(_ id: String, field: String) async throws {
        do {
            _ = try await producer.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: id))
        } catch {
            if error.code == .notFound { throw RPCError.invalidArgument(field: field, error.message) }
            throw RPCError(
                .unavailable,
                "checking the producer group needs producer-service, which did not answer: \(error.message)")
        }
    }

    public func listMembers(_ request: M.ListMembersRequest, context: ServerContext) async throws
        -> M.ListMembersResponse
    {
        guard !request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must not be empty") }
        return M.ListMembersResponse(members: try await storage { try await store.members(groupID: request.groupID) })
    }

    static func validatePost(_ post: inout M.Post, prefix: String, _ check: inout FieldValidator) {
        check.specified(post.authorKind, "\(prefix).author_kind")
        post.author = check.text(post.author, "\(prefix).author", required: true)
        post.body = check.text(post.body, "\(prefix).body", required: true, maxLength: 20_000)
    }

    public func startThread(_ request: M.StartThreadRequest, context: ServerContext) async throws
        -> M.StartThreadResponse
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        if request.groupID.isEmpty { check.fail("group_id", "must not be empty") }
        let title = check.text(request.title, "title", required: true)
        var post = request.firstPost ?? M.Post()
        Self.validatePost(&post, prefix: "first_post", &check)
        try check.check()
        let outcome = try await storage {
            try await store.startThread(
                groupID: request.groupID, title: title, firstPost: post, requestID: request.requestID)
        }
        if outcome.created, let first = outcome.value.post {
            events?.publish(topic: Topic.posts(request.groupID), M.MarketEvent(kind: .post, post: first))
        }
        return outcome.value
    }

    public func postReply(_ request: M.PostReplyRequest, context: ServerContext) async throws -> M.Post {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var post = request.post ?? M.Post()
        if post.threadID.isEmpty { check.fail("post.thread_id", "must not be empty") }
        Self.validatePost(&post, prefix: "post", &check)
        try check.check()
        let outcome = try await storage { try await store.reply(post, requestID: request.requestID) }
        if outcome.created {
            events?.publish(topic: Topic.posts(outcome.value.groupID), M.MarketEvent(kind: .post, post: outcome.value))
        }
        return outcome.value
    }

    public func listThreads(_ request: M.ListThreadsRequest, context: ServerContext) async throws
        -> M.ListThreadsResponse
    {
        guard !request.groupID.isEmpty else { throw RPCError.invalidArgument(field: "group_id", "must not be empty") }
        return M.ListThreadsResponse(threads: try await storage { try await store.threads(groupID: request.groupID) })
    }

    public func listPosts(_ request: M.ListPostsRequest, context: ServerContext) async throws -> M.ListPostsResponse {
        guard !request.threadID.isEmpty else { throw RPCError.invalidArgument(field: "thread_id", "must not be empty") }
        return M.ListPostsResponse(posts: try await storage { try await store.posts(threadID: request.threadID) })
    }

    public func getEventEndpoints(_ request: M.GetEventEndpointsRequest, context: ServerContext) async throws
        -> M.GetEventEndpointsResponse
    {
        M.GetEventEndpointsResponse(endpoints: events?.boundEndpoints ?? [])
    }

    // MARK: bulletin

    /// Prices for the group's crafts in every market observing them, open demand that fits the group, and practices
    /// added for its crafts — over the last `days` days.
    public func getMarketBulletin(_ request: M.GetMarketBulletinRequest, context: ServerContext) async throws
        -> M.MarketBulletin
    {
        try await offTheIOThread {
            var check = FieldValidator()
            if request.groupID.isEmpty { check.fail("group_id", "must not be empty") }
            if request.days != 0 { check.range(request.days, 1...365, "days") }
            try check.check()
            let days = Int(request.days == 0 ? 90 : request.days)
            var group = ProducerV1.ProducerGroup(
                id: request.groupID, name: request.groupName, country: request.country,
                crafts: request.crafts)
            if request.crafts.isEmpty {
                do throws(RPCError) {
                    group = try await producer.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: request.groupID))
                } catch {
                    if error.code == .notFound { throw RPCError(.notFound, error.message) }
                    throw RPCError(
                        .unavailable, "the bulletin needs producer-service, which did not answer: \(error.message)")
                }
            }
            let today = ISODate.today()
            let since = today.adding(days: -(days - 1))
            var bulletin = M.MarketBulletin(groupID: group.id, groupName: group.name, crafts: group.crafts)
            try await storage {
                bulletin.matchedDemand = try await store.matchedDemand(groupID: group.id)
                for craft in group.crafts {
                    for market in try await store.markets(observing: craft, since: since) {
                        bulletin.prices.append(
                            try await statistics(
                                product: craft, marketID: market, priceType: 0, days: days,
                                end: today))
                    }
                    bulletin.openDemand += try await store.listDemand(product: craft, status: .unspecified).filter {
                        $0.countries.isEmpty || $0.countries.contains(group.country)
                    }
                    bulletin.newPractices += try await store.entries(
                        craft: craft, sinceMicros: Clock.unixMicros() - Int64(days) * 86_400_000_000, limit: 10)
                }
            }
            var seen = Set<String>()
            bulletin.newPractices = bulletin.newPractices.filter { seen.insert($0.id).inserted }
            return bulletin
        }
    }
}
