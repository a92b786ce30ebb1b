import Foundation
import TestSupport
import Testing

/// `ftadmin` as an operator runs it, against a producer-service process: health, the listing and `call` answer,
/// and every error, the server's or a bad argument, is reported as `error: CODE: message` on stderr (a bad
/// argument then shows the usage) with a non-zero exit status.
@Suite("ftadmin against a running service")
struct AdminClientTests {
    /// Runs ftadmin with the producer reached at `endpoint` (as FT_PRODUCER_ENDPOINTS tells it).
    private func ftadmin(_ endpoint: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runTool("ftadmin", arguments, environment: ["FT_PRODUCER_ENDPOINTS": endpoint])
    }

    @Test("health, services and call answer")
    func answers() async throws {
        try await withProducerProcess { endpoint in
            let health = try await ftadmin(endpoint, ["health", "producer"])
            #expect(health.status == 0 && health.output.contains("SERVING"), "\(health.output)")
            let listing = try await ftadmin(endpoint, ["services", "producer"])
            #expect(
                listing.status == 0 && listing.output.contains("GetProducerGroup")
                    && listing.output.contains("fairtrade.producer.v1.GetProducerGroupRequest"), "\(listing.output)")
            let check = try await ftadmin(
                endpoint, ["call", "producer", "Check", "--json", #"{"service": ""}"#, "--output", "json"])
            #expect(check.status == 0 && check.output.contains("SERVING_STATUS_SERVING"), "\(check.output)")
        }
    }

    @Test("health names every instance: serving, without its database, unreachable; exit 1 when any is not serving")
    func healthPerInstance() async throws {
        try await withProducerProcess { first in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-health-\(UUID())")
            defer { try? FileManager.default.removeItem(at: folder) }
            let second = "tcp://127.0.0.1:\(freeLoopbackPort())"
            let process = try ChildProcess(
                builtExecutable("producer-service"),
                arguments: ["--endpoint", second, "--data-dir", folder.path, "--log-level", "critical"])
            defer { process.kill() }
            try await waitUntilServing(second)
            let dead = deadEndpoint()
            let all = [first, second].joined(separator: ",")
            let up = try await ftadmin(all, ["health", "producer"])
            #expect(up.status == 0, "\(up.output)")
            #expect(
                up.output.contains("\(first)  SERVING") && up.output.contains("\(second)  SERVING")
                    && up.output.contains("SQLite \(folder.path)/producer.sqlite: reachable"), "\(up.output)")

            // The second instance loses its database file; a third is listed where nothing runs.
            try FileManager.default.removeItem(at: folder.appendingPathComponent("producer.sqlite"))
            try await Task.sleep(for: .milliseconds(2500))
            let down = try await ftadmin(all + "," + dead, ["health", "producer", "--output", "json"])
            #expect(down.status == 1, "\(down.output)")
            let instances = try #require(
                try JSONSerialization.jsonObject(
                    with: Data((down.output.split(separator: "\n").first { $0.hasPrefix("[") } ?? "").utf8))
                    as? [[String: Any]])
            let statuses = Dictionary(
                uniqueKeysWithValues: instances.map { ($0["endpoint"] as? String ?? "", $0["status"] as? String ?? "") }
            )
            #expect(statuses == [first: "SERVING", second: "NOT_SERVING", dead: "UNREACHABLE"], "\(down.output)")
            let database = instances.first { $0["endpoint"] as? String == second }?["database"] as? [String: Any]
            #expect(
                database?["reachable"] as? Bool == false && (database?["error"] as? String ?? "").contains("deleted"))
            #expect(down.output.contains("2 of 3 instances not serving"), "\(down.output)")
        }
    }

    @Test("producer update with one member count keeps the others, and notes its source")
    func partialMembers() async throws {
        try await withProducerProcess { endpoint in
            let created = try await ftadmin(
                endpoint,
                [
                    "producer", "create", "--name", "Bolga Basket Weavers", "--kind", "cooperative", "--country", "GH",
                    "--craft", "baskets", "--women", "18", "--men", "2", "--other", "1", "--output", "json",
                ])
            #expect(created.status == 0, "\(created.output)")
            let id = try #require(created.output.firstMatch(of: /"id": ?"(pg_[0-9a-f]{16})"/)?.1).description
            let updated = try await ftadmin(
                endpoint,
                [
                    "producer", "update", id, "--version", "1", "--women", "41", "--source", "2026 member census",
                ])
            #expect(updated.status == 0, "\(updated.output)")
            #expect(updated.output.contains("members: 44 (41 women, 2 men, 1 other)"), "\(updated.output)")
            #expect(updated.output.contains("source: 2026 member census, "), "\(updated.output)")
        }
    }

    @Test(
        "errors from the server and from bad arguments start 'error: CODE: message' and exit non-zero, never crash",
        arguments: [
            (
                ["call", "producer", "GetProducerGroup", "--json", #"{"id": "pg_0000000000000000"}"#],
                "error: NOT_FOUND: "
            ),
            (
                ["call", "producer", "GetProducerGroup", "--json", #"{"id": 5}"#],
                "error: INVALID_ARGUMENT: request for "
            ),
            (["call", "producer", "GetProducerGroup", "--json", "{"], "error: INVALID_ARGUMENT: request for "),
            (["call", "producer", "Nonesuch"], #"error: INVALID_ARGUMENT: no method "Nonesuch""#),
            (["call", "nowhere", "Check"], #"error: INVALID_ARGUMENT: unknown service "nowhere""#),
            (["call"], "error: INVALID_ARGUMENT: Missing expected argument '<service>'"),
            (["health", "--bogus"], "error: INVALID_ARGUMENT: Unknown option '--bogus'"),
            (
                ["producer", "create", "--name", "X", "--kind", "coop", "--country", "GH"],
                "error: INVALID_ARGUMENT: The value 'coop' is invalid for '--kind <kind>'"
            ),
            // A negative number is the option's value, not an unknown option, so the error names the real problem.
            (
                ["producer", "create", "--name", "X", "--kind", "cooperative", "--country", "GH", "--women", "-1"],
                "error: INVALID_ARGUMENT: group.members.women: must not be negative"
            ),
            // A timeout that is not a number of seconds used to crash ftadmin converting it.
            (["health", "--timeout", "nan"], "error: INVALID_ARGUMENT: --timeout nan"),
            (["health", "--timeout", "1e300"], "error: INVALID_ARGUMENT: --timeout"),
            (["health", "--timeout", "0"], "error: INVALID_ARGUMENT: --timeout"),
            (["health", "--timeout", "-5"], "error: INVALID_ARGUMENT: --timeout -5"),
        ])
    func errors(arguments: [String], expected: String) async throws {
        try await withProducerProcess { endpoint in
            let result = try await ftadmin(endpoint, arguments)
            // 1 for a failed call, 64 (EX_USAGE) for a bad argument; a crash would end with its signal's number.
            #expect(result.status == 1 || result.status == 64, "\(arguments) exited \(result.status)")
            #expect(result.output.hasPrefix(expected), "\(arguments): \(result.output)")
        }
    }

    @Test("a bad argument exits 64 before anything is sent; a call the service refuses exits 1")
    func exitCodes() async throws {
        try await withProducerProcess { endpoint in
            for arguments in [
                ["producer", "create", "--name", "X", "--kind", "coop", "--country", "GH"],
                ["producer", "create", "--name", "X", "--kind", "cooperative", "--country", "XX"],
                ["producer", "list", "--status", "sleeping"], ["health", "--bogus"],
            ] {
                let result = try await ftadmin(endpoint, arguments)
                #expect(result.status == 64, "\(arguments) exited \(result.status): \(result.output)")
            }
            let refused = try await ftadmin(
                endpoint, ["producer", "create", "--name", "", "--kind", "cooperative", "--country", "GH"])
            #expect(
                refused.status == 1 && refused.output.hasPrefix("error: INVALID_ARGUMENT: group.name"),
                "\(refused.output)")
        }
    }

    @Test("producer import and export: the example spreadsheet goes in, comes out, and goes back in unchanged")
    func spreadsheets() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/examples/producer-groups.csv"
        ).standardizedFileURL.path
        let exported = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ftadmin-export-\(UUID().uuidString).csv"
        ).path
        defer { try? FileManager.default.removeItem(atPath: exported) }
        try await withProducerProcess { endpoint in
            let dryRun = try await ftadmin(endpoint, ["producer", "import", example, "--dry-run"])
            #expect(dryRun.status == 0 && dryRun.output.contains("dry run: nothing written"), "\(dryRun.output)")
            let imported = try await ftadmin(endpoint, ["producer", "import", example])
            #expect(imported.status == 0 && imported.output.contains("3 added, 0 updated"), "\(imported.output)")
            // Two pages: the second one's header is left out.
            let export = try await ftadmin(endpoint, ["producer", "export", "--file", exported, "--page-size", "2"])
            #expect(export.status == 0 && export.output.contains("3 groups written"), "\(export.output)")
            let text = try String(contentsOfFile: exported, encoding: .utf8)
            #expect(text.hasPrefix("id,version,name,") && text.contains("\"bags; scarves\""), "\(text)")
            #expect(text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 4, "\(text)")
            #expect(text.components(separatedBy: "id,version,name,").count == 2, "\(text)")
            let again = try await ftadmin(endpoint, ["producer", "import", exported, "--mode", "update"])
            #expect(again.status == 0 && again.output.contains("0 updated, 3 unchanged"), "\(again.output)")
            let added = try await ftadmin(endpoint, ["producer", "import", exported])
            #expect(added.status == 1 && added.output.hasPrefix("error: INVALID_ARGUMENT: row 2, id: mode add"))
            let missing = try await ftadmin(endpoint, ["producer", "import", "/nonexistent.csv"])
            #expect(missing.status == 64 && missing.output.hasPrefix("error: INVALID_ARGUMENT: /nonexistent.csv"))
        }
    }
}
