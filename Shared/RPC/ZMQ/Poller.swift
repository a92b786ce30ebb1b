import CZeroMQ

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
    mutating func poll(timeoutMillis: Int) -> Bool {
        let count = Int32(items.count)
        let result = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, count, timeoutMillis) }
        return result > 0
    }

    func isReadable(_ index: Int) -> Bool { items[index].revents & Int16(ZMQ_POLLIN) != 0 }
}
