import API
import ArgumentParser
import Foundation
import Logging
import RPC
import Schema
import ServiceKit
import Storage
import Synchronization

/// `rpc-bench load`: a steady mix of writes (each with its own request id) and reads against the Producer service's
/// instances, as a field office makes them, for as long as asked; then what was acknowledged, what failed and the
/// longest time without a successful call. With `--verify-database`, it reads the Producer service's PostgreSQL
/// database itself afterwards and counts every acknowledged write there: present exactly once, or lost, or doubled.
/// `make deploy-test` runs it while it breaks hosts; it finds the services as ftadmin does (FT_PRODUCER_ENDPOINTS,
/// FT_KEY_FILE, FT_PRODUCER_PUBLIC_KEY).
struct LoadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "A steady mix of writes and reads against the Producer service; then what was written, read back.")

    @Option(help: "Seconds to run.") var duration: Double = 20
    @Option(help: "Calls per second in all (0: each client as fast as it can).") var rate: Double = 200
    @Option(help: "Clients, each making one call at a time.") var clients = 8
    @Option(help: "Share of calls that write (create a group, log a contact, update a group).") var writes = 0.4
    @Option(help: "Seconds each call may take, retries included.") var timeout: Double = 5
    @Option(help: "A name for this run, in every record it writes (default: a fresh one).") var label: String?
    @Option(help: "The Producer service's PostgreSQL database, to read every acknowledged write back from.")
    var verifyDatabase: String?
    @Option(help: "Write the figures as one JSON object to this file.") var result: String?

    func validate() throws {
        guard duration > 0, duration <= 3600 else { throw ValidationError("--duration must be 0 to 3600 seconds") }
        guard rate >= 0, clients > 0, clients <= 1000 else { throw ValidationError("--rate ≥ 0, 1 ≤ --clients ≤ 1000") }
        guard (0...1).contains(writes) else { throw ValidationError("--writes is a share, 0 to 1") }
    }

    func run() throws {
        let command = self
        try blockingRun { try await command.load() }
    }

    func load() async throws {
        let environment = ProcessInfo.processInfo.environment
        let label = self.label ?? String(RequestID.make().prefix(8))
        let security = try SecuritySettings(keyFile: environment["FT_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 })
            .clientSecurity(for: .producer, environment: environment)
        let (log, figures) = try await Self.drive(
            endpoints: ServiceDirectory.producer.endpoints(environment: environment), security: security,
            label: label, duration: duration, rate: rate, clients: clients, writes: writes, timeout: timeout)
        var checked = figures
        if let url = verifyDatabase {
            checked.check = try await LoadCheck.verify(
                log.acknowledged, attempted: log.attempted, label: label, url: url)
        }
        print(checked.text)
        if let result {
            try Data((checked.json + "\n").utf8).write(to: URL(fileURLWithPath: result))
        }
    }

    /// Runs the mix against `endpoints` (the instances of the Producer service) and measures it.
    static func drive(
        endpoints: [String], security: ClientSecurity?, label: String, duration: Double, rate: Double, clients: Int,
        writes: Double, timeout: Double
    ) async throws -> (LoadLog, LoadFigures) {
        let channel = try ClientChannel(
            endpoints: endpoints,
            configuration: ClientChannel.Configuration(
                defaultTimeout: .milliseconds(Int64(timeout * 1000)), targetName: "producer-service",
                security: security),
            logger: Logger(label: "load", factory: { _ in SwiftLogNoOpLogHandler() }))
        defer { channel.close() }
        let client = ProducerV1.ProducerServiceClient(channel: channel)
        let log = LoadLog()
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int64(duration * 1000))
        let interval: Duration? = rate > 0 ? .microseconds(Int64(Double(clients) / rate * 1_000_000)) : nil
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<clients {
                group.addTask {
                    var state = LoadWorker(
                        client: client, log: log, label: label, worker: worker, writes: writes,
                        timeout: .milliseconds(Int64(timeout * 1000)))
                    var next = start + (interval ?? .zero) * (Double(worker) / Double(clients))
                    while ContinuousClock.now < end {
                        if let interval {
                            // A steady pace; a client that fell behind goes on at once, without a burst.
                            if next > .now { try? await Task.sleep(until: next, clock: .continuous) }
                            next = max(next + interval, .now - interval)
                        }
                        await state.step()
                    }
                }
            }
        }
        var figures = log.figures(start: start, end: max(end, .now))
        figures.label = label
        return (log, figures)
    }
}

