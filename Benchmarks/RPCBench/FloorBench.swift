import ArgumentParser
import CProtobufC
import CSchema
import CZeroMQ
import Foundation
import RPC
import Schema

/// `rpc-bench floor`: how fast a unary call over this protocol and codec can go at all on this machine, with 64
/// calls in flight, beside raw ZeroMQ's echo and our runtime in the same rounds.
///
/// The floors are a client and a server that do only what every call of the protocol must: a request header
/// (service, method, call id, deadline, a fresh request id) and an encoded request one way, a response header and
/// an encoded response the other, each decoded by the receiver, the call found by its id. One synchronous loop per
/// side: no tasks, continuations, executors, deadlines, metrics or logging. No runtime built on the same codec and
/// framing can outrun its floor, so a floor's rate over raw ZeroMQ's bounds the throughput ratio any runtime design
/// could reach here with that codec and framing.
///
/// - `swift`: the runtime's codec, the generated Swift types over protobuf-c.
/// - `c`: protobuf-c alone on C structs: strings compared and passed on in place, nothing copied into Swift values.
///   The least the schema asks of a call.
/// - frames: docs/PROTOCOL.md's two (header, payload), or both in one frame behind the header's length, to show
///   what the second frame costs.
struct FloorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floor",
        abstract:
            "Measure the throughput bound of the protocol and codec: synchronous loops that do only a call's work.")

    @Option(help: "Calls measured per system and round.")
    var calls = 200_000

    @Option(help: "Calls in flight.")
    var inFlight = 64

    @Option(help: "Bytes of payload in each request and response.")
    var payloadBytes = 100

    @Option(help: "Interleaved rounds; the figures are medians over them.")
    var rounds = 3

    func validate() throws {
        guard calls >= 1000, inFlight >= 1, rounds >= 1, (8...512).contains(payloadBytes) else {
            throw ValidationError(
                "need --calls ≥ 1000, --in-flight ≥ 1, --rounds ≥ 1 and --payload-bytes from 8 to 512")
        }
    }

    static let floors: [(name: String, codec: FloorCodec, frames: Int)] = [
        ("floor, Swift codec", .swift, 2), ("floor, C codec", .c, 2), ("floor, C, one frame", .c, 1),
    ]

    func run() throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let raw = try ServerProcess(executable, ["raw-server"])
        defer { raw.stop() }
        let rawEndpoint = String(try raw.firstLine().split(separator: " ")[1])
        let servers = try Self.floors.map {
            try ServerProcess(executable, ["floor-server", "--codec", $0.codec.rawValue, "--frames", "\($0.frames)"])
        }
        defer { servers.forEach { $0.stop() } }
        let endpoints = try servers.map { try $0.firstLine() }
        let rpc = try ServerProcess(
            executable.deletingLastPathComponent().appendingPathComponent("interop-server"),
            ["--endpoint", "tcp://127.0.0.1:*"])
        defer { rpc.stop() }
        let rpcEndpoint = try rpc.firstLine()

        let payload = [UInt8](repeating: 0x42, count: payloadBytes)
        var samples: [[Measurement]] = []
        for _ in 0..<rounds {
            var round = [
                try RawZMQ.throughput(endpoint: rawEndpoint, payload: payload, calls: calls, inFlight: inFlight),
                try RawZMQ.throughput(
                    endpoint: rawEndpoint, payload: payload, calls: calls, inFlight: inFlight, frames: 2),
            ]
            for (floor, endpoint) in zip(Self.floors, endpoints) {
                let client = FloorClient(codec: floor.codec, frames: floor.frames, payload: payload)
                round.append(try client.throughput(endpoint: endpoint, calls: calls, inFlight: inFlight))
            }
            round.append(
                try RPCClientBench().throughput(
                    endpoint: rpcEndpoint, payload: payload, calls: calls, inFlight: inFlight, onLoop: true))
            samples.append(round)
        }
        let medians = samples[0].indices.map { index in Measurement.median(of: samples.map { $0[index] }) }
        let names = ["raw ZeroMQ echo", "raw, two frames"] + Self.floors.map(\.name) + ["our RPC"]
        print("\(calls) calls with \(inFlight) in flight, payload \(payloadBytes) B; medians of \(rounds) rounds")
        for (name, result) in zip(names, medians) {
            print(
                String(
                    format: "%@ p50 %7.1f µs  p99 %7.1f µs  %8.0f calls/s  %.2f× raw",
                    name.padding(toLength: 20, withPad: " ", startingAt: 0), result.p50, result.p99,
                    result.perSecond, result.perSecond / medians[0].perSecond))
        }
    }
}

/// How a floor encodes and decodes.
enum FloorCodec: String, ExpressibleByArgument, CaseIterable {
    case swift, c
}

