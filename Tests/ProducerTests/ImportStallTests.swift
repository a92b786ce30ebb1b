import API
import Foundation
import RPC
import Schema
import Storage
import Synchronization
import TestSupport
import Testing

/// A large import runs off the RPC I/O thread: other calls of the process go on being answered, a shutdown during it
/// refuses new calls at once and rolls the import back at the end of its grace period, and its answer stays small.
@Suite("Imports never stall the service", .serialized)
struct ImportStallTests {
    /// A spreadsheet of `rows` new groups with names alike (so that checking them takes a while).
    static func sheet(_ rows: Int, prefix: String = "Weavers of Bolga") -> [UInt8] {
        var csv = "name,kind,country,crafts\n"
        for index in 0..<rows { csv += "\(prefix) \(index),cooperative,GH,baskets\n" }
        return Array(csv.utf8)
    }

    @Test("health checks are answered while a large import runs")
    func healthDuringImport() async throws {
        try await withProducerProcess { endpoint in
            let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            let probeChannel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            defer {
                channel.close()
                probeChannel.close()
            }
            let producer = ProducerV1.ProducerServiceClient(channel: channel)
            let done = Atomic<Bool>(false)
            let importing = Task {
                defer { done.store(true, ordering: .releasing) }
                return try await producer.importProducerGroups(
                    .init(csv: Self.sheet(2_000), requestID: "big-import"), options: CallOptions(timeout: .seconds(120))
                )
            }
            let health = HealthV1.HealthClient(channel: probeChannel)
            var slowest = Duration.zero
            var checks = 0
            var notServing = 0
            while !done.load(ordering: .acquiring) {
                let started = ContinuousClock.now
                let answer = try await health.check(.init(), options: CallOptions(timeout: .seconds(30)))
                if answer.status != .serving { notServing += 1 }
                slowest = max(slowest, .now - started)
                checks += 1
                try await Task.sleep(for: .milliseconds(20))
            }
            let answer = try await importing.value
            #expect(answer.created == 2_000)
            // Before, health waited behind the whole import (5.7 s); the benchmark holds the tight figure.
            #expect(checks >= 5 && slowest < .seconds(2), "\(checks) checks, the slowest \(slowest)")
            // The database is busy with the import, not unreachable: the service stays SERVING.
            #expect(notServing == 0, "\(notServing) of \(checks) checks answered NOT_SERVING during the import")
        }
    }

