import API
import Foundation
import RPC
import Schema
import ServiceKit
import Synchronization
import TestSupport
import Testing

@Suite("Health, listing, metrics and graceful shutdown")
struct LifecycleTests {
    @Test("health: SERVING for the process and each service, NOT_FOUND for an unknown name")
    func health() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let health = HealthV1.HealthClient(channel: channel)
                let process = try await health.check(HealthV1.HealthCheckRequest(service: ""))
                #expect(process.status == .serving)
                let service = try await health.check(HealthV1.HealthCheckRequest(service: TestingV1.TestService.name))
                #expect(service.status == .serving)
                await #expect(throws: RPCError(.notFound, "service \"nope\" is not served by this process")) {
                    try await health.check(HealthV1.HealthCheckRequest(service: "nope"))
                }
            }
        }
    }

    @Test("the listing names every service and method with its message types and idempotency")
    func listing() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let listing = try await ReflectionV1.ServerReflectionClient(channel: channel)
                    .listServices(ReflectionV1.ListServicesRequest())
                #expect(listing.endpoints == [endpoint])
                let test = try #require(listing.services.first { $0.name == TestingV1.TestService.name })
                let unary = try #require(test.methods.first { $0.name == "UnaryCall" })
                #expect(unary.inputType == "fairtrade.testing.v1.SimpleRequest")
                #expect(unary.outputType == "fairtrade.testing.v1.SimpleResponse")
                #expect(unary.idempotent)
                #expect(test.methods.first { $0.name == "IncrementCounter" }?.idempotent == false)
                #expect(
                    Set(listing.services.map(\.name)).isSuperset(of: [
                        "fairtrade.health.v1.Health", "fairtrade.reflection.v1.ServerReflection",
                    ]))
            }
        }
    }

    @Test("metrics count calls and errors per method, with latencies")
    func metrics() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let before = try await ReflectionV1.ServerReflectionClient(channel: channel).getMetrics(
                    ReflectionV1.GetMetricsRequest())
                let calls = { (metrics: ReflectionV1.GetMetricsResponse) in
                    metrics.methods.first { $0.method == "EmptyCall" }.map { ($0.calls, $0.errors) } ?? (0, 0)
                }
                for _ in 0..<5 { _ = try await client.emptyCall(CommonV1.Empty()) }
                let after = try await ReflectionV1.ServerReflectionClient(channel: channel).getMetrics(
                    ReflectionV1.GetMetricsRequest())
                // Metrics are per process and tests run in parallel: count what this test added.
                #expect(calls(after).0 - calls(before).0 >= 5)
                let method = try #require(after.methods.first { $0.method == "EmptyCall" })
                #expect(method.latencyP50Micros > 0 && method.latencyP99Micros >= method.latencyP50Micros)
            }
        }
    }

    @Test("the server's and a channel's I/O threads carry their names, for top -H, ps -L and perf")
    func threadNames() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { _ in
                let names = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").map { task in
                    try String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                }
                #expect(names.contains("rpc-server"))
                #expect(names.contains("rpc-client"))
            }
        }
    }

    @Test("a call on a closed channel fails UNAVAILABLE at once")
    func closedChannel() async throws {
        try await withTestServer { endpoint, _, _ in
            // No deadline: a call the closed channel silently dropped would wait for ever.
            let channel = try ClientChannel(
                endpoints: [endpoint], configuration: .init(defaultTimeout: nil), logger: testLogger)
            let client = TestingV1.TestServiceClient(channel: channel)
            #expect(try await client.unaryCall(TestingV1.SimpleRequest(text: "open")).text == "open")
            channel.close()
            // Long enough for the channel's loop to stop: a call made while it stops is failed by the loop itself.
            try await Task.sleep(for: .milliseconds(200))
            try await expectFailsAsClosed("a call on a closed channel") {
                try await client.unaryCall(TestingV1.SimpleRequest(), options: CallOptions(retryEnabled: false))
            }
        }
    }

    @Test("graceful shutdown: calls in flight finish, new calls get UNAVAILABLE, the server stops")
    func gracefulShutdown() async throws {
        try await withTestServer { endpoint, server, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                // Long enough to be seen in flight however busy the machine (CI builds beside it).
                let slow = Task {
                    try await client.unaryCall(TestingV1.SimpleRequest(sleepMillis: 1500, text: "finished"))
                }
                let started = try await eventually { server.callsInFlight == 1 }
                #expect(started)
                server.beginGracefulShutdown()
                try await Task.sleep(for: .milliseconds(50))
                do throws(RPCError) {
                    _ = try await client.emptyCall(CommonV1.Empty(), options: CallOptions(retryEnabled: false))
                    Issue.record("a call was accepted during shutdown")
                } catch {
                    #expect(error.code == .unavailable)
                }
                let finished = try await slow.value
                #expect(finished.text == "finished")
                await server.waitUntilFinished()
            }
        }
    }

    @Test("graceful shutdown cancels calls still running after the grace period")
    func shutdownGraceBound() async throws {
        try await withTestServer(gracePeriod: .milliseconds(200)) { endpoint, server, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let slow = Task { try await client.unaryCall(TestingV1.SimpleRequest(sleepMillis: 10_000)) }
                let started = try await eventually { server.callsInFlight == 1 }
                #expect(started)
                let start = ContinuousClock.now
                server.beginGracefulShutdown()
                await server.waitUntilFinished()
                #expect(ContinuousClock.now - start < .seconds(2))
                let result = await slow.result
                guard case .failure(let error as RPCError) = result else {
                    Issue.record("the long call was not ended")
                    return
                }
                #expect(error.code == .unavailable)
            }
        }
    }

    @Test("closing a channel fails the calls of callers on its executor, and those callers carry on")
    func closeWithCallersOnExecutor() async throws {
        // The slow call is still running when the test ends: a short grace period lets the server stop at once.
        try await withTestServer(gracePeriod: .milliseconds(100)) { endpoint, server, _ in
            // No deadline: a caller left on the stopped loop would wait for ever.
            let channel = try ClientChannel(
                endpoints: [endpoint], configuration: .init(defaultTimeout: nil), logger: testLogger)
            let client = TestingV1.TestServiceClient(channel: channel)
            try await expectFailsAsClosed(
                "a call whose caller is on the closed channel's executor",
                {
                    try await withTaskExecutorPreference(channel.executor) {
                        try await client.unaryCall(
                            TestingV1.SimpleRequest(sleepMillis: 10_000), options: CallOptions(retryEnabled: false))
                    }
                },
                after: {
                    let started = try await eventually { server.callsInFlight == 1 }
                    #expect(started)
                    channel.close()
                })
        }
    }

    @Test("a handler cancelled at the end of the grace period still runs to its end after the server stops")
    func handlerCancelledAtShutdown() async throws {
        let ended = Atomic<Bool>(false)
        let registration = ServiceRegistration(
            schema: TestingV1.TestService.schema,
            methods: [
                .unary(TestingV1.TestService.Method.unaryCall) { _, _ in
                    defer { ended.store(true, ordering: .releasing) }
                    try await Task.sleep(for: .seconds(30))
                    return TestingV1.SimpleResponse()
                }
            ])
        let server = RPCServer(
            configuration: .init(endpoints: ["tcp://127.0.0.1:*"], shutdownGracePeriod: .milliseconds(200)),
            services: [registration], logger: testLogger)
        let endpoint = try server.start()[0]
        try await withChannel([endpoint]) { channel in
            let client = TestingV1.TestServiceClient(channel: channel)
            let slow = Task {
                try await client.unaryCall(TestingV1.SimpleRequest(), options: CallOptions(retryEnabled: false))
            }
            let started = try await eventually { server.callsInFlight == 1 }
            #expect(started)
            server.beginGracefulShutdown()
            await server.waitUntilFinished()
            // Its task was cancelled as the loop stopped; it must not be left waiting for a loop that is gone.
            let handlerEnded = try await eventually(timeout: .seconds(5)) { ended.load(ordering: .acquiring) }
            #expect(handlerEnded)
            await #expect(throws: RPCError.self) { try await slow.value }
        }
    }
}

/// Expects `call` to fail UNAVAILABLE because its channel is closed, within 5 s of `action` (run once the call is
/// under way). The call is awaited only once it has ended, so that one left hanging fails the test instead of
/// hanging the run.
private func expectFailsAsClosed(
    _ what: String, _ call: @escaping @Sendable () async throws -> TestingV1.SimpleResponse,
    after action: () async throws -> Void = {}
) async throws {
    let finished = Atomic<Bool>(false)
    let task = Task { () async throws -> TestingV1.SimpleResponse in
        defer { finished.store(true, ordering: .releasing) }
        return try await call()
    }
    try await action()
    guard try await eventually(timeout: .seconds(5), { finished.load(ordering: .acquiring) }) else {
        Issue.record("\(what) was neither answered nor failed within 5 s")
        return
    }
    do {
        _ = try await task.value
        Issue.record("\(what) was answered")
    } catch let error as RPCError {
        #expect(error.code == .unavailable)
        #expect(error.message.contains("closed"))
    }
}
