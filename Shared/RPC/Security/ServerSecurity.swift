import Foundation
import Logging
import Metrics
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What makes a server's sockets CURVE servers, and who may call what: the server's own key pair, the folder of
/// the keys it admits, and an optional authorization policy. One instance serves every socket of a process (its
/// RPC server and its event publisher), which then share one ZAP domain.
///
/// The keys and the policy are read again without a restart: on `reload()` (SIGHUP, in the services) and, when
/// watching, as soon as a periodic check sees a file change. A key removed is refused from its next call on, even on
/// a connection that was admitted before; a policy that does not parse is refused and the one in force stays.
public final class ServerSecurity: Sendable {
    /// The server's own secret certificate.
    public let certificate: CurveCertificate
    public let authorizedKeys: AuthorizedKeys
    public let policyFile: String?
    let keyPair: CurveKeyPair
    let zapDomain: String
    let logger: Logger
    private let policy: Mutex<Loaded>
    private let watcher = Mutex<Task<Void, Never>?>(nil)
    private let refusals = RateLimitedLog(linesPerWindow: 5, window: .seconds(10))
    private let unknownKeys = Counter(
        label: ServerMetrics.Label.refusedHandshakes, dimensions: [("reason", "unknown_key")])

    private struct Loaded {
        var policy: AuthorizationPolicy?
        var stamp: AuthorizedKeys.FileStamp?
    }

    /// Reads the server's secret certificate, the authorized keys folder and the policy; throws naming the file
    /// (and line) at fault, so that a server never starts with keys or a policy it cannot use.
    public convenience init(
        keyFile: String, authorizedKeysDirectory: String, policyFile: String? = nil, logger: Logger
    ) throws(CertificateError) {
        let certificate = try CurveCertificate.read(secretFile: keyFile)
        let keys = try AuthorizedKeys(directory: authorizedKeysDirectory)
        let policy = try policyFile.map { (file) throws(CertificateError) in try AuthorizationPolicy.read(file: file) }
        self.init(
            certificate: certificate, authorizedKeys: keys, policy: policy, policyFile: policyFile, logger: logger)
    }

    /// From what has been read already; `certificate` must be a secret one.
    public init(
        certificate: CurveCertificate, authorizedKeys: AuthorizedKeys, policy: AuthorizationPolicy? = nil,
        policyFile: String? = nil, logger: Logger
    ) {
        precondition(certificate.keyPair != nil, "a server needs its secret certificate")
        self.certificate = certificate
        self.keyPair = certificate.keyPair!
        self.authorizedKeys = authorizedKeys
        let file = policyFile ?? policy?.file
        self.policyFile = file
        self.policy = Mutex(Loaded(policy: policy, stamp: file.flatMap(Self.stamp)))
        self.zapDomain = ZAPHandler.shared.makeDomain()
        self.logger = logger
        for problem in authorizedKeys.current.problems {
            logger.warning(
                "authorized key not admitted", metadata: ["file": "\(problem.file)", "problem": "\(problem.problem)"])
        }
    }

    /// The policy in force, if any.
    public var currentPolicy: AuthorizationPolicy? { policy.withLock { $0.policy } }

    // MARK: reloading

    /// What a reading of the keys and the policy changed; `policyError` when the policy file no longer parses (the
    /// policy in force stays).
    public struct Reload: Sendable {
        public let keys: AuthorizedKeys.Change?
        public let policyReloaded: Bool
        public let policyError: CertificateError?
    }

    /// Reads the keys folder and the policy file again, whether or not they changed.
    @discardableResult
    public func reload() -> Reload { refresh(force: true) }

    /// Reads again what changed since the last reading (the periodic check).
    @discardableResult
    public func refresh(force: Bool = false) -> Reload {
        let change = authorizedKeys.refresh(force: force)
        if let change, !change.isEmpty || force {
            logger.notice(
                "authorized keys read",
                metadata: [
                    "directory": "\(authorizedKeys.directory)", "keys": "\(authorizedKeys.current.keys.count)",
                    "added": "\(change.added.map { "\($0.name) (\($0.role))" }.joined(separator: ", "))",
                    "removed": "\(change.removed.map { "\($0.name) (\($0.role))" }.joined(separator: ", "))",
                ])
            for problem in change.problems {
                logger.warning(
                    "authorized key not admitted",
                    metadata: ["file": "\(problem.file)", "problem": "\(problem.problem)"])
            }
        }
        guard let policyFile else { return Reload(keys: change, policyReloaded: false, policyError: nil) }
        let stamp = Self.stamp(policyFile)
        guard force || stamp != policy.withLock({ $0.stamp }) else {
            return Reload(keys: change, policyReloaded: false, policyError: nil)
        }
        do {
            let next = try AuthorizationPolicy.read(file: policyFile)
            policy.withLock { $0 = Loaded(policy: next, stamp: stamp) }
            logger.notice(
                "authorization policy read", metadata: ["file": "\(policyFile)", "rules": "\(next.rules.count)"])
            return Reload(keys: change, policyReloaded: true, policyError: nil)
        } catch {
            // Remembered, so that the periodic check reports a broken file once, not every second.
            policy.withLock { $0.stamp = stamp }
            logger.error(
                "authorization policy refused; the previous one stays in force", metadata: ["error": "\(error)"])
            return Reload(keys: change, policyReloaded: false, policyError: error)
        }
    }

