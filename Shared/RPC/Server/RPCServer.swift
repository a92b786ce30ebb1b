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
    private let services: [String: ServiceRegistration]
    /// Each method's handler and metrics, found with one lookup per call.
    private let methods: [String: [String: MethodEntry]]
    private let metrics: ServerMetrics
    private let shared = Mutex(SharedState())
    private let wakeup = Wakeup()
    private let inFlightCount = Atomic<Int>(0)
    /// Runs handler tasks on the I/O thread when `configuration.handlerPlacement` is `.ioThread`.
    let executor: LoopExecutor
    /// The loop's state, for handlers that finish on the loop's own thread.
    private let loop = LoopReference<ServerLoop>()

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
    fileprivate let refusedHandshakes = RateLimitedLog(linesPerWindow: 5, window: .seconds(10))
    private let refusedCalls = RateLimitedLog(linesPerWindow: 20, window: .seconds(10))

    /// Logs a call refused for its key or role and tells the configuration's observer (the audit trail).
    fileprivate func refused(
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

    // MARK: called by handler tasks

    /// Answers a call: at once when the handler finished on the loop's thread, else through the outbox.
    private func answer(_ reply: Reply) {
        if executor.isLoopThread, let loop = loop.value {
            loop.complete(reply)
        } else {
            post(reply)
        }
    }

    private func post(_ reply: Reply) {
        let wasEmpty = shared.withLock { state in
            state.outbox.append(reply)
            return state.outbox.count == 1
        }
        if wasEmpty { wakeup.signal() }
    }

    fileprivate var hasOutbox: Bool { shared.withLock { !$0.outbox.isEmpty } }

    fileprivate func takeOutbox() -> (replies: [Reply], shutdown: Bool) {
        shared.withLock { state in
            defer { state.outbox.removeAll(keepingCapacity: true) }
            return (state.outbox, state.shutdownRequested)
        }
    }

    fileprivate func markFinished() {
        let waiters = shared.withLock { state in
            state.finished = true
            defer { state.finishWaiters = [] }
            return state.finishWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs one call and answers it.
    fileprivate func serve(
        _ key: CallKey, method entry: MethodEntry, payload: [UInt8], context: ServerContext,
        received: ContinuousClock.Instant
    ) async {
        var failure: RPCError?
        var response: [UInt8] = []
        if let deadline = context.deadline, deadline <= .now {
            failure = RPCError(.deadlineExceeded, "deadline passed before the call started")
        } else {
            do {
                response = try await ServerContext.$current.withValue(context) {
                    try await entry.handler.invoke(payload, configuration.requestDecodeOptions, context)
                }
            } catch let error as RPCError {
                failure = error
            } catch is CancellationError {
                failure =
                    context.deadline.map { $0 <= .now } == true
                    ? RPCError(.deadlineExceeded, "deadline exceeded while the server was working")
                    : RPCError(.cancelled, "the call was cancelled")
            } catch {
                context.logger.error("handler failed", metadata: ["error": "\(error)"])
                failure = RPCError(
                    .internalError, "internal error; the server logged it under request id \(context.requestID)")
            }
        }
        if failure == nil, response.count > configuration.maxSendMessageBytes {
            failure = RPCError(
                .resourceExhausted,
                "the answer would be \(response.count) bytes, over the \(configuration.maxSendMessageBytes) bytes a "
                    + "client accepts: ask for less at once (a smaller page, a narrower filter, a smaller file)")
            response = []
        }
        entry.metrics.record(code: failure?.code ?? .ok, duration: .now - received)
        if let failure, failure.code != .internalError {
            context.logger.debug("call failed", metadata: ["code": "\(failure.code)", "message": "\(failure.message)"])
        }
        answer(Reply(key: key, error: failure, payload: failure == nil ? response : []))
    }

    // MARK: the I/O loop

    /// State owned by the server's I/O thread alone: only that thread creates it, calls it and lets it go.
    ///
    /// Its stored properties skip Swift's run-time exclusivity checks (a measurable share of each call): only its
    /// one thread touches them, and no access spans a call back into the loop.
    fileprivate final class ServerLoop {
        let server: RPCServer
        /// Set before the loop takes calls.
        @exclusivity(unchecked) var socket: ZMQSocket!
        let frames = ReceivedFrames(capacity: 3)
        /// Replies of this turn, sent together at its end: libzmq's I/O thread then writes them to the connection
        /// in one go instead of waking for each.
        @exclusivity(unchecked) var unsent: [Reply] = []
        @exclusivity(unchecked) var inFlight: [CallKey: InFlightCall] = [:]
        @exclusivity(unchecked) var deadlines = DeadlineQueue<CallKey>()
        @exclusivity(unchecked) var shutdownDeadline: ContinuousClock.Instant?
        @exclusivity(unchecked) var closeAt: ContinuousClock.Instant?
        @exclusivity(unchecked) var peers = PeerTable()
        /// libzmq's connection events: connections accepted and closed, and (with CURVE) refused handshakes.
        @exclusivity(unchecked) var monitor: SocketMonitor?
        /// Client connections open now, and what the metrics were last told.
        @exclusivity(unchecked) var openConnections = 0
        @exclusivity(unchecked) var reportedLoad = (inFlight: -1, connections: -1)
        /// The caller of each connection, as of a generation of the authorized keys (read again once it changes).
        @exclusivity(unchecked) var callers: [PeerID: (generation: UInt64, caller: Caller)] = [:]
        @exclusivity(unchecked) var serial: UInt64 = 0

        struct InFlightCall {
            let task: Task<Void, Never>
            let deadline: ContinuousClock.Instant?
        }

        init(server: RPCServer) { self.server = server }

        func run(ready: (Result<[String], any Error>) -> Void) {
            let socket: ZMQSocket
            var endpoints: [String] = []
            do {
                socket = try ZMQSocket(type: ZMQ_ROUTER)
            } catch {
                ready(.failure(error))
                return
            }
            let security = server.configuration.security
            if let security {
                // Before the socket binds: libzmq admits every CURVE client while no ZAP handler is bound.
                do {
                    try ZAPHandler.shared.register(security, domain: security.zapDomain)
                } catch {
                    socket.close()
                    ready(.failure(error))
                    return
                }
            }
            do {
                try socket.set(ZMQ_LINGER, Int32(500))
                if let security { try socket.makeCurveServer(security) }
                monitor = try SocketMonitor(
                    watching: socket,
                    events: ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED
                        | (security == nil
                            ? 0 : ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
                try socket.set(ZMQ_ROUTER_MANDATORY, Int32(1))
                // Answers queued for one client: beyond this they are dropped (docs/PROTOCOL.md), so a client that
                // stops reading cannot make the server hold every answer it asks for.
                try socket.set(ZMQ_SNDHWM, Int32(RPCServer.maxQueuedAnswersPerClient))
                try socket.set(ZMQ_RCVHWM, Int32(100_000))
                try socket.set(ZMQ_MAXMSGSIZE, Int64(server.configuration.hardFrameLimitBytes))
                try socket.set(ZMQ_HEARTBEAT_IVL, Int32(1000))
                try socket.set(ZMQ_HEARTBEAT_TIMEOUT, Int32(3000))
                try socket.set(ZMQ_HEARTBEAT_TTL, Int32(6000))
                for endpoint in server.configuration.endpoints { endpoints.append(try socket.bind(endpoint)) }
            } catch {
                monitor?.close()
                socket.close()
                if let security { ZAPHandler.shared.unregister(domain: security.zapDomain) }
                ready(.failure(RPCError(.unavailable, "cannot serve on \(server.configuration.endpoints): \(error)")))
                return
            }
            self.socket = socket
            server.loop.value = self
            server.executor.adoptCurrentThread()
            ready(.success(endpoints))

            var poller = Poller()
            poller.add(socket)
            poller.add(fd: server.wakeup.fd)
            poller.add(monitor!.socket)
            while true {
                // Handlers placed on this thread run here and queue their replies; those of handlers that finish
                // elsewhere come through the outbox.
                server.executor.runJobs()
                let (replies, shutdown) = server.takeOutbox()
                for reply in replies { complete(reply) }
                if shutdown && shutdownDeadline == nil {
                    shutdownDeadline = .now + server.configuration.shutdownGracePeriod
                    server.logger.info("shutting down", metadata: ["in_flight": "\(inFlight.count)"])
                }
                expireDeadlines()
                flush()
                server.inFlightCount.store(inFlight.count, ordering: .relaxed)
                if reportedLoad != (inFlight.count, openConnections) {
                    reportedLoad = (inFlight.count, openConnections)
                    server.metrics.load(inFlight: inFlight.count, connections: openConnections)
                }
                if let shutdownDeadline {
                    // Once the last call is answered, keep the connections a moment so clients read their answers
                    // before the disconnect (as gRPC sends GOAWAY before closing); new calls still get UNAVAILABLE.
                    if inFlight.isEmpty && closeAt == nil { closeAt = min(.now + .milliseconds(200), shutdownDeadline) }
                    if shutdownDeadline <= .now || (closeAt.map { $0 <= .now } ?? false) { break }
                }
                let timeout = server.executor.hasJobs || server.hasOutbox ? 0 : pollTimeout()
                if poller.poll(timeoutMillis: timeout, busyPoll: server.configuration.busyPoll) {
                    if poller.isReadable(1) { server.wakeup.drain() }
                    if poller.isReadable(0) { receiveAll() }
                    if poller.isReadable(2) { readMonitor() }
                }
            }
            let unfinished = inFlight
            inFlight.removeAll()
            for (key, call) in unfinished {
                call.task.cancel()
                send(
                    Reply(
                        key: key, error: RPCError(.unavailable, "the server shut down before the call finished"),
                        payload: []))
            }
            flush()
            server.loop.value = nil
            monitor?.close()
            socket.close()
            if let security { ZAPHandler.shared.unregister(domain: security.zapDomain) }
            // Handlers cancelled above finish elsewhere (their answers go nowhere).
            server.executor.stop()
            server.logger.info("stopped")
            server.markFinished()
        }

        /// Counts connections, and handshakes that failed before the ZAP handler was asked (it counts unknown keys
        /// itself).
        func readMonitor() {
            for event in monitor?.events() ?? [] {
                switch event.kind {
                case ZMQ_EVENT_ACCEPTED:
                    openConnections += 1
                    continue
                case ZMQ_EVENT_DISCONNECTED:
                    openConnections = max(0, openConnections - 1)
                    continue
                default:
                    break
                }
                // A client without CURVE shows as a mechanism mismatch, or (when the close overtakes it) as a
                // failure without detail, as does a client that expects another server key.
                let noCurve =
                    event.kind == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                    || event.value == UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
                server.metrics.refusedHandshake(noCurve: noCurve)
                server.refusedHandshakes.log(server.logger) { logger, suppressed in
                    logger.warning(
                        noCurve
                            ? "handshake refused: the client does not use CURVE, or expects another server key"
                            : "handshake failed: the client broke the ZMTP protocol",
                        metadata: ["not_logged_before": "\(suppressed)"])
                }
            }
        }

        func pollTimeout() -> Int {
            var next = deadlines.next
            if let shutdownDeadline { next = min(next ?? shutdownDeadline, shutdownDeadline) }
            if let closeAt { next = min(next ?? closeAt, closeAt) }
            guard let next else { return -1 }
            return max(0, (next - .now).millisecondsRoundedUp)
        }

        /// Takes up to `ioTurnBatch` requests; more wait for the next turn (the poll sees them at once).
        func receiveAll() {
            for _ in 0..<ioTurnBatch {
                do {
                    guard try frames.receive(from: socket) else { return }
                } catch {
                    server.logger.warning("receive failed", metadata: ["error": "\(error)"])
                    return
                }
                handleMessage()
            }
        }

        /// Handles the message in `frames`: peer identity, request header, payload.
        func handleMessage() {
            let received = ContinuousClock.now
            guard frames.count == 3, frames[0].count > 0,
                let header = try? RpcV1.RequestHeader(serializedBytes: frames[1], options: Wire.headerDecodeOptions)
            else {
                server.metrics.rejectedFrame()
                return
            }
            // A header's strings (request id, metadata, names) are logged and stored in the audit trail: exact, or
            // the call is refused (a NUL would cut one short).
            var headerProblem: RPCError?
            do throws(SchemaError) {
                try RpcV1.RequestHeader.checkFields(in: frames[1])
            } catch {
                headerProblem = RPCError(.invalidArgument, "the request header is refused: \(error)")
            }
            // Held until the call's answer goes out (`transmit`) or it is cancelled.
            let key = CallKey(peer: peers.retain(frames[0]), callID: header.callID)
            func reject(_ error: RPCError) {
                server.methods[header.service]?[header.method]?.metrics.record(
                    code: error.code, duration: .now - received)
                    ?? server.metrics.rejectedFrame()
                send(Reply(key: key, error: error, payload: []))
            }
            if let headerProblem { return reject(headerProblem) }
            if header.kind == .cancel {
                // A cancelled call gets no answer: give back its reference and the cancel's own.
                if let call = inFlight.removeValue(forKey: key) {
                    call.task.cancel()
                    peers.release(key.peer)
                }
                peers.release(key.peer)
                return
            }
            guard header.protocolVersion == Wire.version else {
                return reject(
                    RPCError(
                        .unimplemented,
                        "protocol version \(header.protocolVersion) is not supported; this server speaks \(Wire.version)"
                    ))
            }
            guard header.kind == .call else {
                return reject(RPCError(.unimplemented, "request kind \(header.kind.rawValue) is not supported"))
            }
            guard let service = server.methods[header.service] else {
                return reject(RPCError(.unimplemented, "service \"\(header.service)\" is not served here"))
            }
            guard let method = service[header.method] else {
                return reject(
                    RPCError(
                        .unimplemented,
                        "method \"\(header.method)\" is not implemented by service \"\(header.service)\""))
            }
            let requestID = header.requestID.isEmpty ? RequestID.make() : header.requestID
            var caller: Caller?
            if let security = server.configuration.security {
                switch identify(key.peer, security) {
                case .success(let known):
                    caller = known
                case .failure(let refused):
                    let error = RPCError(.unauthenticated, refused.reason)
                    server.refused(nil, header, requestID, error, address: frames.property(1, "Peer-Address") ?? "")
                    return reject(error)
                }
                if let refusal = security.authorize(
                    caller!, service: header.service, method: header.method, roles: method.roles)
                {
                    let error = RPCError(.permissionDenied, refusal)
                    server.refused(caller, header, requestID, error, address: caller!.address)
                    return reject(error)
                }
            }
            guard frames[2].count <= server.configuration.maxReceiveMessageBytes else {
                return reject(
                    RPCError(
                        .resourceExhausted,
                        "request of \(frames[2].count) bytes exceeds the limit of \(server.configuration.maxReceiveMessageBytes) bytes"
                    ))
            }
            guard shutdownDeadline == nil else {
                return reject(RPCError(.unavailable, "the server is shutting down; try another instance"))
            }
            guard inFlight[key] == nil else {
                return reject(RPCError(.internalError, "protocol error: call id \(key.callID) is already in flight"))
            }
            guard inFlight.count < server.configuration.maxConcurrentCalls else {
                return reject(
                    RPCError(
                        .resourceExhausted,
                        "the server is at its limit of \(server.configuration.maxConcurrentCalls) calls in flight"))
            }
            let metadata = Wire.metadata(header.metadata)
            if let problem = metadata.validationError(allowReserved: true) {
                return reject(RPCError(.invalidArgument, problem))
            }
            let deadline =
                header.timeoutMicros > 0
                ? received + .microseconds(Int64(clamping: min(header.timeoutMicros, UInt64(Int64.max))))
                : nil
            serial += 1
            let context = ServerContext(
                service: header.service, method: header.method, requestID: requestID, metadata: metadata,
                deadline: deadline, logger: server.logger, caller: caller, serial: serial,
                noSideEffects: method.noSideEffects)
            let owner = server
            let payload = [UInt8](frames[2])
            let task: Task<Void, Never>
            switch server.configuration.handlerPlacement {
            case .ioThread:
                task = Task(executorPreference: server.executor) {
                    await owner.serve(key, method: method, payload: payload, context: context, received: received)
                }
            case .concurrentPool:
                task = Task {
                    await owner.serve(key, method: method, payload: payload, context: context, received: received)
                }
            }
            inFlight[key] = InFlightCall(task: task, deadline: deadline)
            if let deadline { deadlines.insert(deadline, for: key) }
        }

        /// The caller on `peer`'s connection: the key the ZAP handler admitted it with (its `User-Id`), as the
        /// authorized keys name it now. Cached per connection until the keys are read again, so a removed key is
        /// refused from its next call on.
        func identify(_ peer: PeerID, _ security: ServerSecurity) -> Result<Caller, ServerSecurity.RefusedKey> {
            let generation = security.authorizedKeys.generation
            if let cached = callers[peer], cached.generation == generation { return .success(cached.caller) }
            let identified = security.identify(
                userID: frames.property(1, "User-Id"), address: frames.property(1, "Peer-Address") ?? "")
            if case .success(let caller) = identified {
                // Connections come and go (each gets a new routing id): start afresh rather than grow for ever.
                if callers.count >= 10_000 { callers.removeAll(keepingCapacity: true) }
                callers[peer] = (generation, caller)
            } else {
                callers[peer] = nil
            }
            return identified
        }

        /// Sends a handler's reply, unless its call was already answered (deadline, cancel, shutdown).
        func complete(_ reply: Reply) {
            if inFlight.removeValue(forKey: reply.key) != nil { send(reply) }
        }

        /// Queues a reply for the end of this turn.
        func send(_ reply: Reply) { unsent.append(reply) }

        func flush() {
            for reply in unsent { transmit(reply) }
            unsent.removeAll(keepingCapacity: true)
        }

        private func transmit(_ reply: Reply) {
            defer { peers.release(reply.key.peer) }
            do {
                try peers.withIdentity(of: reply.key.peer) { (identity) throws(ZMQError) in
                    try socket.send(frame: identity, more: true)
                }
                try Wire.responseHeader(callID: reply.key.callID, error: reply.error).withSerializedBytes { header in
                    try socket.send(frame: header, more: true)
                }
                try socket.send(frame: reply.payload, more: false)
            } catch {
                // EHOSTUNREACH: the client has gone (ROUTER_MANDATORY); EAGAIN: it is not reading. Either way the
                // reply cannot be delivered and must not block the loop.
                server.logger.debug("reply dropped", metadata: ["call_id": "\(reply.key.callID)", "error": "\(error)"])
            }
        }

        func expireDeadlines() {
            deadlines.compact(inFlight) { ($0.key, $0.value.deadline) }
            let now = ContinuousClock.now
            while let first = deadlines.popDue(by: now) {
                guard let call = inFlight[first.key], call.deadline == first.deadline else { continue }
                call.task.cancel()
                inFlight[first.key] = nil
                send(Reply(key: first.key, error: RPCError(.deadlineExceeded, "deadline exceeded"), payload: []))
            }
        }
    }
}

/// A method's handler with its metrics and who may call it; a class, so that a call holds it by one reference.
final class MethodEntry: Sendable {
    let handler: MethodHandler
    let metrics: ServerMetrics.MethodMetrics
    /// The roles the .proto gives it (docs/ACCESS.md).
    let roles: RoleSet
    let noSideEffects: Bool

    init(handler: MethodHandler, schema: ServiceSchema.Method?, metrics: ServerMetrics.MethodMetrics) {
        self.handler = handler
        self.metrics = metrics
        self.roles = RoleSet((schema?.roles ?? []).compactMap(Role.init(rawValue:)))
        self.noSideEffects = schema?.noSideEffects ?? false
    }
}
