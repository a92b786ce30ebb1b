import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// How long the RPC I/O loops busy-poll before they sleep unless configured otherwise (`Poller.poll`; measured in
/// README, Performance).
public let defaultBusyPollMicros = 50
public let defaultBusyPoll = Duration.microseconds(defaultBusyPollMicros)
/// The busy polls a process's options accept, in microseconds: none, up to 10 ms.
public let busyPollMicrosRange = 0...10_000

/// The poll set of an I/O loop: ZeroMQ sockets and plain file descriptors, rebuilt when sockets come and go.
struct Poller {
    private(set) var items: [zmq_pollitem_t] = []

    mutating func add(_ socket: ZMQSocket) {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
    }

    mutating func add(fd: Int32) {
        items.append(zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0))
    }

    /// Waits up to `timeoutMillis` (-1 forever) for input; true for each item that is readable.
    ///
    /// A wait that may block first busy-polls for up to `busyPoll`: it looks again and again without sleeping,
    /// yielding the core to any other thread that is ready to run. Input that comes meanwhile is taken without
    /// the cost of putting the thread to sleep and waking it (on these machines, much of a round trip's time);
    /// the price is up to `busyPoll` of CPU per wait. The blocking wait that follows still lasts `timeoutMillis`.
    mutating func poll(timeoutMillis: Int, busyPoll: Duration = .zero) -> Bool {
        if timeoutMillis != 0 && busyPoll > .zero {
            let until = ContinuousClock.now + busyPoll
            repeat {
                if pollOnce(timeoutMillis: 0) { return true }
                sched_yield()
            } while ContinuousClock.now < until
        }
        return pollOnce(timeoutMillis: timeoutMillis)
    }

    private mutating func pollOnce(timeoutMillis: Int) -> Bool {
        let count = Int32(items.count)
        let result = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, count, timeoutMillis) }
        return result > 0
    }

    func isReadable(_ index: Int) -> Bool { items[index].revents & Int16(ZMQ_POLLIN) != 0 }
}
