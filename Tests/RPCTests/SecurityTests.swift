import API
import Foundation
import Interop
import RPC
import Schema
import ServiceKit
import Synchronization
import TestSupport
import Testing

/// CURVE on the wire and who may call what, against a real server on real sockets: handshakes refused for unknown
/// keys, clients without CURVE and wrong server keys; roles per method; keys added and revoked while the server
/// runs; the policy file.
@Suite("Security: CURVE keys, roles, policy", .serialized)
struct SecurityTests {
    /// The keys of most tests: the server's, and one client of each role.
    static func ring() throws -> KeyRing {
        try KeyRing([
            ("test-server", .service), ("alice", .editor), ("rita", .reader), ("ada", .admin), ("svc", .service),
        ])
    }

    /// A TestService server whose socket is a CURVE server with `security`; refused calls go to `refusals`.
    func withSecureServer<T>(
        _ security: ServerSecurity, refusals: RefusalLog = RefusalLog(),
        _ body: (_ endpoint: String, _ service: TestService) async throws -> T
    ) async throws -> T {
        _ = testMetrics
        let service = TestService(logger: testLogger)
        var configuration = ServiceConfiguration(endpoints: ["tcp://127.0.0.1:*"])
        configuration.busyPoll = .zero
        let (server, _) = ServiceProcess.makeServer(
            name: "secure-test-server", configuration: configuration, services: [service.registration],
            metrics: testMetrics, logger: testLogger, security: security, onRefusal: refusals.record)
        let endpoint = try server.start()[0]
        let result: Result<T, any Error>
        do { result = .success(try await body(endpoint, service)) } catch { result = .failure(error) }
        server.beginGracefulShutdown()
        await server.waitUntilFinished()
        return try result.get()
    }

    /// A channel with `security` (nil: no CURVE).
    func channel(_ endpoint: String, _ security: ClientSecurity?) throws -> ClientChannel {
        try ClientChannel(
            endpoints: [endpoint],
            configuration: .init(defaultTimeout: .seconds(10), targetName: "test-server", security: security),
            logger: testLogger)
    }

    /// The calls a server refused, as its `onRefusal` heard them.
    final class RefusalLog: Sendable {
        private let calls = Mutex<[RefusedCall]>([])
        @Sendable func record(_ call: RefusedCall) { calls.withLock { $0.append(call) } }
        var all: [RefusedCall] { calls.withLock { $0 } }
    }

    @Test("an admitted key is served, and its name and role reach the handler")
    func admitted() async throws {
        let keys = try Self.ring()
        try await withSecureServer(try keys.serverSecurity("test-server")) { endpoint, _ in
            let channel = try channel(endpoint, keys.clientSecurity("alice", server: "test-server"))
            defer { channel.close() }
            let answer = try await TestingV1.TestServiceClient(channel: channel).unaryCall(
                TestingV1.SimpleRequest(text: "hello"))
            #expect(answer.text == "hello")
            #expect(answer.callerKeyName == "alice")
            #expect(answer.callerRole == "editor")
        }
    }

    @Test("an unknown key, a client without CURVE and a wrong server key are refused UNAUTHENTICATED at once")
    func refusedHandshakes() async throws {
        let keys = try Self.ring()
        try keys.add("stranger", .admin, admit: false)
        try await withSecureServer(try keys.serverSecurity("test-server")) { endpoint, _ in
            let cases: [(String, ClientSecurity?, String)] = [
                (
                    "unknown key", keys.clientSecurity("stranger", server: "test-server"),
                    "not among its authorized keys"
                ),
                ("no CURVE", nil, "requires CURVE"),
                ("wrong server key", keys.clientSecurity("alice", server: "ada"), "server's public key is not the one"),
            ]
            for (name, security, expected) in cases {
                let channel = try channel(endpoint, security)
                defer { channel.close() }
                let start = ContinuousClock.now
                let error = await failure {
                    try await TestingV1.TestServiceClient(channel: channel).emptyCall(CommonV1.Empty())
                }
                let elapsed = ContinuousClock.now - start
                #expect(error?.code == .unauthenticated, "\(name): \(String(describing: error))")
                #expect(error?.message.contains(expected) == true, "\(name): \(String(describing: error))")
                // The call's deadline is 10 s: a refusal must not wait for it.
                #expect(elapsed < .seconds(1), "\(name) took \(elapsed)")
            }
        }
    }