/// One client's loop: what it made and the version it last saw of each of its own groups (updates go to its own
/// groups only, one at a time, so a version moves only by its hand).
struct LoadWorker {
    let client: ProducerV1.ProducerServiceClient
    let log: LoadLog
    let label: String
    let worker: Int
    let writes: Double
    let timeout: Duration
    var serial = 0
    var groups: [(id: String, version: Int64)] = []

    init(
        client: ProducerV1.ProducerServiceClient, log: LoadLog, label: String, worker: Int, writes: Double,
        timeout: Duration
    ) {
        self.client = client
        self.log = log
        self.label = label
        self.worker = worker
        self.writes = writes
        self.timeout = timeout
    }

    mutating func step() async {
        serial += 1
        let key = "\(label)-w\(worker)-\(serial)"
        var options = CallOptions(timeout: timeout)
        options.requestID = "load-" + key
        let started = ContinuousClock.now
        let write = Double.random(in: 0..<1) < writes
        let choice = Int.random(in: 0..<4)
        do {
            if write && (groups.isEmpty || choice < 2) {
                let name = "Load \(key)"
                let group = try await client.createProducerGroup(
                    ProducerV1.CreateProducerGroupRequest(
                        group: ProducerV1.ProducerGroup(
                            name: name, kind: .cooperative, country: "GH", crafts: ["baskets"],
                            members: ProducerV1.MemberCounts(women: 12, men: 3)),
                        requestID: "load-create-" + key),
                    options: options)
                groups.append((group.id, group.version))
                log.record(
                    .create, started, nil, acknowledged: LoadLog.Write(kind: .create, key: name, group: group.id))
            } else if write && choice == 2 {
                let target = groups.randomElement()!
                let summary = "load \(key) contact"
                _ = try await client.logContact(
                    ProducerV1.LogContactRequest(
                        contact: ProducerV1.DialogueContact(
                            groupID: target.id, organisation: "Load Imports",
                            contactDate: CommonV1.Date(year: 2026, month: 12, day: 1), kind: .call,
                            topics: ["pricing"], summary: summary),
                        requestID: "load-contact-" + key),
                    options: options)
                log.record(
                    .contact, started, nil, acknowledged: LoadLog.Write(kind: .contact, key: summary, group: target.id))
            } else if write {
                let index = groups.indices.randomElement()!
                let requestID = "load-update-" + key
                do {
                    let updated = try await client.updateProducerGroup(
                        ProducerV1.UpdateProducerGroupRequest(
                            group: ProducerV1.ProducerGroup(id: groups[index].id, notes: "updated by \(key)"),
                            updateMask: ["notes"], expectedVersion: groups[index].version, requestID: requestID),
                        options: options)
                    groups[index].version = updated.version
                    log.record(
                        .update, started, nil,
                        acknowledged: LoadLog.Write(kind: .update, key: requestID, group: groups[index].id))
                } catch {
                    // Written or not, the version may have moved: read it again before the next update.
                    log.attemptedUpdate(requestID, group: groups[index].id)
                    if let current = try? await client.getProducerGroup(.init(id: groups[index].id), options: options) {
                        groups[index].version = current.version
                    }
                    throw error
                }
            } else if choice < 2, let target = groups.randomElement() {
                _ = try await client.getProducerGroup(.init(id: target.id), options: options)
                log.record(.read, started, nil)
            } else {
                _ = try await client.listProducerGroups(.init(country: "GH", pageSize: 20), options: options)
                log.record(.read, started, nil)
            }
        } catch {
            log.record(write ? .create : .read, started, (error as? RPCError)?.code ?? .unknown)
        }
    }
}

/// Every call's outcome and every acknowledged write, from all clients.
final class LoadLog: Sendable {
    enum Kind: String, Sendable, CaseIterable {
        case create, contact, update, read
    }

    struct Write: Sendable {
        let kind: Kind
        /// What finds it in the database: a group's name, a contact's summary, an update's request id.
        let key: String
        let group: String
    }

    struct Call: Sendable {
        let write: Bool
        let start: ContinuousClock.Instant
        let end: ContinuousClock.Instant
        let code: RPCError.Code?
    }

