import Logging
import Synchronization

/// What a channel's handle and its I/O loop share: the command queue, the wake-up, and the settings.
final class ChannelCore: Sendable {
    let endpoints: [String]
    let configuration: ClientChannel.Configuration
    let logger: Logger
    let wakeup = Wakeup()
    let executor: LoopExecutor
    let channelID = RequestID.make()
    /// The loop's state, for callers that run on the loop's own thread.
    let loop = LoopReference<ClientLoop>()
    private let shared = Mutex(Shared())

    struct Shared: ~Copyable {
        var commands: [Command] = []
        var closed = false
    }

    init(endpoints: [String], configuration: ClientChannel.Configuration, logger: Logger) {
        self.endpoints = endpoints
        self.configuration = configuration
        self.logger = logger
        self.executor = LoopExecutor(wakeup: wakeup)
    }

    var targetName: String { configuration.targetName ?? endpoints.joined(separator: ", ") }

    func close() {
        shared.withLock { $0.closed = true }
        wakeup.signal()
    }

    /// Queues a command for the loop; false once the channel is closed, when the loop takes no more.
    func enqueue(_ command: Command) -> Bool {
        let (accepted, wasEmpty) = shared.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            state.commands.append(command)
            return (true, state.commands.count == 1)
        }
        if wasEmpty && !executor.isLoopThread { wakeup.signal() }
        return accepted
    }

    var hasCommands: Bool { shared.withLock { !$0.commands.isEmpty } }

    func takeCommands() -> (commands: [Command], closed: Bool) {
        shared.withLock { state in
            defer { state.commands.removeAll(keepingCapacity: true) }
            return (state.commands, state.closed)
        }
    }

    enum Command: Sendable {
        case start(ChannelCall)
        case cancel(UInt64)
    }
}
