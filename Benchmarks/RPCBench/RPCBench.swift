import ArgumentParser
import Foundation
import RPC

/// `rpc-bench`: our RPC runtime against raw libzmq doing the same work, across two processes on TCP loopback, with
/// ~100-byte requests and responses. Latency with one call in flight (RPC unary vs REQ/REP round trips) and
/// throughput with 64 in flight (RPC unary vs DEALER→ROUTER echo), then the ratios ours / raw.
@main
struct RPCBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc-bench", abstract: "Benchmark the RPC runtime against raw ZeroMQ.",
        subcommands: [
            Run.self, CodecBench.self, ProducerBench.self, MarketplaceBench.self, CapacityBench.self, CompareBench.self,
            BusyPollCostBench.self, RawServer.self, FloorBench.self, FloorServer.self, LoadBench.self, ScaleBench.self,
            FairnessBench.self,
        ], defaultSubcommand: Run.self)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the benchmark (default).")

    @Flag(help: "One JSON object per line, for scripts.")
    var json = false

    @Option(help: "Round trips measured for latency, per system.")
    var latencyCalls = 20_000

    @Option(help: "Calls measured for throughput, per system.")
    var throughputCalls = 200_000

    @Option(help: "Calls in flight for throughput.")
    var inFlight = 64

    @Option(help: "Bytes of payload in each request and response.")
    var payloadBytes = 100

    @Option(help: "Use this running interop-server instead of starting one (to profile it, say).")
    var rpcServer: String?

    @Option(help: "Rounds of every measurement, interleaved; the figures are each one's median over the rounds.")
    var rounds = 5

    @Option(help: "Microseconds the RPC I/O threads (client and server) busy-poll before they sleep; 0 never spins.")
    var busyPollMicros = defaultBusyPollMicros

    @Flag(
        inversion: .prefixedNo,
        help: "Measure with CURVE too, in the same rounds: raw ZeroMQ's echo and our runtime, both encrypted.")
    var curve = true

    func run() throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        let raw = try ServerProcess(directory.appendingPathComponent("rpc-bench"), ["raw-server"])
        defer { raw.stop() }
        let endpoints = try raw.firstLine().split(separator: " ").map(String.init)
        // Raw ZeroMQ busy-polling as our loops do, for the like-for-like row of the human output.
        let rawBusy =
            json || busyPollMicros == 0
            ? nil
            : try ServerProcess(
                directory.appendingPathComponent("rpc-bench"),
                ["raw-server", "--busy-poll-micros", "\(busyPollMicros)"])
        defer { rawBusy?.stop() }
        let rawBusyEndpoint = try rawBusy?.firstLine().split(separator: " ").first.map(String.init)
        let rpc =
            rpcServer == nil
            ? try ServerProcess(
                directory.appendingPathComponent("interop-server"),
                ["--endpoint", "tcp://127.0.0.1:*", "--busy-poll-micros", "\(busyPollMicros)"])
            : nil
        defer { rpc?.stop() }
        let rpcEndpoint = try rpcServer ?? rpc!.firstLine()

        let secure = try curve ? CurveSetup(directory: directory, busyPollMicros: busyPollMicros) : nil
        defer { secure?.stop() }

        let payload = [UInt8](repeating: 0x42, count: payloadBytes)
        let client = RPCClientBench(busyPoll: .microseconds(busyPollMicros))
        // This machine's speed drifts from second to second (a shared virtual machine), so every measurement is
        // repeated in interleaved rounds and each figure is its median: raw and ours see the same conditions.
        // Callers run on the channel's executor (the runtime's fast path); the "-pool" rows show the same calls
        // from Swift's global pool, the default for code that does not choose an executor.
        var samples: [[Measurement]] = []
        for _ in 0..<max(1, rounds) {
            var round = [
                try RawZMQ.latency(endpoint: endpoints[0], payload: payload, calls: latencyCalls),
                try client.latency(endpoint: rpcEndpoint, payload: payload, calls: latencyCalls, onLoop: true),
                try RawZMQ.throughput(
                    endpoint: endpoints[1], payload: payload, calls: throughputCalls, inFlight: inFlight),
                try client.throughput(
                    endpoint: rpcEndpoint, payload: payload, calls: throughputCalls, inFlight: inFlight, onLoop: true),
            ]
            if let secure {
                let curveClient = RPCClientBench(busyPoll: .microseconds(busyPollMicros), security: secure.client)
                round += [
                    try RawZMQ.latency(
                        endpoint: secure.rawEndpoints[0], payload: payload, calls: latencyCalls, curve: secure.raw),
                    try curveClient.latency(
                        endpoint: secure.rpcEndpoint, payload: payload, calls: latencyCalls, onLoop: true),
                    try RawZMQ.throughput(
                        endpoint: secure.rawEndpoints[1], payload: payload, calls: throughputCalls, inFlight: inFlight,
                        curve: secure.raw),
                    try curveClient.throughput(
                        endpoint: secure.rpcEndpoint, payload: payload, calls: throughputCalls, inFlight: inFlight,
                        onLoop: true),
                ]
            }
            if !json {
                if let rawBusyEndpoint {
                    round.append(
                        try RawZMQ.latency(
                            endpoint: rawBusyEndpoint, payload: payload, calls: latencyCalls,
                            busyPoll: .microseconds(busyPollMicros)))
                }
                round.append(
                    try client.latency(
                        endpoint: rpcEndpoint, payload: payload, calls: latencyCalls, onLoop: false))
                round.append(
                    try client.throughput(
                        endpoint: rpcEndpoint, payload: payload, calls: throughputCalls, inFlight: inFlight,
                        onLoop: false))
            }
            samples.append(round)
        }
        let medians = samples[0].indices.map { index in Measurement.median(of: samples.map { $0[index] }) }
        let (rawLatency, rpcLatency, rawThroughput, rpcThroughput) = (medians[0], medians[1], medians[2], medians[3])
        let ratios = Ratios(
            p50: rpcLatency.p50 / rawLatency.p50, p99: rpcLatency.p99 / rawLatency.p99,
            throughput: rpcThroughput.perSecond / rawThroughput.perSecond)
        // With CURVE: rows 4…7, the same four measurements encrypted.
        let curveRows = secure == nil ? [] : Array(medians[4..<8])
        let curveRatios =
            curveRows.isEmpty
            ? nil
            : Ratios(
                p50: curveRows[1].p50 / curveRows[0].p50, p99: curveRows[1].p99 / curveRows[0].p99,
                throughput: curveRows[3].perSecond / curveRows[2].perSecond)
        let humanRows = curveRows.isEmpty ? 4 : 8
        if json {
            for result in [rawLatency, rpcLatency, rawThroughput, rpcThroughput] + curveRows { print(result.json) }
            print(ratios.json)
            if let curveRatios { print(curveRatios.json.replacingOccurrences(of: "{", with: #"{"curve": true, "#)) }
        } else {
            let rawBusyLatency = rawBusyEndpoint == nil ? nil : medians[humanRows]
            let (poolLatency, poolThroughput) = (medians[medians.count - 2], medians[medians.count - 1])
            let results =
                [rawLatency] + (rawBusyLatency.map { [$0] } ?? []) + [
                    rpcLatency, poolLatency, rawThroughput, rpcThroughput, poolThroughput,
                ] + curveRows
            print(
                "payload \(payloadBytes) B, busy poll \(busyPollMicros) µs, latency over \(latencyCalls) round trips, throughput over \(throughputCalls) calls with \(inFlight) in flight; medians of \(max(1, rounds)) interleaved rounds"
            )
            let perRound = samples.map { round in
                String(format: "%.2f/%.2f", round[1].p50 / round[0].p50, round[3].perSecond / round[2].perSecond)
            }
            print("per round, p50 ratio/throughput ratio: " + perRound.joined(separator: "  "))
            if secure != nil {
                let perCurveRound = samples.map { round in
                    String(format: "%.2f/%.2f", round[5].p50 / round[4].p50, round[7].perSecond / round[6].perSecond)
                }
                print("per round with CURVE, p50 ratio/throughput ratio: " + perCurveRound.joined(separator: "  "))
            }
            print(pad("system", 14) + pad("mode", 19) + pad("p50 µs", 10) + pad("p99 µs", 10) + "calls/s")
            for result in results {
                print(
                    pad(result.system, 14) + pad(result.mode, 19) + pad(String(format: "%.1f", result.p50), 10)
                        + pad(String(format: "%.1f", result.p99), 10) + String(format: "%.0f", result.perSecond))
            }
            print(
                String(
                    format: "ratios (rpc / raw): p50 %.2f×, p99 %.2f×, throughput %.2f×", ratios.p50, ratios.p99,
                    ratios.throughput))
            if let curveRatios {
                print(
                    String(
                        format:
                            "with CURVE (rpc-curve / zmq-raw-curve): p50 %.2f×, p99 %.2f×, throughput %.2f× (without: %.2f×)",
                        curveRatios.p50, curveRatios.p99, curveRatios.throughput, ratios.throughput))
                print(
                    String(
                        format:
                            "CURVE's own cost: raw p50 +%.1f µs, throughput %.2f×; ours p50 +%.1f µs, throughput %.2f×",
                        curveRows[0].p50 - rawLatency.p50, curveRows[2].perSecond / rawThroughput.perSecond,
                        curveRows[1].p50 - rpcLatency.p50, curveRows[3].perSecond / rpcThroughput.perSecond))
            }
            print(
                String(
                    format: "from the global pool: p50 %.2f×, p99 %.2f×, throughput %.2f×",
                    poolLatency.p50 / rawLatency.p50, poolLatency.p99 / rawLatency.p99,
                    poolThroughput.perSecond / rawThroughput.perSecond))
            if let rawBusyLatency {
                print(
                    String(
                        format: "against raw ZeroMQ busy-polling too: p50 %.2f×, p99 %.2f×",
                        rpcLatency.p50 / rawBusyLatency.p50, rpcLatency.p99 / rawBusyLatency.p99))
            }
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

/// One line of results.
struct Measurement {
    let system: String
    let mode: String
    /// Microseconds.
    let p50: Double
    let p99: Double
    let perSecond: Double

    init(system: String, mode: String, p50: Double, p99: Double, perSecond: Double) {
        self.system = system
        self.mode = mode
        self.p50 = p50
        self.p99 = p99
        self.perSecond = perSecond
    }

    /// Each figure's median over rounds of the same measurement.
    static func median(of rounds: [Measurement]) -> Measurement {
        func middle(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1
                ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        return Measurement(
            system: rounds[0].system, mode: rounds[0].mode, p50: middle(rounds.map(\.p50)),
            p99: middle(rounds.map(\.p99)), perSecond: middle(rounds.map(\.perSecond)))
    }

    init(system: String, mode: String, samples: [UInt64], elapsed: Duration, calls: Int) {
        self.system = system
        self.mode = mode
        let sorted = samples.sorted()
        p50 = Self.quantileMicros(sorted, percent: 50)
        p99 = Self.quantileMicros(sorted, percent: 99)
        perSecond = Double(calls) / elapsed.inSeconds
    }

    /// The sample at `percent` of sorted nanosecond samples, in microseconds.
    static func quantileMicros(_ sorted: [UInt64], percent: Int) -> Double {
        Double(sorted[min(sorted.count - 1, sorted.count * percent / 100)]) / 1000
    }

    var json: String {
        String(
            format: #"{"system": "%@", "mode": "%@", "p50_us": %.1f, "p99_us": %.1f, "per_s": %.0f}"#,
            system, mode, p50, p99, perSecond)
    }
}

struct Ratios {
    let p50: Double
    let p99: Double
    let throughput: Double

    var json: String {
        String(format: #"{"p50_ratio": %.3f, "p99_ratio": %.3f, "throughput_ratio": %.3f}"#, p50, p99, throughput)
    }
}

/// A server process of the benchmark, stopped when the benchmark ends.
final class ServerProcess {
    let process = Process()
    let output = Pipe()

    init(_ executable: URL, _ arguments: [String]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = output
        try process.run()
    }

    func firstLine() throws -> String {
        var bytes = [UInt8]()
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw ValidationError("\(process.executableURL!.lastPathComponent) exited before it served")
            }
            bytes += chunk
            if let newline = bytes.firstIndex(of: 10) { return String(decoding: bytes[..<newline], as: UTF8.self) }
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Monotonic nanoseconds, cheap enough to read around every call.
@inline(__always)
func nowNanos() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

extension Duration {
    /// The duration in seconds, for rates and shares of time.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The CURVE half of `run`: a raw ZeroMQ echo with a CURVE key (and no ZAP handler), an interop-server with its key
/// and the client's in its authorized keys folder, and the client keys for both.
struct CurveSetup {
    let folder: URL
    let rawServer: ServerProcess
    let rpcServer: ServerProcess
    let rawEndpoints: [String]
    let rpcEndpoint: String
    let raw: RawCurve
    let client: ClientSecurity

    init(directory: URL, busyPollMicros: Int) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-bench-keys-\(UUID().uuidString)")
        let authorized = folder.appendingPathComponent("authorized").path
        try FileManager.default.createDirectory(atPath: authorized, withIntermediateDirectories: true)
        let server = CurveCertificate.generate(name: "bench-server", role: .service)
        let user = CurveCertificate.generate(name: "bench-client", role: .admin)
        let serverFiles = try server.write(directory: folder.path, name: "bench-server")
        let userFiles = try user.write(directory: folder.path, name: "bench-client")
        try FileManager.default.copyItem(atPath: userFiles.publicFile, toPath: authorized + "/bench-client.key")
        client = ClientSecurity(certificate: user, serverKey: server.publicKey, serverKeySource: serverFiles.publicFile)

        let (rawServerPublic, rawServerSecret) = RawCurve.keyPair()
        let (rawClientPublic, rawClientSecret) = RawCurve.keyPair()
        raw = RawCurve(serverPublic: rawServerPublic, clientPublic: rawClientPublic, clientSecret: rawClientSecret)
        rawServer = try ServerProcess(
            directory.appendingPathComponent("rpc-bench"), ["raw-server", "--curve-secret", rawServerSecret])
        rawEndpoints = try rawServer.firstLine().split(separator: " ").map(String.init)
        rpcServer = try ServerProcess(
            directory.appendingPathComponent("interop-server"),
            [
                "--endpoint", "tcp://127.0.0.1:*", "--busy-poll-micros", "\(busyPollMicros)", "--key",
                serverFiles.secretFile, "--authorized-keys", authorized,
            ])
        rpcEndpoint = try rpcServer.firstLine()
    }

    func stop() {
        rawServer.stop()
        rpcServer.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}
