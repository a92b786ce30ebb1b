import API
import ArgumentParser
import Foundation
import Logging
import RPC
import Schema
import Synchronization

/// `rpc-bench fairness`: many clients at once (32 by default), each mixing reads and writes of the Producer and
/// Marketplace-Info services as fast as answers come, for a minute: latency by method, reads' p99 over all, and the
/// services' memory sampled as it goes (flat after warm-up, or growing).
struct FairnessBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fairness",
        abstract: "Many clients mixing reads and writes for a minute: latency by method, and the services' memory.")

    @Option(help: "Clients, each making one call at a time.") var clients = 32
    @Option(help: "Seconds to run.") var duration: Double = 60
    @Option(help: "Share of calls that write.") var writes = 0.3
    @Option(
        help: """
            Price series the prices are spread over (products × markets, up to 20): 20 is a market information \
            service's usual shape; 1 puts every price in one series, the worst case for its statistics.
            """)
    var series = 20

    static let products = ["baskets", "shea butter", "kente cloth", "pottery", "beads"]

    func run() throws {
        let logger = Logger(label: "fairness", factory: { _ in SwiftLogNoOpLogHandler() })
        let services = try ServiceProcesses(["producer-service", "marketplace-info-service"])
        defer { withExtendedLifetime(services) {} }
        let producerEndpoint = services.endpoint(0)
        let marketEndpoint = services.endpoint(1)
        let pids = services.processes.map(\.processIdentifier)
        let (clients, writes, duration, series) = (self.clients, self.writes, self.duration, self.series)
        let (calls, memory) = try blockingRun {
            let producerChannel = try ClientChannel(
                endpoints: [producerEndpoint], configuration: .init(defaultTimeout: .seconds(30)), logger: logger)
            let marketChannel = try ClientChannel(
                endpoints: [marketEndpoint], configuration: .init(defaultTimeout: .seconds(30)), logger: logger)
            defer {
                producerChannel.close()
                marketChannel.close()
            }
            for channel in [producerChannel, marketChannel] {
                try await HealthV1.HealthClient(channel: channel).waitUntilServing()
            }
            let producer = ProducerV1.ProducerServiceClient(channel: producerChannel)
            let market = MarketplaceV1.MarketplaceInfoServiceClient(channel: marketChannel)
            var groups: [String] = []
            for index in 0..<20 {
                groups.append(
                    try await producer.createProducerGroup(
                        .init(
                            group: ProducerV1.ProducerGroup(
                                name: "Weavers \(index)", kind: .cooperative, country: "GH", crafts: ["baskets"]),
                            requestID: "seed-\(index)")
                    ).id)
            }
            var markets: [String] = []
            for (index, town) in ["Bolgatanga", "Tamale", "Kumasi", "Accra"].enumerated() {
                markets.append(
                    try await market.createMarket(
                        .init(
                            market: MarketplaceV1.Market(name: "\(town) market", country: "GH", kind: .localMarket),
                            requestID: "seed-market-\(index)")
                    ).id)
            }
            // Series number k is product k % 5 in market k / 5.
            let seriesCount = max(1, min(series, 20))
            let priceSeries = (0..<seriesCount).map { (product: Self.products[$0 % 5], market: markets[$0 / 5]) }
            let seeded = groups
            let log = Recorded<[String: [UInt64]]>([:])
            let memory = Recorded<[(seconds: Double, rss: [Int])]>([])
            let start = ContinuousClock.now
            let end = start + .milliseconds(Int64(duration * 1000))
            let sampler = Task {
                while ContinuousClock.now < end {
                    let seconds = (ContinuousClock.now - start).components.seconds
                    memory.value.withLock { $0.append((Double(seconds), pids.map(Self.residentKiB))) }
                    try? await Task.sleep(for: .seconds(5))
                }
                memory.value.withLock { $0.append((duration, pids.map(Self.residentKiB))) }
            }
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var serial = 0
                        while ContinuousClock.now < end {
                            serial += 1
                            let write = Double.random(in: 0..<1) < writes
                            let choice = Int.random(in: 0..<3)
                            let name: String
                            let before = nowNanos()
                            do {
                                switch (write, choice) {
                                case (true, 0):
                                    name = "producer.CreateProducerGroup"
                                    _ = try await producer.createProducerGroup(
                                        .init(
                                            group: ProducerV1.ProducerGroup(
                                                name: "Load \(client)-\(serial)", kind: .cooperative, country: "GH",
                                                crafts: ["baskets"]),
                                            requestID: "w-\(client)-\(serial)"))
                                case (true, _):
                                    name = "market.RecordPrice"
                                    let (product, marketID) = priceSeries.randomElement()!
                                    let day = CommonV1.Date(
                                        year: 2026, month: Int32.random(in: 9...11), day: Int32.random(in: 1...28))
                                    _ = try await market.recordPrice(
                                        .init(
                                            observation: MarketplaceV1.PriceObservation(
                                                product: product, marketID: marketID, priceType: .producer,
                                                unit: "piece",
                                                price: CommonV1.Money(
                                                    minorUnits: Int64.random(in: 900...1100), currency: "GHS"),
                                                observedOn: day),
                                            requestID: "p-\(client)-\(serial)"))
                                case (false, 0):
                                    name = "producer.GetProducerGroup"
                                    _ = try await producer.getProducerGroup(.init(id: seeded.randomElement()!))
                                case (false, 1):
                                    name = "producer.ListProducerGroups"
                                    _ = try await producer.listProducerGroups(.init(country: "GH", pageSize: 20))
                                default:
                                    name = "market.GetPriceStatistics"
                                    let (product, marketID) = priceSeries.randomElement()!
                                    _ = try await market.getPriceStatistics(
                                        .init(
                                            product: product, marketID: marketID, windowDays: 90,
                                            asOf: CommonV1.Date(year: 2026, month: 11, day: 30)))
                                }
                            } catch {
                                continue
                            }
                            let elapsed = nowNanos() - before
                            log.value.withLock { $0[(write ? "write " : "read ") + name, default: []].append(elapsed) }
                        }
                    }
                }
            }
            await sampler.value
            return (log.value.withLock { $0 }, memory.value.withLock { $0 })
        }
        func quantile(_ sorted: [UInt64], _ percent: Int) -> Double {
            Double(sorted[min(sorted.count - 1, sorted.count * percent / 100)]) / 1e6
        }
        print(
            "\(clients) clients, \(Int(duration)) s, \(Int(writes * 100))% writes, prices in \(max(1, min(series, 20)))"
                + " series; milliseconds")
        print("method                                  calls     p50       p99       max")
        for (name, samples) in calls.sorted(by: { $0.key < $1.key }) {
            let sorted = samples.sorted()
            print(
                name.padding(toLength: 40, withPad: " ", startingAt: 0)
                    + String(
                        format: "%-10d%-10.1f%-10.1f%.1f", sorted.count, quantile(sorted, 50), quantile(sorted, 99),
                        Double(sorted.last ?? 0) / 1e6))
        }
        let reads = calls.filter { $0.key.hasPrefix("read") }.flatMap { $0.value }.sorted()
        if !reads.isEmpty {
            print(
                String(
                    format: "all reads: p50 %.1f ms, p99 %.1f ms (target ≤ 50), max %.1f ms", quantile(reads, 50),
                    quantile(reads, 99), Double(reads.last!) / 1e6))
        }
        print("resident memory, MiB (producer, marketplace-info), every 5 s:")
        print(
            memory.map {
                String(format: "%.0fs %@", $0.seconds, $0.rss.map { String($0 / 1024) }.joined(separator: "/"))
            }
            .joined(separator: "  "))
        if let warm = memory.first(where: { $0.seconds >= 20 }), let last = memory.last {
            print(
                "growth from 20 s to the end: "
                    + zip(warm.rss, last.rss).map {
                        String(format: "%+.1f%%", Double($1 - $0) / Double(max($0, 1)) * 100)
                    }
                    .joined(separator: " / "))
        }
    }

    /// A process's resident memory in KiB (VmRSS), or 0.
    static func residentKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
}

/// A value many tasks add to.
final class Recorded<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}
