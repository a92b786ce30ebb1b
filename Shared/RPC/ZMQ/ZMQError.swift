import CZeroMQ

/// A libzmq call failed; `errno` as libzmq reported it.
struct ZMQError: Error, CustomStringConvertible {
    let errno: Int32
    let operation: String

    init(_ operation: String, errno: Int32 = ft_errno()) {
        self.operation = operation
        self.errno = errno
    }

    static var last: ZMQError { ZMQError("zmq") }

    var isAgain: Bool { errno == EAGAIN }
    var isInterrupted: Bool { errno == EINTR }
    var isHostUnreachable: Bool { errno == EHOSTUNREACH }

    var description: String { "\(operation): \(String(cString: zmq_strerror(errno)))" }
}
