import Logging

/// What a handler knows about the call it is serving.
///
/// While a handler runs, `ServerContext.current` holds its context, so that a client call made from inside it
/// passes on the remaining deadline and the request id without the handler doing anything.
public struct ServerContext: Sendable {
    /// The fully qualified service name and the method name.
    public let service: String
    public let method: String
    /// The end-to-end request id: the client's, or a new one when it sent none.
    public let requestID: String
    /// Request metadata as the client sent it.
    public let metadata: Metadata
    /// When the client stops waiting; nil when it set no deadline.
    public let deadline: ContinuousClock.Instant?
    private let baseLogger: Logger

    public init(
        service: String, method: String, requestID: String, metadata: Metadata,
        deadline: ContinuousClock.Instant?, logger: Logger
    ) {
        self.service = service
        self.method = method
        self.requestID = requestID
        self.metadata = metadata
        self.deadline = deadline
        self.baseLogger = logger
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
