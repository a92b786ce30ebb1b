import CZeroMQ

/// A CURVE public key (RFC 26): 32 bytes, written as 40 characters of Z85 (ZeroMQ's base-85).
public struct CurvePublicKey: Hashable, Sendable, CustomStringConvertible {
    /// The key in Z85, 40 characters.
    public let z85: String

    /// The key in Z85, or nil when `text` is not 40 characters of Z85.
    public init?(z85 text: String) {
        guard Z85.decode(text) != nil else { return nil }
        self.z85 = text
    }

    /// The 32 bytes of the key.
    var bytes: [UInt8] { Z85.decode(z85)! }

    public var description: String { z85 }
}

/// A CURVE key pair: the public key, which others may know, and the secret key, which never leaves its owner.
public struct CurveKeyPair: Sendable {
    public let publicKey: CurvePublicKey
    /// The secret key in Z85; kept out of `description` and logs.
    let secretZ85: String

    /// A new key pair from libzmq's `zmq_curve_keypair` (libsodium's random source).
    public static func generate() -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        let result = zmq_curve_keypair(&publicKey, &secretKey)
        precondition(result == 0, "zmq_curve_keypair failed: libzmq was built without CURVE")
        return CurveKeyPair(
            publicKey: CurvePublicKey(z85: Z85.string(publicKey))!, secretZ85: Z85.string(secretKey))
    }

    /// The pair for a secret key in Z85; nil when it is not a key. The public key is derived from it.
    public init?(secretZ85: String) {
        guard Z85.decode(secretZ85) != nil else { return nil }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secretZ85) == 0 else { return nil }
        self.init(publicKey: CurvePublicKey(z85: Z85.string(publicKey))!, secretZ85: secretZ85)
    }

    private init(publicKey: CurvePublicKey, secretZ85: String) {
        self.publicKey = publicKey
        self.secretZ85 = secretZ85
    }

    /// The 32 bytes of the secret key.
    var secretBytes: [UInt8] { Z85.decode(secretZ85)! }
}

/// ZeroMQ's Z85 encoding of keys (RFC 32), through libzmq's own functions.
enum Z85 {
    /// The 32 bytes a 40-character Z85 key stands for, or nil.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 40, utf8.allSatisfy({ alphabet.contains($0) }) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        let decoded = text.withCString { zmq_z85_decode(&bytes, $0) }
        return decoded == nil ? nil : bytes
    }

    /// 40 characters of Z85 for 32 bytes.
    static func encode(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 32, "a CURVE key is 32 bytes")
        var text = [CChar](repeating: 0, count: 41)
        _ = bytes.withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, 32) }
        return string(text)
    }

    static func string(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The 85 characters of Z85.
    private static let alphabet = Set(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
}
