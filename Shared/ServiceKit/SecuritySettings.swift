import ArgumentParser
import Foundation
import Logging
import RPC

/// A process's CURVE settings: its own key, the keys it admits (servers), the policy, and whether it may serve
/// beyond loopback without keys.
///
/// | flag | environment | meaning |
/// |---|---|---|
/// | `--key FILE` | `FT_KEY_FILE` | the process's secret certificate (`NAME.key_secret`, mode 0600) |
/// | `--authorized-keys DIR` | `FT_AUTHORIZED_KEYS_DIR` | a server's folder of public certificates to admit |
/// | `--policy FILE` | `FT_POLICY_FILE` | an authorization policy refining the roles' defaults |
/// | `--insecure` | | serve without keys on an address other than loopback (warned at start) |
/// | | `FT_<SERVICE>_PUBLIC_KEY` | the public certificate of the service to call (`NAME.key`) |
public struct SecuritySettings: Sendable {
    public var keyFile: String?
    public var authorizedKeysDirectory: String?
    public var policyFile: String?
    public var insecure = false

    public init(
        keyFile: String? = nil, authorizedKeysDirectory: String? = nil, policyFile: String? = nil,
        insecure: Bool = false
    ) {
        self.keyFile = keyFile
        self.authorizedKeysDirectory = authorizedKeysDirectory
        self.policyFile = policyFile
        self.insecure = insecure
    }

    /// Whether the process uses CURVE.
    public var usesCurve: Bool { keyFile != nil }

    /// Checks that a server's settings go together and that it does not serve beyond loopback in clear text
    /// without being told to (`--insecure`).
    func checkServer(_ executable: String, endpoints: [String]) throws {
        if insecure && keyFile != nil {
            throw ValidationError("--insecure serves without CURVE keys: it cannot go with --key")
        }
        if keyFile != nil && authorizedKeysDirectory == nil {
            throw ValidationError(
                "\(executable) has a key (--key) but no --authorized-keys DIR (FT_AUTHORIZED_KEYS_DIR): "
                    + "the folder of the public certificates of the clients it admits")
        }
        if keyFile == nil && authorizedKeysDirectory != nil {
            throw ValidationError(
                "\(executable) has --authorized-keys but no key of its own: give --key FILE (FT_KEY_FILE), its secret "
                    + "certificate")
        }
        if policyFile != nil && keyFile == nil {
            throw ValidationError("--policy applies to callers' keys: it needs --key and --authorized-keys")
        }
        let exposed = endpoints.filter { !Self.isLocal($0) }
        if keyFile == nil && !insecure && !exposed.isEmpty {
            throw ValidationError(
                """
                \(executable) refuses to serve \(exposed.joined(separator: ", ")) without CURVE keys: anyone who \
                reaches that address could read and change everything, in clear text. Make keys with \
                `ftadmin keys generate \(executable) --role service --out DIR` (and one per client), put the clients' \
                public certificates (NAME.key) in a folder, and start with --key DIR/\(executable).key_secret \
                --authorized-keys FOLDER; or bind loopback only; or pass --insecure to accept the risk.
                """)
        }
    }

    /// An endpoint only this host can reach: loopback TCP, a local socket, or in-process.
    public static func isLocal(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        var address = endpoint.dropFirst("tcp://".count)
        // libzmq's "tcp://source;destination" binds the destination.
        if let semicolon = address.lastIndex(of: ";") { address = address[address.index(after: semicolon)...] }
        guard let colon = address.lastIndex(of: ":") else { return false }
        let host = address[..<colon]
        if ["localhost", "lo", "::1", "[::1]"].contains(host) { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The server side: the process's key pair, the keys it admits and the policy, read and checked; nil without
    /// a key.
    public func serverSecurity(logger: Logger) throws -> ServerSecurity? {
        guard let keyFile else { return nil }
        do {
            return try ServerSecurity(
                keyFile: keyFile, authorizedKeysDirectory: authorizedKeysDirectory ?? "", policyFile: policyFile,
                logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The client side of calls to `service`: this process's key and the service's public certificate, from
    /// `FT_<SERVICE>_PUBLIC_KEY`; nil when neither is set. One without the other is an error saying what is
    /// missing.
    public func clientSecurity(for service: ServiceAddress, environment: [String: String]) throws -> ClientSecurity? {
        let variable = service.publicKeyEnvironmentVariable
        let serverKeyFile = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        switch (keyFile, serverKeyFile) {
        case (nil, nil):
            return nil
        case (nil, let file?):
            throw ValidationError(
                "\(variable) names \(service.executable)'s public certificate (\(file)), but this process has no key "
                    + "of its own to call it with: give --key FILE (FT_KEY_FILE)")
        case (_?, nil):
            throw ValidationError(
                "\(variable) is not set: give it the path of \(service.executable)'s public certificate "
                    + "(\(service.executable).key), so that calls to it go over CURVE to the server you expect")
        case (let keyFile?, let file?):
            do {
                let own = try CurveCertificate.read(secretFile: keyFile)
                let server = try CurveCertificate.read(publicFile: file)
                return ClientSecurity(
                    certificate: own, serverKey: server.publicKey, serverKeySource: "\(variable) (\(file))")
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }
}

extension ServiceAddress {
    /// The environment variable naming the service's public certificate, e.g. FT_PRODUCER_PUBLIC_KEY.
    public var publicKeyEnvironmentVariable: String {
        environmentVariable.replacingOccurrences(of: "_ENDPOINTS", with: "_PUBLIC_KEY")
    }
}
