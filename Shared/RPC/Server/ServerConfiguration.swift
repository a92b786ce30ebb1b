import Schema

extension RPCServer {
    /// How a server binds and what it accepts.
    public struct Configuration: Sendable {
        /// Endpoints to bind: `tcp://host:port` (`*` for any port), `ipc:///path`, `inproc://name`.
        public var endpoints: [String]
        /// Calls in flight at once; past it, new calls get RESOURCE_EXHAUSTED. Default 4096.
        public var maxConcurrentCalls: Int
        /// Largest request payload accepted; larger → RESOURCE_EXHAUSTED. Default 4 MiB, as gRPC.
        public var maxReceiveMessageBytes: Int
        /// Largest answer sent, as clients accept (their own receive limit); a handler's answer over it is not
        /// sent but answered RESOURCE_EXHAUSTED naming its size and the limit. Default 4 MiB.
        public var maxSendMessageBytes: Int = 4 << 20
        /// Where handlers run. Default `.ioThread`.
        public var handlerPlacement: HandlerPlacement
        /// How long a graceful shutdown waits for calls in flight before cancelling them. Default 10 s.
        public var shutdownGracePeriod: Duration
        /// How long the I/O thread keeps looking for the next request before it sleeps: a request that comes
        /// meanwhile is taken without waking a sleeping thread (a loopback round trip's median falls by ~40% on
        /// the development machine), at the price of up to this much CPU each time the thread runs out of work.
        /// `.zero` never spins. Default 50 µs (see README, Performance).
        public var busyPoll: Duration
        /// CURVE keys and who may call what; nil serves without either, admitting every caller (the services allow
        /// that on loopback only).
        public var security: ServerSecurity?
        /// Told of every call refused for want of an admitted key or a role (UNAUTHENTICATED, PERMISSION_DENIED),
        /// on the server's I/O thread: it must return at once.
        public var onRefusal: (@Sendable (RefusedCall) -> Void)?
        /// Largest wire message libzmq accepts before it drops the connection (a hard stop for abuse, well above
        /// `maxReceiveMessageBytes` so that ordinary oversize gets a status). Default 4 × that + 64 KiB.
        public var hardFrameLimitBytes: Int {
            maxReceiveMessageBytes.multipliedReportingOverflow(by: 4).partialValue + (64 << 10)
        }

        public init(
            endpoints: [String], maxConcurrentCalls: Int = 4096, maxReceiveMessageBytes: Int = 4 << 20,
            shutdownGracePeriod: Duration = .seconds(10), handlerPlacement: HandlerPlacement = .ioThread,
            busyPoll: Duration = defaultBusyPoll, security: ServerSecurity? = nil,
            onRefusal: (@Sendable (RefusedCall) -> Void)? = nil
        ) {
            self.security = security
            self.onRefusal = onRefusal
            self.busyPoll = busyPoll
            self.handlerPlacement = handlerPlacement
            self.endpoints = endpoints
            self.maxConcurrentCalls = maxConcurrentCalls
            self.maxReceiveMessageBytes = maxReceiveMessageBytes
            self.shutdownGracePeriod = shutdownGracePeriod
        }

        var requestDecodeOptions: DecodeOptions {
            DecodeOptions(maxMessageBytes: maxReceiveMessageBytes, strictEnums: true, strictFields: true)
        }
    }
}

/// Where a server runs its handlers.
public enum HandlerPlacement: Sendable, Hashable {
    /// On the server's I/O thread, as a Swift task executor: no thread hand-off per call, the fastest. Handlers
    /// must not block the thread (blocking work belongs in an `async` API that runs it elsewhere, as database
    /// drivers do); awaiting is fine.
    case ioThread
    /// On Swift's global concurrent pool: handlers run in parallel on every core, at the cost of two thread
    /// hand-offs per call.
    case concurrentPool
}
