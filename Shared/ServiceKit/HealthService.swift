import API
import RPC
import Schema
import Synchronization

/// `fairtrade.health.v1.Health`: the serving status of each service of the process, and of the process ("").
public final class HealthService: HealthV1.HealthHandler {
    private let statuses: Mutex<[String: HealthV1.ServingStatus]>

    /// Starts with every named service (and the process) SERVING.
    public init(services: [String]) {
        var statuses = Dictionary(uniqueKeysWithValues: services.map { ($0, HealthV1.ServingStatus.serving) })
        statuses[""] = .serving
        self.statuses = Mutex(statuses)
    }

    /// Sets one service's status; "" is the whole process.
    public func setStatus(_ status: HealthV1.ServingStatus, for service: String) {
        statuses.withLock { $0[service] = status }
    }

    /// Marks everything NOT_SERVING, as a process does when it begins to shut down.
    public func markAllNotServing() {
        statuses.withLock { statuses in
            for key in statuses.keys { statuses[key] = .notServing }
        }
    }

    public func check(_ request: HealthV1.HealthCheckRequest, context: ServerContext) async throws
        -> HealthV1.HealthCheckResponse
    {
        guard let status = statuses.withLock({ $0[request.service] }) else {
            throw RPCError(.notFound, "service \"\(request.service)\" is not served by this process")
        }
        return HealthV1.HealthCheckResponse(status: status)
    }
}
