import API
import ArgumentParser
import Domain
import Foundation
import Logging
import MarketplaceCore
import RPC
import Schema
import Storage

/// `rpc-bench marketplace`: Marketplace-Info with 1,000,000 price observations and 10,000 library entries — price
/// statistics for one product and market over 90 days, and a library search, through the RPC.
struct MarketplaceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marketplace", abstract: "Benchmark price statistics and library search with much data stored.")

    @Option(help: "sqlite or postgres.") var backend: String = "sqlite"
    @Option(help: "PostgreSQL server URL for --backend postgres (a fresh database is made on it).")
    var postgresURL: String =
        ProcessInfo.processInfo.environment["FT_TEST_POSTGRES_URL"] ?? "postgres://postgres@127.0.0.1:55432/postgres"
    @Option var observations = 1_000_000
    @Option var entries = 10_000
    @Option(help: "Calls measured per operation.") var calls = 2_000
    @Flag var json = false

    func run() throws {
        let logger = Logger(label: "marketplace-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let benchStorage = try BenchStorage(
            backend: backend, postgresURL: postgresURL, sqliteFile: "marketplace-info.sqlite", logger: logger)
        defer { benchStorage.remove() }
        let location = benchStorage.location
        let storage = benchStorage.serviceArguments

        let products = [
            "baskets", "scarves", "bags", "jewellery", "pottery", "woodcarving", "textiles", "leather",
            "paper", "toys", "glass", "home decor", "stationery", "embroidery", "metalwork", "rugs", "candles",
            "soap", "tea", "coffee", "cocoa", "spices", "shea butter", "honey", "cards",
        ]
        let words = [
            "natural", "dye", "indigo", "weaving", "basket", "export", "pricing", "quality", "training", "trainers",
            "women", "cooperative", "savings", "loan", "equipment", "printing", "screen", "workshop", "solar",
            "health", "recycled", "materials", "market", "buyer", "order", "lead", "time", "packaging",
            "shipping", "design", "colour", "fabric", "straw", "clay", "glaze", "kiln", "wood", "finish",
            "bookkeeping", "costing",
        ]
        let today = ISODate.today()
        let seedStart = ContinuousClock.now
        let markets: [String] = try blockingRun {
            let database = try await openDatabase(location, migrations: MarketplaceMigrations.all, logger: logger)
            let store = MarketplaceStore(database: database)
            var markets: [String] = []
            for index in 0..<20 {
                markets.append(
                    try await store.createMarket(
                        MarketplaceV1.Market(
                            name: "Market \(index)", country: "GH", kind: .localMarket), requestID: "m\(index)"
                    ).id)
            }
            var generator = SystemRandomNumberGenerator()
            var batch: [MarketplaceV1.PriceObservation] = []
            for index in 0..<observations {
                batch.append(
                    MarketplaceV1.PriceObservation(
                        product: products[index % products.count],
                        marketID: markets[(index / products.count) % markets.count],
                        priceType: .producer, unit: "piece",
                        price: CommonV1.Money(
                            minorUnits: Int64.random(in: 800...1200, using: &generator), currency: "USD"),
                        observedOn: today.adding(days: -Int.random(in: 0..<1095, using: &generator)).message,
                        source: "seed"))
                if batch.count == 20_000 {
                    try await store.bulkInsertPrices(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { try await store.bulkInsertPrices(batch) }
            // Text like real text: mostly words from a large vocabulary, some of the domain words queries use.
            let filler = (0..<3000).map { "w\($0)" }
            func word() -> String {
                Int.random(in: 0..<8, using: &generator) == 0
                    ? words.randomElement(using: &generator)!
                    : filler.randomElement(using: &generator)!
            }
            var library: [MarketplaceV1.LibraryEntry] = []
            for index in 0..<entries {
                let title = (0..<6).map { _ in word() }.joined(separator: " ")
                let body = (0..<120).map { _ in word() }.joined(separator: " ")
                library.append(
                    MarketplaceV1.LibraryEntry(
                        title: "Practice \(index): \(title)", body: body, topics: [words[index % words.count]],
                        crafts: [products[index % products.count]], authorKind: .organisation, author: "Seed"))
            }
            try await store.bulkAddEntries(library)
            try await settle(database)
            await database.close()
            return markets
        }
        let seeded = ContinuousClock.now - seedStart

        let service = try BenchService(
            "marketplace-info-service", ["--events-endpoint", "tcp://127.0.0.1:*", "--log-level", "warning"] + storage)
        defer { service.stop() }
        let endpoint = service.endpoint
        let results: [Measurement] = try blockingRun {
            let channel = try ClientChannel(
                endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(30)), logger: logger)
            defer { channel.close() }
            let client = MarketplaceV1.MarketplaceInfoServiceClient(channel: channel)
            try await HealthV1.HealthClient(channel: channel).waitUntilServing()
            var generator = SystemRandomNumberGenerator()
            func measure(_ mode: String, _ body: () async throws -> Void) async throws -> Measurement {
                for _ in 0..<min(200, calls) { try await body() }
                var samples: [UInt64] = []
                let start = ContinuousClock.now
                for _ in 0..<calls {
                    let before = nowNanos()
                    try await body()
                    samples.append(nowNanos() - before)
                }
                return Measurement(
                    system: "marketplace-\(backend)", mode: mode, samples: samples, elapsed: .now - start, calls: calls)
            }
            let statistics = try await measure("statistics-90d") {
                _ = try await client.getPriceStatistics(
                    MarketplaceV1.GetPriceStatisticsRequest(
                        product: products.randomElement(using: &generator)!,
                        marketID: markets.randomElement(using: &generator)!,
                        windowDays: 90))
            }
            let search = try await measure("library-search") {
                let query = (0..<2).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
                _ = try await client.searchLibrary(MarketplaceV1.SearchLibraryRequest(query: query, limit: 20))
            }
            return [statistics, search]
        }
        if json {
            for result in results { print(result.json) }
        } else {
            print(
                "marketplace-info-service on \(backend): \(observations) price observations, \(entries) library entries (seeded in \(seeded)), \(calls) calls each"
            )
            print("operation         p50 µs    p99 µs    calls/s")
            for result in results {
                print(
                    result.mode.padding(toLength: 18, withPad: " ", startingAt: 0)
                        + String(format: "%-10.1f%-10.1f%.0f", result.p50, result.p99, result.perSecond))
            }
        }
    }
}
