import CZeroMQ
import Logging
import Metrics
import Schema
import Synchronization

/// Serves registered services on ZeroMQ ROUTER endpoints.
///
/// One dedicated thread owns the socket: it receives requests, starts a task per call, and sends the replies. By
/// default handlers run on that thread as a task executor, and a handler that finishes there answers at once;
/// handlers elsewhere (`.concurrentPool`, or one that moved to another executor) hand their replies back through a
/// queue. Nothing but the loop touches the socket. A call whose deadline passes is cancelled and answered
/// DEADLINE_EXCEEDED; work whose deadline has already passed when it would start is not started.
public final class RPCServer: Sendable {
    public let configuration: Configuration
    let logger: Logger
    let services: [String: ServiceRegistration]
    /// Each method's handler and metrics, found with one lookup per call.
    let methods: [String: [String: MethodEntry]]
    let metrics: ServerMetrics
    let shared = Mutex(SharedState())
    let wakeup = Wakeup()
    let inFlightCount = Atomic<Int>(0)
    /// Runs handler tasks on the I/O thread when `configuration.handlerPlacement` is `.ioThread`.
    let executor: LoopExecutor
    /// The loop's state, for handlers that finish on the loop's own thread.
    let loop = LoopReference<ServerLoop>()

    /// Answers the server keeps queued for one client connection (libzmq's own default high-water mark).
    static let maxQueuedAnswersPerClient = 1000

    /// Calls being handled right now.
    public var callsInFlight: Int { inFlightCount.load(ordering: .relaxed) }

    struct SharedState: ~Copyable {
        var outbox: [Reply] = []
        var shutdownRequested = false
        var started = false
        var finished = false
        var boundEndpoints: [String] = []
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// A call's answer: a status, and the response payload when it is OK.
    struct Reply: Sendable {
        let key: CallKey
        let error: RPCError?
        let payload: [UInt8]
    }

    /// A call's identity on this server: the connection it came on and the client's call id. The connection is
    /// its ROUTER routing id packed into an integer (libzmq's own ids are 5 bytes), so that keys hash cheaply.
    struct CallKey: Hashable, Sendable {
        let peer: PeerID
        let callID: UInt64
    }

    public init(configuration: Configuration, services: [ServiceRegistration], logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.services = Dictionary(services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let metrics = ServerMetrics()
        self.metrics = metrics
        self.methods = Dictionary(
            services.map { service in
                (
                    service.name,
                    service.methods.mapValues {
                        MethodEntry(
                            handler: $0, schema: service.schema.method(named: $0.name),
                            metrics: metrics.forMethod(service: service.name, method: $0.name))
                    }
                )
            }, uniquingKeysWith: { first, _ in first })
        self.executor = LoopExecutor(wakeup: wakeup)
    }

    /// The services this server answers, by name.
    public var serviceSchemas: [ServiceSchema] { services.values.map(\.schema).sorted { $0.name < $1.name } }

    /// The endpoints actually bound (ports chosen for `tcp://…:*` resolved); empty before `start()`.
    public var boundEndpoints: [String] { shared.withLock { $0.boundEndpoints } }

    /// Binds every endpoint and starts serving; returns the bound endpoints. Throws when an endpoint cannot be bound.
    @discardableResult
    public func start() throws -> [String] {
        let alreadyStarted = shared.withLock { state in
            defer { state.started = true }
            return state.started
        }
        precondition(!alreadyStarted, "RPCServer.start() called twice")
        let endpoints = try LoopThread.start(name: "rpc-server") { ready in
            ServerLoop(server: self).run(ready: ready)
        }
        shared.withLock { $0.boundEndpoints = endpoints }
        logger.info("serving", metadata: ["endpoints": .string(endpoints.joined(separator: " "))])
        return endpoints
    }

    /// Stops taking calls (new ones get UNAVAILABLE so clients go to another instance), lets those in flight finish
    /// within the grace period, cancels the rest, and closes the socket. Returns at once; `run()` returns when done.
    public func beginGracefulShutdown() {
        shared.withLock { $0.shutdownRequested = true }
        wakeup.signal()
    }

    /// Waits until the server has shut down.
    public func waitUntilFinished() async {
        await withCheckedContinuation { continuation in
            let done = shared.withLock { state in
                if state.finished { return true }
                state.finishWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Refused handshakes are logged at most a few times per window.
    let refusedHandshakes = RateLimitedLog(linesPerWindow: 5, window: .seconds(10))
    let refusedCalls = RateLimitedLog(linesPerWindow: 20, window: .seconds(10))

    /// Logs a call refused for its key or role and tells the configuration's observer (the audit trail).
    func refused(
        _ caller: Caller?, _ header: RpcV1.RequestHeader, _ requestID: String, _ error: RPCError, address: String
    ) {
        refusedCalls.log(logger) { logger, suppressed in
            logger.warning(
                "call refused",
                metadata: [
                    LogKey.requestID: "\(requestID)", LogKey.method: "\(header.service)/\(header.method)",
                    LogKey.key: "\(caller?.keyName ?? "")", LogKey.role: "\(caller?.role.rawValue ?? "")",
                    LogKey.peerAddress: "\(address)", "code": "\(error.code)", "reason": "\(error.message)",
                    "not_logged_before": "\(suppressed)",
                ])
        }
        configuration.onRefusal?(
            RefusedCall(
                caller: caller, service: header.service, method: header.method, requestID: requestID,
                code: error.code, message: error.message, address: address))
    }
}
