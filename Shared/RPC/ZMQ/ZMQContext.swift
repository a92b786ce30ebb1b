import CZeroMQ

/// The process's ZeroMQ context. Contexts are thread-safe; sockets are not (see `ZMQSocket`).
///
/// One context serves the whole process and is never terminated: every socket sets LINGER and is closed by the
/// thread that owns it, so nothing can make `zmq_ctx_term` hang at exit.
final class ZMQContext: @unchecked Sendable {
    static let shared = ZMQContext()

    let handle: UnsafeMutableRawPointer

    private init() {
        guard let handle = zmq_ctx_new() else { fatalError("zmq_ctx_new failed: \(ZMQError.last)") }
        self.handle = handle
    }
}