    private let state = Mutex<(calls: [Call], acknowledged: [Write], attempted: [(String, String)])>(([], [], []))

    func record(_ kind: Kind, _ start: ContinuousClock.Instant, _ code: RPCError.Code?, acknowledged: Write? = nil) {
        let call = Call(write: kind != .read, start: start, end: .now, code: code)
        state.withLock { state in
            state.calls.append(call)
            if let acknowledged { state.acknowledged.append(acknowledged) }
        }
    }

    /// An update whose outcome the client does not know (it failed on the way): it may have been written.
    func attemptedUpdate(_ requestID: String, group: String) {
        state.withLock { $0.attempted.append((requestID, group)) }
    }

    var acknowledged: [Write] { state.withLock { $0.acknowledged } }

    func figures(start: ContinuousClock.Instant, end: ContinuousClock.Instant) -> LoadFigures {
        let calls = state.withLock { $0.calls }
        var figures = LoadFigures()
        figures.seconds = (end - start).inSeconds
        figures.calls = calls.count
        figures.acknowledged = state.withLock { state in
            Dictionary(grouping: state.acknowledged, by: \.kind.rawValue).mapValues(\.count)
        }
        for call in calls {
            if let code = call.code { figures.errors["\(code)", default: 0] += 1 }
        }
        let successes = calls.filter { $0.code == nil }.map(\.end).sorted()
        var gap = Duration.zero
        var last = start
        for instant in successes + [end] {
            gap = max(gap, instant - last)
            last = max(last, instant)
        }
        figures.longestGap = gap.inSeconds
        func quantiles(_ write: Bool) -> (Double, Double, Double) {
            let times = calls.filter { $0.write == write && $0.code == nil }.map { ($0.end - $0.start).inSeconds }
                .sorted()
            guard !times.isEmpty else { return (0, 0, 0) }
            return (
                times[times.count / 2] * 1000, times[min(times.count - 1, times.count * 99 / 100)] * 1000,
                times.last! * 1000
            )
        }
        (figures.readP50, figures.readP99, figures.readMax) = quantiles(false)
        (figures.writeP50, figures.writeP99, figures.writeMax) = quantiles(true)
        return figures
    }

    var attempted: [(requestID: String, group: String)] { state.withLock { $0.attempted.map { ($0.0, $0.1) } } }
}

/// What a load run measured, and (with `--verify-database`) what it found in the database.
struct LoadFigures {
    var label = ""
    var seconds = 0.0
    var calls = 0
    var acknowledged: [String: Int] = [:]
    var errors: [String: Int] = [:]
    var longestGap = 0.0
    var readP50 = 0.0, readP99 = 0.0, readMax = 0.0
    var writeP50 = 0.0, writeP99 = 0.0, writeMax = 0.0
    var check: LoadCheck?

    var writesAcknowledged: Int { acknowledged.filter { $0.key != "read" }.values.reduce(0, +) }

    var text: String {
        var lines = [
            String(
                format: "%d calls in %.1f s (%.0f/s); writes acknowledged: %d (%@); errors: %@",
                calls, seconds, Double(calls) / max(seconds, 0.001), writesAcknowledged,
                acknowledged.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                errors.isEmpty
                    ? "none"
                    : errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                        .joined(separator: ", ")),
            String(
                format:
                    "reads p50/p99/max %.1f/%.1f/%.0f ms; writes %.1f/%.1f/%.0f ms; longest gap without a success %.2f s",
                readP50, readP99, readMax, writeP50, writeP99, writeMax, longestGap),
        ]
        if let check {
            lines.append(
                "read back from PostgreSQL: \(check.found) of \(check.acknowledged) acknowledged writes found once, "
                    + "\(check.lost) lost, \(check.doubled) doubled\(check.problems.isEmpty ? "" : ": " + check.problems.prefix(5).joined(separator: "; "))"
            )
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        var members: [(String, JSONValue)] = [
            ("label", .string(label)), ("seconds", .number(seconds)), ("calls", .integer(Int64(calls))),
            ("writes_acknowledged", .integer(Int64(writesAcknowledged))),
            (
                "acknowledged",
                .object(acknowledged.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) })
            ),
            ("errors", .object(errors.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) })),
            ("longest_gap_seconds", .number(longestGap)), ("read_p50_ms", .number(readP50)),
            ("read_p99_ms", .number(readP99)), ("read_max_ms", .number(readMax)), ("write_p50_ms", .number(writeP50)),
            ("write_p99_ms", .number(writeP99)), ("write_max_ms", .number(writeMax)),
        ]
        if let check {
            members += [
                ("found", .integer(Int64(check.found))), ("lost", .integer(Int64(check.lost))),
                ("doubled", .integer(Int64(check.doubled))), ("problems", .array(check.problems.map { .string($0) })),
            ]
        }
        return JSONValue.object(members).text(indent: 0)
    }
}

