import API
import RPC
import Schema
import Synchronization

/// `fairtrade.health.v1.Health`: the serving status of each service of the process, and of the process ("").
///
/// Every service of a process serves while the process does: all turn NOT_SERVING while the process cannot
/// reach its database (`DatabaseWatch`), and for good once it begins to shut down.
public final class HealthService: HealthV1.HealthHandler {
    private let state: Mutex<State>

    private struct State {
        var statuses: [String: HealthV1.ServingStatus]
        var shuttingDown = false
        /// Why the process cannot serve now (its database is unreachable); nil when it can.
        var impediment: String?
    }

    /// Starts with every named service (and the process) SERVING.
    public init(services: [String]) {
        var statuses = Dictionary(uniqueKeysWithValues: services.map { ($0, HealthV1.ServingStatus.serving) })
        statuses[""] = .serving
        self.state = Mutex(State(statuses: statuses))
    }

    /// Sets one service's status; "" is the whole process.
    public func setStatus(_ status: HealthV1.ServingStatus, for service: String) {
        state.withLock { $0.statuses[service] = status }
    }

    /// Marks everything NOT_SERVING, as a process does when it begins to shut down.
    public func markAllNotServing() {
        state.withLock { $0.shuttingDown = true }
    }

    /// Marks everything NOT_SERVING for `reason` until it is cleared (nil).
    public func setImpediment(_ reason: String?) {
        state.withLock { $0.impediment = reason }
    }

    /// The status of one service, or of the process for ""; nil for a name it does not serve.
    public func status(of service: String) -> HealthV1.ServingStatus? {
        state.withLock { state in
            guard let status = state.statuses[service] else { return nil }
            return state.shuttingDown || state.impediment != nil ? .notServing : status
        }
    }

    public func check(_ request: HealthV1.HealthCheckRequest, context: ServerContext) async throws
        -> HealthV1.HealthCheckResponse
    {
        guard let status = status(of: request.service) else {
            throw RPCError(.notFound, "service \"\(request.service)\" is not served by this process")
        }
        return HealthV1.HealthCheckResponse(status: status)
    }
}
