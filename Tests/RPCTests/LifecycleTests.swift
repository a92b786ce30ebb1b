import API
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
            let finished = Atomic<Bool>(false)
            let call = Task { () async throws(RPCError) -> TestingV1.SimpleResponse in
                defer { finished.store(true, ordering: .releasing) }
                return try await client.unaryCall(TestingV1.SimpleRequest(), options: CallOptions(retryEnabled: false))
            }
            // Awaited only once it has finished, so that a call left hanging fails the test instead of hanging it.
            let started = ContinuousClock.now
            while !finished.load(ordering: .acquiring), ContinuousClock.now - started < .seconds(5) {
                try await Task.sleep(for: .milliseconds(10))
            }
            guard finished.load(ordering: .acquiring) else {
                Issue.record("a call on a closed channel was neither answered nor failed within 5 s")
                return
            }
            do {
                _ = try await call.value
                Issue.record("a closed channel answered")
            } catch let error as RPCError {
                #expect(error.code == .unavailable)
                #expect(error.message.contains("closed"))
            }
        }
    }

    @Test("graceful shutdown: calls in flight finish, new calls get UNAVAILABLE, the server stops")
    func gracefulShutdown() async throws {
        try await withTestServer { endpoint, server, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let slow = Task {
                    try await client.unaryCall(TestingV1.SimpleRequest(sleepMillis: 400, text: "finished"))
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
}
