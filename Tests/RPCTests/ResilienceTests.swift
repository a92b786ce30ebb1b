import API
import CZeroMQ
import Foundation
import RPC
import Schema
import TestSupport
import Testing

@Suite("Failures: restarts, retries, hostile frames", .serialized)
struct ResilienceTests {
    @Test(
        "a server killed and restarted while a client keeps calling: every call succeeds, or fails UNAVAILABLE or DEADLINE_EXCEEDED within its deadline"
    )
    func killAndRestart() async throws {
        let port = freeLoopbackPort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        let executable = builtExecutable("interop-server")
        var server: ChildProcess? = try await ChildProcess.start(executable, arguments: ["--endpoint", endpoint])
        defer { server?.kill() }
        try await withChannel([endpoint], configuration: .init(defaultTimeout: .seconds(1))) { channel in
            let client = TestingV1.TestServiceClient(channel: channel)
            let timeout = Duration.milliseconds(800)
            var outcomes: [String: Int] = [:]
            var lateness: [Duration] = []
            let start = ContinuousClock.now
            var killed = false
            var restarted = false
            var successesAfterRestart = 0
            // At least 4 s, and on until 11 calls succeeded after the restart (a loaded machine answers fewer per
            // second), for at most 20 s.
            while ContinuousClock.now - start < .seconds(4)
                || (successesAfterRestart <= 10 && ContinuousClock.now - start < .seconds(20))
            {
                let elapsed = ContinuousClock.now - start
                if !killed && elapsed > .milliseconds(700) {
                    await server?.stop(signal: SIGKILL)
                    killed = true
                }
                if killed && !restarted && elapsed > .milliseconds(1500) {
                    server = try await ChildProcess.start(executable, arguments: ["--endpoint", endpoint])
                    restarted = true
                }
                let callStart = ContinuousClock.now
                do throws(RPCError) {
                    _ = try await client.unaryCall(
                        TestingV1.SimpleRequest(text: "x"), options: CallOptions(timeout: timeout))
                    outcomes["OK", default: 0] += 1
                    if restarted { successesAfterRestart += 1 }
                } catch {
                    outcomes["\(error.code)", default: 0] += 1
                    #expect(error.code == .unavailable || error.code == .deadlineExceeded, "unexpected \(error)")
                }
                lateness.append(ContinuousClock.now - callStart - timeout)
                try await Task.sleep(for: .milliseconds(10))
            }
            // No call outlived its deadline by more than a loaded machine's scheduling delay (a call that ignored it
            // would wait for the restart, a second or more).
            #expect(lateness.allSatisfy { $0 < .milliseconds(400) }, "\(lateness.max()!)")
            #expect(successesAfterRestart > 10, "\(outcomes) \(lateness.count)")
            // Calls succeeded before the kill too.
            #expect(outcomes["OK", default: 0] > successesAfterRestart, "\(outcomes)")
        }
    }

