import Foundation

/// Starts a dedicated thread for an I/O loop and waits until the loop reports that it is set up (sockets bound,
/// say), so that set-up errors reach the caller rather than the log.
enum LoopThread {
    static func start<Ready: Sendable>(
        name: String,
        _ body: @escaping @Sendable (_ ready: @escaping @Sendable (Result<Ready, any Error>) -> Void) -> Void
    ) throws -> Ready {
        let box = ReadyBox<Ready>()
        let thread = Thread {
            body { result in box.set(result) }
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
        return try box.wait().get()
    }
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
