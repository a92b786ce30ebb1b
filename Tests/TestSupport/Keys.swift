import Foundation
import RPC

/// CURVE key pairs for a test, in a temporary folder removed when the ring goes: each key's `NAME.key` and
/// `NAME.key_secret`, and a folder of the public certificates a server admits.
public final class KeyRing: @unchecked Sendable {
    public let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-keys-\(UUID().uuidString)")
    /// The authorized keys folder: the keys `admit` put there.
    public var authorized: String { folder.appendingPathComponent("authorized").path }
    public private(set) var certificates: [String: CurveCertificate] = [:]

    /// Makes a key pair for each (name, role); those in `admitted` (all by default) go in the authorized folder.
    public init(_ keys: [(String, Role)], admitted: Set<String>? = nil) throws {
        try FileManager.default.createDirectory(atPath: authorized, withIntermediateDirectories: true)
        for (name, role) in keys {
            try add(name, role, admit: admitted?.contains(name) ?? true)
        }
    }

    /// A new key pair; with `admit`, its public certificate goes in the authorized folder.
    public func add(_ name: String, _ role: Role, admit: Bool = true) throws {
        let certificate = CurveCertificate.generate(name: name, role: role)
        _ = try certificate.write(directory: folder.path, name: name)
        certificates[name] = certificate
        if admit { try self.admit(name) }
    }

    /// Copies `name`'s public certificate into the authorized folder.
    public func admit(_ name: String) throws {
        let target = (authorized as NSString).appendingPathComponent(name + ".key")
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: publicFile(name), toPath: target)
    }

    /// Takes `name`'s public certificate out of the authorized folder.
    public func revoke(_ name: String) throws {
        try FileManager.default.removeItem(atPath: (authorized as NSString).appendingPathComponent(name + ".key"))
    }

    public func publicFile(_ name: String) -> String { folder.appendingPathComponent(name + ".key").path }
    public func secretFile(_ name: String) -> String { folder.appendingPathComponent(name + ".key_secret").path }

    /// What a server with `name`'s key needs, reading the authorized folder.
    public func serverSecurity(_ name: String, policy: AuthorizationPolicy? = nil) throws -> ServerSecurity {
        ServerSecurity(
            certificate: certificates[name]!, authorizedKeys: try AuthorizedKeys(directory: authorized), policy: policy,
            logger: quietLogger)
    }

    /// What a client with `name`'s key needs to call the server whose key is `server`.
    public func clientSecurity(_ name: String, server: String) -> ClientSecurity {
        ClientSecurity(
            certificate: certificates[name]!, serverKey: certificates[server]!.publicKey,
            serverKeySource: "\(server).key")
    }

    /// The environment a process needs to call each service over CURVE with `name`'s key, each service's key
    /// being the key of that name (`producer-service`, …) in this ring.
    public func clientEnvironment(_ name: String) -> [String: String] {
        var environment = ["FT_KEY_FILE": secretFile(name)]
        for (service, variable) in [
            ("producer-service", "FT_PRODUCER_PUBLIC_KEY"), ("assistance-service", "FT_ASSISTANCE_PUBLIC_KEY"),
            ("marketplace-info-service", "FT_MARKETPLACE_INFO_PUBLIC_KEY"),
        ] where certificates[service] != nil {
            environment[variable] = publicFile(service)
        }
        return environment
    }

    deinit { try? FileManager.default.removeItem(at: folder) }
}