/// Every acknowledged write looked for in the Producer service's database itself.
struct LoadCheck {
    var acknowledged = 0
    var found = 0
    var lost = 0
    var doubled = 0
    var problems: [String] = []

    /// Groups by name, contacts by summary (each must be there exactly once), updates by their kept answer; and
    /// each of the run's groups at the version its committed updates give it (one each, never two).
    static func verify(
        _ writes: [LoadLog.Write], attempted: [(requestID: String, group: String)], label: String, url: String
    ) async throws -> LoadCheck {
        let logger = Logger(label: "load", factory: { _ in SwiftLogNoOpLogHandler() })
        // The database may be coming back from a restart: try for up to half a minute.
        var database: (any Database)?
        for _ in 0..<60 {
            if let opened = try? await openDatabase(.postgres(url: url), migrations: [], logger: logger) {
                database = opened
                break
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        guard let database else { throw ValidationError("cannot reach \(url) to read the writes back") }
        defer { Task { await database.close() } }
        var check = LoadCheck()
        check.acknowledged = writes.count
        var names: [String: Int] = [:]
        for row in try await database.query(
            "SELECT body FROM producer_groups WHERE name_key LIKE $1", [.of("load \(label.lowercased())-%")])
        {
            names[try row.message(ProducerV1.ProducerGroup.self).name, default: 0] += 1
        }
        var summaries: [String: Int] = [:]
        for row in try await database.query(
            "SELECT summary, count(*) AS n FROM dialogue_contacts WHERE summary LIKE $1 GROUP BY summary",
            [.of("load \(label)-%")])
        {
            summaries[try row.text("summary")] = Int(try row.int("n"))
        }
        var answers: [String: Int] = [:]
        for row in try await database.query(
            """
            SELECT request_id, count(*) AS n FROM request_answers
            WHERE operation = 'UpdateProducerGroup' AND request_id LIKE $1 GROUP BY request_id
            """, [.of("load-update-\(label)-%")])
        {
            answers[try row.text("request_id")] = Int(try row.int("n"))
        }
        for write in writes {
            let count =
                switch write.kind {
                case .create: names[write.key] ?? 0
                case .contact: summaries[write.key] ?? 0
                case .update: answers[write.key] ?? 0
                case .read: 1
                }
            if count == 1 {
                check.found += 1
            } else if count == 0 {
                check.lost += 1
                check.problems.append("\(write.kind.rawValue) \(write.key) acknowledged, not found")
            } else {
                check.doubled += 1
                check.problems.append("\(write.kind.rawValue) \(write.key) acknowledged, found \(count) times")
            }
        }
        // Each of the run's groups is at version 1 plus its committed updates: acknowledged ones, and any whose
        // answer was lost on the way yet committed (each committed update keeps exactly one answer). An update
        // applied twice would leave its group a version ahead; one lost, a version behind.
        var updatesOf: [String: Set<String>] = [:]
        for write in writes where write.kind == .update { updatesOf[write.group, default: []].insert(write.key) }
        for (requestID, group) in attempted { updatesOf[group, default: []].insert(requestID) }
        for write in writes where write.kind == .create {
            guard
                let row = try await database.query(
                    "SELECT version FROM producer_groups WHERE id = $1", [.of(write.group)]
                ).first
            else { continue }
            let version = try row.int("version")
            let committed = (updatesOf[write.group] ?? []).filter { answers[$0] != nil }.count
            if version != 1 + Int64(committed) {
                check.problems.append(
                    "group \(write.group) is at version \(version) after \(committed) committed updates")
                if version > 1 + Int64(committed) { check.doubled += 1 } else { check.lost += 1 }
            }
        }
        return check
    }
}
