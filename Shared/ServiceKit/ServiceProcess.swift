import API
import Foundation
import Logging
import Metrics
import RPC
import Schema
import ServiceLifecycle
import Storage
import Synchronization

/// Runs one service process: logging and metrics set up, an `RPCServer` serving the given services plus health
/// and reflection, until SIGTERM or SIGINT begins a graceful shutdown.
public enum ServiceProcess {
    /// Sets up logging (stderr) and the in-process metrics backend, once per process.
    public static func bootstrap(logLevel: Logger.Level) -> InProcessMetrics {
        bootstrapState.withLock { state in
            if let metrics = state.metrics { return metrics }
            let metrics = InProcessMetrics()
            MetricsSystem.bootstrap(metrics)
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = logLevel
                return handler
            }
            state.metrics = metrics
            return metrics
        }
    }

    private static let bootstrapState = Mutex<(metrics: InProcessMetrics?, Void)>((nil, ()))

    /// Builds the server of a service process: `services` plus health and reflection, not yet started.
    public static func makeServer(
        name: String, configuration: ServiceConfiguration, services: [ServiceRegistration], metrics: InProcessMetrics,
        logger: Logger
    ) -> (server: RPCServer, health: HealthService) {
        let health = HealthService(
            services: services.map(\.name) + [HealthV1.Health.name, ReflectionV1.ServerReflection.name])
        let identity = ProcessIdentity(process: name)
        let box = ServerBox()
        let reflection = ReflectionService(
            identity: identity, metrics: metrics,
            schemas: { box.server?.serviceSchemas ?? [] }, endpoints: { box.server?.boundEndpoints ?? [] },
            inFlight: { box.server?.callsInFlight ?? 0 })
        let server = RPCServer(
            configuration: RPCServer.Configuration(
                endpoints: configuration.endpoints, maxConcurrentCalls: configuration.maxConcurrentCalls,
                shutdownGracePeriod: configuration.shutdownGracePeriod, busyPoll: configuration.busyPoll),
            services: services + [health.registration, reflection.registration], logger: logger)
        box.server = server
        return (server, health)
    }

    /// Runs one of the system's services: configuration from `options` and the environment, then `run`.
    public static func run(
        _ address: ServiceAddress, options: ServiceOptions,
        services: (_ configuration: ServiceConfiguration, _ logger: Logger) throws -> [ServiceRegistration]
    ) async throws {
        let configuration = try options.configuration(for: address, environment: ProcessInfo.processInfo.environment)
        try await run(name: address.executable, configuration: configuration) { logger in
            try services(configuration, logger)
        }
    }

    /// Runs a service that keeps data: opens its database (migrating it), serves, and closes the database after the
    /// server has stopped.
    public static func run(
        _ address: ServiceAddress, options: ServiceOptions, migrations: [Migration],
        services: (_ database: any Database, _ configuration: ServiceConfiguration, _ logger: Logger) throws
            -> [ServiceRegistration]
    ) async throws {
        let configuration = try options.configuration(for: address, environment: ProcessInfo.processInfo.environment)
        // Logging is set up before the database opens, so that migrations are logged too.
        _ = bootstrap(logLevel: configuration.logLevel)
        var logger = Logger(label: address.executable)
        logger.logLevel = configuration.logLevel
        let location = configuration.database ?? .sqlite(path: "var/\(address.shortName).sqlite")
        logger.info("opening database", metadata: ["location": "\(location)"])
        let database = try await openDatabase(location, migrations: migrations, logger: logger)
        let admin = DataAdminService(database: database, serviceName: address.shortName)
        do {
            try await run(name: address.executable, configuration: configuration) { logger in
                try services(database, configuration, logger) + [admin.registration]
            }
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully. Throws when an endpoint cannot be bound.
    public static func run(
        name: String, configuration: ServiceConfiguration,
        services: (_ logger: Logger) throws -> [ServiceRegistration],
        onStart: (_ endpoints: [String]) -> Void = { _ in }
    ) async throws {
        let metrics = bootstrap(logLevel: configuration.logLevel)
        var logger = Logger(label: name)
        logger.logLevel = configuration.logLevel
        let (server, health) = makeServer(
            name: name, configuration: configuration, services: try services(logger), metrics: metrics, logger: logger)
        onStart(try server.start())
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [RPCServerService(server: server, health: health)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Lets the reflection service read the server it is registered with, which is built after it.
private final class ServerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _server: RPCServer?
    var server: RPCServer? {
        get { lock.withLock { _server } }
        set { lock.withLock { _server = newValue } }
    }
}

/// An `RPCServer` as a swift-service-lifecycle `Service`: on graceful shutdown, health goes NOT_SERVING, new calls
/// are refused, calls in flight finish within the grace period.
public struct RPCServerService: Service {
    let server: RPCServer
    let health: HealthService

    public init(server: RPCServer, health: HealthService) {
        self.server = server
        self.health = health
    }

    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await server.waitUntilFinished()
            } onGracefulShutdown: {
                health.markAllNotServing()
                server.beginGracefulShutdown()
            }
        } onCancel: {
            server.beginGracefulShutdown()
        }
    }
}
