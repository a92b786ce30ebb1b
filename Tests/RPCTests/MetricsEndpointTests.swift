import API
import Foundation
import RPC
import Schema
import TestSupport
import Testing

/// The metrics endpoint as an operator's Prometheus reads it: scraped over HTTP and parsed by prometheus_client's
/// own text parser (Tests/Protocol/scrape_metrics.py), never by ours.
@Suite("Metrics for Prometheus", .serialized)
struct MetricsEndpointTests {
    struct Sample: Decodable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// Every sample the endpoint serves, as prometheus_client parses them.
    static func scrape(_ url: String) async throws -> [Sample] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/scrape_metrics.py")
        let (status, output) = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/python3"), [script.path, url])
        try #require(status == 0, "the scrape did not parse: \(output)")
        return try output.split(separator: "\n").map {
            try JSONDecoder().decode(Sample.self, from: Data($0.utf8))
        }
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in
            sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value }
        }?.value
    }

    @Test("calls by method and code, latency histograms, calls in flight, connections, the database pool")
    func scrapeParses() async throws {
        let port = freeLoopbackPort()
        try await withServiceProcess("producer-service", arguments: ["--metrics-endpoint", "127.0.0.1:\(port)"]) {
            endpoint in
            let channel = try ClientChannel(endpoints: [endpoint], logger: quietLogger)
            defer { channel.close() }
            let producer = ProducerV1.ProducerServiceClient(channel: channel)
            _ = try await producer.createProducerGroup(
                .init(
                    group: ProducerV1.ProducerGroup(
                        name: "Scraped weavers", kind: .cooperative, country: "GH", crafts: ["baskets"]),
                    requestID: RequestID.make()))
            for _ in 0..<3 {
                _ = await failure { try await producer.getProducerGroup(.init(id: "pg_0000000000000000")) }
            }
            let samples = try await Self.scrape("http://127.0.0.1:\(port)/metrics")
            let service = "fairtrade.producer.v1.ProducerService"
            #expect(
                Self.value(
                    samples, "rpc_server_calls_total",
                    ["service": service, "method": "CreateProducerGroup", "code": "OK"]) == 1)
            #expect(
                Self.value(
                    samples, "rpc_server_calls_total",
                    ["service": service, "method": "GetProducerGroup", "code": "NOT_FOUND"]) == 3)
            #expect(
                Self.value(samples, "rpc_server_handling_seconds_count", ["method": "GetProducerGroup"]) == 3,
                "no latency histogram for the method")
            #expect(
                Self.value(samples, "rpc_server_handling_seconds_bucket", ["method": "GetProducerGroup", "le": "+Inf"])
                    == 3)
            // This test's channel is connected while it scrapes.
            #expect((Self.value(samples, "rpc_server_connections") ?? 0) >= 1)
            #expect(Self.value(samples, "rpc_server_calls_in_flight") != nil)
            #expect(Self.value(samples, "rpc_server_refused_handshakes_total", ["reason": "no_curve"]) == 0)
            #expect(Self.value(samples, "db_connections", ["backend": "sqlite"]) == 5)
            #expect(Self.value(samples, "db_connections_in_use", ["backend": "sqlite"]) == 0)
            #expect((Self.value(samples, "db_connection_wait_seconds_count", ["backend": "sqlite"]) ?? 0) >= 4)
            #expect((Self.value(samples, "process_start_time_seconds") ?? 0) > 1_700_000_000)

            // What a scraper gets wrong is answered as HTTP says.
            let (status, output) = try await runProgram(
                URL(fileURLWithPath: "/usr/bin/python3"),
                [
                    "-c",
                    """
                    import urllib.request, urllib.error
                    for method, path in [("POST", "/metrics"), ("GET", "/other")]:
                        try:
                            urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:\(port)" + path, method=method))
                            print(method, path, 200)
                        except urllib.error.HTTPError as error:
                            print(method, path, error.code)
                    """,
                ])
            #expect(
                status == 0 && output.contains("POST /metrics 405") && output.contains("GET /other 404"), "\(output)")
        }
    }

    @Test("a metrics endpoint that is not HOST:PORT, or whose port is taken, stops the start naming it")
    func badEndpointStopsTheStart() async throws {
        let bad = try await runTool("producer-service", ["--metrics-endpoint", "localhost"])
        #expect(bad.status != 0 && bad.output.contains("is not HOST:PORT"), "\(bad.output)")
        let port = freeLoopbackPort()
        try await withServiceProcess("producer-service", arguments: ["--metrics-endpoint", "127.0.0.1:\(port)"]) { _ in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-metrics-\(UUID())")
            defer { try? FileManager.default.removeItem(at: folder) }
            let taken = try await runTool(
                "producer-service",
                [
                    "--endpoint", "tcp://127.0.0.1:\(freeLoopbackPort())", "--data-dir", folder.path,
                    "--metrics-endpoint", "127.0.0.1:\(port)",
                ])
            #expect(
                taken.status != 0 && taken.output.contains("cannot serve metrics on 127.0.0.1:\(port)"),
                "\(taken.output)")
        }
    }
}
