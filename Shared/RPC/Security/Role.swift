/// What a key may do, named in its certificate's metadata (`role = "editor"`).
///
/// Each method says in its .proto which roles may call it (docs/ACCESS.md); an authorization policy may refine
/// that for single keys or roles.
public enum Role: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// Everything: every change, backups, the audit trail and the key listing.
    case admin
    /// Every change to the field's data (creates, updates, records, imports, merges), and every read; no backups.
    case editor
    /// Only methods marked NO_SIDE_EFFECTS.
    case reader
    /// A service calling another: only the calls the services make on each other.
    case service
    /// The backup timer: backups and health checks.
    case backup

    public var description: String { rawValue }

    /// The roles in the order docs list them.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// A set of roles as one word, so that checking a call costs a mask.
public struct RoleSet: Sendable, Hashable {
    var bits: UInt8

    public init(_ roles: some Sequence<Role>) {
        bits = 0
        for role in roles { bits |= Self.bit(role) }
    }

    public func contains(_ role: Role) -> Bool { bits & Self.bit(role) != 0 }

    public var roles: [Role] { Role.allCases.filter(contains) }

    private static func bit(_ role: Role) -> UInt8 { 1 << UInt8(Role.allCases.firstIndex(of: role)!) }
}

/// Who made a call: the key the client proved it holds in the CURVE handshake, as the server's authorized keys name
/// it.
public struct Caller: Sendable, Hashable, CustomStringConvertible {
    /// The `name` of the key's certificate.
    public let keyName: String
    public let role: Role
    public let publicKey: CurvePublicKey
    /// The client's address as the server saw it (an IP address for tcp), "" when unknown.
    public let address: String

    public init(keyName: String, role: Role, publicKey: CurvePublicKey, address: String) {
        self.keyName = keyName
        self.role = role
        self.publicKey = publicKey
        self.address = address
    }

    public var description: String { "key \"\(keyName)\" (role \(role))" }
}

/// A call refused before it ran: its key was not admitted (UNAUTHENTICATED) or its role may not call the method
/// (PERMISSION_DENIED). Servers tell their `onRefusal` observer, which the services use for their audit trail.
public struct RefusedCall: Sendable {
    /// Nil when the key itself was refused.
    public let caller: Caller?
    public let service: String
    public let method: String
    public let requestID: String
    public let code: RPCError.Code
    public let message: String
    /// The client's address as the server saw it.
    public let address: String
}
