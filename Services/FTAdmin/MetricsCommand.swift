import API
import ArgumentParser
import RPC
import Schema
import ServiceKit

/// `ftadmin metrics [SERVICE…]`: per-method call counts, errors and latencies of each process.
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Show per-method calls, errors and latencies.")

    @Argument(help: "Services to ask (producer, assistance, marketplace-info); all by default.")
    var services: [String] = []

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reportingErrors {
            var documents: [JSONValue] = []
            var table = Table("PROCESS", "METHOD", "CALLS", "ERRORS", "P50", "P99", "MAX", "CODES")
            var notes: [String] = []
            for target in try global.services(services) {
                let channel = try global.channel(to: target)
                defer { channel.close() }
                let metrics = try await ReflectionV1.ServerReflectionClient(channel: channel)
                    .getMetrics(ReflectionV1.GetMetricsRequest(), options: global.callOptions)
                documents.append(
                    .object([
                        ("process", .string(target.executable)),
                        (
                            "metrics",
                            try DescriptorJSON.decode(
                                metrics.serializedBytes(), as: ReflectionV1.GetMetricsResponse.protoName)
                        ),
                    ]))
                for method in metrics.methods {
                    table.add(
                        target.executable, "\(method.service)/\(method.method)", "\(method.calls)", "\(method.errors)",
                        micros(method.latencyP50Micros), micros(method.latencyP99Micros),
                        micros(method.latencyMaxMicros),
                        method.codes.map { "\($0.code)=\($0.count)" }.joined(separator: " "))
                }
                if !metrics.refusedHandshakes.isEmpty {
                    notes.append(
                        "\(target.executable): handshakes refused: "
                            + metrics.refusedHandshakes.map { "\($0.code)=\($0.count)" }.joined(separator: " "))
                }
            }
            switch global.output {
            case .json: print(JSONValue.array(documents).text(indent: 0))
            case .human:
                print(table.render())
                for note in notes { print(note) }
            }
        }
    }

    private func micros(_ value: UInt64) -> String {
        value >= 10_000 ? "\(value / 1000) ms" : "\(value) µs"
    }
}
