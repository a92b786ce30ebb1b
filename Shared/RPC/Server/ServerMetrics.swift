import Metrics

/// Per-method call counts by status code and handling latency, recorded through swift-metrics so that any backend
/// can collect them (ServiceKit installs one that `ftadmin metrics` reads).
final class ServerMetrics: Sendable {
    /// Metric labels; dimensions are `service`, `method` and (for calls) `code`.
    enum Label {
        static let calls = "rpc_server_calls_total"
        static let latency = "rpc_server_handling_seconds"
        /// Calls being handled now.
        static let inFlight = "rpc_server_calls_in_flight"
        /// Client connections open now (TCP accepted and not yet closed, refused handshakes included while they last).
        static let connections = "rpc_server_connections"
        static let rejected = "rpc_server_rejected_frames_total"
        /// Connections refused in the CURVE handshake; dimension `reason`: unknown_key, no_curve, bad_handshake.
        static let refusedHandshakes = "rpc_server_refused_handshakes_total"
    }

    /// One method's metrics, made once when the server is built so that recording a call costs no lookups.
    struct MethodMetrics: Sendable {
        let latency: Metrics.Timer
        let codes: [Counter]

        func record(code: RPCError.Code, duration: Duration) {
            codes[Int(code.rawValue)].increment()
            let (seconds, attoseconds) = duration.components
            latency.recordNanoseconds(Int64(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        }
    }

    private let rejected = Counter(label: Label.rejected)

    func forMethod(service: String, method: String) -> MethodMetrics {
        let dimensions = [("service", service), ("method", method)]
        return MethodMetrics(
            latency: Metrics.Timer(label: Label.latency, dimensions: dimensions),
            codes: RPCError.Code.allCases.map {
                Counter(label: Label.calls, dimensions: dimensions + [("code", $0.description)])
            })
    }

    private let inFlight = Gauge(label: Label.inFlight)
    private let connections = Gauge(label: Label.connections)

    /// Records the calls in flight and the open connections (the server loop calls it when either changes).
    func load(inFlight calls: Int, connections open: Int) {
        inFlight.record(calls)
        connections.record(open)
    }

    /// Counts a message refused before it reached a method (malformed, or for a service not served here).
    func rejectedFrame() { rejected.increment() }

    private let noCurve = Counter(label: Label.refusedHandshakes, dimensions: [("reason", "no_curve")])
    private let badHandshake = Counter(label: Label.refusedHandshakes, dimensions: [("reason", "bad_handshake")])

    /// Counts a handshake that failed before the ZAP handler was asked: a client without CURVE (or with the wrong
    /// server key), or one that broke the protocol. Unknown keys are counted by the handler (`ServerSecurity`).
    func refusedHandshake(noCurve: Bool) { (noCurve ? self.noCurve : badHandshake).increment() }
}
