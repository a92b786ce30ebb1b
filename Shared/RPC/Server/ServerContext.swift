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
    /// Who called: the key the client proved in the CURVE handshake; nil when the server runs without keys.
    public var caller: Caller? { storage.caller }
    /// Numbers the calls of this server 1, 2, 3…: tells two calls apart where the request id does not (a retry
    /// carries its first attempt's id).
    public var serial: UInt64 { storage.serial }
    /// Whether the method is marked NO_SIDE_EFFECTS: it changes nothing.
    public var noSideEffects: Bool { storage.noSideEffects }
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
        let caller: Caller?
        let serial: UInt64
        let noSideEffects: Bool

        init(
            service: String, method: String, requestID: String, metadata: Metadata,
            deadline: ContinuousClock.Instant?, logger: Logger, caller: Caller?, serial: UInt64, noSideEffects: Bool
        ) {
            self.service = service
            self.method = method
            self.requestID = requestID
            self.metadata = metadata
            self.deadline = deadline
            self.logger = logger
            self.caller = caller
            self.serial = serial
            self.noSideEffects = noSideEffects
        }
    }

    public init(
        service: String, method: String, requestID: String, metadata: Metadata,
        deadline: ContinuousClock.Instant?, logger: Logger, caller: Caller? = nil, serial: UInt64 = 0,
        noSideEffects: Bool = false
    ) {
        storage = Storage(
            service: service, method: method, requestID: requestID, metadata: metadata, deadline: deadline,
            logger: logger, caller: caller, serial: serial, noSideEffects: noSideEffects)
    }

    /// A logger whose lines carry the request id, the method and the caller's key and role. Built when asked for:
    /// most calls never log, and setting logger metadata is not free.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: LogKey.requestID] = .string(requestID)
        logger[metadataKey: LogKey.method] = .string(service + "/" + method)
        if let caller {
            logger[metadataKey: LogKey.key] = .string(caller.keyName)
            logger[metadataKey: LogKey.role] = .string(caller.role.rawValue)
        }
        return logger
    }

    /// Time left before the deadline (negative once passed); nil without a deadline.
    public var timeRemaining: Duration? { deadline.map { $0 - .now } }

    /// The context of the call the current task is serving, if any.
    @TaskLocal public static var current: ServerContext?
}