/// What the floors' two sides share: the method they call, and how a header and a payload travel in one or two
/// frames (in one: the header's length as 4 bytes, little-endian, the header, the payload).
struct FloorFraming {
    static let service = "fairtrade.testing.v1.TestService"
    static let method = "UnaryCall"
    /// Stack room for one encoded message, or a header and payload joined (Swift keeps temporary allocations of
    /// up to 1 KiB on the stack, larger ones go to the heap).
    static let stackBytes = 1024

    let frames: Int

    /// Hands `header` and `payload` to `send` as frames (the last one with `more` false).
    func write(
        _ header: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer,
        _ send: (UnsafeRawBufferPointer, _ more: Bool) -> Void
    ) {
        if frames == 2 {
            send(header, true)
            send(payload, false)
            return
        }
        withUnsafeTemporaryAllocation(byteCount: Self.stackBytes, alignment: 8) { buffer in
            var length = UInt32(header.count).littleEndian
            withUnsafeBytes(of: &length) { buffer.copyMemory(from: $0) }
            UnsafeMutableRawBufferPointer(rebasing: buffer[4...]).copyMemory(from: header)
            UnsafeMutableRawBufferPointer(rebasing: buffer[(4 + header.count)...]).copyMemory(from: payload)
            send(UnsafeRawBufferPointer(rebasing: buffer[..<(4 + header.count + payload.count)]), false)
        }
    }

    /// Splits the frames of a received message (after any routing id) into header and payload; nil when they do
    /// not fit the framing.
    func read(_ slots: FloorSlots, from first: Int) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer)? {
        if frames == 2 { return slots.count == first + 2 ? (slots[first], slots[first + 1]) : nil }
        guard slots.count == first + 1, slots[first].count >= 4 else { return nil }
        let frame = slots[first]
        let length = Int(UInt32(littleEndian: frame.loadUnaligned(as: UInt32.self)))
        guard length <= frame.count - 4 else { return nil }
        return (
            UnsafeRawBufferPointer(rebasing: frame[4..<(4 + length)]),
            UnsafeRawBufferPointer(rebasing: frame[(4 + length)...])
        )
    }

    /// Packs a protoc-c message on the stack and hands the bytes on.
    static func packed<Message>(_ message: inout Message, _ body: (UnsafeRawBufferPointer) -> Void) {
        withUnsafeMutablePointer(to: &message) { pointer in
            let base = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: ProtobufCMessage.self)
            precondition(protobuf_c_message_get_packed_size(base) <= stackBytes)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackBytes) { buffer in
                let count = protobuf_c_message_pack(base, buffer.baseAddress!)
                body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[..<count]))
            }
        }
    }

    /// Decodes `bytes` with protobuf-c into a region on the stack (as the runtime decodes small messages) and hands
    /// the message to `body`; nil when the bytes do not decode.
    static func withUnpacked<Message, R>(
        _ bytes: UnsafeRawBufferPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, as: Message.Type,
        _ body: (UnsafePointer<Message>) throws -> R
    ) rethrows -> R? {
        try withUnsafeTemporaryAllocation(byteCount: stackBytes, alignment: 16) { region in
            var bump = StackRegion(next: region.baseAddress!, end: region.baseAddress! + region.count)
            return try withUnsafeMutablePointer(to: &bump) { bumpPointer in
                var allocator = ProtobufCAllocator(
                    alloc: stackRegionAlloc, free: stackRegionFree, allocator_data: UnsafeMutableRawPointer(bumpPointer)
                )
                guard
                    let message = protobuf_c_message_unpack(
                        descriptor, &allocator, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
                else { return nil }
                return try body(UnsafeRawPointer(message).assumingMemoryBound(to: Message.self))
            }
        }
    }
}

private let stackRegionAlloc: @convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer? = {
    data, size in
    let region = data!.assumingMemoryBound(to: StackRegion.self)
    let rounded = (max(size, 1) + 15) & ~15
    guard rounded <= region.pointee.end - region.pointee.next else { return nil }
    defer { region.pointee.next += rounded }
    return region.pointee.next
}

private let stackRegionFree: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { _, _ in }

/// A floor's client: keeps `inFlight` calls outstanding from one synchronous loop. Each call gets a fresh request
/// id, a header with a deadline and an encoded request; each answer's header is decoded, its call found by id, and
/// its response decoded.
struct FloorClient {
    let codec: FloorCodec
    let framing: FloorFraming
    let payload: [UInt8]

    init(codec: FloorCodec, frames: Int, payload: [UInt8]) {
        self.codec = codec
        framing = FloorFraming(frames: frames)
        self.payload = payload
    }

