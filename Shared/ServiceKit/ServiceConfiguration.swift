import ArgumentParser
import Logging
import RPC
import Storage

/// The settings every service process reads, from flags first, then environment variables, then defaults.
///
/// | flag | environment | default |
/// |---|---|---|
/// | `--endpoint URL` (repeatable) | `FT_<SERVICE>_ENDPOINTS` (comma-separated; the first is bound) | `tcp://127.0.0.1:710x` |
/// | `--log-level LEVEL` | `FT_LOG_LEVEL` | `info` |
/// | `--max-concurrent-calls N` | `FT_MAX_CONCURRENT_CALLS` | `4096` |
/// | `--shutdown-grace-seconds S` | `FT_SHUTDOWN_GRACE_SECONDS` | `10` |
/// | `--data-dir PATH` | `FT_DATA_DIR` | `./var` (SQLite file `<service>.sqlite` inside) |
/// | `--events-endpoint URL` | `FT_<SERVICE>_EVENTS_ENDPOINTS` (first entry) | marketplace-info: `tcp://127.0.0.1:7113` |
/// | `--database-url URL` | `FT_<SERVICE>_DATABASE_URL` | none: SQLite; `postgres://…` to share state between instances |
/// | `--busy-poll-micros N` | `FT_BUSY_POLL_MICROS` | `50`; `0` never spins (see `RPCServer.Configuration.busyPoll`) |
/// | `--key FILE` | `FT_KEY_FILE` | none: no CURVE (loopback only); the service's secret certificate |
/// | `--authorized-keys DIR` | `FT_AUTHORIZED_KEYS_DIR` | none; the public certificates of the clients it admits |
/// | `--policy FILE` | `FT_POLICY_FILE` | none: the roles' defaults; rules that refine them |
/// | `--insecure` | | off: without keys, a service binds loopback only |
/// | `--metrics-endpoint HOST:PORT` | `FT_METRICS_ENDPOINT` | none: Prometheus's text format at `http://HOST:PORT/metrics` |
///
/// A service binds every `--endpoint` given; without flags it binds the first entry of its environment variable,
/// so the same variable tells clients where to call and the service where to listen.
public struct ServiceConfiguration: Sendable {
    public var endpoints: [String]
    public var logLevel: Logger.Level
    public var maxConcurrentCalls: Int
    public var shutdownGracePeriod: Duration
    /// Environment variables seen at start-up, for finding the other services.
    public var environment: [String: String]
    /// Where the service keeps its data.
    public var database: DatabaseLocation?
    /// Where the service publishes live events (services that publish any).
    public var eventEndpoints: [String] = []
    /// How long the I/O threads of the service's server and of its channels to other services busy-poll before
    /// they sleep.
    public var busyPoll: Duration = defaultBusyPoll
    /// CURVE keys, authorized keys and policy (`SecuritySettings`).
    public var security = SecuritySettings()
    /// Where to serve metrics for Prometheus (`MetricsEndpoint`); nil serves none.
    public var metricsEndpoint: HostAndPort?

    public init(
        endpoints: [String], logLevel: Logger.Level = .info, maxConcurrentCalls: Int = 4096,
        shutdownGracePeriod: Duration = .seconds(10), environment: [String: String] = [:]
    ) {
        self.endpoints = endpoints
        self.logLevel = logLevel
        self.maxConcurrentCalls = maxConcurrentCalls
        self.shutdownGracePeriod = shutdownGracePeriod
        self.environment = environment
    }

    /// Endpoints of another service of the system, from the environment or its default.
    public func endpoints(of service: ServiceAddress) -> [String] { service.endpoints(environment: environment) }

    /// A channel to another service of the system: its endpoints as `endpoints(of:)` finds them, named in errors
    /// by its executable, busy-polling as this process's server does.
    /// With a key of its own, the process calls over CURVE with that key, expecting the key of
    /// `FT_<SERVICE>_PUBLIC_KEY`.
    public func channel(to service: ServiceAddress, logger: Logger) throws -> ClientChannel {
        try ClientChannel(
            endpoints: endpoints(of: service),
            configuration: ClientChannel.Configuration(
                targetName: service.executable, busyPoll: busyPoll,
                security: security.clientSecurity(for: service, environment: environment)),
            logger: logger)
    }
}

/// The command-line flags of every service process.
public struct ServiceOptions: ParsableArguments {
    /// The longest shutdown grace period taken, in seconds: an hour.
    public static let maxShutdownGraceSeconds = 3600

    @Option(name: .customLong("endpoint"), help: "Endpoint to bind (repeatable): tcp://host:port, ipc:///path.")
    public var endpoints: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String?

    @Option(help: "Calls in flight at once before new ones get RESOURCE_EXHAUSTED.")
    public var maxConcurrentCalls: Int?

    @Option(help: "Seconds a graceful shutdown waits for calls in flight.")
    public var shutdownGraceSeconds: Double?

    @Option(
        help:
            "Microseconds the I/O threads look for more work before they sleep (0: never spin; default \(defaultBusyPollMicros))."
    )
    public var busyPollMicros: Int?

