import API
import Schema
import TestSupport
import Testing

@testable import RPC

@Suite("Status paths over real sockets")
struct StatusTests {
    @Test("empty_unary and large_unary")
    func emptyAndLarge() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                #expect(try await client.emptyCall(CommonV1.Empty()) == CommonV1.Empty())
                let payload = [UInt8](repeating: 7, count: 271_828)
                let response = try await client.unaryCall(
                    TestingV1.SimpleRequest(payload: payload, responseSize: 314_159))
                #expect(response.payload.count == 314_159)
                let echo = try await client.unaryCall(TestingV1.SimpleRequest(payload: payload))
                #expect(echo.payload == payload)
            }
        }
    }

    @Test("a status thrown by a handler reaches the client as is", arguments: RPCError.Code.failures)
    func thrownStatus(code: RPCError.Code) async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let message = "status \(code) — with ünïcode,\nnewlines\tand \"quotes\" 🧺"
                let request = TestingV1.SimpleRequest(
                    responseStatus: TestingV1.EchoStatus(
                        code: RpcV1.StatusCode(rawValue: code.rawValue), message: message))
                // Retries are off so that UNAVAILABLE comes back at once rather than after backoff.
                await #expect(throws: RPCError(code, message)) {
                    try await client.unaryCall(request, options: CallOptions(retryEnabled: false))
                }
            }
        }
    }

    @Test("a status too long for a response header arrives cut, at once, rather than never")
    func longStatus() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let message = String(repeating: "basket 🧺 ", count: 30_000)
                let request = TestingV1.SimpleRequest(
                    responseStatus: TestingV1.EchoStatus(code: .failedPrecondition, message: message))
                let started = ContinuousClock.now
                let error = await failure {
                    try await client.unaryCall(request, options: CallOptions(timeout: .seconds(20)))
                }
                #expect(error?.code == .failedPrecondition, "\(String(describing: error?.code))")
                #expect(ContinuousClock.now - started < .seconds(10))
                let received = error?.message ?? ""
                #expect(received.utf8.count <= 8 << 10 && received.hasSuffix("…"))
                #expect(message.hasPrefix(received.dropLast()))
            }
        }
    }

    @Test("a response header keeps under its limit whatever the status holds")
    func boundedHeader() throws {
        let violations = (0..<5_000).map {
            FieldViolation(field: "rows[\($0)].name", description: String(repeating: "é", count: 60))
        }
        var trailers = Metadata()
        for index in 0..<2_000 { trailers.add("key-\(index)", String(repeating: "v", count: 100)) }
        let error = RPCError(
            .invalidArgument, String(repeating: "x", count: 100_000), fieldViolations: violations, trailers: trailers)
        let header = Wire.responseHeader(callID: 7, error: error)
        #expect(header.serializedBytes().count < Wire.maxHeaderBytes)
        #expect(header.fieldViolations.count > 100 && header.fieldViolations.count < 5_000)
        #expect(header.message.hasSuffix("(\(5_000 - header.fieldViolations.count) more field violations left out)"))
        #expect(header.message.utf8.count <= Wire.maxStatusMessageBytes)
        #expect(header.trailers.count > 10 && header.trailers.count < 2_000)
        #expect(
            Array(header.fieldViolations.prefix(3).map(\.field)) == ["rows[0].name", "rows[1].name", "rows[2].name"])
        // Cut after whole characters, never inside one.
        #expect(Wire.truncated("🧺🧺🧺", 9) == "🧺…" && Wire.truncated("short", 9) == "short")
    }

    @Test("an unexpected error becomes INTERNAL without leaking its text")
    func unexpectedFailure() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                do throws(RPCError) {
                    _ = try await TestingV1.TestServiceClient(channel: channel)
                        .unaryCall(
                            TestingV1.SimpleRequest(failUnexpectedly: true), options: CallOptions(requestID: "req-42"))
                    Issue.record("the call succeeded")
                } catch {
                    #expect(error.code == .internalError)
                    #expect(!error.message.contains("deadbeef"))
                    #expect(error.message.contains("req-42"))
                }
            }
        }
    }

    @Test("unimplemented_service and unimplemented_method")
    func unimplemented() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                await #expect(throws: RPCError(.unimplemented, "service \"fairtrade.nope.v1.Nope\" is not served here"))
                {
                    try await channel.call(
                        service: "fairtrade.nope.v1.Nope", method: "X", idempotent: false, payload: [])
                }
                await #expect(
                    throws: RPCError(
                        .unimplemented,
                        "method \"Nope\" is not implemented by service \"fairtrade.testing.v1.TestService\"")
                ) {
                    try await channel.call(
                        service: TestingV1.TestService.name, method: "Nope", idempotent: false, payload: [])
                }
            }
        }
    }

    @Test("an undecodable payload is INVALID_ARGUMENT naming the message; an unknown enum value names the field")
    func undecodable() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let method = TestingV1.TestService.Method.unaryCall
                do throws(RPCError) {
                    _ = try await channel.call(
                        service: method.service, method: method.method, idempotent: false,
                        payload: [0xff, 0xff, 0xff])
                    Issue.record("garbage was accepted")
                } catch {
                    #expect(error.code == .invalidArgument)
                    #expect(error.message.contains("fairtrade.testing.v1.SimpleRequest"))
                }
                var status = TestingV1.EchoStatus()
                status.code = .unrecognized(77)
                do throws(RPCError) {
                    _ = try await TestingV1.TestServiceClient(channel: channel)
                        .unaryCall(TestingV1.SimpleRequest(responseStatus: status))
                    Issue.record("an unknown enum value was accepted")
                } catch {
                    #expect(error.code == .invalidArgument)
                    #expect(error.fieldViolations.map(\.field) == ["response_status.code"])
                }
            }
        }
    }

    @Test("a request over the server's limit is RESOURCE_EXHAUSTED, and the connection keeps working")
    func oversized() async throws {
        try await withTestServer(maxReceiveMessageBytes: 1024) { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                do throws(RPCError) {
                    _ = try await client.unaryCall(TestingV1.SimpleRequest(payload: [UInt8](repeating: 1, count: 4096)))
                    Issue.record("an oversized request was accepted")
                } catch {
                    #expect(error.code == .resourceExhausted)
                }
                let small = try await client.unaryCall(TestingV1.SimpleRequest(text: "small"))
                #expect(small.text == "small")
            }
        }
    }

    @Test("custom_metadata reaches the handler; reserved keys are refused at the client")
    func metadata() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let response = try await client.unaryCall(
                    TestingV1.SimpleRequest(), options: CallOptions(metadata: ["X-Tenant": "serrv", "x-trace": "1"]))
                #expect(
                    response.metadata == [
                        RpcV1.MetadataEntry(key: "x-tenant", value: "serrv"),
                        RpcV1.MetadataEntry(key: "x-trace", value: "1"),
                    ])
                await #expect(throws: RPCError.self) {
                    try await client.unaryCall(
                        TestingV1.SimpleRequest(), options: CallOptions(metadata: ["ft-secret": "x"]))
                }
            }
        }
    }
}