    @Test("an idempotent call is retried until a late-starting server answers; a non-idempotent one is not retried")
    func retryOnlyIdempotent() async throws {
        let port = freeLoopbackPort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        // Enough attempts to outlast a process start on a loaded machine (default: 4 attempts, ~0.35-0.7 s), and
        // enough tokens for all of them (the default bucket stops retrying after 5 failures).
        let patient = ClientChannel.Configuration(
            defaultTimeout: .seconds(5),
            retry: RetryPolicy(maxAttempts: 10, maxBackoff: .milliseconds(500), maxTokens: 100))
        // A retry on this channel would first pause at least 2.5 s, so a failure well before that had none.
        let slowRetry = ClientChannel.Configuration(
            defaultTimeout: .seconds(10),
            retry: RetryPolicy(initialBackoff: .seconds(5), maxBackoff: .seconds(5), maxTokens: 100))
        try await withChannel([endpoint], configuration: slowRetry) { channel in
            let start = ContinuousClock.now
            await #expect(throws: RPCError.self) {
                try await TestingV1.TestServiceClient(channel: channel).incrementCounter(TestingV1.CountRequest())
            }
            #expect(ContinuousClock.now - start < .milliseconds(2_500), "a non-idempotent call waited for a retry")
        }
        try await withChannel([endpoint], configuration: patient) { channel in
            let client = TestingV1.TestServiceClient(channel: channel)
            let executable = builtExecutable("interop-server")
            let starter = Task {
                try await Task.sleep(for: .milliseconds(150))
                return try await ChildProcess.start(executable, arguments: ["--endpoint", endpoint])
            }
            let response = try await client.unaryCall(
                TestingV1.SimpleRequest(text: "late"),
                options: CallOptions(timeout: .seconds(10)))
            #expect(response.text == "late")
            await (try await starter.value).stop()
        }
    }

    @Test("10,000 random and mutated frames at a live server: it stays up and keeps answering valid calls")
    func hostileFrames() async throws {
        try await withTestServer { endpoint, _, _ in
            try await withChannel([endpoint]) { channel in
                let client = TestingV1.TestServiceClient(channel: channel)
                for batch in 0..<20 {
                    // The raw socket lives and dies inside this synchronous call, on a thread of its own.
                    try await offPool {
                        var fuzzer = FrameFuzzer(seed: 0xBADF00D &+ UInt64(batch))
                        try fuzzer.sendBatch(to: endpoint, count: 500)
                    }
                    let response = try await client.unaryCall(TestingV1.SimpleRequest(text: "still here \(batch)"))
                    #expect(response.text == "still here \(batch)")
                }
                let health = try await HealthV1.HealthClient(channel: channel)
                    .check(HealthV1.HealthCheckRequest(service: ""))
                #expect(health.status == .serving)
            }
        }
    }

    @Test("clients that pick their own routing ids, short or long, each get their own answers")
    func chosenRoutingIDs() async throws {
        // libzmq's own ids are 5 bytes; a client may choose up to 255. Two long ids share a prefix.
        let ids = ["abc", String(repeating: "x", count: 40) + "-one", String(repeating: "x", count: 40) + "-two"]
        try await withTestServer { endpoint, _, _ in
            let answers = try await offPool { () -> [String] in
                let context = zmq_ctx_new()!
                defer { zmq_ctx_term(context) }
                let clients = try ids.map { try RawDealer(context: context, endpoint: endpoint, routingID: $0) }
                defer { for client in clients { client.close() } }
                // Every client sends before any reads, so that the server holds all three peers at once.
                for (index, client) in clients.enumerated() {
                    client.call(UInt64(index + 1), TestingV1.SimpleRequest(text: ids[index]))
                }
                return try clients.enumerated().map { index, client in
                    let (header, payload) = try client.answer()
                    #expect(header.callID == UInt64(index + 1))
                    #expect(header.code == .ok)
                    return try TestingV1.SimpleResponse(serializedBytes: payload).text
                }
            }
            #expect(answers == ids)
        }
    }

    @Test("a client with a long routing id that cancels one call still gets the answers of its others")
    func longRoutingIDWithCancel() async throws {
        try await withTestServer { endpoint, _, _ in
            let answered = try await offPool { () -> [UInt64] in
                let context = zmq_ctx_new()!
                defer { zmq_ctx_term(context) }
                let client = try RawDealer(
                    context: context, endpoint: endpoint, routingID: String(repeating: "long-", count: 20))
                defer { client.close() }
                var answered: [UInt64] = []
                // Three rounds, so that the server forgets the id between them and takes it up again.
                for round in UInt64(0)..<3 {
                    let slow = TestingV1.SimpleRequest(sleepMillis: 300)
                    client.call(round * 10 + 1, slow)
                    client.call(round * 10 + 2, slow)
                    client.cancel(round * 10 + 1)
                    client.call(round * 10 + 3, TestingV1.SimpleRequest(text: "quick"))
                    for _ in 0..<2 {
                        let (header, _) = try client.answer()
                        #expect(header.code == .ok)
                        answered.append(header.callID)
                    }
                }
                return answered
            }
            // The cancelled calls get no answer; the others all do.
            #expect(answered.sorted() == [2, 3, 12, 13, 22, 23])
        }
    }

    @Test("a client that never reads its answers cannot make the server hold more than a bounded number of them")
    func clientThatNeverReads() async throws {
        let endpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
        let server = try await ChildProcess.start(
            builtExecutable("interop-server"), arguments: ["--endpoint", endpoint])
        defer { server.kill() }
        let pid = server.process.processIdentifier
        let before = try residentBytes(of: pid)
        // 4,000 answers of 64 KiB, asked for by a client that reads one message and then nothing: 250 MiB if the
        // server kept them all.
        let answers = 4000
        let size: Int32 = 64 << 10
        let grown = try await offPool { () -> Int in
            let context = zmq_ctx_new()!
            defer { zmq_ctx_term(context) }
            let client = try RawDealer(
                context: context, endpoint: endpoint, options: [(ZMQ_RCVHWM, 1), (ZMQ_RCVBUF, 4096)])
            defer { client.close() }
            for id in 1...answers { client.call(UInt64(id), TestingV1.SimpleRequest(responseSize: size)) }
            // Time for the server to work through every request while the client keeps its connection open.
            Thread.sleep(forTimeInterval: 3)
            return try residentBytes(of: pid) - before
        }
        // At most 1,000 answers queued (~62 MiB) and the connection's buffers.
        #expect(grown < Int(size) * answers / 2, "the server grew by \(grown >> 20) MiB")
        // And it still answers everyone else.
        try await withChannel([endpoint]) { channel in
            let health = try await HealthV1.HealthClient(channel: channel).check(HealthV1.HealthCheckRequest())
            #expect(health.status == .serving)
        }
    }
}

/// A DEALER that speaks the wire protocol by hand (docs/PROTOCOL.md) under a routing id of its choosing.
private struct RawDealer {
    let socket: UnsafeMutableRawPointer
    let routingID: String

