import CZeroMQ
import DequeModule
import Schema

/// State owned by a channel's I/O thread alone: only that thread creates it, calls it and lets it go. Its stored
/// properties skip Swift's run-time exclusivity checks, as the server loop's do.
final class ClientLoop {
    let channel: ChannelCore
    let frames = ReceivedFrames(capacity: 2)
    /// Calls assigned to a connection this turn, sent together at its end (see `flush`).
    @exclusivity(unchecked) var unsent: [ChannelCall] = []
    @exclusivity(unchecked) var connections: [Connection] = []
    @exclusivity(unchecked) var pending: [UInt64: ChannelCall] = [:]
    @exclusivity(unchecked) var waiting = Deque<UInt64>()
    @exclusivity(unchecked) var deadlines = DeadlineQueue<UInt64>()
    @exclusivity(unchecked) var roundRobin = 0

    struct Connection {
        let endpoint: String
        let socket: ZMQSocket
        let monitor: SocketMonitor
        var state: State
        var outstanding = 0
        /// Why the server refused the last handshake (a key it does not admit, a server key that is not its own, a
        /// mechanism it does not speak), until a handshake succeeds: calls then fail UNAUTHENTICATED at once instead
        /// of waiting for a connection that cannot come.
        var refusal: String?
        /// libzmq gives up a connection whose handshake the server refused; the loop connects it again then, so
        /// that a key admitted later is used without a restart.
        var reconnectAt: ContinuousClock.Instant?
        var reconnectBackoff: Duration = .seconds(1)

        /// Still worth waiting for: connecting, and not refused.
        var isHopeful: Bool { state == .ready || (state == .connecting && refusal == nil) }

        enum State: Equatable {
            case connecting
            case ready
            case failed(String)
        }
    }

    init(channel: ChannelCore) { self.channel = channel }

    func run(ready: (Result<Void, any Error>) -> Void) {
        do {
            for (index, endpoint) in channel.endpoints.enumerated() {
                connections.append(try connect(endpoint, index: index))
            }
        } catch {
            closeAll()
            ready(.failure(RPCError(.unavailable, "cannot connect to \(channel.targetName): \(error)")))
            return
        }
        channel.loop.value = self
        channel.executor.adoptCurrentThread()
        ready(.success(()))

        var poller = Poller()
        for connection in connections {
            poller.add(connection.socket)
            poller.add(connection.monitor.socket)
        }
        poller.add(fd: channel.wakeup.fd)
        let wakeIndex = connections.count * 2
        while true {
            // Callers running on this thread (see `ClientChannel.executor`) run here and start their calls directly.
            channel.executor.runJobs()
            let (commands, closed) = channel.takeCommands()
            for command in commands { perform(command) }
            if closed { break }
            reconnectRefused()
            expireDeadlines()
            flush()
            let timeout = channel.executor.hasJobs || channel.hasCommands ? 0 : pollTimeout()
            // Busy-poll only while answers are owed: a channel with no call out has nothing to look for.
            let busyPoll = pending.isEmpty ? .zero : channel.configuration.busyPoll
            if poller.poll(timeoutMillis: timeout, busyPoll: busyPoll) {
                if poller.isReadable(wakeIndex) { channel.wakeup.drain() }
                // Answers first: a server that answers and then goes away must not have its last answers
                // lost to the disconnect event that follows them.
                for index in connections.indices where poller.isReadable(index * 2) { receiveAll(index) }
                for index in connections.indices where poller.isReadable(index * 2 + 1) { readMonitor(index) }
            }
        }
        channel.loop.value = nil
        for id in Array(pending.keys) {
            finish(id, .failure(RPCError(.unavailable, "the channel to \(channel.targetName) was closed")))
        }
        closeAll()
        // Callers on this thread whose calls were just failed resume elsewhere.
        channel.executor.stop()
    }

