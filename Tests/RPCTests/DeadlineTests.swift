import API
import Foundation
import RPC
import Schema
import TestSupport
import Testing

@Suite("Deadlines and cancellation")
struct DeadlineTests {
    @Test("timeout_on_sleeping_server: DEADLINE_EXCEEDED at the deadline, not when the handler would finish")
    func deadlineExceeded() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let start = ContinuousClock.now
                do throws(RPCError) {
                    _ = try await client.unaryCall(
                        TestingV1.SimpleRequest(sleepMillis: 10_000),
                        options: CallOptions(timeout: .milliseconds(200)))
                    Issue.record("a 10 s handler answered within 200 ms")
                } catch {
                    #expect(error.code == .deadlineExceeded)
                }
                // Far from the handler's 10 s, with room for a loaded machine (a bound of 1.5 s once failed in CI-like
                // conditions while other builds ran).
                let elapsed = ContinuousClock.now - start
                #expect(elapsed >= .milliseconds(190) && elapsed < .seconds(5))
            }
        }
    }

    @Test("the handler sees the remaining time, and the server cancels it at the deadline")
    func handlerSeesDeadline() async throws {
        try await withTestServer { endpoint, server, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let response = try await client.unaryCall(
                    TestingV1.SimpleRequest(), options: CallOptions(timeout: .seconds(2)))
                #expect(response.remainingMicros > 1_000_000 && response.remainingMicros <= 2_000_000)
                _ = try? await client.unaryCall(
                    TestingV1.SimpleRequest(sleepMillis: 5000),
                    options: CallOptions(timeout: .milliseconds(100)))
                // The sleeping handler was cancelled at its deadline: nothing stays in flight.
                let drained = try await eventually { server.callsInFlight == 0 }
                #expect(drained)
            }
        }
    }

    @Test("cancel_after_begin: cancelling the task ends the call with CANCELLED at once, and the server stops work")
    func cancellation() async throws {
        try await withTestServer { endpoint, server, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let task = Task { () throws(RPCError) -> TestingV1.SimpleResponse in
                    try await client.unaryCall(TestingV1.SimpleRequest(sleepMillis: 10_000))
                }
                let reached = try await eventually { server.callsInFlight == 1 }
                #expect(reached, "the call never reached the server")
                let start = ContinuousClock.now
                task.cancel()
                let result = await task.result
                // At once: well before the 10 s the handler sleeps (bounded loosely, the machine may be busy).
                #expect(ContinuousClock.now - start < .seconds(2))
                guard case .failure(let error as RPCError) = result else {
                    Issue.record("the cancelled call succeeded")
                    return
                }
                #expect(error.code == .cancelled)
                let stopped = try await eventually { server.callsInFlight == 0 }
                #expect(stopped, "the server kept working on a cancelled call")
            }
        }
    }

    @Test("a handler that calls another service passes on the remaining deadline and the request id")
    func propagation() async throws {
        try await withTestServer { backEndpoint, _, _ in
            try await withTestServer { frontEndpoint, _, _ in
                try await withChannel([frontEndpoint]) { channel in
                    let client = TestingV1.TestServiceClient(channel: channel)
                    let response = try await client.forward(
                        TestingV1.ForwardRequest(endpoint: backEndpoint, inner: TestingV1.SimpleRequest(text: "hop")),
                        options: CallOptions(timeout: .milliseconds(1500), requestID: "trace-1234"))
                    #expect(response.text == "hop")
                    #expect(response.requestID == "trace-1234")
                    #expect(response.remainingMicros > 0 && response.remainingMicros < 1_500_000)
                    // The inner call's deadline is the outer one's: a slow inner call fails at the outer deadline.
                    let start = ContinuousClock.now
                    await #expect(throws: RPCError.self) {
                        try await client.forward(
                            TestingV1.ForwardRequest(
                                endpoint: backEndpoint, inner: TestingV1.SimpleRequest(sleepMillis: 10_000)),
                            options: CallOptions(timeout: .milliseconds(300)))
                    }
                    #expect(ContinuousClock.now - start < .seconds(5))
                }
            }
        }
    }
}
