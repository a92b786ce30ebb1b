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
        /// How long a graceful shutdown waits for calls in flight before cancelling them. Default 10 s.
        public var shutdownGracePeriod: Duration
        /// Largest wire message libzmq accepts before it drops the connection (a hard stop for abuse, well above
        /// `maxReceiveMessageBytes` so that ordinary oversize gets a status). Default 4 × that + 64 KiB.
        public var hardFrameLimitBytes: Int {
            maxReceiveMessageBytes.multipliedReportingOverflow(by: 4).partialValue + (64 << 10)
        }

        public init(
            endpoints: [String], maxConcurrentCalls: Int = 4096, maxReceiveMessageBytes: Int = 4 << 20,
            shutdownGracePeriod: Duration = .seconds(10)
        ) {
            self.endpoints = endpoints
            self.maxConcurrentCalls = maxConcurrentCalls
            self.maxReceiveMessageBytes = maxReceiveMessageBytes
            self.shutdownGracePeriod = shutdownGracePeriod
        }

        var requestDecodeOptions: DecodeOptions {
            DecodeOptions(maxMessageBytes: maxReceiveMessageBytes, strictEnums: true)
        }
    }
}
