import API
import RPC
import Schema

/// `fairtrade.admin.v1.AccessAdmin`, served by every process: the keys it admits, what it could not admit and the
/// policy in force, as last read (`ftadmin keys list`).
public struct AccessAdminService: AdminV1.AccessAdminHandler {
    let security: ServerSecurity?

    public init(security: ServerSecurity?) { self.security = security }

    public func listAuthorizedKeys(_ request: AdminV1.ListAuthorizedKeysRequest, context: ServerContext) async throws
        -> AdminV1.ListAuthorizedKeysResponse
    {
        guard let security else { return AdminV1.ListAuthorizedKeysResponse(curve: false) }
        let snapshot = security.authorizedKeys.current
        let policy = security.currentPolicy
        return AdminV1.ListAuthorizedKeysResponse(
            curve: true, serverPublicKey: security.certificate.publicKey.z85,
            serverKeyName: security.certificate.name ?? "", directory: security.authorizedKeys.directory,
            loadedAt: CommonV1.Timestamp(unixMicros: snapshot.loadedAtUnixMicros),
            keys: snapshot.keys.map {
                AdminV1.AuthorizedKey(name: $0.name, role: $0.role.rawValue, publicKey: $0.publicKey.z85, file: $0.file)
            },
            problems: snapshot.problems.map { AdminV1.KeyProblem(file: $0.file, problem: $0.problem) },
            policyFile: security.policyFile ?? "",
            policyRules: policy?.rules.map { "line \($0.line): \($0)" } ?? [])
    }
}
