import CZeroMQ
import Logging
import Metrics
import Schema
import Synchronization

/// RPCServer: the I/O loop, on the server's own thread: it reads calls, starts handlers and writes replies.
extension RPCServer {
    /// State owned by the server's I/O thread alone: only that thread creates it, calls it and lets it go.
    ///
    /// Its stored properties skip Swift's run-time exclusivity checks (a measurable share of each call): only its
    /// one thread touches them, and no access spans a call back into the loop.
    final class ServerLoop {
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
