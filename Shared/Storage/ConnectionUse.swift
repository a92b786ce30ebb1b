import Metrics
import Synchronization

/// How a database's connections are used, for operators (the metrics endpoint): how many there are
/// (`db_connections`), how many are in use now (`db_connections_in_use`), and how long work waits for one
/// (`db_connection_wait_seconds`); dimension `backend` (sqlite or postgres). Waiting long with every connection in
/// use means the pool, or the database behind it, is the bottleneck.
final class ConnectionUse: Sendable {
    private let inUse: Gauge
    private let wait: Metrics.Timer
    private let count = Atomic<Int>(0)

    init(backend: SQLDialect, connections: Int) {
        let dimensions = [("backend", backend == .sqlite ? "sqlite" : "postgres")]
        Gauge(label: "db_connections", dimensions: dimensions).record(connections)
        inUse = Gauge(label: "db_connections_in_use", dimensions: dimensions)
        wait = Metrics.Timer(label: "db_connection_wait_seconds", dimensions: dimensions)
    }

    /// Runs `body` as the work of a connection obtained now, after waiting since `requested`.
    func using<T>(since requested: ContinuousClock.Instant, _ body: () async throws -> T) async rethrows -> T {
        wait.recordNanoseconds(Self.nanoseconds(.now - requested))
        inUse.record(count.wrappingAdd(1, ordering: .relaxed).newValue)
        defer { inUse.record(count.wrappingSubtract(1, ordering: .relaxed).newValue) }
        return try await body()
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return Int64(clamping: seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000)
    }
}