    @Option(name: .customLong("events-endpoint"), help: "Endpoint for the live-event PUB socket (repeatable).")
    public var eventEndpoints: [String] = []

    @Option(help: "Folder for the embedded SQLite database (default ./var).")
    public var dataDir: String?

    @Option(
        help:
            "PostgreSQL URL (postgres://user:password@host:port/db) instead of SQLite, to share state between instances."
    )
    public var databaseURL: String?

    @Option(help: "This service's secret certificate (NAME.key_secret): its sockets speak CURVE.")
    public var key: String?

    @Option(help: "Folder of the public certificates (NAME.key) of the clients to admit; read again on SIGHUP.")
    public var authorizedKeys: String?

    @Option(help: "Authorization policy: allow and deny rules that refine the roles' defaults.")
    public var policy: String?

    @Flag(help: "Serve without CURVE keys on an address other than loopback, in clear text, admitting anyone.")
    public var insecure = false

    @Option(help: "Serve metrics for Prometheus at http://HOST:PORT/metrics (default: none).")
    public var metricsEndpoint: String?

    public init() {}

    /// Flags over environment over defaults; a value that cannot be read is an error naming it.
    public func configuration(for service: ServiceAddress, environment: [String: String]) throws -> ServiceConfiguration
    {
        let endpoints =
            self.endpoints.isEmpty ? Array(service.endpoints(environment: environment).prefix(1)) : self.endpoints
        let levelName = logLevel ?? environment["FT_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw ValidationError(
                "log level \"\(levelName)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        let maxCalls = try maxConcurrentCalls ?? Self.number(environment, "FT_MAX_CONCURRENT_CALLS", Int.init) ?? 4096
        guard maxCalls > 0 else { throw ValidationError("max concurrent calls must be positive, got \(maxCalls)") }
        let grace = try shutdownGraceSeconds ?? Self.number(environment, "FT_SHUTDOWN_GRACE_SECONDS", Double.init) ?? 10
        // Checked as a number first: NaN, infinity or a huge value cannot become a Duration (it would crash).
        guard grace.isFinite, grace >= 0, grace <= Double(Self.maxShutdownGraceSeconds) else {
            throw ValidationError("shutdown grace must be 0 to \(Self.maxShutdownGraceSeconds) seconds, got \(grace)")
        }
        let busyPoll =
            try busyPollMicros ?? Self.number(environment, "FT_BUSY_POLL_MICROS", Int.init) ?? defaultBusyPollMicros
        guard busyPollMicrosRange.contains(busyPoll) else {
            throw ValidationError(
                "busy poll must be \(busyPollMicrosRange.lowerBound) to \(busyPollMicrosRange.upperBound) microseconds, got \(busyPoll)"
            )
        }
        var configuration = ServiceConfiguration(
            endpoints: endpoints, logLevel: level, maxConcurrentCalls: maxCalls,
            shutdownGracePeriod: .milliseconds(Int64(grace * 1000)), environment: environment)
        configuration.busyPoll = .microseconds(busyPoll)
        if !eventEndpoints.isEmpty {
            configuration.eventEndpoints = eventEndpoints
        } else if let value = environment[service.eventEnvironmentVariable],
            let first = value.split(separator: ",").first
        {
            configuration.eventEndpoints = [String(first).trimmingWhitespaceCharacters()]
        } else if let endpoint = service.defaultEventEndpoint {
            configuration.eventEndpoints = [endpoint]
        }
        configuration.security = SecuritySettings(
            keyFile: key ?? environment["FT_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 },
            authorizedKeysDirectory: authorizedKeys
                ?? environment["FT_AUTHORIZED_KEYS_DIR"].flatMap { $0.isEmpty ? nil : $0 },
            policyFile: policy ?? environment["FT_POLICY_FILE"].flatMap { $0.isEmpty ? nil : $0 }, insecure: insecure)
        try configuration.security.checkServer(
            service.executable, endpoints: configuration.endpoints + configuration.eventEndpoints)
        if let text = metricsEndpoint ?? environment["FT_METRICS_ENDPOINT"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let endpoint = HostAndPort(text) else {
                throw ValidationError("metrics endpoint \"\(text)\" is not HOST:PORT (e.g. 10.0.0.11:9101)")
            }
            configuration.metricsEndpoint = endpoint
        }
        let urlVariable =
            "FT_" + service.shortName.uppercased().replacingOccurrences(of: "-", with: "_") + "_DATABASE_URL"
        if let url = databaseURL ?? environment[urlVariable], !url.isEmpty {
            configuration.database = .postgres(url: url)
        } else {
            let folder = dataDir ?? environment["FT_DATA_DIR"] ?? "var"
            configuration.database = .sqlite(path: folder + "/" + service.shortName + ".sqlite")
        }
        return configuration
    }

    private static func number<T>(_ environment: [String: String], _ key: String, _ parse: (String) -> T?) throws -> T?
    {
        guard let text = environment[key] else { return nil }
        guard let value = parse(text) else { throw ValidationError("\(key)=\"\(text)\" is not a number") }
        return value
    }
}

extension String {
    fileprivate func trimmingWhitespaceCharacters() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
