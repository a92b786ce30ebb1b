import API
import Foundation
import Logging
import Metrics
import Prometheus
import RPC
import Schema
import ServiceLifecycle
import Storage
import Synchronization
import UnixSignals

/// Runs one service process: logging and metrics set up, an `RPCServer` serving the given services plus health
/// and reflection, until SIGTERM or SIGINT begins a graceful shutdown.
public enum ServiceProcess {
    /// What the metrics endpoint serves: every metric the process records, in Prometheus's form.
    public static let prometheus = PrometheusCollectorRegistry()

    /// Sets up logging (stderr) and the metrics backends, once per process: the in-process one that
    /// `ftadmin metrics` reads (through the reflection service) and Prometheus's (`MetricsEndpoint`).
    public static func bootstrap(logLevel: Logger.Level) -> InProcessMetrics {
        bootstrapState.withLock { state in
            if let metrics = state.metrics { return metrics }
            let metrics = InProcessMetrics()
            var exported = PrometheusMetricsFactory(registry: prometheus)
            // Calls here take tens of microseconds to seconds (imports): buckets from 50 µs to 30 s.
            exported.defaultDurationHistogramBuckets = [
                .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
                .seconds(5), .seconds(10), .seconds(30),
            ]
            MetricsSystem.bootstrap(MultiplexMetricsHandler(factories: [metrics, exported]))
            prometheus.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "process", metricName: "start_time", unitName: "seconds",
                    helpText: "When the process started, in seconds since 1970.")
            ).set(Double(Clock.unixMicros()) / 1_000_000)
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = logLevel
                return handler
            }
            state.metrics = metrics
            return metrics
        }
    }

    /// The names health answers for: the given services and those every process serves.
    public static func healthNames(_ services: [ServiceRegistration]) -> [String] {
        services.map(\.name) + [HealthV1.Health.name, ReflectionV1.ServerReflection.name, AdminV1.AccessAdmin.name]
    }

    private static let bootstrapState = Mutex<(metrics: InProcessMetrics?, Void)>((nil, ()))

    /// Builds the server of a service process: `services` plus health, reflection and the key listing, not yet
    /// started. With `security`, its socket is a CURVE server and every call is authorized; `onRefusal` hears of the
    /// calls refused.
    public static func makeServer(
        name: String, configuration: ServiceConfiguration, services: [ServiceRegistration], metrics: InProcessMetrics,
        logger: Logger, identity: ProcessIdentity? = nil, security: ServerSecurity? = nil,
        onRefusal: (@Sendable (RefusedCall) -> Void)? = nil, health: HealthService? = nil,
        database: (@Sendable () -> ReflectionV1.DatabaseStatus?)? = nil
    ) -> (server: RPCServer, health: HealthService) {
        let access = AccessAdminService(security: security)
        let health =
            health
            ?? HealthService(services: healthNames(services))
        let identity = identity ?? ProcessIdentity(process: name)
        let box = ServerBox()
        let reflection = ReflectionService(
            identity: identity, metrics: metrics,
            schemas: { box.server?.serviceSchemas ?? [] }, endpoints: { box.server?.boundEndpoints ?? [] },
            inFlight: { box.server?.callsInFlight ?? 0 }, health: { health.status(of: "") ?? .unknown },
            database: database ?? { nil })
        let server = RPCServer(
            configuration: RPCServer.Configuration(
                endpoints: configuration.endpoints, maxConcurrentCalls: configuration.maxConcurrentCalls,
                shutdownGracePeriod: configuration.shutdownGracePeriod, busyPoll: configuration.busyPoll,
                security: security, onRefusal: onRefusal),
            services: services + [health.registration, reflection.registration, access.registration], logger: logger)
        box.server = server
        return (server, health)
    }

    /// Runs one of the system's services: configuration from `options` and the environment, then `run`.
    public static func run(
        _ address: ServiceAddress, options: ServiceOptions,
        services: (_ context: ProcessContext) throws -> [ServiceRegistration]
    ) async throws {
        let configuration = try options.configuration(for: address, environment: ProcessInfo.processInfo.environment)
        try await run(name: address.executable, configuration: configuration, services: services)
    }

    /// Runs a service that keeps data: opens its database (migrating it), serves, and closes the database after the
    /// server has stopped. The services get the database through `AuditedDatabase`, so that every change they
    /// commit has its entry in the audit trail; refused calls are written there too. A database with background
    /// work (PostgreSQL's pool) runs it as a Service of the process's ServiceGroup, beside the process itself, and
    /// the group stops it after the process has stopped serving.
    public static func run(
        _ address: ServiceAddress, options: ServiceOptions, migrations: [Migration],
        services:
            @escaping @Sendable (_ database: any Database, _ context: ProcessContext) throws
            -> [ServiceRegistration]
    ) async throws {
        let configuration = try options.configuration(for: address, environment: ProcessInfo.processInfo.environment)
        // Logging is set up before the database opens, so that migrations are logged too.
        _ = bootstrap(logLevel: configuration.logLevel)
        var processLogger = Logger(label: address.executable)
        processLogger.logLevel = configuration.logLevel
        let logger = processLogger
        // Keys are read before the database opens: a key file others can read stops the start at once.
        let security = try configuration.security.serverSecurity(logger: logger)
        let location = configuration.database ?? .sqlite(path: "var/\(address.shortName).sqlite")
        logger.info("opening database", metadata: ["location": "\(location)"])
        let (opened, background) = try await prepareDatabase(location, logger: logger)
        guard let background else {
            try await serve(
                address, opened, location, migrations: migrations, configuration: configuration, security: security,
                logger: logger, services: services)
            return
        }
        // The process stops first (it ends on SIGTERM or SIGINT, its own group trapping them), then the pool.
        let process = ProcessService {
            try await serve(
                address, opened, location, migrations: migrations, configuration: configuration, security: security,
                logger: logger, services: services)
        }
        try await ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: background),
                    .init(
                        service: process, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                ], logger: logger)
        ).run()
    }

    /// Migrates the database, serves until told to stop, then closes the database.
    private static func serve(
        _ address: ServiceAddress, _ opened: any Database, _ location: DatabaseLocation, migrations: [Migration],
        configuration: ServiceConfiguration, security: ServerSecurity?, logger: Logger,
        services: (_ database: any Database, _ context: ProcessContext) throws -> [ServiceRegistration]
    ) async throws {
        do {
            try await makeReady(opened, location, migrations: migrations, logger: logger)
        } catch {
            await opened.close()
            throw error
        }
        let identity = ProcessIdentity(process: address.executable)
        let database = AuditedDatabase(opened, instanceID: identity.instanceID)
        let refusals = RefusalRecorder(database: opened, instanceID: identity.instanceID, logger: logger)
        let admin = DataAdminService(database: database, serviceName: address.shortName)
        do {
            try await run(
                name: address.executable, configuration: configuration, identity: identity, security: security,
                onRefusal: refusals.record, database: (opened, location)
            ) { context in
                try services(database, context) + [admin.registration]
            }
        } catch {
            await refusals.flush()
            await database.close()
            throw error
        }
        await refusals.flush()
        await database.close()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully; SIGHUP reads the authorized keys and the policy
    /// again. Throws when an endpoint cannot be bound or the keys cannot be read.
    public static func run(
        name: String, configuration: ServiceConfiguration, identity: ProcessIdentity? = nil,
        security: ServerSecurity? = nil, onRefusal: (@Sendable (RefusedCall) -> Void)? = nil,
        database: (database: any Database, location: DatabaseLocation)? = nil,
        services: (_ context: ProcessContext) throws -> [ServiceRegistration],
        onStart: (_ endpoints: [String]) -> Void = { _ in }
    ) async throws {
        let metrics = bootstrap(logLevel: configuration.logLevel)
        var logger = Logger(label: name)
        logger.logLevel = configuration.logLevel
        let security = try security ?? configuration.security.serverSecurity(logger: logger)
        if configuration.security.insecure {
            logger.warning(
                "serving without CURVE keys (--insecure): anyone who reaches the endpoints can read and change everything",
                metadata: ["endpoints": "\(configuration.endpoints.joined(separator: " "))"])
        }
        let context = ProcessContext(configuration: configuration, logger: logger, security: security)
        let registrations = try services(context)
        let background = context.background.services
        let health = HealthService(services: healthNames(registrations))
        // A process that keeps data serves only while it reaches its database.
        let watch = database.map {
            DatabaseWatch(database: $0.database, location: $0.location, health: health, logger: logger)
        }
        var databaseStatus: (@Sendable () -> ReflectionV1.DatabaseStatus?)?
        if let watch { databaseStatus = { watch.status } }
        let (server, _) = makeServer(
            name: name, configuration: configuration, services: registrations, metrics: metrics,
            logger: logger, identity: identity, security: security, onRefusal: onRefusal, health: health,
            database: databaseStatus)
        // Bound before the RPC server starts, so that a port already taken stops the start with nothing served.
        var metricsEndpoint: MetricsEndpoint?
        if let endpoint = configuration.metricsEndpoint {
            metricsEndpoint = try await MetricsEndpoint.bind(endpoint, registry: prometheus, logger: logger)
        }
        onStart(try server.start())
        security?.startWatching()
        defer { security?.stopWatching() }
        // The group stops its services in reverse order: the RPC server first, the metrics endpoint last.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: (metricsEndpoint.map { [$0 as any Service] } ?? []) + (watch.map { [$0] } ?? []) + background
                    + [
                        KeyReloadService(security: security, logger: logger),
                        RPCServerService(server: server, health: health),
                    ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// What a service process's handlers are built with: its configuration, its logger and its keys (for the
/// sockets it serves besides RPC, such as Marketplace-Info's events), and where they hand the long-running pieces
/// they start, which the process's ServiceGroup then runs and stops (after the RPC server, before the database).
public struct ProcessContext: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    /// The process's CURVE keys; nil without.
    public let security: ServerSecurity?
    let background = BackgroundServices()

    init(configuration: ServiceConfiguration, logger: Logger, security: ServerSecurity?) {
        self.configuration = configuration
        self.logger = logger
        self.security = security
    }

    /// Runs `service` in the process's ServiceGroup.
    public func run(_ service: any Service) { background.add(service) }
}

/// The services a process's handlers handed over while they were built.
final class BackgroundServices: Sendable {
    private let added = Mutex<[any Service]>([])

    func add(_ service: any Service) { added.withLock { $0.append(service) } }

    var services: [any Service] { added.withLock { $0 } }
}

/// Reads the authorized keys and the policy again on SIGHUP (besides the periodic check of `ServerSecurity`).
struct KeyReloadService: Service {
    let security: ServerSecurity?
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        // Ends with the process's graceful shutdown (the group stops it after the RPC server).
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                guard let security else {
                    logger.notice("SIGHUP: this process runs without CURVE keys; there is nothing to read again")
                    continue
                }
                let outcome = security.reload()
                if let error = outcome.policyError {
                    logger.error(
                        "SIGHUP: the policy was refused; the previous one stays", metadata: ["error": "\(error)"])
                }
            }
        }
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

/// Runs `body` on Swift's global executor instead of the RPC I/O thread that handlers start on: for work that
/// takes long on the CPU (an import's checks, a report, a search for duplicates), so that every other call of the
/// process — a health check, a get — is still answered meanwhile. The call's context (deadline, request id,
/// caller) and its cancellation go with it.
public func offTheIOThread<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
    try await withTaskExecutorPreference(globalConcurrentExecutor) { try await body() }
}

/// A piece of work as a swift-service-lifecycle `Service`: a process's own run, beside the services it needs.
struct ProcessService: Service {
    let body: @Sendable () async throws -> Void

    init(_ body: @escaping @Sendable () async throws -> Void) { self.body = body }

    func run() async throws { try await body() }
}