    func connect(_ endpoint: String, index: Int) throws -> Connection {
        let socket = try ZMQSocket(type: ZMQ_DEALER)
        let monitor: SocketMonitor
        do {
            try socket.set(ZMQ_LINGER, Int32(0))
            try socket.set(ZMQ_IMMEDIATE, Int32(1))
            try socket.set(ZMQ_SNDHWM, Int32(100_000))
            try socket.set(ZMQ_RCVHWM, Int32(100_000))
            try socket.set(ZMQ_MAXMSGSIZE, Int64(channel.configuration.maxReceiveMessageBytes * 4 + (64 << 10)))
            let heartbeat = Int32(channel.configuration.heartbeatInterval.millisecondsRoundedUp)
            try socket.set(ZMQ_HEARTBEAT_IVL, heartbeat)
            try socket.set(ZMQ_HEARTBEAT_TIMEOUT, heartbeat * 3)
            try socket.set(ZMQ_HEARTBEAT_TTL, heartbeat * 6)
            try socket.set(
                ZMQ_RECONNECT_IVL_MAX, Int32(channel.configuration.maxReconnectInterval.millisecondsRoundedUp))
            if let security = channel.configuration.security { try socket.makeCurveClient(security) }
            // Ready means the ZMTP handshake succeeded: with IMMEDIATE, libzmq queues nothing before that
            // (its CONNECTED event comes earlier, at the TCP connect).
            monitor = try SocketMonitor(
                watching: socket,
                events: ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
                    | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_CLOSED | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                    | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        } catch {
            socket.close()
            throw error
        }
        do {
            try socket.connect(endpoint)
        } catch {
            monitor.close()
            socket.close()
            throw error
        }
        return Connection(endpoint: endpoint, socket: socket, monitor: monitor, state: .connecting)
    }

    func closeAll() {
        for connection in connections {
            connection.monitor.close()
            connection.socket.close()
        }
    }

    func pollTimeout() -> Int {
        var next = deadlines.next
        for connection in connections {
            if let at = connection.reconnectAt { next = min(next ?? at, at) }
        }
        guard let next else { return -1 }
        return max(0, (next - .now).millisecondsRoundedUp)
    }

    /// Connects again the connections whose refused handshake libzmq gave up, once their backoff has passed.
    func reconnectRefused() {
        let now = ContinuousClock.now
        for index in connections.indices {
            guard let at = connections[index].reconnectAt, at <= now else { continue }
            connections[index].reconnectAt = nil
            let endpoint = connections[index].endpoint
            connections[index].socket.disconnect(endpoint)
            do {
                try connections[index].socket.connect(endpoint)
                connections[index].state = .connecting
            } catch {
                connections[index].state = .failed("\(error)")
            }
        }
    }

    // MARK: commands from callers

    func perform(_ command: ChannelCore.Command) {
        switch command {
        case .start(let call):
            start(call)
        case .cancel(let id):
            guard let call = pending[id] else { return }
            if let index = call.connection, call.sent { sendCancel(id, on: index) }
            finish(id, .failure(RPCError(.cancelled, "the call was cancelled")))
        }
    }

    func start(_ call: ChannelCall) {
        if call.cancelled.load(ordering: .acquiring) {
            call.continuation.resume(returning: .failure(RPCError(.cancelled, "the call was cancelled")))
            return
        }
        if let deadline = call.deadline { deadlines.insert(deadline, for: call.callID) }
        dispatch(call)
    }

    /// Sends a pending call to the best connected instance, keeps it waiting while an instance is still
    /// connecting, or fails it UNAVAILABLE when none can be reached.
    func dispatch(_ id: UInt64) {
        guard let call = pending[id] else { return }
        dispatch(call)
    }

    func dispatch(_ call: ChannelCall) {
        let id = call.callID
        guard let index = pickConnection() else {
            pending[id] = call
            if connections.contains(where: \.isHopeful) {
                waiting.append(id)
            } else {
                finish(id, .failure(unreachable()))
            }
            return
        }
        call.connection = index
        connections[index].outstanding += 1
        pending[id] = call
        unsent.append(call)
    }

    /// Sends this turn's calls back to back, so that libzmq's I/O thread writes them to the connection in one
    /// go instead of waking for each. A call whose connection fails meanwhile is dispatched again.
    func flush() {
        var position = 0
        while position < unsent.count {
            let call = unsent[position]
            position += 1
            guard !call.finished, let index = call.connection, !call.sent else { continue }
            if let deadline = call.deadline {
                call.header.timeoutMicros = max(1, (deadline - .now).microsecondsRoundedUp)
            }
            do {
                let socket = connections[index].socket
                try call.header.withSerializedBytes { try socket.send(frame: $0, more: true) }
                try socket.send(frame: call.payload, more: false)
                call.sent = true
            } catch {
                connections[index].state = .failed("\(error)")
                connections[index].outstanding -= 1
                call.connection = nil
                dispatch(call)
            }
        }
        unsent.removeAll(keepingCapacity: true)
    }

    /// Why no instance can take a call: UNAUTHENTICATED when every instance refused this client's handshake (no
    /// retry can help), else UNAVAILABLE; either way naming each instance and what happened to it.
    func unreachable() -> RPCError {
        let reasons = connections.map { connection -> String in
            if let refusal = connection.refusal { return "\(connection.endpoint): \(refusal)" }
            if case .failed(let reason) = connection.state { return "\(connection.endpoint): \(reason)" }
            return connection.endpoint
        }
        if connections.allSatisfy({ $0.refusal != nil }) {
            return RPCError(
                .unauthenticated,
                "\(channel.targetName) refused this client (\(reasons.joined(separator: "; ")))")
        }
        return RPCError(.unavailable, "\(channel.targetName) is unavailable (\(reasons.joined(separator: "; ")))")
    }

    func pickConnection() -> Int? {
        var best: Int?
        for offset in connections.indices {
            let index = (roundRobin + offset) % connections.count
            guard connections[index].state == .ready else { continue }
            if best == nil || connections[index].outstanding < connections[best!].outstanding { best = index }
        }
        roundRobin = (roundRobin + 1) % max(connections.count, 1)
        return best
    }

    func sendCancel(_ id: UInt64, on index: Int) {
        var header = RpcV1.RequestHeader()
        header.protocolVersion = Wire.version
        header.callID = id
        header.kind = .cancel
        let socket = connections[index].socket
        try? header.withSerializedBytes { try socket.send(frame: $0, more: true) }
        try? socket.send(frame: [], more: false)
    }

    func finish(_ id: UInt64, _ result: Result<[UInt8], RPCError>) {
        guard let call = pending.removeValue(forKey: id) else { return }
        call.finished = true
        if let index = call.connection { connections[index].outstanding -= 1 }
        call.continuation.resume(returning: result)
    }

    // MARK: socket input

    /// Takes up to `limit` answers from connection `index`; more wait for the next turn (see `ioTurnBatch`).
    func receiveAll(_ index: Int, limit: Int = ioTurnBatch) {
        for _ in 0..<limit {
            guard (try? frames.receive(from: connections[index].socket)) == true else { return }
            guard frames.count == 2,
                let header = try? RpcV1.ResponseHeader(serializedBytes: frames[0], options: Wire.headerDecodeOptions)
            else {
                channel.logger.warning(
                    "malformed response dropped",
                    metadata: [LogKey.endpoint: "\(connections[index].endpoint)"])
                continue
            }
            guard pending[header.callID] != nil else { continue }
            if let error = Wire.error(from: header) {
                finish(header.callID, .failure(error))
            } else if frames[1].count > channel.configuration.maxReceiveMessageBytes {
                finish(
                    header.callID,
                    .failure(
                        RPCError(
                            .resourceExhausted,
                            "response of \(frames[1].count) bytes exceeds the limit of \(channel.configuration.maxReceiveMessageBytes) bytes"
                        )))
            } else {
                finish(header.callID, .success([UInt8](frames[1])))
            }
        }
    }

    func readMonitor(_ index: Int) {
        for monitored in connections[index].monitor.events() {
            let (event, value) = (monitored.kind, monitored.value)
            let endpoint = connections[index].endpoint
            channel.logger.trace("monitor event", metadata: [LogKey.endpoint: "\(endpoint)", "event": "\(event)"])
            if let refusal = refusal(event: event, value: value) {
                handshakeRefused(index, refusal, libzmqGivesUp: event != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                continue
            }
            switch event {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
                connections[index].state = .ready
                connections[index].refusal = nil
                connections[index].reconnectBackoff = .seconds(1)
                channel.logger.debug("connected", metadata: [LogKey.endpoint: "\(endpoint)"])
                let queued = waiting
                waiting.removeAll()
                for id in queued { dispatch(id) }
            case ZMQ_EVENT_DISCONNECTED, ZMQ_EVENT_CLOSED:
                connectionLost(index, reason: "connection lost")
            case ZMQ_EVENT_CONNECT_RETRIED:
                connectionLost(index, reason: "connection refused")
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                connectionLost(index, reason: "ZMTP handshake failed (is it an RPC server?)")
            default:
                break
            }
        }
    }

    /// What a handshake failure says about this client's security, or nil for a failure that has nothing to do
    /// with it (the protocol itself, a peer that is no RPC server).
    func refusal(event: Int32, value: UInt32) -> String? {
        let security = channel.configuration.security
        switch event {
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            return "the server refused this client's key \"\(security?.keyName ?? "")\" "
                + "(\(security?.keyPair.publicKey.z85 ?? "")): it is not among its authorized keys (ZAP status \(value))"
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL where value == UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH):
            return security == nil
                ? "the server requires CURVE: give this client its key (--key or FT_KEY_FILE) and the server's public "
                    + "key (FT_<SERVICE>_PUBLIC_KEY)"
                : "the server runs without CURVE keys, and this client has one: it is not the server expected "
                    + "(\(security!.serverKeySource)), or it should be given its keys"
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL where security != nil:
            return "the CURVE handshake failed: the server's public key is not the one in "
                + "\(security!.serverKeySource)"
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            // A CURVE server closes a client without keys as soon as it sees its greeting; libzmq's client then
            // reports the mechanism mismatch, or (when the close overtakes it) only this.
            return "the handshake failed: the server requires CURVE (give this client its key, --key or FT_KEY_FILE, "
                + "and the server's public key, FT_<SERVICE>_PUBLIC_KEY), or it does not speak ZMTP"
        default:
            return nil
        }
    }

    /// The server refused the handshake: calls waiting for this instance, or owed by it, fail now (UNAUTHENTICATED
    /// when no other instance is worth waiting for). A refusal libzmq does not retry by itself is retried here.
    func handshakeRefused(_ index: Int, _ refusal: String, libzmqGivesUp: Bool) {
        if connections[index].refusal == nil {
            channel.logger.warning(
                "handshake refused",
                metadata: [LogKey.endpoint: "\(connections[index].endpoint)", "reason": "\(refusal)"])
        }
        connections[index].refusal = refusal
        connectionLost(index, reason: refusal)
        if libzmqGivesUp {
            connections[index].reconnectAt = .now + connections[index].reconnectBackoff
            connections[index].reconnectBackoff = min(connections[index].reconnectBackoff * 2, .seconds(10))
        }
    }

    /// Marks an instance down and fails the calls it owed: the server may or may not have run them, so only
    /// the retry policy (idempotent methods) sends them again.
    func connectionLost(_ index: Int, reason: String) {
        receiveAll(index, limit: .max)
        let wasReady = connections[index].state == .ready
        connections[index].state = .failed(reason)
        if wasReady {
            channel.logger.info("disconnected", metadata: [LogKey.endpoint: "\(connections[index].endpoint)"])
        }
        let owed = pending.filter { $0.value.connection == index }.map(\.key)
        for id in owed {
            finish(
                id,
                .failure(
                    RPCError(
                        .unavailable,
                        "\(channel.targetName) at \(connections[index].endpoint): \(reason) before the answer came")))
        }
        if !connections.contains(where: \.isHopeful) {
            let queued = waiting
            waiting.removeAll()
            for id in queued { dispatch(id) }
        }
    }

    func expireDeadlines() {
        deadlines.compact(pending) { ($0.key, $0.value.deadline) }
        let now = ContinuousClock.now
        while let first = deadlines.popDue(by: now) {
            guard let call = pending[first.key] else { continue }
            if let index = call.connection, call.sent { sendCancel(first.key, on: index) }
            waiting.removeAll { $0 == first.key }
            finish(
                first.key,
                .failure(
                    RPCError(
                        .deadlineExceeded,
                        "deadline exceeded waiting for \(call.header.service)/\(call.header.method)")))
        }
    }
}
