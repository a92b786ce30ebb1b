import CZeroMQ
import Synchronization

/// What a ZAP handler decides about one connection's handshake.
struct ZAPDecision: Sendable {
    /// "200" admits the connection; "400" refuses it (the client is told, and libzmq's client gives up on it).
    let status: String
    let text: String
    /// Given back by libzmq with every message of an admitted connection (`zmq_msg_gets(…, "User-Id")`).
    let userID: String

    static func admit(userID: String) -> ZAPDecision { ZAPDecision(status: "200", text: "OK", userID: userID) }
    static func refuse(_ text: String) -> ZAPDecision { ZAPDecision(status: "400", text: text, userID: "") }
}

/// Decides the handshakes of the sockets of one ZAP domain.
protocol ZAPAuthenticator: AnyObject, Sendable {
    /// Called on the ZAP handler's thread for every CURVE handshake of the domain's sockets: must not block.
    func authenticate(mechanism: String, credentials: [[UInt8]], address: String) -> ZAPDecision
}

/// The process's ZAP handler (ZeroMQ RFC 27): the socket bound to `inproc://zeromq.zap.01` that libzmq asks, for
/// every handshake on a socket with a ZAP domain, whether to admit the client.
///
/// libzmq 4.3 admits every CURVE client when no handler is bound, so the handler starts before the first CURVE
/// server binds and runs for the rest of the process (servers also check each call's `User-Id`, which only the
/// handler sets, so a missing handler refuses calls instead of admitting them). One context has one handler; each
/// server's sockets name their authenticator by their ZAP domain.
final class ZAPHandler: Sendable {
    static let shared = ZAPHandler()
    static let endpoint = "inproc://zeromq.zap.01"

    private struct State {
        var started = false
        var authenticators: [String: Registration] = [:]
        var domainsMade = 0
    }

    private struct Registration {
        let authenticator: any ZAPAuthenticator
        var count: Int
    }

    private let state = Mutex(State())

    private init() {}

    /// A ZAP domain no other server of this process uses: "fairtrade", then "fairtrade.2", "fairtrade.3", …
    func makeDomain() -> String {
        state.withLock { state in
            state.domainsMade += 1
            return state.domainsMade == 1 ? "fairtrade" : "fairtrade.\(state.domainsMade)"
        }
    }

    /// Routes `domain`'s handshakes to `authenticator`, starting the handler first if it is not running. Sockets of
    /// the domain may bind once this returns. Registered once per socket; `unregister` as often.
    func register(_ authenticator: any ZAPAuthenticator, domain: String) throws {
        let mustStart = state.withLock { state in
            state.authenticators[domain, default: Registration(authenticator: authenticator, count: 0)].count += 1
            defer { state.started = true }
            return !state.started
        }
        if mustStart {
            do {
                try LoopThread.start(name: "rpc-zap") { ready in self.run(ready: ready) }
            } catch {
                state.withLock { $0.started = false }
                throw error
            }
        }
    }

    func unregister(domain: String) {
        state.withLock { state in
            guard var registration = state.authenticators[domain] else { return }
            registration.count -= 1
            state.authenticators[domain] = registration.count > 0 ? registration : nil
        }
    }

    private func authenticator(for domain: String) -> (any ZAPAuthenticator)? {
        state.withLock { $0.authenticators[domain]?.authenticator }
    }

    /// The handler's loop: a REP socket answering one request at a time, for as long as the process runs.
    private func run(ready: (Result<Void, any Error>) -> Void) {
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(type: ZMQ_REP)
            try socket.set(ZMQ_LINGER, Int32(0))
            do {
                _ = try socket.bind(Self.endpoint)
            } catch {
                socket.close()
                throw error
            }
        } catch {
            ready(.failure(RPCError(.internalError, "cannot start the ZAP handler: \(error)")))
            return
        }
        ready(.success(()))
        var poller = Poller()
        poller.add(socket)
        while true {
            guard poller.poll(timeoutMillis: -1, busyPoll: .zero), poller.isReadable(0) else { continue }
            while let request = try? socket.receive(maxFrames: 16) {
                try? socket.send(answer(request))
            }
        }
    }

    /// The reply to one ZAP request: version, request id, status code, status text, user id, metadata.
    private func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
        let requestID = frames.count > 1 ? frames[1] : []
        func reply(_ decision: ZAPDecision) -> [[UInt8]] {
            [
                Array("1.0".utf8), requestID, Array(decision.status.utf8), Array(decision.text.utf8),
                Array(decision.userID.utf8), [],
            ]
        }
        // version, request id, domain, address, routing id, mechanism, credentials…
        guard frames.count >= 6, String(decoding: frames[0], as: UTF8.self) == "1.0" else {
            return reply(.refuse("malformed ZAP request"))
        }
        let domain = String(decoding: frames[2], as: UTF8.self)
        guard let authenticator = authenticator(for: domain) else {
            return reply(.refuse("no server authenticates the ZAP domain \"\(domain)\""))
        }
        return reply(
            authenticator.authenticate(
                mechanism: String(decoding: frames[5], as: UTF8.self), credentials: Array(frames.dropFirst(6)),
                address: String(decoding: frames[3], as: UTF8.self)))
    }
}