    @Test("a role may call only its methods: PERMISSION_DENIED names the role and the method, and nothing runs")
    func roles() async throws {
        let keys = try Self.ring()
        let refusals = RefusalLog()
        try await withSecureServer(try keys.serverSecurity("test-server"), refusals: refusals) { endpoint, service in
            let reader = try channel(endpoint, keys.clientSecurity("rita", server: "test-server"))
            let editor = try channel(endpoint, keys.clientSecurity("alice", server: "test-server"))
            defer {
                reader.close()
                editor.close()
            }
            let readerClient = TestingV1.TestServiceClient(channel: reader)
            let denied = await failure { try await readerClient.incrementCounter(TestingV1.CountRequest()) }
            #expect(denied?.code == .permissionDenied)
            #expect(denied?.message.contains("role reader") == true, "\(String(describing: denied))")
            #expect(denied?.message.contains("fairtrade.testing.v1.TestService/IncrementCounter") == true)
            #expect(service.count == 0, "the handler ran for a refused call")
            // A reader may still call what is marked NO_SIDE_EFFECTS, and health answers every admitted key.
            _ = try await readerClient.emptyCall(CommonV1.Empty())
            #expect(try await HealthV1.HealthClient(channel: reader).check(.init()).status == .serving)
            // The key listing is the admin's.
            let listing = await failure {
                try await AdminV1.AccessAdminClient(channel: editor).listAuthorizedKeys(.init())
            }
            #expect(listing?.code == .permissionDenied)
            _ = try await TestingV1.TestServiceClient(channel: editor).incrementCounter(TestingV1.CountRequest())
            #expect(service.count == 1)
            let refused = refusals.all
            #expect(refused.count == 2, "\(refused)")
            #expect(refused.first?.caller?.keyName == "rita")
            #expect(refused.first?.method == "IncrementCounter")
            #expect(refused.allSatisfy { $0.code == .permissionDenied })
        }
    }

