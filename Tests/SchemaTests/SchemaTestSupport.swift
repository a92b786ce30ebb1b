import CProtobufC
import Foundation
import Schema
import TestSupport

/// Builds JSON documents with random values for every field of a message, walking protoc-c's descriptors, so that
/// every message of the schema can be exercised without writing samples by hand.
struct RandomMessageBuilder {
    var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func json(for type: any ProtoMessage.Type, depth: Int = 0) -> JSONValue {
        json(for: type._cDescriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), depth: depth)
    }

    mutating func json(for descriptor: UnsafePointer<ProtobufCMessageDescriptor>, depth: Int) -> JSONValue {
        var members: [(String, JSONValue)] = []
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields[index]
            let name = String(cString: field.name)
            if field.label == PROTOBUF_C_LABEL_REPEATED {
                let count =
                    field.type == PROTOBUF_C_TYPE_MESSAGE && depth > 2 ? 0 : Int.random(in: 0...3, using: &generator)
                members.append((name, .array((0..<count).map { _ in value(field, depth: depth) })))
            } else if field.type != PROTOBUF_C_TYPE_MESSAGE || depth <= 2 {
                members.append((name, value(field, depth: depth)))
            }
        }
        return .object(members)
    }

    private mutating func value(_ field: ProtobufCFieldDescriptor, depth: Int) -> JSONValue {
        switch field.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            return .integer(Int64(Int32.random(in: .min ... .max, using: &generator)))
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            return .integer(Int64(UInt32.random(in: .min ... .max, using: &generator)))
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            return .integer(Int64.random(in: .min ... .max, using: &generator))
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            return .unsigned(UInt64.random(in: .min ... .max, using: &generator))
        case PROTOBUF_C_TYPE_FLOAT: return .number(Double(Float(Int.random(in: -1000...1000, using: &generator)) / 8))
        case PROTOBUF_C_TYPE_DOUBLE: return .number(Double.random(in: -1e9...1e9, using: &generator))
        case PROTOBUF_C_TYPE_BOOL: return .bool(Bool.random(using: &generator))
        case PROTOBUF_C_TYPE_STRING:
            let pool = ["", "Bolga basket weavers", "VillageWorks — Phnom Penh", "ঢাকা", "日本語", "a\"b\\c\n", "e\u{301}"]
            return .string(pool[Int.random(in: 0..<pool.count, using: &generator)])
        case PROTOBUF_C_TYPE_BYTES:
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            return .string(Data(bytes).base64EncodedString())
        case PROTOBUF_C_TYPE_ENUM:
            let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            let index = Int.random(in: 0..<Int(descriptor.pointee.n_values), using: &generator)
            return .string(String(cString: descriptor.pointee.values[index].name))
        case PROTOBUF_C_TYPE_MESSAGE:
            return json(
                for: field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), depth: depth + 1)
        default:
            fatalError("unexpected field type \(field.type)")
        }
    }
}

/// The process's peak resident set size, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
