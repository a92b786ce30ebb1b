import API
import RPC
import Schema

#if canImport(Glibc)
    import Glibc
#endif

/// `fairtrade.reflection.v1.ServerReflection`: what this process serves (from the protoc-c descriptors) and how
/// each method is doing (from the in-process metrics).
public struct ReflectionService: ReflectionV1.ServerReflectionHandler {
    let identity: ProcessIdentity
    let schemas: @Sendable () -> [ServiceSchema]
    let endpoints: @Sendable () -> [String]
    let inFlight: @Sendable () -> Int
    let metrics: InProcessMetrics
    /// The process's health ("") and, for a process that keeps data, its database as last checked.
    let health: @Sendable () -> HealthV1.ServingStatus
    let database: @Sendable () -> ReflectionV1.DatabaseStatus?

    public init(
        identity: ProcessIdentity, metrics: InProcessMetrics, schemas: @escaping @Sendable () -> [ServiceSchema],
        endpoints: @escaping @Sendable () -> [String], inFlight: @escaping @Sendable () -> Int,
        health: @escaping @Sendable () -> HealthV1.ServingStatus = { .serving },
        database: @escaping @Sendable () -> ReflectionV1.DatabaseStatus? = { nil }
    ) {
        self.identity = identity
        self.metrics = metrics
        self.schemas = schemas
        self.endpoints = endpoints
        self.inFlight = inFlight
        self.health = health
        self.database = database
    }

    public func describeInstance(_ request: ReflectionV1.DescribeInstanceRequest, context: ServerContext)
        async throws -> ReflectionV1.InstanceStatus
    {
        ReflectionV1.InstanceStatus(
            process: identity.process, version: identity.version, instanceID: identity.instanceID,
            endpoints: endpoints(), startedAt: CommonV1.Timestamp(unixMicros: identity.startedAtUnixMicros),
            status: health(), database: database(), callsInFlight: UInt64(max(0, inFlight())))
    }

    public func listServices(_ request: ReflectionV1.ListServicesRequest, context: ServerContext) async throws
        -> ReflectionV1.ListServicesResponse
    {
        ReflectionV1.ListServicesResponse(
            process: identity.process, version: identity.version, instanceID: identity.instanceID,
            endpoints: endpoints(), startedAt: CommonV1.Timestamp(unixMicros: identity.startedAtUnixMicros),
            services: schemas().map { schema in
                ReflectionV1.ServiceInfo(
                    name: schema.name,
                    methods: schema.methods.map {
                        ReflectionV1.MethodInfo(
                            name: $0.name, inputType: $0.inputType, outputType: $0.outputType,
                            idempotent: $0.idempotent, serverStreaming: $0.serverStreaming, roles: $0.roles,
                            noSideEffects: $0.noSideEffects)
                    })
            })
    }

    public func getMetrics(_ request: ReflectionV1.GetMetricsRequest, context: ServerContext) async throws
        -> ReflectionV1.GetMetricsResponse
    {
        struct MethodName: Hashable { let service, method: String }
        var byMethod: [MethodName: ReflectionV1.MethodMetrics] = [:]
        var rejected: UInt64 = 0
        var refused: [String: UInt64] = [:]
        for (key, value) in metrics.counterValues() {
            if key.label == "rpc_server_rejected_frames_total" { rejected += UInt64(value) }
            if key.label == "rpc_server_refused_handshakes_total", value > 0, let reason = key.dimensions["reason"] {
                refused[reason, default: 0] += UInt64(value)
            }
            guard key.label == "rpc_server_calls_total", value > 0,
                let service = key.dimensions["service"], let method = key.dimensions["method"],
                let code = key.dimensions["code"]
            else { continue }
            let name = MethodName(service: service, method: method)
            var entry = byMethod[name] ?? ReflectionV1.MethodMetrics(service: service, method: method)
            entry.calls += UInt64(value)
            if code != "OK" { entry.errors += UInt64(value) }
            entry.codes.append(ReflectionV1.CodeCount(code: code, count: UInt64(value)))
            byMethod[name] = entry
        }
        for (key, summary) in metrics.timerSummaries() where key.label == "rpc_server_handling_seconds" {
            guard let service = key.dimensions["service"], let method = key.dimensions["method"],
                var entry = byMethod[MethodName(service: service, method: method)]
            else { continue }
            entry.latencyP50Micros = UInt64(summary.p50Nanoseconds / 1000)
            entry.latencyP99Micros = UInt64(summary.p99Nanoseconds / 1000)
            entry.latencyMaxMicros = UInt64(summary.maxNanoseconds / 1000)
            entry.latencyMeanMicros = UInt64(summary.meanNanoseconds / 1000)
            byMethod[MethodName(service: service, method: method)] = entry
        }
        return ReflectionV1.GetMetricsResponse(
            methods: byMethod.values.sorted { ($0.service, $0.method) < ($1.service, $1.method) }.map { entry in
                var entry = entry
                entry.codes.sort { $0.code < $1.code }
                return entry
            },
            rejectedFrames: rejected, inFlight: UInt64(max(0, inFlight())),
            refusedHandshakes: refused.keys.sorted().map { ReflectionV1.CodeCount(code: $0, count: refused[$0]!) })
    }
}

/// Who a process is, for the listing.
public struct ProcessIdentity: Sendable {
    public let process: String
    public let version: String
    public let instanceID: String
    public let startedAtUnixMicros: Int64

    public init(process: String, version: String = FairTradeVersion.current) {
        self.process = process
        self.version = version
        self.instanceID = RequestID.make()
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        self.startedAtUnixMicros = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}

/// The version of this build of the system.
public enum FairTradeVersion {
    public static let current = "0.1.0"
}
