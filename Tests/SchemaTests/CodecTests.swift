import Foundation
import Schema
import Testing

@Suite("Codec: every message of the schema through protoc-c")
struct CodecTests {
    @Test(
        "every schema message round-trips through the typed codec", arguments: SchemaRegistry.messageTypes.keys.sorted()
    )
    func everyMessageRoundTrips(name: String) throws {
        let type = try #require(SchemaRegistry.messageTypes[name])
        var builder = RandomMessageBuilder(seed: UInt64(abs(name.hashValue % 10_000)))
        for _ in 0..<25 {
            let json = builder.json(for: type)
            let packed = try DescriptorJSON.encode(json, as: name)
            let decoded = try decode(type, packed)
            let repacked = decoded.serializedBytes()
            // protobuf-c packs fields in a fixed order, so equal values give equal bytes: any field the typed
            // codec dropped or changed shows here.
            #expect(repacked == packed, "\(name) changed on a round trip of \(json.text(indent: 0))")
            #expect(try DescriptorJSON.decode(repacked, as: name) == DescriptorJSON.decode(packed, as: name))
        }
    }

    private func decode(_ type: any ProtoMessage.Type, _ bytes: [UInt8]) throws -> any ProtoMessage {
        try type.init(serializedBytes: bytes, options: DecodeOptions())
    }

    @Test("a hand-built envelope keeps every value, including edge values")
    func envelopeValues() throws {
        var header = RpcV1.RequestHeader()
        header.protocolVersion = 1
        header.callID = .max
        header.service = "fairtrade.producer.v1.ProducerService"
        header.method = "GetProducerGroup"
        header.timeoutMicros = 1
        header.requestID = "ñ-日本-\u{1F9FA}"
        header.metadata = [
            RpcV1.MetadataEntry(key: "x-k", value: ""), RpcV1.MetadataEntry(key: "x-k", value: "second"),
        ]
        let decoded = try RpcV1.RequestHeader(serializedBytes: header.serializedBytes())
        #expect(decoded == header)
        #expect(RpcV1.RequestHeader().serializedBytes().isEmpty)
        #expect(
            try CommonV1.Money(serializedBytes: CommonV1.Money(minorUnits: -600_000, currency: "USD").serializedBytes())
                == CommonV1.Money(minorUnits: -600_000, currency: "USD"))
    }

    @Test("enum values the schema does not name survive lenient decoding and are refused by strict decoding")
    func unknownEnumValues() throws {
        var status = TestingV1.EchoStatus()
        status.code = .unrecognized(99)
        let request = TestingV1.SimpleRequest(responseStatus: status)
        let bytes = request.serializedBytes()
        #expect(try TestingV1.SimpleRequest(serializedBytes: bytes).responseStatus?.code == .unrecognized(99))
        #expect(throws: SchemaError.unknownEnumValue(field: "response_status.code", value: 99)) {
            try TestingV1.SimpleRequest(serializedBytes: bytes, options: DecodeOptions(strictEnums: true))
        }
    }
}
