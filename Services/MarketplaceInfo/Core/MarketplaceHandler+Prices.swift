import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceHandler: prices.
extension MarketplaceHandler {
    public func recordPrice(_ request: MarketplaceV1.RecordPriceRequest, context: ServerContext) async throws
        -> MarketplaceV1.RecordPriceResponse
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        let observation = Self.validated(request.observation ?? MarketplaceV1.PriceObservation(), &check) {
            "observation.\($0)"
        }
        try check.check()
        let checked = try Valued(
            observation, day: observation.observedOn, "observation.observed_on", amount: observation.price,
            "observation.price")
        let outcome = try await storage { try await store.recordPrice(checked, requestID: request.requestID) }
        // Events go out once, when the change is first committed: a replay publishes nothing.
        if outcome.created, let alert = outcome.value.alert {
            events?.publish(
                topic: Topic.alerts(alert.product), MarketplaceV1.MarketEvent(kind: .priceAlert, alert: alert))
        }
        return outcome.value
    }

    public func importPrices(_ request: MarketplaceV1.ImportPricesRequest, context: ServerContext) async throws
        -> MarketplaceV1.ImportPricesResponse
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
                events?.publish(
                    topic: Topic.alerts(alert.product), MarketplaceV1.MarketEvent(kind: .priceAlert, alert: alert))
            }
            return outcome.value
        }
    }

    /// A clean copy of `input`, each problem reported under `name(field)` for its field in PriceObservation
    /// ("product", "market_id", "price_type", "unit", "price", "price.currency", "price.minor_units",
    /// "observed_on", "source").
    static func validated(
        _ input: MarketplaceV1.PriceObservation, _ check: inout FieldValidator, name: (String) -> String
    ) -> MarketplaceV1.PriceObservation {
        var observation = input
        observation.product = product(observation.product, name("product"), &check)
        check.id(observation.marketID, name("market_id"), MarketID.self)
        check.specified(observation.priceType, name("price_type"))
        observation.unit = unit(observation.unit, name("unit"), &check)
        observation.price = check.money(observation.price, name("price"), positive: true)?.message ?? observation.price
        if let day = check.date(observation.observedOn, name("observed_on")), day > ISODate.today().adding(days: 1) {
            check.fail(name("observed_on"), "\(day) is in the future")
        }
        observation.source = check.text(observation.source, name("source"), maxLength: 200)
        return observation
    }

    public func getPriceStatistics(_ request: MarketplaceV1.GetPriceStatisticsRequest, context: ServerContext)
        async throws
        -> MarketplaceV1.PriceStatistics
    {
        var check = FieldValidator()
        let product = Self.product(request.product, "product", &check)
        let marketID = check.id(request.marketID, "market_id", MarketID.self)
        if request.windowDays != 0 { check.range(request.windowDays, 1...3650, "window_days") }
        let end = check.date(request.asOf, "as_of", required: false) ?? ISODate.today()
        try check.check()
        let market = try marketID.checked("market_id")
        return try await storage {
            guard try await store.marketExists(market.text) else { throw market.notFound() }
            return try await statistics(
                product: product, marketID: request.marketID, priceType: request.priceType.rawValue,
                days: Int(request.windowDays == 0 ? 90 : request.windowDays), end: end)
        }
    }

    /// Count, median, min and max over `days` ending on `end`, against the window before, for the currency and unit
    /// most observations use.
    func statistics(product: String, marketID: String, priceType: Int32, days: Int, end: ISODate) async throws
        -> MarketplaceV1.PriceStatistics
    {
        let start = end.adding(days: -(days - 1))
        let previousEnd = start.adding(days: -1)
        let previousStart = previousEnd.adding(days: -(days - 1))
        var statistics = MarketplaceV1.PriceStatistics(
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

    public func listPriceAlerts(_ request: MarketplaceV1.ListPriceAlertsRequest, context: ServerContext) async throws
        -> MarketplaceV1.ListPriceAlertsResponse
    {
        var check = FieldValidator()
        let since = check.date(request.since, "since", required: false)
        try check.check()
        return MarketplaceV1.ListPriceAlertsResponse(
            alerts: try await storage {
                try await store.listAlerts(product: request.product.trimmingWhitespace().lowercased(), since: since)
            })
    }
}