    @Test("a key added while the server runs is admitted, and a removed one refused from its next call on")
    func keysChangeWithoutRestart() async throws {
        let keys = try Self.ring()
        try keys.add("newcomer", .reader, admit: false)
        let security = try keys.serverSecurity("test-server")
        let refusals = RefusalLog()
        try await withSecureServer(security, refusals: refusals) { endpoint, _ in
            let alice = try channel(endpoint, keys.clientSecurity("alice", server: "test-server"))
            let newcomer = try channel(endpoint, keys.clientSecurity("newcomer", server: "test-server"))
            defer {
                alice.close()
                newcomer.close()
            }
            let aliceClient = TestingV1.TestServiceClient(channel: alice)
            _ = try await aliceClient.emptyCall(CommonV1.Empty())
            let before = await failure {
                try await TestingV1.TestServiceClient(channel: newcomer).emptyCall(CommonV1.Empty())
            }
            #expect(before?.code == .unauthenticated)

            // The periodic check notices both changes by itself.
            security.startWatching(every: .milliseconds(100))
            defer { security.stopWatching() }
            try keys.admit("newcomer")
            try keys.revoke("alice")
            // alice's connection was admitted before: her next call is refused all the same.
            var aliceRefused: RPCError?
            for _ in 0..<50 where aliceRefused == nil {
                aliceRefused = await failure { try await aliceClient.emptyCall(CommonV1.Empty()) }
                if aliceRefused == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(aliceRefused?.code == .unauthenticated)
            #expect(aliceRefused?.message.contains("no longer among the server's authorized keys") == true)
            #expect(refusals.all.contains { $0.code == .unauthenticated })
            // The newcomer's channel connects again by itself (libzmq gave up on the refused handshake).
            var admitted = false
            for _ in 0..<100 where !admitted {
                admitted =
                    (try? await TestingV1.TestServiceClient(channel: newcomer).emptyCall(CommonV1.Empty())) != nil
                if !admitted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(admitted, "the newcomer was not admitted within 5 s of its key being added")
        }
    }

    @Test("a policy refines the roles: deny wins, allow adds; a policy that does not parse names its line")
    func policy() async throws {
        let keys = try Self.ring()
        let file = keys.folder.appendingPathComponent("policy").path
        try """
        # alice may not increment, though editors may; readers may.
        deny  key:alice    fairtrade.testing.v1.TestService/IncrementCounter
        allow role:reader  fairtrade.testing.v1.TestService/IncrementCounter
        allow key:alice    fairtrade.testing.v1.TestService/IncrementCounter
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let policy = try AuthorizationPolicy.read(file: file)
        let security = ServerSecurity(
            certificate: keys.certificates["test-server"]!,
            authorizedKeys: try AuthorizedKeys(directory: keys.authorized),
            policy: policy, logger: quietLogger)
        try await withSecureServer(security) { endpoint, service in
            let alice = try channel(endpoint, keys.clientSecurity("alice", server: "test-server"))
            let rita = try channel(endpoint, keys.clientSecurity("rita", server: "test-server"))
            defer {
                alice.close()
                rita.close()
            }
            let denied = await failure {
                try await TestingV1.TestServiceClient(channel: alice).incrementCounter(.init())
            }
            #expect(denied?.code == .permissionDenied)
            #expect(denied?.message.contains("line 2") == true, "\(String(describing: denied))")
            _ = try await TestingV1.TestServiceClient(channel: rita).incrementCounter(.init())
            #expect(service.count == 1)

            // A broken policy is refused on reload, naming its line, and the one in force stays.
            try "allow role:reader fairtrade.testing.v1.TestService/Nope\n".write(
                toFile: file, atomically: true, encoding: .utf8)
            let reload = security.reload()
            #expect(reload.policyError?.line == 1)
            #expect(reload.policyError?.problem.contains("\"Nope\" is not a method") == true)
            _ = try await TestingV1.TestServiceClient(channel: rita).incrementCounter(.init())
            #expect(service.count == 2)
        }
        let errors: [(String, String)] = [
            ("allow role:readers *", "role \"readers\" is not one of"),
            ("permit * *", "neither allow nor deny"),
            ("deny key:x fairtrade.nope.v1.X/Y", "is not a service of the schema"),
            ("deny *", "a rule is three words"),
        ]
        for (text, expected) in errors {
            #expect {
                _ = try AuthorizationPolicy.parse("# comment\n\n" + text + "\n", file: "p")
            } throws: { error in
                guard let error = error as? CertificateError else { return false }
                return error.line == 3 && error.problem.contains(expected)
            }
        }
    }

    @Test("certificates: zcert's format, a secret file others can read is refused, and broken files say why")
    func certificates() throws {
        let keys = try KeyRing([("ops", .admin)])
        let secret = keys.secretFile("ops")
        let read = try CurveCertificate.read(secretFile: secret)
        #expect(read.name == "ops")
        #expect(read.role == .admin)
        #expect(read.publicKey == keys.certificates["ops"]!.publicKey)
        #expect(read.keyPair != nil)
        let text = try String(contentsOfFile: keys.publicFile("ops"), encoding: .utf8)
        #expect(text.contains("metadata\n    name = \"ops\"\n    role = \"admin\"\ncurve\n    public-key = \""))
        #expect(!text.contains("secret-key"))
        #expect((try FileManager.default.attributesOfItem(atPath: secret)[.posixPermissions] as? Int) == 0o600)

        chmod(secret, 0o644)
        #expect {
            _ = try CurveCertificate.read(secretFile: secret)
        } throws: { error in
            let text = "\(error)"
            return text.contains(secret) && text.contains("readable by others") && text.contains("chmod 600")
        }
        // A secret certificate in the authorized keys folder is not admitted.
        try FileManager.default.copyItem(atPath: secret, toPath: keys.authorized + "/leaked.key")
        let problems = try AuthorizedKeys(directory: keys.authorized).current.problems
        #expect(problems.contains { $0.file.hasSuffix("leaked.key") && $0.problem.contains("holds a secret key") })
        #expect(throws: CertificateError.self) {
            _ = try keys.certificates["ops"]!.write(directory: keys.folder.path, name: "ops")
        }
    }
}
