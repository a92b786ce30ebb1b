extension ClientChannel {
    /// How a channel connects and calls.
    public struct Configuration: Sendable {
        /// Timeout of calls that set none. Default 30 s; nil waits forever (not advised).
        public var defaultTimeout: Duration?
        /// Retries of UNAVAILABLE for idempotent methods.
        public var retry: RetryPolicy
        /// Largest response payload accepted; larger → RESOURCE_EXHAUSTED. Default 4 MiB.
        public var maxReceiveMessageBytes: Int
        /// Largest request payload sent, as servers accept it: a larger one fails RESOURCE_EXHAUSTED at once, naming
        /// the limit, instead of being sent to a server that would drop the connection. Default 4 MiB.
        public var maxSendMessageBytes: Int = 4 << 20
        /// How the target is named in errors, e.g. `"producer-service"`; default: the endpoints.
        public var targetName: String?
        /// ZMTP heartbeat interval; a peer silent for 3 intervals counts as gone. Default 1 s.
        public var heartbeatInterval: Duration
        /// The longest pause between reconnection attempts (libzmq backs off from 100 ms). Default 1 s.
        public var maxReconnectInterval: Duration
        /// How long the I/O thread keeps looking for answers before it sleeps, while calls are out (as the
        /// server's `RPCServer.Configuration.busyPoll`). `.zero` never spins. Default 50 µs.
        public var busyPoll: Duration
        /// CURVE: the client's key pair and the server's public key; nil connects without (to a server that runs
        /// without keys).
        public var security: ClientSecurity?

        public init(
            defaultTimeout: Duration? = .seconds(30), retry: RetryPolicy = RetryPolicy(),
            maxReceiveMessageBytes: Int = 4 << 20, targetName: String? = nil, heartbeatInterval: Duration = .seconds(1),
            maxReconnectInterval: Duration = .seconds(1), busyPoll: Duration = defaultBusyPoll,
            security: ClientSecurity? = nil
        ) {
            self.security = security
            self.busyPoll = busyPoll
            self.defaultTimeout = defaultTimeout
            self.retry = retry
            self.maxReceiveMessageBytes = maxReceiveMessageBytes
            self.targetName = targetName
            self.heartbeatInterval = heartbeatInterval
            self.maxReconnectInterval = maxReconnectInterval
        }
    }
}

/// When and how often a client retries: gRPC's retry policy for UNAVAILABLE on idempotent methods, with a token
/// bucket that stops retrying when most calls fail (so a down service is not hammered).
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included. Default 4.
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var backoffMultiplier: Double
    /// Each failure takes a token, each success gives back `tokenRatio`; retries stop while tokens ≤ max / 2.
    public var maxTokens: Double
    public var tokenRatio: Double

    public init(
        maxAttempts: Int = 4, initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(1),
        backoffMultiplier: Double = 2, maxTokens: Double = 10, tokenRatio: Double = 0.1
    ) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.backoffMultiplier = backoffMultiplier
        self.maxTokens = maxTokens
        self.tokenRatio = tokenRatio
    }

    /// The pause before retry number `retry` (1 = the first retry): exponential, capped, with full jitter.
    func backoff(beforeRetry retry: Int) -> Duration {
        let base = initialBackoff * pow(backoffMultiplier, Double(retry - 1))
        let capped = min(base, maxBackoff)
        return capped * Double.random(in: 0.5...1.0)
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= base }
        return result
    }
}
