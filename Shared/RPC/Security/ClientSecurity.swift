/// What makes a client's connections CURVE clients: its own key pair, and the public key of the server it expects
/// (the instances of one service may share one key pair, so one server key serves every endpoint of a channel).
public struct ClientSecurity: Sendable {
    public let keyPair: CurveKeyPair
    /// The client key's name, for messages.
    public let keyName: String
    public let serverKey: CurvePublicKey
    /// Where the server's key came from, for messages, e.g. `FT_PRODUCER_PUBLIC_KEY (/etc/fairtrade/keys/…)`.
    public let serverKeySource: String

    /// `certificate` is the client's secret certificate.
    public init(certificate: CurveCertificate, serverKey: CurvePublicKey, serverKeySource: String) {
        precondition(certificate.keyPair != nil, "a client needs its secret certificate")
        self.keyPair = certificate.keyPair!
        self.keyName = certificate.name ?? certificate.publicKey.z85
        self.serverKey = serverKey
        self.serverKeySource = serverKeySource
    }
}
