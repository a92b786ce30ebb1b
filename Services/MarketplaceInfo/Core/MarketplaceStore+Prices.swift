import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceStore: prices.
extension MarketplaceStore {
    /// Records an observation and, in the same transaction, the alert it fires (if it leaves the usual range).
    /// The usual range is read first, in a snapshot of its own, so that the writer (SQLite has one) is held only for
    /// the insert: many prices recorded at once then do not wait on each other's reading of their history.
    func recordPrice(_ checked: Valued<MarketplaceV1.PriceObservation>, requestID: String) async throws
        -> Idempotent<MarketplaceV1.RecordPriceResponse>
    {
        let window = try await database.read { session in try await Self.trailing(checked, session) }
        return try await database.idempotentOutcome(operation: "RecordPrice", requestID: requestID) { session in
            _ = try await loadMarket(try MarketID(checking: checked.record.marketID, "observation.market_id"), session)
            let id = PriceObservationID.mint().text
            _ = try await insert(checked.with { $0.id = id }, session, trailing: window)
            return id
        } load: { session, id in
            guard let row = try await session.first("SELECT * FROM price_observations WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "observation \(id) vanished")
            }
            var response = MarketplaceV1.RecordPriceResponse(observation: try Self.observation(row))
            if let alert = try await session.first("SELECT body FROM price_alerts WHERE observation_id = $1", [.of(id)])
            {
                response.alert = try alert.message(MarketplaceV1.PriceAlert.self)
            }
            return response
        }
    }

    /// The median and count of the observations of `observation`'s series in the trailing window before its day,
    /// worked out by the database (a count, then the middle one or two by an index that holds the prices).
    static func trailing(_ checked: Valued<MarketplaceV1.PriceObservation>, _ session: any SQLSession) async throws
        -> (median: Int64, count: Int)
    {
        let (observation, day) = (checked.record, checked.day)
        let series: [SQLValue] = [
            .of(observation.product), .of(observation.marketID), .of(observation.priceType.rawValue),
            .of(observation.unit), .of(checked.amount.currency),
            .of(day.adding(days: -PriceRules.trailingDays).description), .of(day.description),
        ]
        let window = """
            FROM price_observations
            WHERE product = $1 AND market_id = $2 AND price_type = $3 AND unit = $4 AND currency = $5
              AND observed_on >= $6 AND observed_on <= $7
            """
        let count = Int(try await session.first("SELECT count(*) AS n \(window)", series)?.int("n") ?? 0)
        guard count >= PriceRules.minimumHistory else { return (0, count) }
        let middle = try await session.query(
            "SELECT price_minor \(window) ORDER BY price_minor LIMIT $8 OFFSET $9",
            series + [.of(count % 2 == 1 ? 1 : 2), .of((count - 1) / 2)]
        ).map { try $0.int("price_minor") }
        let median = middle.count == 2 ? PriceRules.median(middle) : middle.first ?? 0
        return (median, count)
    }

