import Schema

/// A unary method of a service: its names, its message types, and whether it is safe to retry.
///
/// Generated per method from the .proto files, so that service code never builds method names from strings.
public struct UnaryMethod<Request: ProtoMessage, Response: ProtoMessage>: Sendable, Hashable {
    /// The fully qualified service name.
    public let service: String
    public let method: String
    /// Marked NO_SIDE_EFFECTS or IDEMPOTENT in the .proto: the client retries it on UNAVAILABLE.
    public let idempotent: Bool

    public init(service: String, method: String, idempotent: Bool) {
        self.service = service
        self.method = method
        self.idempotent = idempotent
    }

    /// `service/method`, as logs and metrics name it.
    public var fullName: String { "\(service)/\(method)" }
}
