import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// A Linux eventfd that other threads signal to wake an I/O loop blocked in `zmq_poll`.
///
/// Work is handed to the loop through a locked queue; this only says "look at the queue". Signalling is safe from
/// any thread; only the loop reads.
final class Wakeup: Sendable {
    let fd: Int32

    init() {
        fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(fd >= 0, "eventfd failed: errno \(ft_errno())")
    }

    deinit { Glibc.close(fd) }

    func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(fd, $0.baseAddress, 8) }
    }

    /// Resets the counter; called by the loop when the descriptor polls readable.
    func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { Glibc.read(fd, $0.baseAddress, 8) }
    }
}