    /// Inserts a validated observation (its id set) and, when it leaves its usual range, its alert; the range is
    /// read in this session unless given.
    func insert(
        _ checked: Valued<MarketplaceV1.PriceObservation>, _ session: any SQLSession,
        trailing given: (median: Int64, count: Int)? = nil
    ) async throws -> MarketplaceV1.PriceAlert? {
        let (observation, day) = (checked.record, checked.day)
        let price = checked.amount
        let window: (median: Int64, count: Int)
        if let given { window = given } else { window = try await Self.trailing(checked, session) }
        try await session.execute(
            """
            INSERT INTO price_observations (id, product, market_id, price_type, unit, price_minor, currency,
                observed_on, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [
                .of(observation.id), .of(observation.product), .of(observation.marketID),
                .of(observation.priceType.rawValue), .of(observation.unit), .of(price.minorUnits), .of(price.currency),
                .of(day.description), .of(observation.source),
            ])
        guard let alert = PriceRules.alert(for: checked, median: window.median, count: window.count) else {
            return nil
        }
        try await session.execute(
            "INSERT INTO price_alerts (id, observation_id, product, observed_on, body) VALUES ($1, $2, $3, $4, $5)",
            [
                .of(alert.id), .of(observation.id), .of(observation.product), .of(day.description),
                .blob(alert.serializedBytes()),
            ])
        return alert
    }

    /// Many field-valid observations in one transaction, without alerts (bulk import of history, benchmarks).
    public func bulkInsertPrices(_ observations: [MarketplaceV1.PriceObservation]) async throws {
        try await database.transaction { session in
            for start in stride(from: 0, to: observations.count, by: 400) {
                let batch = observations[start..<min(start + 400, observations.count)]
                var rows: [String] = []
                var binds: [SQLValue] = []
                for observation in batch {
                    let checked = try Valued(
                        observation, day: observation.observedOn, "observed_on", amount: observation.price, "price")
                    let base = binds.count
                    rows.append("(" + (1...9).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
                    binds += [
                        .of(PriceObservationID.mint().text), .of(observation.product), .of(observation.marketID),
                        .of(observation.priceType.rawValue), .of(observation.unit), .of(checked.amount.minorUnits),
                        .of(checked.amount.currency), .of(checked.day.description), .of(observation.source),
                    ]
                }
                try await session.execute(
                    """
                    INSERT INTO price_observations (id, product, market_id, price_type, unit, price_minor, currency,
                        observed_on, source) VALUES \(rows.joined(separator: ", "))
                    """, binds)
            }
        }
    }

    static func observation(_ row: SQLRow) throws -> MarketplaceV1.PriceObservation {
        MarketplaceV1.PriceObservation(
            id: try row.text("id"), product: try row.text("product"), marketID: try row.text("market_id"),
            priceType: MarketplaceV1.PriceType(rawValue: Int32(try row.int("price_type"))), unit: try row.text("unit"),
            price: CommonV1.Money(minorUnits: try row.int("price_minor"), currency: try row.text("currency")),
            observedOn: ISODate(iso: try row.text("observed_on"))?.message, source: try row.text("source"))
    }

    /// Prices of one product in one market between two dates, inclusive: (minor units, currency, unit).
    /// The currency and unit most observations of `product` at `marketID` use from `from` to `to` (of one price
    /// type, or all when 0); nil when there are none.
    func commonSeries(product: String, marketID: String, priceType: Int32, from: ISODate, to: ISODate) async throws
        -> (currency: String, unit: String)?
    {
        let conditions = Self.window(product: product, marketID: marketID, priceType: priceType, from: from, to: to)
        guard
            let row = try await database.query(
                """
                SELECT currency, unit, count(*) AS n FROM price_observations \(conditions.whereClause)
                GROUP BY currency, unit ORDER BY n DESC, currency, unit LIMIT 1
                """, conditions.binds
            ).first
        else { return nil }
        return (try row.text("currency"), try row.text("unit"))
    }

    /// Count, least, most and median of the prices of one series from `from` to `to`, worked out by the database.
    func summary(
        product: String, marketID: String, priceType: Int32, currency: String, unit: String, from: ISODate,
        to: ISODate
    ) async throws -> (count: Int, min: Int64, max: Int64, median: Int64) {
        var series = Self.window(product: product, marketID: marketID, priceType: priceType, from: from, to: to)
        series.add("currency = \(series.bind(.of(currency)))")
        series.add("unit = \(series.bind(.of(unit)))")
        let conditions = series
        return try await database.read { session in
            guard
                let totals = try await session.first(
                    """
                    SELECT count(*) AS n, min(price_minor) AS least, max(price_minor) AS most
                    FROM price_observations \(conditions.whereClause)
                    """, conditions.binds),
                case let count = Int(try totals.int("n")), count > 0
            else { return (0, 0, 0, 0) }
            let take = conditions.binds.count
            let middle = try await session.query(
                """
                SELECT price_minor FROM price_observations \(conditions.whereClause)
                ORDER BY price_minor LIMIT $\(take + 1) OFFSET $\(take + 2)
                """, conditions.binds + [.of(count % 2 == 1 ? 1 : 2), .of((count - 1) / 2)]
            ).map { try $0.int("price_minor") }
            let median = middle.count == 2 ? PriceRules.median(middle) : middle.first ?? 0
            return (count, try totals.int("least"), try totals.int("most"), median)
        }
    }

    static func window(product: String, marketID: String, priceType: Int32, from: ISODate, to: ISODate)
        -> SQLConditions
    {
        var conditions = SQLConditions()
        conditions.equal("product", product)
        conditions.equal("market_id", marketID)
        if priceType != 0 { conditions.add("price_type = \(conditions.bind(.of(priceType)))") }
        conditions.add("observed_on >= \(conditions.bind(.of(from.description)))")
        conditions.add("observed_on <= \(conditions.bind(.of(to.description)))")
        return conditions
    }

    func marketExists(_ id: String) async throws -> Bool {
        try await !database.query("SELECT id FROM markets WHERE id = $1", [.of(id)]).isEmpty
    }

    func listAlerts(product: String, since: ISODate?) async throws -> [MarketplaceV1.PriceAlert] {
        var conditions = SQLConditions()
        conditions.equal("product", product)
        if let since { conditions.add("observed_on >= \(conditions.bind(.of(since.description)))") }
        return try await database.query(
            "SELECT body FROM price_alerts \(conditions.whereClause) ORDER BY observed_on DESC, id LIMIT 500",
            conditions.binds
        )
        .map { try $0.message(MarketplaceV1.PriceAlert.self) }
    }
}