    /// `options`: further integer socket options, set before connecting.
    init(
        context: UnsafeMutableRawPointer, endpoint: String, routingID: String? = nil, options: [(Int32, Int32)] = []
    ) throws {
        socket = zmq_socket(context, ZMQ_DEALER)!
        self.routingID = routingID ?? "libzmq's own id"
        var linger: Int32 = 0
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, 4)
        var timeout: Int32 = 5000
        zmq_setsockopt(socket, ZMQ_RCVTIMEO, &timeout, 4)
        for (option, value) in options {
            var value = value
            zmq_setsockopt(socket, option, &value, 4)
        }
        if let routingID {
            _ = Array(routingID.utf8).withUnsafeBytes {
                zmq_setsockopt(socket, ZMQ_ROUTING_ID, $0.baseAddress, $0.count)
            }
        }
        guard zmq_connect(socket, endpoint) == 0 else {
            zmq_close(socket)
            throw RPCError(.unavailable, "cannot connect to \(endpoint)")
        }
    }

    func call(_ callID: UInt64, _ request: TestingV1.SimpleRequest) {
        let header = RpcV1.RequestHeader(
            protocolVersion: 1, callID: callID, kind: .call, service: TestingV1.TestService.name,
            method: "UnaryCall")
        send([header.serializedBytes(), request.serializedBytes()])
    }

    func cancel(_ callID: UInt64) {
        send([RpcV1.RequestHeader(protocolVersion: 1, callID: callID, kind: .cancel).serializedBytes(), []])
    }

    private func send(_ frames: [[UInt8]]) {
        for (position, frame) in frames.enumerated() {
            _ = frame.withUnsafeBytes {
                zmq_send(socket, $0.baseAddress, $0.count, position < frames.count - 1 ? ZMQ_SNDMORE : 0)
            }
        }
    }

    /// The next answer's header and payload; throws after 5 s without one.
    func answer() throws -> (RpcV1.ResponseHeader, [UInt8]) {
        var frames: [[UInt8]] = []
        repeat {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let size = zmq_recv(socket, &buffer, buffer.count, 0)
            guard size >= 0 else { throw RPCError(.deadlineExceeded, "no answer for \(routingID)") }
            frames.append(Array(buffer.prefix(Int(size))))
        } while frames.count < 2
        return (try RpcV1.ResponseHeader(serializedBytes: frames[0]), frames[1])
    }

    func close() { zmq_close(socket) }
}

/// Sends frames a real client never would: random bytes, wrong frame counts, mutated valid envelopes.
struct FrameFuzzer {
    var random: SeededGenerator

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    mutating func sendBatch(to endpoint: String, count: Int) throws {
        let context = zmq_ctx_new()!
        defer { zmq_ctx_term(context) }
        let socket = zmq_socket(context, ZMQ_DEALER)!
        var linger: Int32 = 0
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, 4)
        defer { zmq_close(socket) }
        guard zmq_connect(socket, endpoint) == 0 else { throw RPCError(.unavailable, "fuzzer cannot connect") }
        for _ in 0..<count {
            let frames = nextMessage()
            for (index, frame) in frames.enumerated() {
                let flags = index < frames.count - 1 ? ZMQ_SNDMORE : 0
                _ = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
            }
            // Drain whatever the server answered so the socket never blocks.
            var buffer = [UInt8](repeating: 0, count: 256)
            while zmq_recv(socket, &buffer, buffer.count, ZMQ_DONTWAIT) >= 0 {}
        }
        // Give the server's loop a moment to chew through the batch before the socket goes away.
        usleep(20_000)
    }

    mutating func nextMessage() -> [[UInt8]] {
        var header = RpcV1.RequestHeader()
        header.protocolVersion = random.next() % 4 == 0 ? UInt32(truncatingIfNeeded: random.next()) : 1
        header.callID = random.next()
        header.kind = RpcV1.RequestKind(rawValue: Int32(random.next() % 3))
        header.service =
            ["fairtrade.testing.v1.TestService", "fairtrade.health.v1.Health", "", "x"][Int(random.next() % 4)]
        header.method = ["UnaryCall", "EmptyCall", "Check", "IncrementCounter", "Forward", ""][Int(random.next() % 6)]
        header.timeoutMicros = random.next() % 3 == 0 ? random.next() : random.next() % 100_000
        var valid = header.serializedBytes()
        switch random.next() % 6 {
        case 0:
            return (0..<Int(random.next() % 5)).map { _ in bytes(Int(random.next() % 64)) }
        case 1:
            return [bytes(Int(random.next() % 300))]
        case 2:
            for _ in 0...(random.next() % 4) where !valid.isEmpty {
                valid[Int(random.next() % UInt64(valid.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            return [valid, bytes(Int(random.next() % 100))]
        case 3:
            return [valid, bytes(Int(random.next() % 100)), bytes(10)]
        case 4:
            return [Array(valid.prefix(Int(random.next() % UInt64(valid.count + 1)))), []]
        default:
            return [valid, bytes(Int(random.next() % 200))]
        }
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
}

/// Resident memory of process `pid`, from /proc.
private func residentBytes(of pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { throw RPCError(.internalError, "no VmRSS in /proc/\(pid)/status") }
    return kilobytes << 10
}
