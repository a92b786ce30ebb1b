import API
import Foundation
import RPC
import Schema
import ServiceKit
import Storage
import Synchronization
import TestSupport
import Testing

/// The three services as processes with CURVE keys: who may change what, the audit trail of every change and
/// every refusal, what an eavesdropper sees, and the safe defaults at start.
@Suite("Security of the three services", .serialized)
struct ServiceSecurityTests {
    /// Each service's own key (role service) and a person of each role, all admitted by every service.
    static func ring() throws -> KeyRing {
        try KeyRing([
            ("producer-service", .service), ("assistance-service", .service), ("marketplace-info-service", .service),
            ("editor", .editor), ("rita", .reader), ("ada", .admin),
        ])
    }

    static let executables = ["producer-service", "marketplace-info-service", "assistance-service"]

    /// Every row of every table of a service's database but the audit trail's, as text: what a refused call must
    /// leave as it was.
    static func contents(_ file: String) async throws -> [String: [String]] {
        let database = try await openDatabase(.sqlite(path: file), migrations: [], logger: quietLogger)
        defer { Task { await database.close() } }
        return try await database.read { session in
            var tables: [String: [String]] = [:]
            for row in try await session.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
                let table = try row.text("name")
                // The health probe's row is rewritten every second: it holds nothing of the field's data.
                guard table != "audit_log", table != "sqlite_sequence", table != "ft_health_probe" else { continue }
                tables[table] = try await session.query("SELECT * FROM \(table) ORDER BY 1").map { "\($0)" }.sorted()
            }
            return tables
        }
    }

    /// The audit trail of a service's database: (key name, method, request id, status) per entry.
    static func audit(_ file: String) async throws -> [(key: String, method: String, requestID: String, status: String)]
    {
        let database = try await openDatabase(.sqlite(path: file), migrations: [], logger: quietLogger)
        defer { Task { await database.close() } }
        return try await database.query(
            "SELECT key_name, method, request_id, status FROM audit_log ORDER BY sequence", []
        ).map {
            (try $0.text("key_name"), try $0.text("method"), try $0.text("request_id"), try $0.text("status"))
        }
    }

    @Test("a reader's every mutating call, of the three services, is PERMISSION_DENIED and changes nothing")
    func readerChangesNothing() async throws {
        let keys = try Self.ring()
        let services = try await ThreeServices(keys: keys)
        let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment(as: "editor"))
        try #require(load.status == 0, "\(load.output)")
        var before: [String: [String: [String]]] = [:]
        for executable in Self.executables {
            before[executable] = try await Self.contents(services.databaseFile(executable))
            #expect(before[executable]!.values.contains { !$0.isEmpty }, "\(executable) holds no example data")
        }
        // Every method of the three services with plausible requests and real ids (as an editor's would succeed),
        // then the admin's methods every service serves.
        let sweep = try ExtremeValueTests.Sweep(services, key: "rita")
        try await sweep.harvestLists()
        try await sweep.run([.one])
        let executableOf = Dictionary(
            uniqueKeysWithValues: Self.executables.map { (ServiceDirectory.find($0)!.rpcService, $0) })
        var denied: [String: Int] = [:]
        for call in sweep.log where !call.method.noSideEffects {
            #expect(call.code == .permissionDenied, "\(call.service.name)/\(call.method.name): \(call.code)")
            denied[executableOf[call.service.name]!, default: 0] += 1
        }
        #expect(Set(sweep.log.filter { !$0.method.noSideEffects }.map(\.method.name)).count == 40)
        for (executable, endpoint) in zip(
            Self.executables, [services.producerEndpoint, services.marketEndpoint, services.assistanceEndpoint])
        {
            let channel = try services.channel(endpoint, as: "rita")
            for schema in [AdminV1.DataAdmin.schema, AdminV1.AccessAdmin.schema] {
                for method in schema.methods where !method.roles.contains("reader") {
                    let payload = try DescriptorJSON.encode(.object([]), as: method.inputType)
                    let error = await failure {
                        try await channel.call(
                            service: schema.name, method: method.name, idempotent: false, payload: payload)
                    }
                    #expect(
                        error?.code == .permissionDenied, "\(schema.name)/\(method.name): \(String(describing: error))")
                    #expect(error?.message.contains("role reader") == true)
                    #expect(error?.message.contains("\(schema.name)/\(method.name)") == true)
                    denied[executable, default: 0] += 1
                }
            }
        }
        #expect(denied.values.reduce(0, +) >= 39 + 3 * 3, "\(denied)")
        for executable in Self.executables {
            let after = try await Self.contents(services.databaseFile(executable))
            #expect(after == before[executable], "\(executable)'s data changed under a reader's calls")
            // Each refusal is in the trail (written just after the refusal, off the I/O thread).
            var refusals = 0
            for _ in 0..<100 {
                refusals = try await Self.audit(services.databaseFile(executable)).filter {
                    $0.key == "rita" && $0.status == "PERMISSION_DENIED"
                }.count
                if refusals >= denied[executable]! { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(refusals == denied[executable], "\(executable): \(refusals) refusals in the audit trail")
        }
    }

    @Test("an editor cannot back up, the Assistance service's key cannot merge groups; an admin can do both")
    func rolesAtTheEdges() async throws {
        let keys = try Self.ring()
        try keys.add("stranger", .admin, admit: false)
        let services = try await ThreeServices(keys: keys)
        // Refused in the handshake: a key the service does not list, and a client without CURVE.
        for security in [keys.clientSecurity("stranger", server: "producer-service"), nil] {
            let channel = try ClientChannel(
                endpoints: [services.producerEndpoint],
                configuration: .init(defaultTimeout: .seconds(10), security: security),
                logger: quietLogger)
            defer { channel.close() }
            let start = ContinuousClock.now
            let refused = await failure { try await HealthV1.HealthClient(channel: channel).check(.init()) }
            #expect(refused?.code == .unauthenticated, "\(String(describing: refused))")
            #expect(ContinuousClock.now - start < .seconds(1))
        }
        let editorChannel = try services.channel(services.producerEndpoint, as: "editor")
        let backup = await failure { try await AdminV1.DataAdminClient(channel: editorChannel).backup(.init()) }
        #expect(backup?.code == .permissionDenied, "\(String(describing: backup))")
        #expect(backup?.message.contains("role editor") == true)

        let editor = ProducerV1.ProducerServiceClient(channel: editorChannel)
        func group(_ name: String) async throws -> ProducerV1.ProducerGroup {
            try await editor.createProducerGroup(
                .init(
                    group: .init(name: name, kind: .cooperative, country: "GH", crafts: ["baskets"]),
                    requestID: RequestID.make()))
        }
        let survivor = try await group("Bolga Weavers")
        let merged = try await group("Bolga Weavers Group")
        let merge = ProducerV1.MergeProducerGroupsRequest(
            survivorID: survivor.id, mergedID: merged.id, requestID: RequestID.make())
        let asAssistance = ProducerV1.ProducerServiceClient(
            channel: try services.channel(services.producerEndpoint, as: "assistance-service"))
        let refused = await failure { try await asAssistance.mergeProducerGroups(merge) }
        #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
        #expect(refused?.message.contains("assistance-service") == true)
        // What the Assistance service does call is allowed to its key.
        _ = try await asAssistance.getProducerGroup(.init(id: survivor.id))

        let adminChannel = try services.channel(services.producerEndpoint, as: "ada")
        let metrics = try await ReflectionV1.ServerReflectionClient(channel: adminChannel).getMetrics(.init())
        let refusedHandshakes = Dictionary(uniqueKeysWithValues: metrics.refusedHandshakes.map { ($0.code, $0.count) })
        #expect(refusedHandshakes["unknown_key", default: 0] >= 1, "\(metrics.refusedHandshakes)")
        #expect(refusedHandshakes["no_curve", default: 0] >= 1, "\(metrics.refusedHandshakes)")
        let copy = try await AdminV1.DataAdminClient(channel: adminChannel).backup(.init())
        #expect(FileManager.default.fileExists(atPath: copy.path))
        let result = try await ProducerV1.ProducerServiceClient(channel: adminChannel).mergeProducerGroups(merge)
        #expect(result.id == survivor.id)
        let trail = try await Self.audit(services.databaseFile("producer-service"))
        #expect(trail.contains { $0.key == "ada" && $0.method.hasSuffix("/MergeProducerGroups") && $0.status == "OK" })
        #expect(
            trail.contains {
                $0.key == "assistance-service" && $0.method.hasSuffix("/MergeProducerGroups")
                    && $0.status == "PERMISSION_DENIED"
            })
    }

    @Test("a sweep of every method leaves one audit entry per change, with the caller's key, and none for reads")
    func auditSweep() async throws {
        let keys = try Self.ring()
        let services = try await ThreeServices(keys: keys)
        let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment(as: "editor"))
        try #require(load.status == 0, "\(load.output)")
        let sweep = try ExtremeValueTests.Sweep(services, key: "editor")
        try await sweep.harvestLists()
        try await sweep.run([.one])
        var trails: [String: [(key: String, method: String, requestID: String, status: String)]] = [:]
        for executable in Self.executables {
            trails[executable] = try await Self.audit(services.databaseFile(executable))
        }
        let executableOf = Dictionary(
            uniqueKeysWithValues: Self.executables.map { (ServiceDirectory.find($0)!.rpcService, $0) })
        var changes = 0
        for call in sweep.log {
            let fullName = "\(call.service.name)/\(call.method.name)"
            let own = trails[executableOf[call.service.name]!]!.filter {
                $0.requestID == call.requestID && $0.method == fullName
            }
            if call.method.noSideEffects {
                #expect(own.isEmpty, "a read left audit entries: \(fullName) \(own)")
                // A read makes no change anywhere, not even through the calls it makes onward.
                for (executable, trail) in trails {
                    #expect(
                        !trail.contains { $0.requestID == call.requestID }, "\(fullName) left an entry in \(executable)"
                    )
                }
            } else if call.code == .ok {
                #expect(own.count == 1, "\(fullName) answered OK with \(own.count) audit entries")
                #expect(own.allSatisfy { $0.key == "editor" && $0.status == "OK" }, "\(fullName): \(own)")
                changes += 1
            } else {
                #expect(own.isEmpty, "\(fullName) failed, yet left \(own)")
            }
        }
        #expect(changes >= 20, "only \(changes) changes in the sweep: \(sweep.answers)")
    }

    @Test("on the wire a record's text is encrypted with keys, and in clear with --insecure (the check can fail)")
    func wireIsEncrypted() async throws {
        for secure in [true, false] {
            let keys = try Self.ring()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-wire-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let endpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
            let security =
                secure
                ? ["--key", keys.secretFile("producer-service"), "--authorized-keys", keys.authorized] : ["--insecure"]
            let service = try ChildProcess(
                builtExecutable("producer-service"),
                arguments: ["--endpoint", endpoint, "--data-dir", folder.path, "--log-level", "warning"] + security)
            defer { service.kill() }
            let client = secure ? keys.clientSecurity("editor", server: "producer-service") : nil
            try await waitUntilServing(endpoint, security: client)
            let relay = try TCPRelay(to: endpoint)
            defer { relay.stop() }
            let channel = try ClientChannel(
                endpoints: [relay.endpoint], configuration: .init(defaultTimeout: .seconds(10), security: client),
                logger: quietLogger)
            defer { channel.close() }
            let secret = "Kassena-Nankana Weavers \(RequestID.make())"
            let created = try await ProducerV1.ProducerServiceClient(channel: channel).createProducerGroup(
                .init(
                    group: .init(name: secret, kind: .womensGroup, country: "GH", crafts: ["baskets"]),
                    requestID: RequestID.make()))
            #expect(created.name == secret)
            #expect(relay.bytes.count > 200, "nothing crossed the relay")
            #expect(
                relay.saw(secret) == !secure, secure ? "the name crossed in clear" : "the check cannot see clear text")
        }
    }

    @Test("a secret key others can read, a bind beyond loopback without keys, and a bad policy stop the start")
    func safeStart() async throws {
        let keys = try Self.ring()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-start-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = freeLoopbackPort()
        let base = ["--data-dir", folder.path, "--log-level", "warning"]

        let exposed = try await runTool("producer-service", base + ["--endpoint", "tcp://0.0.0.0:\(port)"])
        #expect(exposed.status != 0)
        #expect(
            exposed.output.contains("refuses to serve tcp://0.0.0.0:\(port) without CURVE keys"), "\(exposed.output)")
        #expect(exposed.output.contains("ftadmin keys generate"))

        let secret = keys.secretFile("producer-service")
        chmod(secret, 0o640)
        let readable = try await runTool(
            "producer-service",
            base + ["--endpoint", "tcp://127.0.0.1:\(port)", "--key", secret, "--authorized-keys", keys.authorized])
        #expect(readable.status != 0)
        #expect(readable.output.contains(secret) && readable.output.contains("chmod 600"), "\(readable.output)")
        chmod(secret, 0o600)

        let policy = folder.appendingPathComponent("policy").path
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "allow role:reader *\ndeny role:nobody *\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let broken = try await runTool(
            "producer-service",
            base + [
                "--endpoint", "tcp://127.0.0.1:\(port)", "--key", secret, "--authorized-keys", keys.authorized,
                "--policy", policy,
            ])
        #expect(broken.status != 0)
        #expect(broken.output.contains("\(policy), line 2: role \"nobody\""), "\(broken.output)")

        // With --insecure it starts, and says so.
        let insecure = try ChildProcess(
            builtExecutable("producer-service"),
            arguments: base + ["--endpoint", "tcp://0.0.0.0:\(port)", "--insecure"])
        defer { insecure.kill() }
        try await waitUntilServing("tcp://127.0.0.1:\(port)")
    }

    @Test("SIGHUP reads the authorized keys again: a key added is admitted at once, without a restart")
    func sighup() async throws {
        let keys = try Self.ring()
        try keys.add("late", .reader, admit: false)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-hup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let endpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
        let service = try ChildProcess(
            builtExecutable("producer-service"),
            arguments: [
                "--endpoint", endpoint, "--data-dir", folder.path, "--log-level", "warning", "--key",
                keys.secretFile("producer-service"), "--authorized-keys", keys.authorized,
            ])
        defer { service.kill() }
        try await waitUntilServing(endpoint, security: keys.clientSecurity("ada", server: "producer-service"))
        let late = keys.clientSecurity("late", server: "producer-service")
        let before = try ClientChannel(
            endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(5), security: late),
            logger: quietLogger)
        defer { before.close() }
        let refused = await failure { try await HealthV1.HealthClient(channel: before).check(.init()) }
        #expect(refused?.code == .unauthenticated)
        try keys.admit("late")
        kill(service.process.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(300))
        let after = try ClientChannel(
            endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(5), security: late),
            logger: quietLogger)
        defer { after.close() }
        #expect(try await HealthV1.HealthClient(channel: after).check(.init()).status == .serving)
        #expect(service.process.isRunning, "SIGHUP stopped the service")
    }

    @Test("live events over CURVE: an admitted key of any role follows them, an unknown key is told it was refused")
    func eventsOverCurve() async throws {
        let keys = try Self.ring()
        try keys.add("stranger", .admin, admit: false)
        let services = try await ThreeServices(keys: keys)
        let readerChannel = try services.channel(services.marketEndpoint, as: "rita")
        let endpoints = try await MarketplaceV1.MarketplaceInfoServiceClient(channel: readerChannel)
            .getEventEndpoints(.init()).endpoints
        let follower = EventSubscriber(
            endpoints: endpoints, topics: ["demand/"],
            security: keys.clientSecurity("rita", server: "marketplace-info-service"))
        let stranger = EventSubscriber(
            endpoints: endpoints, topics: [""],
            security: keys.clientSecurity("stranger", server: "marketplace-info-service"))
        try follower.start()
        try stranger.start()
        defer {
            follower.close()
            stranger.close()
        }
        var strangerSaw: EventDelivery?
        for await delivery in stranger.deliveries {
            strangerSaw = delivery
            break
        }
        guard case .refused(_, let reason) = strangerSaw else {
            Issue.record("the unknown key's subscription was not refused: \(String(describing: strangerSaw))")
            return
        }
        #expect(reason.contains("not among its authorized keys"))
        let editor = MarketplaceV1.MarketplaceInfoServiceClient(
            channel: try services.channel(services.marketEndpoint, as: "editor"))
        // A subscription takes a moment to reach the publisher: post until one arrives.
        let received = Mutex<String?>(nil)
        let reader = Task {
            for await delivery in follower.deliveries {
                if case .event(let topic, _, _) = delivery {
                    received.withLock { $0 = topic }
                    return
                }
            }
        }
        defer { reader.cancel() }
        for attempt in 0..<50 where received.withLock({ $0 }) == nil {
            _ = try await editor.postDemand(
                .init(
                    signal: .init(
                        buyer: "SERRV International", product: "baskets",
                        quantity: .init(amount: 100, unit: "piece"),
                        neededBy: CommonV1.Date(year: 2030, month: 6, day: 1), countries: ["GH"]),
                    requestID: "curve-demand-\(attempt)"))
            try await Task.sleep(for: .milliseconds(100))
        }
        let topic = received.withLock { $0 } ?? ""
        #expect(topic.hasPrefix("demand/baskets/"), "no demand event reached the reader: \(topic)")
    }
}
