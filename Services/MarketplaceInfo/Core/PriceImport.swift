import Domain
import RPC
import Schema
import Storage

/// Price observations from a spreadsheet: every row checked, then the new ones recorded in date order in one
/// transaction, each against the alert rule; nothing when any row is wrong. An import only adds: rows already
/// recorded are skipped, so that importing a file twice records nothing twice.
struct PriceImport: Sendable {

    static let columns = ["product", "market", "price_type", "unit", "price", "currency", "observed_on", "source"]
    /// Rows an import may hold; a bigger file is split.
    static let maxRows = 10_000

    let sheet: CSV.Sheet

    /// Reads the file; problems with it as a whole (not CSV, header, no rows, too many) go to `check`.
    init(csv: [UInt8], _ check: inout FieldValidator) {
        sheet = CSV.Sheet(
            csv, known: Self.columns, required: Self.columns.filter { $0 != "source" }, purpose: "record prices",
            maxRows: Self.maxRows, &check)
    }

    /// The column a PriceObservation field comes from, for naming problems.
    static func column(_ field: String) -> String {
        switch field {
        case "market_id": "market"
        case "price.currency": "currency"
        case "price.minor_units": "price"
        default: field
        }
    }

    /// What the import records: the observations not stored yet, in date order (row order within a day), and the
    /// rows already recorded.
    struct Plan {
        var observations: [Valued<MarketplaceV1.PriceObservation>] = []
        var alreadyRecordedRows: [Int32] = []
    }

    /// Checks every row; wrong cells fail the whole import with INVALID_ARGUMENT naming each row and column.
    func plan(_ store: MarketplaceStore, _ session: any SQLSession) async throws -> Plan {
        var check = FieldValidator()
        let markets = try await store.marketNames(session)
        let marketIDs = Set(markets.map(\.id))
        var rows: [(row: Int, observation: MarketplaceV1.PriceObservation)] = []
        for row in sheet.rows {
            // A call cancelled (its deadline, its client, a shutdown past its grace) stops here, and rolls back.
            try Task.checkCancellation()
            if let problem = row.problem {
                check.fail("row \(row.number)", problem)
                continue
            }
            var rowCheck = CSV.RowCheck(row: row.number)
            var observation = MarketplaceV1.PriceObservation(
                product: row["product"] ?? "", unit: row["unit"] ?? "", source: row["source"] ?? "")
            if let market = row["market"] {
                let named = markets.filter { $0.name.lowercased() == market.lowercased() }.map(\.id)
                switch CSV.RowCheck.resolve(
                    market, ids: marketIDs, named: named, noun: "market", hint: " (add it with CreateMarket first)")
                {
                case .success(let id): observation.marketID = id
                case .failure(let error): rowCheck.unreadable("market", error.message)
                }
            }
            if let type: MarketplaceV1.PriceType = rowCheck.enumValue(row["price_type"], column: "price_type") {
                observation.priceType = type
            }
            observation.price = rowCheck.money(
                row["price"], column: "price", currency: (row["currency"] ?? "").uppercased(), example: "40.00")
            observation.observedOn = rowCheck.date(row["observed_on"], column: "observed_on")?.message
            observation = MarketplaceHandler.validated(observation, &rowCheck.values) { $0 }
            rowCheck.report(to: &check, column: Self.column)
            rows.append((row.number, observation))
        }
        try check.check()

        // Every row has a valid date now: record them in date order, file order within a day.
        let dated = try rows.map { row in
            (
                row: row.row,
                checked: try Valued(
                    row.observation, day: row.observation.observedOn, "row \(row.row), observed_on",
                    amount: row.observation.price, "row \(row.row), price")
            )
        }
        var plan = Plan()
        var seen: Set<[String]> = []
        for (row, checked) in dated.sorted(by: { ($0.checked.day, $0.row) < ($1.checked.day, $1.row) }) {
            let observation = checked.record
            let key = Self.key(observation)
            guard seen.insert(key).inserted else {
                plan.alreadyRecordedRows.append(Int32(row))
                continue
            }
            if try await store.isRecorded(observation, session) {
                plan.alreadyRecordedRows.append(Int32(row))
            } else {
                plan.observations.append(checked)
            }
        }
        plan.alreadyRecordedRows.sort()
        return plan
    }

    /// What makes two observations the same: every column.
    static func key(_ observation: MarketplaceV1.PriceObservation) -> [String] {
        [
            observation.product, observation.marketID, String(observation.priceType.rawValue), observation.unit,
            String(observation.price?.minorUnits ?? 0), observation.price?.currency ?? "",
            observation.observedOn.flatMap(ISODate.init)?.description ?? "", observation.source,
        ]
    }
}

extension MarketplaceStore {
    /// Runs `priceImport` (`Database.spreadsheetImport`).
    func importPrices(_ priceImport: PriceImport, validateOnly: Bool, requestID: String, source: String)
        async throws -> Idempotent<MarketplaceV1.ImportPricesResponse>
    {
        try await database.spreadsheetImportOutcome(
            operation: "ImportPrices", table: "price_imports", requestID: requestID, source: source,
            validateOnly: validateOnly, importID: \.importID
        ) { session in
            let plan = try await priceImport.plan(self, session)
            return MarketplaceV1.ImportPricesResponse(
                recorded: Int32(plan.observations.count), alreadyRecordedRows: plan.alreadyRecordedRows,
                validateOnly: true)
        } write: { session in
            let plan = try await priceImport.plan(self, session)
            var response = MarketplaceV1.ImportPricesResponse(
                importID: PriceImportID.mint().text, recorded: Int32(plan.observations.count),
                alreadyRecordedRows: plan.alreadyRecordedRows)
            for checked in plan.observations {
                let stored = checked.with { $0.id = PriceObservationID.mint().text }
                if let alert = try await insert(stored, session) { response.alerts.append(alert) }
            }
            return response
        }
    }

    /// Every market's id and name, to find a spreadsheet's markets.
    func marketNames(_ session: any SQLSession) async throws -> [(id: String, name: String)] {
        try await session.query("SELECT id, name FROM markets", []).map { (try $0.text("id"), try $0.text("name")) }
    }

    /// Whether an observation equal in every column is stored.
    func isRecorded(_ observation: MarketplaceV1.PriceObservation, _ session: any SQLSession) async throws -> Bool {
        try await session.first(
            """
            SELECT id FROM price_observations
            WHERE product = $1 AND market_id = $2 AND observed_on = $3 AND price_type = $4 AND unit = $5
              AND price_minor = $6 AND currency = $7 AND source = $8
            """,
            [
                .of(observation.product), .of(observation.marketID),
                .of(observation.observedOn.flatMap(ISODate.init)?.description ?? ""),
                .of(observation.priceType.rawValue), .of(observation.unit), .of(observation.price?.minorUnits ?? 0),
                .of(observation.price?.currency ?? ""), .of(observation.source),
            ]) != nil
    }
}
