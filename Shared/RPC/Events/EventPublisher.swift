import CZeroMQ
import Logging
import Schema
import Synchronization

/// Publishes events on a ZeroMQ PUB socket: frames [topic][EventHeader][event].
///
/// Publishing never blocks the caller or waits for subscribers: events go to a queue that the publisher's own
/// thread (the socket's owner) sends. Each subscriber has a bounded buffer (`sendHighWaterMark` messages, plus
/// what its TCP connection holds); past it libzmq drops that subscriber's events and nobody else's. Every event
/// carries a per-topic sequence number, so a subscriber that fell behind sees exactly how many it missed.
///
/// With `security`, the socket is a CURVE server admitting the keys its RPC server admits (any role may follow
/// events: they are what the read methods show).
public final class EventPublisher: Sendable {
    public let publisherID = RequestID.make()
    private let endpoints: [String]
    private let sendHighWaterMark: Int32
    private let logger: Logger
    private let security: ServerSecurity?
    private let wakeup = Wakeup()
    private let shared = Mutex(Shared())

    private struct Shared: ~Copyable {
        var queue: [(topic: String, payload: [UInt8])] = []
        var closed = false
        var bound: [String] = []
    }

    public init(
        endpoints: [String], sendHighWaterMark: Int32 = 1000, security: ServerSecurity? = nil, logger: Logger
    ) {
        self.security = security
        self.endpoints = endpoints
        self.sendHighWaterMark = sendHighWaterMark
        self.logger = logger
    }

    /// Binds the endpoints and starts the publishing thread; returns the endpoints bound.
    @discardableResult
    public func start() throws -> [String] {
        let bound = try LoopThread.start(name: "event-publisher") { ready in self.run(ready: ready) }
        shared.withLock { $0.bound = bound }
        return bound
    }

    public var boundEndpoints: [String] { shared.withLock { $0.bound } }

    /// Queues an event for every subscriber of `topic` (subscriptions match topic prefixes).
    public func publish(topic: String, _ event: some ProtoMessage) {
        let payload = event.serializedBytes()
        let wasEmpty = shared.withLock { state in
            guard !state.closed else { return false }
            state.queue.append((topic, payload))
            return state.queue.count == 1
        }
        if wasEmpty { wakeup.signal() }
    }

    /// Sends what is queued and closes the socket.
    public func close() {
        shared.withLock { $0.closed = true }
        wakeup.signal()
    }

    private func run(ready: (Result<[String], any Error>) -> Void) {
        let socket: ZMQSocket
        var bound: [String] = []
        do {
            socket = try ZMQSocket(type: ZMQ_PUB)
        } catch {
            return ready(.failure(error))
        }
        do {
            try socket.set(ZMQ_LINGER, Int32(200))
            try socket.set(ZMQ_SNDHWM, sendHighWaterMark)
            try socket.set(ZMQ_HEARTBEAT_IVL, Int32(1000))
            try socket.set(ZMQ_HEARTBEAT_TIMEOUT, Int32(3000))
            if let security {
                // Before binding: libzmq admits every CURVE client while no ZAP handler is bound.
                try ZAPHandler.shared.register(security, domain: security.zapDomain)
                try socket.makeCurveServer(security)
            }
            for endpoint in endpoints { bound.append(try socket.bind(endpoint)) }
        } catch {
            socket.close()
            if let security { ZAPHandler.shared.unregister(domain: security.zapDomain) }
            return ready(.failure(RPCError(.unavailable, "cannot publish events on \(endpoints): \(error)")))
        }
        ready(.success(bound))
        var sequences: [String: UInt64] = [:]
        var poller = Poller()
        poller.add(fd: wakeup.fd)
        while true {
            _ = poller.poll(timeoutMillis: -1)
            wakeup.drain()
            let (batch, closed) = shared.withLock { state in
                defer { state.queue.removeAll(keepingCapacity: true) }
                return (state.queue, state.closed)
            }
            for (topic, payload) in batch {
                let sequence = (sequences[topic] ?? 0) + 1
                sequences[topic] = sequence
                let header = RpcV1.EventHeader(
                    publisherID: publisherID, sequence: sequence,
                    publishedAt: CommonV1.Timestamp(unixMicros: wallClockMicros()))
                // DONTWAIT: a PUB socket drops rather than blocks, and this thread must never wait on a subscriber.
                try? socket.send([Array(topic.utf8), header.serializedBytes(), payload])
            }
            if closed { break }
        }
        socket.close()
        if let security { ZAPHandler.shared.unregister(domain: security.zapDomain) }
    }
}

func wallClockMicros() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
}

#if canImport(Glibc)
    import Glibc
#endif
