import Metrics
import Synchronization

/// Per-method call counts by status code and handling latency, recorded through swift-metrics so that any backend
/// can collect them (ServiceKit installs one that `ftadmin metrics` reads).
final class ServerMetrics: Sendable {
    /// Metric labels; dimensions are `service`, `method` and (for calls) `code`.
    enum Label {
        static let calls = "rpc_server_calls_total"
        static let latency = "rpc_server_handling_duration"
        static let rejected = "rpc_server_rejected_frames_total"
    }

    private struct MethodMetrics: Sendable {
        let latency: Metrics.Timer
        let codes: [Counter]
    }

    private let methods: [String: MethodMetrics]
    private let rejected = Counter(label: Label.rejected)

    init(services: [ServiceRegistration]) {
        var methods: [String: MethodMetrics] = [:]
        for service in services {
            for method in service.methods.keys {
                methods[service.name + "/" + method] = Self.make(service: service.name, method: method)
            }
        }
        self.methods = methods
    }

    private static func make(service: String, method: String) -> MethodMetrics {
        let dimensions = [("service", service), ("method", method)]
        return MethodMetrics(
            latency: Metrics.Timer(label: Label.latency, dimensions: dimensions),
            codes: RPCError.Code.allCases.map {
                Counter(label: Label.calls, dimensions: dimensions + [("code", $0.description)])
            })
    }

    /// Counts a finished call; `known: false` for calls refused before reaching a method (unknown service, say),
    /// which are counted without creating per-name metrics for whatever a client sent.
    func record(service: String, method: String, code: RPCError.Code, duration: Duration, known: Bool = true) {
        guard let metrics = methods[service + "/" + method] else {
            rejected.increment()
            return
        }
        metrics.codes[Int(code.rawValue)].increment()
        metrics.latency.recordNanoseconds(Int64(clamping: duration.components.seconds * 1_000_000_000
            + duration.components.attoseconds / 1_000_000_000))
    }

    func rejectedFrame() { rejected.increment() }
}
