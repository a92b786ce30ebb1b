import ArgumentParser
import CProtobufC
import CSchema
import CZeroMQ
import Foundation
import RPC
import Schema

/// `rpc-bench floor-server`: a floor's server, in a process of its own. Prints its endpoint.
struct FloorServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floor-server", abstract: "Serve a protocol floor (used by floor).", shouldDisplay: false)

    @Option(help: "The codec: the runtime's Swift types, or protobuf-c alone.")
    var codec = FloorCodec.swift

    @Option(help: "Frames per message after the routing id: 2 as in the protocol, or 1.")
    var frames = 2

    func validate() throws {
        guard frames == 1 || frames == 2 else { throw ValidationError("--frames must be 1 or 2") }
    }

    func run() throws { try FloorServerLoop(codec: codec, frames: frames).serve() }
}

/// A bump allocator over a stack region, for the floors' decodes: nothing is freed before the region goes.
struct StackRegion {
    var next: UnsafeMutableRawPointer
    let end: UnsafeMutableRawPointer
}

/// Receive slots for the frames of one message, read in place.
final class FloorSlots {
    let capacity: Int
    private let slots: UnsafeMutablePointer<zmq_msg_t>
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        for index in 0..<capacity { zmq_msg_init(slots + index) }
    }

    deinit {
        for index in 0..<capacity { zmq_msg_close(slots + index) }
        slots.deallocate()
    }

    /// Receives one whole message (blocking unless `flags` says otherwise); false when none came or it has more
    /// frames than slots.
    func receive(_ socket: UnsafeMutableRawPointer, flags: Int32) -> Bool {
        count = 0
        while true {
            guard count < capacity, zmq_msg_recv(slots + count, socket, count == 0 ? flags : 0) >= 0 else {
                return false
            }
            count += 1
            if zmq_msg_more(slots + count - 1) == 0 { return true }
        }
    }

    subscript(index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: zmq_msg_data(slots + index), count: zmq_msg_size(slots + index))
    }
}

/// A floor's server: answers UnaryCall as the interop service does (echoes the payload and text, returns the
/// request id and an instance id), one message at a time: decode the header, find the method, decode the request,
/// encode the response and its header, send.
struct FloorServerLoop {
    let codec: FloorCodec
    let framing: FloorFraming

    init(codec: FloorCodec, frames: Int) {
        self.codec = codec
        framing = FloorFraming(frames: frames)
    }

    func serve() throws {
        let context = zmq_ctx_new()!
        let router = zmq_socket(context, ZMQ_ROUTER)!
        var hwm: Int32 = 100_000
        zmq_setsockopt(router, ZMQ_SNDHWM, &hwm, 4)
        zmq_setsockopt(router, ZMQ_RCVHWM, &hwm, 4)
        let endpoint = try bindLoopback(router)
        FileHandle.standardOutput.write(Data((endpoint + "\n").utf8))

        let answer = answering(instanceID: RequestID.make())
        let slots = FloorSlots(capacity: 3)
        var item = zmq_pollitem_t(socket: router, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        while true {
            guard zmq_poll(&item, 1, -1) >= 0 else { continue }
            while slots.receive(router, flags: ZMQ_DONTWAIT) {
                guard let (header, payload) = framing.read(slots, from: 1) else { continue }
                answer(header, payload) { replyHeader, response in
                    _ = zmq_send(router, slots[0].baseAddress, slots[0].count, ZMQ_SNDMORE)
                    framing.write(replyHeader, response) {
                        _ = zmq_send(router, $0.baseAddress, $0.count, $1 ? ZMQ_SNDMORE : 0)
                    }
                }
            }
        }
    }

    typealias Reply = (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void

    /// The per-message work: request header and payload in, response header and payload to `reply`.
    private func answering(instanceID: String) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer, Reply) -> Void {
        switch codec {
        case .swift:
            typealias Handler = (UnsafeRawBufferPointer, RpcV1.RequestHeader) throws -> [UInt8]
            let handlers: [String: [String: Handler]] = [
                FloorFraming.service: [
                    FloorFraming.method: { bytes, header in
                        let request = try TestingV1.SimpleRequest(serializedBytes: bytes)
                        return TestingV1.SimpleResponse(
                            payload: request.payload, text: request.text, requestID: header.requestID,
                            instanceID: instanceID
                        ).serializedBytes()
                    }
                ]
            ]
            return { headerBytes, payload, reply in
                guard let header = try? RpcV1.RequestHeader(serializedBytes: headerBytes),
                    let handler = handlers[header.service]?[header.method],
                    let response = try? handler(payload, header)
                else { return }
                var replyHeader = RpcV1.ResponseHeader()
                replyHeader.protocolVersion = 1
                replyHeader.callID = header.callID
                replyHeader.withSerializedBytes { encodedHeader in
                    response.withUnsafeBytes { reply(encodedHeader, $0) }
                }
            }
        case .c:
            let instance = strdup(instanceID)!
            return { headerBytes, payload, reply in
                _ = FloorFraming.withUnpacked(
                    headerBytes, ftd_fairtrade__rpc__v1__request_header(), as: Fairtrade__Rpc__V1__RequestHeader.self
                ) { header in
                    guard strcmp(header.pointee.service, FloorFraming.service) == 0,
                        strcmp(header.pointee.method, FloorFraming.method) == 0
                    else { return }
                    _ = FloorFraming.withUnpacked(
                        payload, ftd_fairtrade__testing__v1__simple_request(),
                        as: Fairtrade__Testing__V1__SimpleRequest.self
                    ) { request in
                        var response = Fairtrade__Testing__V1__SimpleResponse()
                        protobuf_c_message_init(ftd_fairtrade__testing__v1__simple_response(), &response)
                        response.payload = request.pointee.payload
                        response.text = request.pointee.text
                        response.request_id = header.pointee.request_id
                        response.instance_id = instance
                        var replyHeader = Fairtrade__Rpc__V1__ResponseHeader()
                        protobuf_c_message_init(ftd_fairtrade__rpc__v1__response_header(), &replyHeader)
                        replyHeader.protocol_version = 1
                        replyHeader.call_id = header.pointee.call_id
                        FloorFraming.packed(&replyHeader) { encodedHeader in
                            FloorFraming.packed(&response) { reply(encodedHeader, $0) }
                        }
                    }
                }
            }
        }
    }
}
