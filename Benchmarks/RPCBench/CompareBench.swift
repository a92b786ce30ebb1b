import ArgumentParser
import Foundation

/// `rpc-bench compare`: two running interop-servers (two builds of the runtime, say) measured in the same seconds.
///
/// This machine's speed drifts by tens of percent from minute to minute, so runs of one build after the other
/// cannot tell a change of a microsecond. Here one client alternates single calls between the two servers (which
/// goes first alternates too), so drift and noise fall on both alike and the difference of their medians shows
/// changes of well under a microsecond. Each call runs on its own channel's I/O thread, as in `run`'s latency.
struct CompareBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare the round-trip latency of two running interop-servers, calls alternating between them.")

    @Option(help: "Endpoint of the first server (A).")
    var a: String

    @Option(help: "Endpoint of the second server (B).")
    var b: String

    @Option(help: "Round trips measured per server.")
    var calls = 40_000

    @Option(help: "Bytes of payload in each request and response.")
    var payloadBytes = 100

    func validate() throws {
        guard calls >= 100 else { throw ValidationError("--calls must be at least 100") }
        guard a != b else { throw ValidationError("--a and --b must be different servers") }
    }

    func run() throws {
        let payload = [UInt8](repeating: 0x42, count: payloadBytes)
        let (first, second) = try RPCClientBench().alternatingLatency(a, b, payload: payload, calls: calls)
        func quantiles(_ samples: [UInt64]) -> (p25: Double, p50: Double, p75: Double, p99: Double) {
            let sorted = samples.sorted()
            func at(_ percent: Int) -> Double { Measurement.quantileMicros(sorted, percent: percent) }
            return (at(25), at(50), at(75), at(99))
        }
        let (qa, qb) = (quantiles(first), quantiles(second))
        print("server  p25 µs    p50 µs    p75 µs    p99 µs")
        for (name, q) in [("A", qa), ("B", qb)] {
            print(String(format: "%@       %-9.1f %-9.1f %-9.1f %-9.1f", name, q.p25, q.p50, q.p75, q.p99))
        }
        print(
            String(
                format: "B - A:  p25 %+.2f µs, p50 %+.2f µs, p75 %+.2f µs", qb.p25 - qa.p25, qb.p50 - qa.p50,
                qb.p75 - qa.p75))
    }
}
