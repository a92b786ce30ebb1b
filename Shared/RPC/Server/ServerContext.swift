import Logging

/// What a handler knows about the call it is serving.
///
/// While a handler runs, `ServerContext.current` holds its context, so that a client call made from inside it
/// passes on the remaining deadline and the request id without the handler doing anything.
public struct ServerContext: Sendable {
    /// The fully qualified service name and the method name.
    public var service: String { storage.service }
    public var method: String { storage.method }
    /// The end-to-end request id: the client's, or a new one when it sent none.
    public var requestID: String { storage.requestID }
    /// Request metadata as the client sent it.
    public var metadata: Metadata { storage.metadata }
    /// When the client stops waiting; nil when it set no deadline.
    public var deadline: ContinuousClock.Instant? { storage.deadline }
    private var baseLogger: Logger { storage.logger }

    /// Shared by every copy: a context is copied into the handler's task, its task-local value and the handler,
    /// and one reference is cheaper to copy than six fields.
    private let storage: Storage

    private final class Storage: Sendable {
        let service: String
        let method: String
        let requestID: String
        let metadata: Metadata
        let deadline: ContinuousClock.Instant?
        let logger: Logger

        init(
            service: String, method: String, requestID: String, metadata: Metadata,
            deadline: ContinuousClock.Instant?, logger: Logger
        ) {
            self.service = service
            self.method = method
            self.requestID = requestID
            self.metadata = metadata
            self.deadline = deadline
            self.logger = logger
        }
    }

    public init(
        service: String, method: String, requestID: String, metadata: Metadata,
        deadline: ContinuousClock.Instant?, logger: Logger
    ) {
        storage = Storage(
            service: service, method: method, requestID: requestID, metadata: metadata, deadline: deadline,
            logger: logger)
    }

    /// A logger whose lines carry the request id and the method. Built when asked for: most calls never log, and
    /// setting logger metadata is not free.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: LogKey.requestID] = .string(requestID)
        logger[metadataKey: LogKey.method] = .string(service + "/" + method)
        return logger
    }

    /// Time left before the deadline (negative once passed); nil without a deadline.
    public var timeRemaining: Duration? { deadline.map { $0 - .now } }

    /// The context of the call the current task is serving, if any.
    @TaskLocal public static var current: ServerContext?
}
