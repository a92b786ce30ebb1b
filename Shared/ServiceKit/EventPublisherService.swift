import RPC
import ServiceLifecycle

/// An `EventPublisher` as a Service of the process's ServiceGroup: it publishes until the process shuts down, then
/// sends what is queued and closes its socket. The group stops it after the RPC server, so that the events of the
/// last calls still go out.
public struct EventPublisherService: Service {
    let publisher: EventPublisher

    public init(_ publisher: EventPublisher) { self.publisher = publisher }

    public func run() async throws {
        defer { publisher.close() }
        // Returns on graceful shutdown; throws when the group is cancelled instead.
        try await gracefulShutdown()
    }
}