    @Test("SIGTERM during an import: new calls UNAVAILABLE at once, the import rolled back at the grace period")
    func shutdownDuringImport() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-stall-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let endpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
        let arguments = [
            "--endpoint", endpoint, "--data-dir", folder.path, "--log-level", "critical", "--shutdown-grace-seconds",
            "1",
        ]
        let service = try ChildProcess(builtExecutable("producer-service"), arguments: arguments)
        try await waitUntilServing(endpoint)
        let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
        defer { channel.close() }
        let producer = ProducerV1.ProducerServiceClient(channel: channel)
        let importing = Task {
            try await producer.importProducerGroups(
                .init(csv: Self.sheet(3_000), requestID: "stalled-import"),
                options: CallOptions(timeout: .seconds(120), retryEnabled: false))
        }
        try await Task.sleep(for: .milliseconds(500))
        let signalled = ContinuousClock.now
        kill(service.process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(100))
        let refused = await failure {
            try await producer.listProducerGroups(
                .init(), options: CallOptions(timeout: .seconds(5), retryEnabled: false))
        }
        #expect(refused?.code == .unavailable, "\(String(describing: refused))")
        #expect(ContinuousClock.now - signalled < .seconds(1), "a new call waited behind the import")
        let outcome = await importing.result
        guard case .failure = outcome else {
            Issue.record("the import finished though the grace period was 1 s")
            await service.stop()
            return
        }
        let exited = try await eventually(timeout: .seconds(10)) { !service.process.isRunning }
        #expect(exited && ContinuousClock.now - signalled < .seconds(6), "the process outlived its grace period")
        // Started again: nothing of the import was kept.
        let again = try ChildProcess(builtExecutable("producer-service"), arguments: arguments)
        defer { again.kill() }
        try await waitUntilServing(endpoint)
        let listed = try await producer.listProducerGroups(.init(pageSize: 10))
        #expect(listed.groups.isEmpty, "\(listed.groups.count) groups of a cancelled import were kept")
    }

    @Test("an import of many alike names answers within the limit")
    func boundedAnswers() async throws {
        try await withProducerProcess { endpoint in
            let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            defer { channel.close() }
            let producer = ProducerV1.ProducerServiceClient(channel: channel)
            let answer = try await producer.importProducerGroups(
                .init(csv: Self.sheet(1_500, prefix: "Weavers"), validateOnly: true),
                options: CallOptions(timeout: .seconds(120)))
            #expect(answer.created == 1_500)
            #expect(answer.serializedBytes().count < 4 << 20)
            #expect(answer.rows.allSatisfy { $0.duplicateOfRows.count <= 5 })
            #expect(answer.rows.contains { $0.duplicateOfRowsTotal > 5 })
        }
    }

    @Test("an answer too long for one message is read in parts, each row once, in a dry run and from a replay")
    func answerInParts() async throws {
        try await withProducerProcess { endpoint in
            let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            defer { channel.close() }
            let producer = ProducerV1.ProducerServiceClient(channel: channel)
            // 5,000 rows of 190-character names: some 1.2 MB of rows, over the 1 MiB an answer lists. In 40
            // countries, so that comparing names (within a country) stays quick.
            let long = String(repeating: "Women Weavers Association of the Upper East Region ", count: 4).prefix(180)
            let countries =
                ("GH KE UG TZ RW ET NG SN ML BF NE CI BJ TG CM ZM MW MZ ZW NA "
                + "BW IN NP BD LK PK VN KH LA TH ID PH PE BO EC CO GT HN NI MX").split(separator: " ")
            var text = "name,kind,country,crafts\n"
            for index in 0..<5_000 { text += "\(long) \(index),cooperative,\(countries[index % 40]),baskets\n" }
            let csv = Array(text.utf8)
            let options = CallOptions(timeout: .seconds(300))
            for validateOnly in [true, false] {
                var rows: [Int32] = []
                var from: Int32 = 0
                var parts = 0
                repeat {
                    let part = try await producer.importProducerGroups(
                        .init(csv: csv, validateOnly: validateOnly, requestID: "long-answer", rowsFrom: from),
                        options: options)
                    #expect(part.created == 5_000 && part.serializedBytes().count < 4 << 20)
                    #expect(part.rowsOmitted == 0 || part.nextRow == part.rows.last!.row + 1)
                    rows += part.rows.map(\.row)
                    from = part.nextRow
                    parts += 1
                } while from != 0 && parts < 10
                #expect(parts > 1, "the answer came whole: the test no longer reaches the limit")
                #expect(rows == Array(2...5_001), "validate_only \(validateOnly): \(rows.count) rows listed")
            }
            // The import was written once: the replays read its stored answer.
            var stored = 0
            var token = ""
            repeat {
                let page = try await producer.listProducerGroups(.init(pageSize: 500, pageToken: token))
                stored += page.groups.count
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(stored == 5_000)
        }
    }

    @Test("a file over the request limit is refused before it is sent, naming the limit")
    func oversizedFile() async throws {
        try await withProducerProcess { endpoint in
            let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            defer { channel.close() }
            let producer = ProducerV1.ProducerServiceClient(channel: channel)
            // A file larger than any server takes: refused naming the limit, however large, before it is sent.
            for megabytes in [10, 50] {
                let large = Array(repeating: UInt8(ascii: "a"), count: megabytes << 20)
                let error = await failure {
                    try await producer.importProducerGroups(.init(csv: large, validateOnly: true))
                }
                #expect(
                    error?.code == .resourceExhausted
                        && error?.message.contains("over the limit of 4194304 bytes") == true,
                    "\(megabytes) MB: \(String(describing: error))")
            }
        }
    }
}
