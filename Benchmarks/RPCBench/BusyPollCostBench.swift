import ArgumentParser
import Foundation
import RPC

/// `rpc-bench busy-poll-cost`: what busy polling costs in CPU at a light, steady load, and what it saves in latency.
///
/// Calls come one at a time at a fixed rate, as a service sees them on an ordinary day, first with the runtime's
/// busy poll and then without, each against its own interop-server. The CPU time of the server process and of the
/// client's process (all their threads, from Linux's per-thread run times) is measured over the same seconds.
struct BusyPollCostBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "busy-poll-cost",
        abstract: "Measure the CPU busy polling costs and the latency it saves, at a steady light load.")

    @Option(help: "Calls a second, one at a time.")
    var rate = 1000

    @Option(help: "Seconds each setting is measured.")
    var seconds = 5

    @Option(help: "The busy poll measured against none, in microseconds.")
    var busyPollMicros = defaultBusyPollMicros

    @Option(help: "Bytes of payload in each request and response.")
    var payloadBytes = 100

    func validate() throws {
        guard (1...20_000).contains(rate) else { throw ValidationError("--rate must be 1 to 20000 calls a second") }
        guard seconds >= 1 else { throw ValidationError("--seconds must be at least 1") }
        guard busyPollMicros > 0 else { throw ValidationError("--busy-poll-micros must be positive") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        let payload = [UInt8](repeating: 0x42, count: payloadBytes)
        print("\(rate) calls a second, one at a time, for \(seconds) s per setting; CPU in % of one core")
        print("busy poll  server CPU  client CPU  p50 µs    p99 µs")
        for micros in [busyPollMicros, 0] {
            let server = try ServerProcess(
                directory.appendingPathComponent("interop-server"),
                ["--endpoint", "tcp://127.0.0.1:*", "--busy-poll-micros", "\(micros)"])
            defer { server.stop() }
            let endpoint = try server.firstLine()
            let bench = RPCClientBench(busyPoll: .microseconds(micros))
            let paced = try bench.paced(
                endpoint: endpoint, payload: payload, rate: rate, calls: rate * seconds,
                measuring: [server.process.processIdentifier, getpid()])
            let elapsedNanos = paced.elapsed.inSeconds * 1e9
            let serverShare = Double(paced.cpuNanos[0]) / elapsedNanos * 100
            let clientShare = Double(paced.cpuNanos[1]) / elapsedNanos * 100
            let result = Measurement(
                system: "rpc", mode: "paced", samples: paced.samples, elapsed: paced.elapsed,
                calls: paced.samples.count)
            let columns = [
                "\(micros) µs", String(format: "%.1f%%", serverShare), String(format: "%.1f%%", clientShare),
                String(format: "%.1f", result.p50), String(format: "%.1f", result.p99),
            ]
            print(
                zip(columns, [11, 12, 12, 10, 0]).map {
                    $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0)
                }.joined())
        }
    }
}

/// CPU time of a process, from Linux's per-thread run times (`/proc/PID/task/*/schedstat`).
enum ProcessCPU {
    /// Nanoseconds each thread of process `pid` has run on a CPU so far (`/proc/PID/task/*/schedstat`).
    static func snapshot(of pid: Int32) -> [String: UInt64] {
        let tasks = "/proc/\(pid)/task"
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        var result: [String: UInt64] = [:]
        for thread in threads {
            guard let text = try? String(contentsOfFile: "\(tasks)/\(thread)/schedstat", encoding: .utf8),
                let first = text.split(separator: " ").first, let nanos = UInt64(first)
            else { continue }
            result[thread] = nanos
        }
        return result
    }

    /// The run time process `pid`'s threads gained since `before` (threads that ended meanwhile are not counted).
    static func nanos(of pid: Int32, since before: [String: UInt64]) -> UInt64 {
        snapshot(of: pid).reduce(0) { total, thread in
            total + (thread.value - min(thread.value, before[thread.key] ?? 0))
        }
    }
}
