/// Logging metadata keys used by the runtime and the services, in one place.
public enum LogKey {
    public static let requestID = "request_id"
    public static let method = "rpc_method"
    public static let endpoint = "endpoint"
    public static let service = "service"
    /// The caller's key name and role (CURVE).
    public static let key = "key"
    public static let role = "role"
    public static let peerAddress = "peer_address"
}
