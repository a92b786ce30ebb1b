import CZeroMQ

/// A ZeroMQ socket. Not thread-safe and deliberately not `Sendable`: create, use and close it on the one thread
/// that owns it (an I/O loop). It is closed explicitly by that thread, never from `deinit`.
final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    private(set) var isClosed = false

    init(type: Int32, context: ZMQContext = .shared) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type) else { throw ZMQError("zmq_socket") }
        self.handle = handle
    }

    deinit {
        assert(isClosed, "a ZMQSocket must be closed by the thread that owns it")
    }

    func set(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError("zmq_setsockopt(\(option))")
        }
    }

    func set(_ option: Int32, _ value: Int64) throws(ZMQError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError("zmq_setsockopt(\(option))")
        }
    }

    func set(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        let result = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard result == 0 else { throw ZMQError("zmq_setsockopt(\(option))") }
    }

    /// Makes the socket a CURVE server with `security`'s key pair, whose handshakes its ZAP domain decides.
    func makeCurveServer(_ security: ServerSecurity) throws(ZMQError) {
        try set(ZMQ_CURVE_SERVER, Int32(1))
        try set(ZMQ_CURVE_SECRETKEY, bytes: security.keyPair.secretBytes)
        try set(ZMQ_ZAP_DOMAIN, bytes: Array(security.zapDomain.utf8))
    }

    /// Makes the socket a CURVE client of the server whose public key `security` names.
    func makeCurveClient(_ security: ClientSecurity) throws(ZMQError) {
        try set(ZMQ_CURVE_SERVERKEY, bytes: security.serverKey.bytes)
        try set(ZMQ_CURVE_PUBLICKEY, bytes: security.keyPair.publicKey.bytes)
        try set(ZMQ_CURVE_SECRETKEY, bytes: security.keyPair.secretBytes)
    }

    /// Binds and returns the endpoint actually bound (a `tcp://host:*` port resolved), from ZMQ_LAST_ENDPOINT.
    func bind(_ endpoint: String) throws(ZMQError) -> String {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError("bind \(endpoint)") }
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
            throw ZMQError("zmq_getsockopt(ZMQ_LAST_ENDPOINT)")
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func connect(_ endpoint: String) throws(ZMQError) {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError("connect \(endpoint)") }
    }

    /// Drops the connection to `endpoint` (made by `connect`); an endpoint libzmq already gave up is no error.
    func disconnect(_ endpoint: String) {
        zmq_disconnect(handle, endpoint)
    }

    func monitor(_ endpoint: String, events: Int32) throws(ZMQError) {
        guard zmq_socket_monitor(handle, endpoint, events) == 0 else { throw ZMQError("zmq_socket_monitor") }
    }

    /// Stops a monitor started with `monitor`. libzmq sends monitor events from its I/O thread with a *blocking*
    /// send while holding a lock; once the reading end is gone, the next event would stall every socket of the
    /// context. So a monitor is always stopped before its reader is closed.
    func stopMonitor() {
        zmq_socket_monitor(handle, nil, 0)
    }

    /// Sends one frame without blocking; `more` when further frames of the same message follow. A message's
    /// first frame decides whether it goes at all: libzmq queues the rest once the first is queued.
    func send(frame: UnsafeRawBufferPointer, more: Bool) throws(ZMQError) {
        let flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)
        while zmq_send(handle, frame.baseAddress, frame.count, flags) < 0 {
            let error = ZMQError("zmq_send")
            if !error.isInterrupted { throw error }
        }
    }

    func send(frame: [UInt8], more: Bool) throws(ZMQError) {
        // Array.withUnsafeBytes rethrows as `any Error`; a Result keeps the error typed.
        try frame.withUnsafeBytes { bytes in Result { () throws(ZMQError) in try send(frame: bytes, more: more) } }
            .get()
    }

    /// Sends one multipart message without blocking (`send(frame:more:)` for each frame).
    func send(_ frames: [[UInt8]]) throws(ZMQError) {
        for (index, frame) in frames.enumerated() { try send(frame: frame, more: index < frames.count - 1) }
    }

    /// Receives one whole multipart message, or nil when none is waiting (EAGAIN).
    func receive(maxFrames: Int = 8) throws(ZMQError) -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while true {
            if zmq_msg_recv(&message, handle, ZMQ_DONTWAIT) < 0 {
                let error = ZMQError("zmq_msg_recv")
                if error.isAgain && frames.isEmpty { return nil }
                if error.isInterrupted { continue }
                throw error
            }
            let size = zmq_msg_size(&message)
            // Frames past maxFrames are drained but not kept: the caller sees a malformed message.
            if frames.count <= maxFrames {
                if size == 0 {
                    frames.append([])
                } else {
                    let data = zmq_msg_data(&message)!.assumingMemoryBound(to: UInt8.self)
                    frames.append(Array(UnsafeBufferPointer(start: data, count: size)))
                }
            }
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        zmq_close(handle)
    }
}