    /// Checks the files every `interval` and reads what changed, until `stopWatching()`: a key added is admitted,
    /// and a key removed refused, within about one interval.
    public func startWatching(every interval: Duration = .seconds(1)) {
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                self.refresh()
            }
        }
        watcher.withLock { previous in
            previous?.cancel()
            previous = task
        }
    }

    public func stopWatching() {
        watcher.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    deinit { watcher.withLock { $0?.cancel() } }

    static func stamp(_ file: String) -> AuthorizedKeys.FileStamp? {
        var status = stat()
        guard stat(file, &status) == 0 else { return nil }
        return AuthorizedKeys.FileStamp(
            inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modified: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec))
    }

    // MARK: per call

    /// The caller of a message whose connection libzmq admitted with `userID` (the client's public key, as the
    /// ZAP handler answered it) from `address`; nil with the reason when the key is not admitted now.
    func identify(userID: String?, address: String) -> Result<Caller, RefusedKey> {
        guard let userID, !userID.isEmpty else {
            return .failure(RefusedKey(reason: "the connection was not authenticated (no ZAP answer)"))
        }
        guard let key = authorizedKeys.current.key(userID) else {
            return .failure(
                RefusedKey(reason: "the client's key \(userID) is no longer among the server's authorized keys"))
        }
        return .success(Caller(keyName: key.name, role: key.role, publicKey: key.publicKey, address: address))
    }

    struct RefusedKey: Error {
        let reason: String
    }

    /// Whether `caller` may call `service`/`method`, whose roles are `roles`; the refusal names the role, the
    /// method and what would allow it.
    func authorize(_ caller: Caller, service: String, method: String, roles: RoleSet) -> String? {
        let byDefault = roles.contains(caller.role)
        guard let policy = currentPolicy else {
            return byDefault ? nil : Self.refusal(caller, service, method, roles)
        }
        let (allowed, rule) = policy.decide(caller, service: service, method: method, byDefault: byDefault)
        if allowed { return nil }
        if let rule {
            return "\(caller) may not call \(service)/\(method): denied by \(policy.file), line \(rule.line) (\(rule))"
        }
        return Self.refusal(caller, service, method, roles)
    }

    private static func refusal(_ caller: Caller, _ service: String, _ method: String, _ roles: RoleSet) -> String {
        let needed = roles.roles.map(\.rawValue)
        return "\(caller) may not call \(service)/\(method): it needs the role "
            + (needed.count == 1 ? needed[0] : needed.dropLast().joined(separator: ", ") + " or " + needed.last!)
    }
}

extension ServerSecurity: ZAPAuthenticator {
    func authenticate(mechanism: String, credentials: [[UInt8]], address: String) -> ZAPDecision {
        guard mechanism == "CURVE", let key = credentials.first, key.count == 32 else {
            return .refuse("CURVE required")
        }
        let publicKey = Z85.encode(key)
        if authorizedKeys.current.key(publicKey) != nil { return .admit(userID: publicKey) }
        unknownKeys.increment()
        refusals.log(logger) { logger, suppressed in
            logger.warning(
                "handshake refused: unknown key",
                metadata: [
                    "peer_address": "\(address)", "public_key": "\(publicKey)",
                    "not_logged_before": "\(suppressed)",
                ])
        }
        return .refuse("the client's key is not among the server's authorized keys")
    }
}

/// Logs at most `linesPerWindow` lines per window, and counts the lines it left out for the next one, so that a
/// flood of refused peers cannot flood the log.
final class RateLimitedLog: Sendable {
    private struct State {
        var windowStart = ContinuousClock.now
        var lines = 0
        var suppressed = 0
    }

    private let state = Mutex(State())
    let linesPerWindow: Int
    let window: Duration

    init(linesPerWindow: Int, window: Duration) {
        self.linesPerWindow = linesPerWindow
        self.window = window
    }

    /// Calls `write` with the count of lines left out since the last one written, unless the window is full.
    func log(_ logger: Logger, _ write: (Logger, Int) -> Void) {
        let suppressed: Int? = state.withLock { state in
            let now = ContinuousClock.now
            if now - state.windowStart >= window {
                state.windowStart = now
                state.lines = 0
            }
            guard state.lines < linesPerWindow else {
                state.suppressed += 1
                return nil
            }
            state.lines += 1
            defer { state.suppressed = 0 }
            return state.suppressed
        }
        if let suppressed { write(logger, suppressed) }
    }
}
