import Domain
import Foundation
import RPC
import Schema
import ServiceKit
import Storage

/// The Marketplace-Info service's persistence, written once for SQLite and PostgreSQL; only full-text search
/// differs (FTS5 against tsvector).
public struct MarketplaceStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    public typealias M = MarketplaceV1

    // MARK: markets and partners

    public func createMarket(_ market: M.Market, requestID: String) async throws -> M.Market {
        try await database.idempotent(operation: "CreateMarket", requestID: requestID) { session in
            var market = market
            market.id = "mk_" + RequestID.make()
            try await session.execute(
                "INSERT INTO markets (id, name, country, body) VALUES ($1, $2, $3, $4)",
                [.of(market.id), .of(market.name), .of(market.country), .blob(market.serializedBytes())])
            return market.id
        } load: { session, id in
            try await loadMarket(id, session)
        }
    }

    func loadMarket(_ id: String, _ session: any SQLSession) async throws -> M.Market {
        try await session.message(M.Market.self, from: "markets", id: id, noun: "market")
    }

    func listMarkets(country: String) async throws -> [M.Market] {
        let rows =
            country.isEmpty
            ? try await database.query("SELECT body FROM markets ORDER BY country, name", [])
            : try await database.query("SELECT body FROM markets WHERE country = $1 ORDER BY name", [.of(country)])
        return try rows.map { try $0.message(M.Market.self) }
    }

    func addPartner(_ partner: M.RetailPartner, requestID: String) async throws -> M.RetailPartner {
        try await database.idempotent(operation: "AddRetailPartner", requestID: requestID) { session in
            var partner = partner
            partner.id = "rp_" + RequestID.make()
            try await session.execute(
                """
                INSERT INTO retail_partners (id, buyer_organisation, country, region, channel, outlets, body)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                [
                    .of(partner.id), .of(partner.buyerOrganisation), .of(partner.country), .of(partner.region),
                    .of(partner.channel.rawValue), .of(partner.outlets), .blob(partner.serializedBytes()),
                ])
            return partner.id
        } load: { session, id in
            guard let row = try await session.first("SELECT body FROM retail_partners WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "partner \(id) vanished")
            }
            return try row.message(M.RetailPartner.self)
        }
    }

    /// One page of partners in id order (after `after`), and where the next page starts.
    func listPartners(buyer: String, country: String, channel: M.SalesChannel, after: String, limit: Int)
        async throws -> ([M.RetailPartner], String)
    {
        var conditions = SQLConditions()
        conditions.equal("buyer_organisation", buyer)
        conditions.equal("country", country)
        if channel != .unspecified { conditions.add("channel = \(conditions.bind(.of(channel.rawValue)))") }
        if !after.isEmpty { conditions.add("id > \(conditions.bind(.of(after)))") }
        let rows = try await database.query(
            "SELECT body FROM retail_partners \(conditions.whereClause) ORDER BY id LIMIT \(limit + 1)",
            conditions.binds)
        let partners = try rows.prefix(limit).map { try $0.message(M.RetailPartner.self) }
        let kept = PageBudget.fitting(partners, limit: limit)
        return (Array(partners.prefix(kept)), rows.count > kept ? partners[kept - 1].id : "")
    }

    func countPartners(buyer: String, groupBy: M.PartnerGrouping) async throws -> M.CountRetailPartnersResponse {
        let key =
            switch groupBy {
            case .region: "country || ' / ' || region"
            case .channel: "CAST(channel AS TEXT)"
            default: "country"
            }
        let filter = buyer.isEmpty ? "" : "WHERE buyer_organisation = $1"
        let rows = try await database.query(
            """
            SELECT \(key) AS grouping, COUNT(*) AS partners, SUM(outlets) AS outlets FROM retail_partners \(filter)
            GROUP BY \(key) ORDER BY COUNT(*) DESC, \(key)
            """, buyer.isEmpty ? [] : [.of(buyer)])
        var response = M.CountRetailPartnersResponse()
        for row in rows {
            var label = try row.text("grouping")
            if groupBy == .channel, let raw = Int32(label) { label = CSV.cell(M.SalesChannel(rawValue: raw)) }
            let count = M.PartnerCount(
                key: label, partners: Int32(try row.int("partners")), outlets: Int32(try row.int("outlets")))
            response.counts.append(count)
            response.totalPartners += count.partners
            response.totalOutlets += count.outlets
        }
        return response
    }

    // MARK: prices

    /// Records an observation and, in the same transaction, the alert it fires (if it leaves the usual range).
    /// The usual range is read first, in a snapshot of its own, so that the writer (SQLite has one) is held only for
    /// the insert: many prices recorded at once then do not wait on each other's reading of their history.
    func recordPrice(_ observation: M.PriceObservation, requestID: String) async throws
        -> Idempotent<M.RecordPriceResponse>
    {
        let window = try await database.read { session in try await Self.trailing(observation, session) }
        return try await database.idempotentOutcome(operation: "RecordPrice", requestID: requestID) { session in
            _ = try await loadMarket(observation.marketID, session)
            var observation = observation
            observation.id = "po_" + RequestID.make()
            _ = try await insert(observation, session, trailing: window)
            return observation.id
        } load: { session, id in
            guard let row = try await session.first("SELECT * FROM price_observations WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "observation \(id) vanished")
            }
            var response = M.RecordPriceResponse(observation: try Self.observation(row))
            if let alert = try await session.first("SELECT body FROM price_alerts WHERE observation_id = $1", [.of(id)])
            {
                response.alert = try alert.message(M.PriceAlert.self)
            }
            return response
        }
    }

    /// The median and count of the observations of `observation`'s series in the trailing window before its day,
    /// worked out by the database (a count, then the middle one or two by an index that holds the prices).
    static func trailing(_ observation: M.PriceObservation, _ session: any SQLSession) async throws
        -> (median: Int64, count: Int)
    {
        let day = ISODate(observation.observedOn!)!
        let series: [SQLValue] = [
            .of(observation.product), .of(observation.marketID), .of(observation.priceType.rawValue),
            .of(observation.unit), .of(observation.price!.currency),
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
        _ observation: M.PriceObservation, _ session: any SQLSession, trailing given: (median: Int64, count: Int)? = nil
    ) async throws -> M.PriceAlert? {
        let day = ISODate(observation.observedOn!)!
        let price = observation.price!
        let window: (median: Int64, count: Int)
        if let given { window = given } else { window = try await Self.trailing(observation, session) }
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
        guard let alert = PriceRules.alert(for: observation, median: window.median, count: window.count) else {
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

    /// Many validated observations in one transaction, without alerts (bulk import of history, benchmarks).
    public func bulkInsertPrices(_ observations: [M.PriceObservation]) async throws {
        try await database.transaction { session in
            for start in stride(from: 0, to: observations.count, by: 400) {
                let batch = observations[start..<min(start + 400, observations.count)]
                var rows: [String] = []
                var binds: [SQLValue] = []
                for observation in batch {
                    let base = binds.count
                    rows.append("(" + (1...9).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
                    binds += [
                        .of("po_" + RequestID.make()), .of(observation.product), .of(observation.marketID),
                        .of(observation.priceType.rawValue), .of(observation.unit),
                        .of(observation.price!.minorUnits), .of(observation.price!.currency),
                        .of(ISODate(observation.observedOn!)!.description), .of(observation.source),
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

    static func observation(_ row: SQLRow) throws -> M.PriceObservation {
        M.PriceObservation(
            id: try row.text("id"), product: try row.text("product"), marketID: try row.text("market_id"),
            priceType: M.PriceType(rawValue: Int32(try row.int("price_type"))), unit: try row.text("unit"),
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

    private static func window(product: String, marketID: String, priceType: Int32, from: ISODate, to: ISODate)
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

    func listAlerts(product: String, since: ISODate?) async throws -> [M.PriceAlert] {
        var conditions = SQLConditions()
        conditions.equal("product", product)
        if let since { conditions.add("observed_on >= \(conditions.bind(.of(since.description)))") }
        return try await database.query(
            "SELECT body FROM price_alerts \(conditions.whereClause) ORDER BY observed_on DESC, id LIMIT 500",
            conditions.binds
        )
        .map { try $0.message(M.PriceAlert.self) }
    }

    // MARK: demand

    func postDemand(_ signal: M.DemandSignal, requestID: String) async throws -> Idempotent<M.DemandSignal> {
        try await database.idempotentOutcome(operation: "PostDemand", requestID: requestID) { session in
            var signal = signal
            signal.id = "ds_" + RequestID.make()
            signal.status = .open
            signal.createdAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            try await session.execute(
                "INSERT INTO demand_signals (id, product, status, created_at, body) VALUES ($1, $2, $3, $4, $5)",
                [
                    .of(signal.id), .of(signal.product), .of(signal.status.rawValue), .of(signal.createdAt!.unixMicros),
                    .blob(signal.serializedBytes()),
                ])
            return signal.id
        } load: { session, id in
            try await loadSignal(id, session)
        }
    }

    func loadSignal(_ id: String, _ session: any SQLSession) async throws -> M.DemandSignal {
        try await session.message(M.DemandSignal.self, from: "demand_signals", id: id, noun: "demand signal")
    }

    func getSignal(_ id: String) async throws -> M.DemandSignal {
        try await database.read { session in try await loadSignal(id, session) }
    }

    func listDemand(product: String, status: M.DemandStatus) async throws -> [M.DemandSignal] {
        var conditions = SQLConditions()
        if status == .unspecified {
            conditions.add("status IN (1, 2)")
        } else {
            conditions.add("status = \(conditions.bind(.of(status.rawValue)))")
        }
        conditions.equal("product", product)
        return try await database.query(
            "SELECT body FROM demand_signals \(conditions.whereClause) ORDER BY created_at DESC", conditions.binds
        )
        .map { try $0.message(M.DemandSignal.self) }
    }

    /// Demand signals a producer group was matched to, newest first.
    func matchedDemand(groupID: String, limit: Int = 50) async throws -> [M.DemandSignal] {
        try await database.query(
            """
            SELECT s.body FROM demand_matches m JOIN demand_signals s ON s.id = m.signal_id
            WHERE m.group_id = $1 ORDER BY s.created_at DESC, s.id LIMIT \(limit)
            """, [.of(groupID)]
        ).map { try $0.message(M.DemandSignal.self) }
    }

    /// Replaces a signal's matches and marks an open signal MATCHED when there are any, in one transaction.
    func saveMatches(signalID: String, _ matches: [M.DemandMatch], requestID: String) async throws
        -> M.MatchDemandResponse
    {
        try await database.answeringOnce("MatchDemand", requestID: requestID) { session in
            // Matching, answering and closing a signal read its status and then write: one at a time per signal.
            try await session.lock("signal \(signalID)")
            var signal = try await loadSignal(signalID, session)
            try await session.execute("DELETE FROM demand_matches WHERE signal_id = $1", [.of(signalID)])
            for match in matches {
                try await session.execute(
                    "INSERT INTO demand_matches (signal_id, group_id, body) VALUES ($1, $2, $3)",
                    [.of(signalID), .of(match.groupID), .blob(match.serializedBytes())])
            }
            if signal.status == .open && !matches.isEmpty {
                signal.status = .matched
                try await writeSignal(signal, session)
            }
            return M.MatchDemandResponse(signal: signal, matches: matches)
        }
    }

    private func writeSignal(_ signal: M.DemandSignal, _ session: any SQLSession) async throws {
        try await session.execute(
            "UPDATE demand_signals SET status = $2, body = $3 WHERE id = $1",
            [.of(signal.id), .of(signal.status.rawValue), .blob(signal.serializedBytes())])
    }

    func setStatus(signalID: String, _ status: M.DemandStatus, requestID: String) async throws -> M.DemandSignal {
        try await database.answeringOnce("SetDemandStatus", requestID: requestID) { session in
            try await session.lock("signal \(signalID)")
            var signal = try await loadSignal(signalID, session)
            if signal.status == .fulfilled || signal.status == .withdrawn, signal.status != status {
                throw RPCError(
                    .failedPrecondition,
                    "demand signal \"\(signalID)\" is already \(CSV.cell(signal.status)) and cannot change")
            }
            signal.status = status
            try await writeSignal(signal, session)
            return signal
        }
    }

    func answer(_ answer: M.DemandAnswer, requestID: String) async throws -> M.DemandAnswer {
        try await database.idempotent(operation: "AnswerDemand", requestID: requestID) { session in
            try await session.lock("signal \(answer.signalID)")
            let signal = try await loadSignal(answer.signalID, session)
            guard signal.status == .open || signal.status == .matched else {
                throw RPCError(
                    .failedPrecondition,
                    "demand signal \"\(signal.id)\" is \(CSV.cell(signal.status)): it takes no answers")
            }
            var answer = answer
            answer.id = "da_" + RequestID.make()
            try await session.execute(
                "INSERT INTO demand_answers (id, signal_id, body) VALUES ($1, $2, $3)",
                [.of(answer.id), .of(answer.signalID), .blob(answer.serializedBytes())])
            return answer.id
        } load: { session, id in
            guard let row = try await session.first("SELECT body FROM demand_answers WHERE id = $1", [.of(id)]) else {
                throw StorageError(.corrupt, "answer \(id) vanished")
            }
            return try row.message(M.DemandAnswer.self)
        }
    }

    func answers(signalID: String) async throws -> [M.DemandAnswer] {
        try await database.read { session in
            _ = try await loadSignal(signalID, session)
            return try await session.query(
                "SELECT body FROM demand_answers WHERE signal_id = $1 ORDER BY id", [.of(signalID)]
            )
            .map { try $0.message(M.DemandAnswer.self) }
        }
    }

    // MARK: library

    func addEntry(_ entry: M.LibraryEntry, requestID: String) async throws -> M.LibraryEntry {
        try await database.idempotent(operation: "AddLibraryEntry", requestID: requestID) { session in
            var entry = entry
            entry.id = "le_" + RequestID.make()
            entry.createdAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            try await insertEntry(entry, session)
            return entry.id
        } load: { session, id in
            try await loadEntry(id, session)
        }
    }

    private func insertEntry(_ entry: M.LibraryEntry, _ session: any SQLSession) async throws {
        let crafts = "|" + entry.crafts.joined(separator: "|") + "|"
        let topics = "|" + entry.topics.joined(separator: "|") + "|"
        switch session.dialect {
        case .sqlite:
            try await session.execute(
                """
                INSERT INTO library_entries (id, crafts, topics, created_at, body) VALUES ($1, $2, $3, $4, $5)
                """,
                [
                    .of(entry.id), .of(crafts), .of(topics), .of(entry.createdAt!.unixMicros),
                    .blob(entry.serializedBytes()),
                ])
            try await session.execute(
                "INSERT INTO library_search (entry_id, title, topics, body) VALUES ($1, $2, $3, $4)",
                [.of(entry.id), .of(entry.title), .of(entry.topics.joined(separator: " ")), .of(entry.body)])
        case .postgres:
            try await session.execute(
                """
                INSERT INTO library_entries (id, crafts, topics, created_at, body, title_text, body_text)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                [
                    .of(entry.id), .of(crafts), .of(topics), .of(entry.createdAt!.unixMicros),
                    .blob(entry.serializedBytes()), .of(entry.title), .of(entry.body),
                ])
        }
    }

    /// Many entries in one transaction (benchmarks, bulk import); they must already be validated.
    public func bulkAddEntries(_ entries: [M.LibraryEntry]) async throws {
        try await database.transaction { session in
            for var entry in entries {
                entry.id = "le_" + RequestID.make()
                entry.createdAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
                try await insertEntry(entry, session)
            }
        }
    }

    func loadEntry(_ id: String, _ session: any SQLSession) async throws -> M.LibraryEntry {
        try await session.message(M.LibraryEntry.self, from: "library_entries", id: id, noun: "library entry")
    }

    func getEntry(_ id: String) async throws -> M.LibraryEntry {
        try await database.read { session in try await loadEntry(id, session) }
    }

    /// Entries containing every word of `words`, most relevant first: FTS5's bm25 (title weighted 10, topics 5,
    /// body 1) on SQLite, ts_rank over title (A), topics (B) and body (C) on PostgreSQL.
    func search(words: [String], craft: String, topic: String, limit: Int) async throws -> [M.LibraryHit] {
        var query = SQLConditions()
        var filters: [String] = []
        func bind(_ value: SQLValue) -> String { query.bind(value) }
        let sql: String
        switch database.dialect {
        case .sqlite:
            let match = bind(.of(words.map { "\"\($0)\"" }.joined(separator: " ")))
            if !craft.isEmpty { filters.append("e.crafts LIKE \(bind(.of("%|" + craft + "|%")))") }
            if !topic.isEmpty { filters.append("e.topics LIKE \(bind(.of("%|" + topic + "|%")))") }
            sql = """
                SELECT e.body, -bm25(library_search, 0.0, 10.0, 5.0, 1.0) AS score
                FROM library_search JOIN library_entries e ON e.id = library_search.entry_id
                WHERE library_search MATCH \(match) \(filters.map { "AND " + $0 }.joined(separator: " "))
                ORDER BY bm25(library_search, 0.0, 10.0, 5.0, 1.0) LIMIT \(bind(.of(limit)))
                """
        case .postgres:
            let query = bind(.of(words.joined(separator: " ")))
            if !craft.isEmpty { filters.append("crafts LIKE \(bind(.of("%|" + craft + "|%")))") }
            if !topic.isEmpty { filters.append("topics LIKE \(bind(.of("%|" + topic + "|%")))") }
            sql = """
                SELECT body, ts_rank(search, plainto_tsquery('english', \(query)))::float8 AS score FROM library_entries
                WHERE search @@ plainto_tsquery('english', \(query)) \(filters.map { "AND " + $0 }.joined(separator: " "))
                ORDER BY score DESC, id LIMIT \(bind(.of(limit)))
                """
        }
        return try await database.query(sql, query.binds).map { row in
            M.LibraryHit(entry: try row.message(M.LibraryEntry.self), score: try row.real("score"))
        }
    }
}

/// The documented rule for price alerts.
enum PriceRules {
    static let trailingDays = 90
    static let minimumHistory = 5
    static let highRatio = 1.5
    static let lowRatio = 0.67

    static func median(_ values: [Int64]) -> Int64 {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func alert(for observation: MarketplaceV1.PriceObservation, median: Int64, count: Int)
        -> MarketplaceV1.PriceAlert?
    {
        guard count >= minimumHistory, let price = observation.price else { return nil }
        guard median > 0 else { return nil }
        let ratio = Double(price.minorUnits) / Double(median)
        guard ratio > highRatio || ratio < lowRatio else { return nil }
        return MarketplaceV1.PriceAlert(
            id: "pa_" + RequestID.make(), observationID: observation.id, product: observation.product,
            marketID: observation.marketID, price: price,
            trailingMedian: CommonV1.Money(minorUnits: median, currency: price.currency),
            ratioBp: Int32(roundingClamped: ratio * 10_000), direction: ratio > highRatio ? .aboveRange : .belowRange,
            observedOn: observation.observedOn)
    }
}
