import CZeroMQ

/// A libzmq socket monitor (`zmq_socket_monitor`): the PAIR socket that receives another socket's events, owned,
/// like the socket it watches, by one I/O thread.
///
/// libzmq sends monitor events from its I/O thread with a blocking send while holding a lock; were the receiving
/// end closed first, the next event would stall every socket of the context. So `close()` stops the monitor before
/// it closes its own socket, and the receiving end takes events without limit.
final class SocketMonitor {
    /// One event: what happened (`ZMQ_EVENT_…`), its value (an errno, a status code, a protocol error) and the
    /// endpoint it concerns.
    struct Event {
        let kind: Int32
        let value: UInt32
        let endpoint: String
    }

    let socket: ZMQSocket
    private let watched: ZMQSocket

    /// Watches `watched` for `events` (a mask of `ZMQ_EVENT_…`).
    init(watching watched: ZMQSocket, events: Int32) throws(ZMQError) {
        let address = "inproc://ft-monitor-\(RequestID.make())"
        try watched.monitor(address, events: events)
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(type: ZMQ_PAIR)
        } catch {
            watched.stopMonitor()
            throw error
        }
        do {
            try socket.set(ZMQ_LINGER, Int32(0))
            try socket.set(ZMQ_RCVHWM, Int32(0))
            try socket.connect(address)
        } catch {
            watched.stopMonitor()
            socket.close()
            throw error
        }
        self.socket = socket
        self.watched = watched
    }

    /// The events waiting now, without blocking.
    func events() -> [Event] {
        var events: [Event] = []
        while let frames = try? socket.receive(maxFrames: 2) {
            // Frame 1: the event (16 bits) and its value (32 bits), in the host's order; frame 2: the endpoint.
            guard frames.count == 2, frames[0].count >= 6 else { continue }
            let bytes = frames[0]
            events.append(
                Event(
                    kind: Int32(bytes[0]) | Int32(bytes[1]) << 8,
                    value: UInt32(bytes[2]) | UInt32(bytes[3]) << 8 | UInt32(bytes[4]) << 16 | UInt32(bytes[5]) << 24,
                    endpoint: String(decoding: frames[1], as: UTF8.self)))
        }
        return events
    }

    /// Stops the monitor, then closes its socket (in that order: see the type's note). Call before closing the
    /// watched socket.
    func close() {
        watched.stopMonitor()
        socket.close()
    }
}