    func throughput(endpoint: String, calls: Int, inFlight: Int) throws -> Measurement {
        let connection = try RawConnection(ZMQ_DEALER, to: endpoint)
        let socket = connection.socket
        defer { withExtendedLifetime(connection) {} }
        let slots = FloorSlots(capacity: 2)
        let (call, answer) = work { header, request in
            framing.write(header, request) { _ = zmq_send(socket, $0.baseAddress, $0.count, $1 ? ZMQ_SNDMORE : 0) }
        }
        var nextCallID: UInt64 = 1
        var pending: [UInt64: UInt64] = [:]
        func run(_ total: Int, record: Bool) throws -> [UInt64] {
            var samples = [UInt64]()
            if record { samples.reserveCapacity(total) }
            var (sent, received) = (0, 0)
            func next() {
                pending[nextCallID] = nowNanos()
                call(nextCallID)
                nextCallID += 1
                sent += 1
            }
            while sent < min(inFlight, total) { next() }
            while received < total {
                guard slots.receive(socket, flags: 0), let (header, response) = framing.read(slots, from: 0)
                else { throw ValidationError("an answer is not framed as sent") }
                let (callID, ok, size) = try answer(header, response)
                guard let start = pending.removeValue(forKey: callID), ok, size == payload.count else {
                    throw ValidationError("unexpected answer for call \(callID)")
                }
                received += 1
                if record { samples.append(nowNanos() - start) }
                if sent < total { next() }
            }
            return samples
        }
        _ = try run(min(20_000, calls), record: false)
        let start = ContinuousClock.now
        let samples = try run(calls, record: true)
        return Measurement(
            system: "floor-\(codec)-\(framing.frames)", mode: "throughput", samples: samples, elapsed: .now - start,
            calls: calls)
    }

    /// The per-call work: a call's header and request to `send`, and an answer's header and response decoded to
    /// its call id, whether it is OK and the response payload's size.
    private func work(send: @escaping (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) -> (
        call: (UInt64) -> Void,
        answer: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> (UInt64, Bool, Int)
    ) {
        switch codec {
        case .swift:
            let request = TestingV1.SimpleRequest(payload: payload)
            return (
                { callID in
                    var header = RpcV1.RequestHeader()
                    header.protocolVersion = 1
                    header.callID = callID
                    header.kind = .call
                    header.service = FloorFraming.service
                    header.method = FloorFraming.method
                    header.timeoutMicros = 30_000_000
                    header.requestID = RequestID.make()
                    header.withSerializedBytes { encodedHeader in
                        request.serializedBytes().withUnsafeBytes { send(encodedHeader, $0) }
                    }
                },
                { headerBytes, responseBytes in
                    let header = try RpcV1.ResponseHeader(serializedBytes: headerBytes)
                    let response = try TestingV1.SimpleResponse(serializedBytes: responseBytes)
                    return (header.callID, header.code == .ok, response.payload.count)
                }
            )
        case .c:
            let (service, method) = (strdup(FloorFraming.service)!, strdup(FloorFraming.method)!)
            let payloadC = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: payload.count)
            _ = payloadC.initialize(from: payload)
            return (
                { callID in
                    let requestID = strdup(RequestID.make())!
                    defer { free(requestID) }
                    var header = Fairtrade__Rpc__V1__RequestHeader()
                    protobuf_c_message_init(ftd_fairtrade__rpc__v1__request_header(), &header)
                    header.protocol_version = 1
                    header.call_id = callID
                    header.service = service
                    header.method = method
                    header.timeout_micros = 30_000_000
                    header.request_id = requestID
                    var request = Fairtrade__Testing__V1__SimpleRequest()
                    protobuf_c_message_init(ftd_fairtrade__testing__v1__simple_request(), &request)
                    request.payload = ProtobufCBinaryData(len: payloadC.count, data: payloadC.baseAddress)
                    FloorFraming.packed(&header) { encodedHeader in
                        FloorFraming.packed(&request) { send(encodedHeader, $0) }
                    }
                },
                { headerBytes, responseBytes in
                    guard
                        let (callID, ok) = FloorFraming.withUnpacked(
                            headerBytes, ftd_fairtrade__rpc__v1__response_header(),
                            as: Fairtrade__Rpc__V1__ResponseHeader.self,
                            { ($0.pointee.call_id, $0.pointee.code.rawValue == 0) }),
                        let size = FloorFraming.withUnpacked(
                            responseBytes, ftd_fairtrade__testing__v1__simple_response(),
                            as: Fairtrade__Testing__V1__SimpleResponse.self, { $0.pointee.payload.len })
                    else { throw ValidationError("an answer does not decode") }
                    return (callID, ok, size)
                }
            )
        }
    }
}
