import Foundation
import Schema
import TestSupport
import Testing

@Suite("Decoding untrusted bytes stays bounded")
struct HostileInputTests {
    /// Field 6 of ListServicesResponse (`services`) is a repeated message: each `0x32 0x00` adds an empty one.
    /// protobuf-c alone would allocate ~45 bytes of memory per input byte for this.
    private func emptySubmessages(count: Int) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(count * 2)
        for _ in 0..<count {
            bytes.append(0x32)
            bytes.append(0x00)
        }
        return bytes
    }

    @Test("2 MB of empty repeated sub-messages is refused by the allocation budget, not allocated")
    func amplificationIsRefused() throws {
        let hostile = emptySubmessages(count: 1 << 20)
        let before = peakResidentBytes()
        for _ in 0..<5 {
            #expect(throws: SchemaError.self) {
                try ReflectionV1.ListServicesResponse(serializedBytes: hostile)
            }
            do {
                _ = try ReflectionV1.ListServicesResponse(serializedBytes: hostile)
            } catch let error {
                guard case .allocationBudgetExceeded = error.code else {
                    Issue.record("expected allocationBudgetExceeded, got \(error)")
                    return
                }
            }
        }
        // Unbounded, this input makes protobuf-c take ~90 MB; the budget stops it at 12 × 2 MB + 64 KiB.
        #expect(peakResidentBytes() - before < 60 << 20)
    }

    @Test("the same shape in a small dose decodes: the budget scales with the input")
    func smallDoseDecodes() throws {
        let decoded = try ReflectionV1.ListServicesResponse(serializedBytes: emptySubmessages(count: 100))
        #expect(decoded.services.count == 100)
    }

    @Test("input over the size limit is refused before unpacking")
    func oversizeIsRefused() {
        let bytes = [UInt8](repeating: 0, count: 1025)
        #expect(throws: SchemaError.messageTooLarge(size: 1025, limit: 1024)) {
            try CommonV1.Empty(serializedBytes: bytes, options: DecodeOptions(maxMessageBytes: 1024))
        }
    }

    @Test("10,000 random and mutated inputs never crash the decoder")
    func fuzzedInputs() throws {
        var generator = SeededGenerator(seed: 0xF00D)
        var valid = RandomMessageBuilder(seed: 7)
        let names = SchemaRegistry.messageTypes.keys.sorted()
        var decodedCount = 0
        for round in 0..<10_000 {
            let name = names[round % names.count]
            let type = SchemaRegistry.messageTypes[name]!
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...200, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            } else {
                bytes = try DescriptorJSON.encode(valid.json(for: type), as: name)
                for _ in 0...Int.random(in: 0...4, using: &generator) where !bytes.isEmpty {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0...2, using: &generator) {
                    case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                    case 1: bytes.removeSubrange(index...)
                    default: bytes.insert(contentsOf: [0xff, 0xff, 0xff, 0xff, 0x0f], at: index)
                    }
                }
            }
            if (try? type.init(serializedBytes: bytes, options: DecodeOptions())) != nil { decodedCount += 1 }
        }
        // Some survive (mutations that keep the encoding valid), most do not; none crashed to get here.
        #expect(decodedCount > 0 && decodedCount < 10_000)
    }

    @Test("truncated messages are reported as malformed, naming the message")
    func truncated() throws {
        let bytes = RpcV1.RequestHeader(service: "fairtrade.health.v1.Health", method: "Check").serializedBytes()
        #expect(throws: SchemaError.malformed("fairtrade.rpc.v1.RequestHeader")) {
            try RpcV1.RequestHeader(serializedBytes: Array(bytes.dropLast(3)))
        }
    }
}
