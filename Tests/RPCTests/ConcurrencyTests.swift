import API
import RPC
import Schema
import TestSupport
import Testing

@Suite("Many calls at once")
struct ConcurrencyTests {
    @Test(
        "1,000 calls from 8 concurrent tasks are all answered with their own response (busy polling on and off)",
        arguments: [defaultBusyPoll, .zero])
    func thousandCalls(busyPoll: Duration) async throws {
        try await withTestServer(busyPoll: busyPoll) { endpoint, _, _ in
            try await withChannel(
                [endpoint], configuration: .init(defaultTimeout: .seconds(5), busyPoll: busyPoll)
            ) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            var wrong = 0
                            for index in 0..<125 {
                                let text = "worker \(worker) call \(index)"
                                let payload = (0..<(index % 50)).map { UInt8(truncatingIfNeeded: $0 &* worker) }
                                let response = try await client.unaryCall(
                                    TestingV1.SimpleRequest(payload: payload, text: text))
                                if response.text != text || response.payload != payload { wrong += 1 }
                            }
                            return wrong
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(mismatches == 0)
            }
        }
    }

    @Test("a channel to two instances spreads calls over both")
    func spreadsOverInstances() async throws {
        try await withTestServer { first, _, firstService in
            try await withTestServer { second, _, secondService in
                try await withChannel([first, second]) { channel in
                    let client = TestingV1.TestServiceClient(channel: channel)
                    var seen: [String: Int] = [:]
                    try await withThrowingTaskGroup(of: String.self) { group in
                        for _ in 0..<200 {
                            group.addTask {
                                try await client.unaryCall(TestingV1.SimpleRequest(sleepMillis: 2)).instanceID
                            }
                        }
                        for try await instance in group { seen[instance, default: 0] += 1 }
                    }
                    #expect(Set(seen.keys) == [firstService.instanceID, secondService.instanceID])
                    #expect(seen.values.allSatisfy { $0 >= 40 })
                }
            }
        }
    }

    @Test("past the concurrency limit a server answers RESOURCE_EXHAUSTED rather than queueing without bound")
    func concurrencyLimit() async throws {
        try await withTestServer(maxConcurrentCalls: 2) { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                let codes = await withTaskGroup(of: RPCError.Code.self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            do throws(RPCError) {
                                _ = try await client.unaryCall(TestingV1.SimpleRequest(sleepMillis: 300))
                                return .ok
                            } catch { return error.code }
                        }
                    }
                    return await group.reduce(into: [RPCError.Code]()) { $0.append($1) }
                }
                #expect(codes.filter { $0 == .ok }.count == 2)
                #expect(codes.filter { $0 == .resourceExhausted }.count == 4)
            }
        }
    }
}
