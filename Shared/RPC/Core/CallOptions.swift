/// Per-call settings of a client call.
public struct CallOptions: Sendable {
    /// How long to wait for the answer, across all attempts. nil: the channel's default. Inside a handler the
    /// remaining time of the incoming call caps it, so deadlines pass on from service to service.
    public var timeout: Duration?
    /// Request metadata sent with the call.
    public var metadata: Metadata
    /// The end-to-end request id. nil: the incoming call's inside a handler, else a new one.
    public var requestID: String?
    /// Retry UNAVAILABLE for methods the schema marks idempotent. Default true.
    public var retryEnabled: Bool

    public init(
        timeout: Duration? = nil, metadata: Metadata = Metadata(), requestID: String? = nil, retryEnabled: Bool = true
    ) {
        self.timeout = timeout
        self.metadata = metadata
        self.requestID = requestID
        self.retryEnabled = retryEnabled
    }
}
