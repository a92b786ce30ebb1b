import ArgumentParser
import Foundation
import Logging
import ProducerCore
import RPC
import Schema
import Storage

/// `rpc-bench scale`: the same read-heavy mix (`rpc-bench load`'s, as fast as its clients go) against one Producer
/// instance and against two sharing one PostgreSQL database, in interleaved rounds of one run: calls per second and
/// latencies of each, and the ratio two / one.
struct ScaleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Calls/s and p99 of a read-heavy mix against one and against two Producer instances on PostgreSQL.")

    @Option(help: "PostgreSQL server URL (a fresh database is made on it).")
    var postgresURL: String =
        ProcessInfo.processInfo.environment["FT_TEST_POSTGRES_URL"] ?? "postgres://postgres@127.0.0.1:55432/postgres"
    @Option(help: "Groups stored before measuring.") var groups = 20_000
    @Option(help: "Seconds of each measurement.") var duration: Double = 10
    @Option(help: "Clients, each making one call at a time, as fast as answers come.") var clients = 32
    @Option(help: "Share of calls that write.") var writes = 0.1
    @Option(help: "Rounds, one and two instances interleaved; figures are medians.") var rounds = 3

    func run() throws {
        let logger = Logger(label: "scale-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let storage = try BenchStorage(
            backend: "postgres", postgresURL: postgresURL, sqliteFile: "producer.sqlite", logger: logger)
        defer { storage.remove() }
        let location = storage.location
        let count = groups
        try blockingRun {
            let database = try await openDatabase(location, migrations: ProducerMigrations.all, logger: logger)
            let store = ProducerStore(database: database)
            for chunk in stride(from: 0, to: count, by: 5_000) {
                _ = try await store.bulkInsert(
                    (chunk..<min(chunk + 5_000, count)).map { index in
                        ProducerV1.ProducerGroup(
                            name: "Artisan group \(index)", kind: .cooperative, country: index % 3 == 0 ? "GH" : "KH",
                            crafts: ["baskets"], members: ProducerV1.MemberCounts(women: 10, men: 2))
                    })
            }
            try await settle(database)
            await database.close()
        }
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        var instances: [Process] = []
        defer {
            for instance in instances {
                instance.terminate()
                instance.waitUntilExit()
            }
        }
        var endpoints: [String] = []
        for _ in 0..<2 {
            let endpoint = "tcp://127.0.0.1:\(Int.random(in: 20_000..<32_000))"
            let service = Process()
            service.executableURL = directory.appendingPathComponent("producer-service")
            service.arguments = ["--endpoint", endpoint, "--log-level", "warning"] + storage.serviceArguments
            try service.run()
            instances.append(service)
            endpoints.append(endpoint)
        }
        let (clients, writes, duration, roundCount) = (self.clients, self.writes, self.duration, self.rounds)
        let started = endpoints
        let rounds = try blockingRun {
            let endpoints = started
            for endpoint in endpoints {
                let channel = try ClientChannel(endpoints: [endpoint], logger: logger)
                try await HealthV1.HealthClient(channel: channel).waitUntilServing()
                channel.close()
            }
            var rounds: [(one: LoadFigures, two: LoadFigures)] = []
            for round in 0..<roundCount {
                let one = try await LoadBench.drive(
                    endpoints: [endpoints[0]], security: nil, label: "scale1-\(round)-\(RequestID.make().prefix(6))",
                    duration: duration, rate: 0, clients: clients, writes: writes, timeout: 10
                ).1
                let two = try await LoadBench.drive(
                    endpoints: endpoints, security: nil, label: "scale2-\(round)-\(RequestID.make().prefix(6))",
                    duration: duration, rate: 0, clients: clients, writes: writes, timeout: 10
                ).1
                rounds.append((one, two))
            }
            return rounds
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        print(
            "Producer on PostgreSQL, \(groups) groups, \(clients) clients as fast as answers come, \(Int(writes * 100))% writes, "
                + "\(rounds.count) rounds of \(duration) s; medians")
        func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        print(
            cell("instances", 11) + cell("calls/s", 10) + cell("reads p50 / p99 ms", 20)
                + cell("writes p50 / p99 ms", 21) + "errors")
        for (name, figures) in [("one", rounds.map(\.one)), ("two", rounds.map(\.two))] {
            print(
                cell(name, 11) + cell(String(format: "%.0f", median(figures.map { Double($0.calls) / $0.seconds })), 10)
                    + cell(
                        String(format: "%.1f / %.1f", median(figures.map(\.readP50)), median(figures.map(\.readP99))),
                        20)
                    + cell(
                        String(format: "%.1f / %.1f", median(figures.map(\.writeP50)), median(figures.map(\.writeP99))),
                        21) + "\(figures.map { $0.errors.values.reduce(0, +) }.reduce(0, +))")
        }
        let ratios = rounds.map { (Double($0.two.calls) / $0.two.seconds) / (Double($0.one.calls) / $0.one.seconds) }
        print(
            String(
                format: "two instances / one: %.2f× the calls per second (rounds: %@)", median(ratios),
                ratios.map { String(format: "%.2f", $0) }.joined(separator: " ")))
    }
}
