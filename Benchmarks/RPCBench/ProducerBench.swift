import API
import ArgumentParser
import Foundation
import Logging
import ProducerCore
import RPC
import Schema
import Storage

/// `rpc-bench producer`: the Producer service with 100,000 groups stored, on SQLite or PostgreSQL — get by id and a
/// filtered list page of 50 through the RPC, beside a bare health-check round trip to the same process.
struct ProducerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producer", abstract: "Benchmark the Producer service with many groups stored.")

    @Option(help: "sqlite or postgres.") var backend: String = "sqlite"
    @Option(help: "PostgreSQL server URL for --backend postgres (a fresh database is made on it).")
    var postgresURL: String =
        ProcessInfo.processInfo.environment["FT_TEST_POSTGRES_URL"] ?? "postgres://postgres@127.0.0.1:55432/postgres"
    @Option(help: "Groups to store.") var groups = 100_000
    @Option(help: "Calls measured per operation.") var calls = 5_000
    @Option(help: "Rows of a spreadsheet imported (dry run, then for real) and the groups exported after; 0 skips it.")
    var importRows = 10_000
    @Flag(help: "One JSON object per line.") var json = false

    func run() throws {
        let logger = Logger(label: "producer-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let benchStorage = try BenchStorage(
            backend: backend, postgresURL: postgresURL, sqliteFile: "producer.sqlite", logger: logger)
        defer { benchStorage.remove() }
        let location = benchStorage.location
        let serviceStorage = benchStorage.serviceArguments

        // Seed through the service's own store, in bulk: 100,000 single creates would mostly measure fsync.
        let countries = [
            "GH", "KH", "IN", "BD", "NP", "KE", "UG", "PE", "BO", "GT", "MX", "VN", "TH", "PH", "ID",
            "TZ", "ET", "RW", "LK", "HT",
        ]
        let crafts = [
            "baskets", "textiles", "jewellery", "pottery", "woodcarving", "metalwork", "leather", "paper",
            "embroidery", "glass", "toys", "stationery", "home decor", "scarves", "bags",
        ]
        let seedStart = ContinuousClock.now
        let ids: [String] = try blockingRun {
            let database = try await openDatabase(location, migrations: ProducerMigrations.all, logger: logger)
            let store = ProducerStore(database: database)
            var ids: [String] = []
            for chunk in stride(from: 0, to: groups, by: 10_000) {
                let batch = (chunk..<min(chunk + 10_000, groups)).map { index in
                    ProducerV1.ProducerGroup(
                        name: "Artisan group \(index)", kind: ProducerV1.GroupKind(rawValue: Int32(index % 7 + 1)),
                        country: countries[index % countries.count], region: "Region \(index % 50)",
                        crafts: [crafts[index % crafts.count], crafts[(index / 7) % crafts.count]],
                        processesInHouse: ["weaving"],
                        members: ProducerV1.MemberCounts(women: Int32(index % 40), men: 3),
                        foundedYear: Int32(1980 + index % 40), leadTimeDays: 30)
                }
                ids += try await store.bulkInsert(batch)
            }
            // Planner statistics, as a database that grew by normal use has them.
            try await settle(database)
            await database.close()
            return ids
        }
        let seeded = ContinuousClock.now - seedStart

        let service = try BenchService("producer-service", ["--log-level", "warning"] + serviceStorage)
        defer { service.stop() }
        let endpoint = service.endpoint

        let results: [Measurement] = try blockingRun {
            let channel = try ClientChannel(
                endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(30)),
                logger: logger)
            defer { channel.close() }
            let health = HealthV1.HealthClient(channel: channel)
            let client = ProducerV1.ProducerServiceClient(channel: channel)
            try await health.waitUntilServing()
            func measure(_ mode: String, _ body: (Int) async throws -> Void) async throws -> Measurement {
                for index in 0..<min(500, calls) { try await body(index) }
                var samples: [UInt64] = []
                samples.reserveCapacity(calls)
                let start = ContinuousClock.now
                for index in 0..<calls {
                    let before = nowNanos()
                    try await body(index)
                    samples.append(nowNanos() - before)
                }
                return Measurement(
                    system: "producer-\(backend)", mode: mode, samples: samples, elapsed: .now - start, calls: calls)
            }
            var generator = SystemRandomNumberGenerator()
            // Bare round trips and gets alternate call by call, so that both see the same moments of this shared
            // machine: their ratio is the figure that matters, and measured apart it drifted by a third.
            var bareSamples: [UInt64] = []
            var getSamples: [UInt64] = []
            for index in 0..<(calls + min(500, calls)) {
                let before = nowNanos()
                _ = try await health.check(HealthV1.HealthCheckRequest())
                let middle = nowNanos()
                _ = try await client.getProducerGroup(
                    ProducerV1.GetProducerGroupRequest(id: ids.randomElement(using: &generator)!))
                let after = nowNanos()
                guard index >= min(500, calls) else { continue }
                bareSamples.append(middle - before)
                getSamples.append(after - middle)
            }
            // Each one's rate over the time spent in it alone.
            let bare = Measurement(
                system: "producer-\(backend)", mode: "bare-rpc", samples: bareSamples,
                elapsed: .nanoseconds(Int64(bareSamples.reduce(0, +))), calls: calls)
            let get = Measurement(
                system: "producer-\(backend)", mode: "get", samples: getSamples,
                elapsed: .nanoseconds(Int64(getSamples.reduce(0, +))), calls: calls)
            let list = try await measure("list-page-50") { index in
                let page = try await client.listProducerGroups(
                    ProducerV1.ListProducerGroupsRequest(
                        country: countries[index % countries.count], craft: crafts[index % crafts.count], pageSize: 50))
                precondition(!page.groups.isEmpty, "a filtered page came back empty")
            }
            // The same read with no RPC around it: this process's own connection to the database, from a task on
            // Swift's global pool. A get cannot answer sooner than a bare round trip plus this.
            let database = try await openDatabase(location, migrations: [], logger: logger)
            defer { Task { await database.close() } }
            let storage = try await measure("storage-get") { _ in
                _ = try await database.query(
                    "SELECT merged_into, body FROM producer_groups WHERE id = $1",
                    [.of(ids.randomElement(using: &generator)!)])
            }
            return [bare, get, list, storage]
        }
        let spreadsheet =
            try importRows > 0 ? measureSpreadsheets(endpoint: endpoint, countries: countries, logger: logger) : nil
        if json {
            for result in results { print(result.json) }
            print(
                String(
                    format: #"{"system": "producer-%@", "get_p50_over_bare_p50": %.2f}"#, backend,
                    results[1].p50 / results[0].p50))
            if let spreadsheet {
                print(
                    String(
                        format:
                            #"{"system": "producer-%@", "mode": "spreadsheet", "import_rows": %d, "dry_run_s": %.2f, "import_s": %.2f, "export_groups": %d, "export_s": %.2f}"#,
                        backend, importRows, spreadsheet.dryRun.inSeconds, spreadsheet.imported.inSeconds,
                        spreadsheet.exportedGroups, spreadsheet.exported.inSeconds))
            }
        } else {
            print(
                "producer-service on \(backend), \(groups) groups (seeded in \(seeded)), \(calls) calls per operation")
            print("operation       p50 µs    p99 µs    calls/s")
            for result in results {
                print(
                    result.mode.padding(toLength: 16, withPad: " ", startingAt: 0)
                        + String(format: "%-10.1f%-10.1f%.0f", result.p50, result.p99, result.perSecond))
            }
            print(String(format: "get p50 / bare round trip p50: %.2f×", results[1].p50 / results[0].p50))
            print(
                String(
                    format:
                        "the database read alone (storage-get) is %.2f× the bare round trip: the floor of a get is %.2f×",
                    results[3].p50 / results[0].p50, 1 + results[3].p50 / results[0].p50))
            if let spreadsheet {
                print(
                    String(
                        format:
                            "import of %d rows beside %d groups: dry run %.2f s, import %.2f s; export of %d groups: %.2f s",
                        importRows, groups, spreadsheet.dryRun.inSeconds, spreadsheet.imported.inSeconds,
                        spreadsheet.exportedGroups, spreadsheet.exported.inSeconds))
            }
        }
    }

    /// One spreadsheet of `importRows` new groups through ImportProducerGroups, as a dry run and then for real,
    /// and every group stored through ExportProducerGroups, page by page: the time each took.
    func measureSpreadsheets(endpoint: String, countries: [String], logger: Logger) throws
        -> (dryRun: Duration, imported: Duration, exportedGroups: Int, exported: Duration)
    {
        let words = [
            "amber", "basket", "clay", "delta", "ember", "fern", "grove", "harbor", "indigo", "jade", "kiln", "loom",
            "meadow", "nectar", "ochre", "pine", "quartz", "river", "saffron", "terra", "umber", "valley", "willow",
        ]
        var csv = "name,kind,country,region,crafts,members_women,members_men\n"
        for index in 0..<importRows {
            let name =
                "\(words[index % words.count].capitalized) \(words[(index / 7) % words.count].capitalized) \(index)"
            csv +=
                "\(name) Group,cooperative,\(countries[index % countries.count]),Region,baskets; textiles,\(index % 80),\(index % 20)\n"
        }
        let text = csv
        let options = CallOptions(timeout: .seconds(600))
        return try blockingRun {
            let channel = try ClientChannel(endpoints: [endpoint], configuration: .init(), logger: logger)
            defer { channel.close() }
            let client = ProducerV1.ProducerServiceClient(channel: channel)
            var start = ContinuousClock.now
            let dryRun = try await client.importProducerGroups(
                ProducerV1.ImportProducerGroupsRequest(csv: Array((text).utf8), validateOnly: true), options: options)
            let dryRunTime = ContinuousClock.now - start
            start = .now
            // Health checks every 10 ms on a channel of their own while the import runs: how long other calls of
            // the process wait behind it.
            let prober = Task { () -> (samples: [UInt64], notServing: Int) in
                let probeChannel = try ClientChannel(endpoints: [endpoint], configuration: .init(), logger: logger)
                defer { probeChannel.close() }
                let health = HealthV1.HealthClient(channel: probeChannel)
                var samples: [UInt64] = []
                var notServing = 0
                while !Task.isCancelled {
                    let before = nowNanos()
                    let answer = try? await health.check(HealthV1.HealthCheckRequest())
                    samples.append(nowNanos() - before)
                    if answer?.status != .serving { notServing += 1 }
                    try? await Task.sleep(for: .milliseconds(10))
                }
                return (samples, notServing)
            }
            let imported = try await client.importProducerGroups(
                ProducerV1.ImportProducerGroupsRequest(csv: Array((text).utf8), requestID: RequestID.make()),
                options: options)
            let importTime = ContinuousClock.now - start
            prober.cancel()
            let (samples, notServing) = try await prober.value
            let probes = samples.sorted()
            if !probes.isEmpty {
                print(
                    String(
                        format:
                            "health checks during the import: %d, p50 %.2f ms, p99 %.2f ms (target ≤ 50), max %.2f ms "
                            + "(target ≤ 100), not SERVING: %d",
                        probes.count, Double(probes[probes.count / 2]) / 1e6,
                        Double(probes[min(probes.count - 1, probes.count * 99 / 100)]) / 1e6,
                        Double(probes.last!) / 1e6, notServing))
            }
            precondition(dryRun.created == Int32(importRows) && imported.created == Int32(importRows))
            start = .now
            var request = ProducerV1.ExportProducerGroupsRequest(pageSize: 5000)
            var exported = 0
            repeat {
                let page = try await client.exportProducerGroups(request, options: options)
                exported += Int(page.count)
                request.pageToken = page.nextPageToken
            } while !request.pageToken.isEmpty
            return (dryRunTime, importTime, exported, ContinuousClock.now - start)
        }
    }
}

/// Runs async work from a synchronous command and waits for it.
func blockingRun<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, any Error>?
    Task {
        do { result = .success(try await work()) } catch { result = .failure(error) }
        semaphore.signal()
    }
    semaphore.wait()
    return try result!.get()
}
