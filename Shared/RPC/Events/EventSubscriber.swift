import CZeroMQ
import Logging
import Schema
import Synchronization

/// One thing an event subscription yields: an event, or a marker saying how many events of a topic were missed.
public enum EventDelivery: Sendable {
    case event(topic: String, header: RpcV1.EventHeader, payload: [UInt8])
    /// `missed` events of `topic` from `publisherID` never arrived: the subscriber fell behind (its buffer filled
    /// and the publisher dropped them) or was disconnected for a while.
    case gap(topic: String, publisherID: String, missed: UInt64)
    /// The publisher at `endpoint` refused this subscriber's CURVE handshake, for `reason`: nothing will come from
    /// it until that is put right.
    case refused(endpoint: String, reason: String)
}

/// Subscribes to topics (prefixes) on every publishing instance of a service, over ZeroMQ SUB.
///
/// The socket lives on the subscriber's own thread; deliveries come out as an `AsyncStream` buffered up to
/// `bufferSize` (oldest dropped beyond it, which the sequence numbers then show as a gap).
public final class EventSubscriber: Sendable {
    public let deliveries: AsyncStream<EventDelivery>
    private let continuation: AsyncStream<EventDelivery>.Continuation
    private let endpoints: [String]
    private let topics: [String]
    private let receiveHighWaterMark: Int32
    private let security: ClientSecurity?
    private let wakeup = Wakeup()
    private let closed = Atomic<Bool>(false)

    /// - Parameters:
    ///   - topics: Prefixes to receive; `[""]` for everything.
    ///   - receiveHighWaterMark: Messages buffered in libzmq before the publisher starts dropping for us.
    ///   - security: CURVE keys, for publishers that have them.
    public init(
        endpoints: [String], topics: [String], bufferSize: Int = 10_000, receiveHighWaterMark: Int32 = 1000,
        security: ClientSecurity? = nil
    ) {
        self.security = security
        (deliveries, continuation) = AsyncStream.makeStream(
            of: EventDelivery.self, bufferingPolicy: .bufferingOldest(bufferSize))
        self.endpoints = endpoints
        self.topics = topics
        self.receiveHighWaterMark = receiveHighWaterMark
    }

    /// Connects and starts receiving.
    public func start() throws {
        try LoopThread.start(name: "event-subscriber") { ready in self.run(ready: ready) }
    }

    public func close() {
        closed.store(true, ordering: .relaxed)
        wakeup.signal()
    }

    private func run(ready: (Result<Void, any Error>) -> Void) {
        let socket: ZMQSocket
        let monitor: SocketMonitor
        do {
            socket = try ZMQSocket(type: ZMQ_SUB)
        } catch {
            return ready(.failure(RPCError(.unavailable, "cannot subscribe to \(endpoints): \(error)")))
        }
        do {
            try socket.set(ZMQ_LINGER, Int32(0))
            try socket.set(ZMQ_RCVHWM, receiveHighWaterMark)
            try socket.set(ZMQ_HEARTBEAT_IVL, Int32(1000))
            try socket.set(ZMQ_HEARTBEAT_TIMEOUT, Int32(3000))
            if let security { try socket.makeCurveClient(security) }
            for topic in topics { try socket.set(ZMQ_SUBSCRIBE, bytes: Array(topic.utf8)) }
            // Refused handshakes are reported (a follower with a wrong key would otherwise wait in silence).
            monitor = try SocketMonitor(
                watching: socket,
                events: ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                    | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        } catch {
            socket.close()
            return ready(.failure(RPCError(.unavailable, "cannot subscribe to \(endpoints): \(error)")))
        }
        do {
            for endpoint in endpoints { try socket.connect(endpoint) }
        } catch {
            monitor.close()
            socket.close()
            return ready(.failure(RPCError(.unavailable, "cannot subscribe to \(endpoints): \(error)")))
        }
        ready(.success(()))
        var lastDelivered: [String: UInt64] = [:]
        var poller = Poller()
        poller.add(socket)
        poller.add(fd: wakeup.fd)
        poller.add(monitor.socket)
        while !closed.load(ordering: .relaxed) {
            guard poller.poll(timeoutMillis: 1000) else { continue }
            if poller.isReadable(1) { wakeup.drain() }
            if poller.isReadable(2) {
                for event in monitor.events() {
                    let reason =
                        switch event.kind {
                        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
                            "the publisher refused this subscriber's key: it is not among its authorized keys"
                        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
                            security == nil
                                ? "the publisher requires CURVE: give this subscriber its key and the publisher's public key"
                                : "the publisher does not use CURVE, or speaks another protocol"
                        default:
                            "the CURVE handshake failed: the publisher's public key is not the one given"
                        }
                    continuation.yield(.refused(endpoint: event.endpoint, reason: reason))
                }
            }
            while let frames = try? socket.receive(maxFrames: 3) {
                guard frames.count == 3,
                    let header = try? RpcV1.EventHeader(
                        serializedBytes: frames[1], options: DecodeOptions(maxMessageBytes: 4096))
                else { continue }
                let topic = String(decoding: frames[0], as: UTF8.self)
                let key = header.publisherID + "\u{0}" + topic
                // The first event of a publisher and topic starts the count: what came before we subscribed was
                // not missed. After that, a jump in the sequence is reported as a gap before the event.
                let previous = lastDelivered[key]
                if let previous, header.sequence <= previous { continue }
                if let previous, header.sequence > previous + 1 {
                    let gap = EventDelivery.gap(
                        topic: topic, publisherID: header.publisherID,
                        missed: header.sequence - previous - 1)
                    guard case .enqueued = continuation.yield(gap) else { continue }
                    lastDelivered[key] = header.sequence - 1
                }
                if case .enqueued = continuation.yield(.event(topic: topic, header: header, payload: frames[2])) {
                    lastDelivered[key] = header.sequence
                }
            }
        }
        monitor.close()
        socket.close()
        continuation.finish()
    }
}
