import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a dedicated thread for an I/O loop and waits until the loop reports that it is set up (sockets bound,
/// say), so that set-up errors reach the caller rather than the log.
enum LoopThread {
    static func start<Ready: Sendable>(
        name: String,
        _ body: @escaping @Sendable (_ ready: @escaping @Sendable (Result<Ready, any Error>) -> Void) -> Void
    ) throws -> Ready {
        let box = ReadyBox<Ready>()
        let thread = Thread {
            // Foundation does not name the system thread on Linux, which then keeps the name of the thread that
            // made it (a dispatch worker's, say). Named, it shows in `top -H`, `ps -L`, perf and gdb.
            nameCurrentThread(name)
            body { result in box.set(result) }
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
        return try box.wait().get()
    }
}

/// Names the calling thread as the kernel sees it (15 bytes at most), through /proc: Swift does not import
/// glibc's `pthread_setname_np`. Best effort; a thread left unnamed works the same.
private func nameCurrentThread(_ name: String) {
    #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    #endif
}

private final class ReadyBox<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Value, any Error>?

    func set(_ value: Result<Value, any Error>) {
        condition.lock()
        if result == nil { result = value }
        condition.signal()
        condition.unlock()
    }

    func wait() -> Result<Value, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}
