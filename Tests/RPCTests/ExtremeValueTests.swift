import API
import CProtobufC
import Foundation
import RPC
import Schema
import ServiceKit
import TestSupport
import Testing

/// Every method of the three services, called with requests whose every field is at an extreme: integers at their
/// largest, then their smallest, strings long or empty, enums at their last value or one the schema lacks, every
/// nested message filled in. Whatever the services answer, none may crash, hang, or fail with INTERNAL (an
/// unexpected failure): bad input gets a status that names the problem.
@Suite("Services against requests of extreme values", .serialized)
struct ExtremeValueTests {
    enum Extreme: String, CaseIterable {
        case largest, smallest
    }

    @Test("every method of every service answers a request of extremes without crashing or an INTERNAL status")
    func everyMethod() async throws {
        let services = try await ThreeServices()
        let targets = [
            (ServiceDirectory.producer.rpcService, services.producerEndpoint),
            (ServiceDirectory.marketplaceInfo.rpcService, services.marketEndpoint),
            (ServiceDirectory.assistance.rpcService, services.assistanceEndpoint),
        ]
        var calls = 0
        for (serviceName, endpoint) in targets {
            let schema = try #require(SchemaRegistry.service(named: serviceName))
            let channel = try services.channel(endpoint)
            let health = HealthV1.HealthClient(channel: channel)
            for method in schema.methods {
                for extreme in Extreme.allCases {
                    let json = Self.request(method.inputType, extreme)
                    let payload = try DescriptorJSON.encode(json, as: method.inputType)
                    var options = CallOptions()
                    options.timeout = .seconds(10)
                    do {
                        _ = try await channel.call(
                            service: serviceName, method: method.name, idempotent: false, payload: payload,
                            options: options)
                    } catch {
                        let unexpected: Set<RPCError.Code> = [.internalError, .unknown, .dataLoss, .deadlineExceeded]
                        #expect(
                            !unexpected.contains(error.code),
                            "\(schema.name)/\(method.name) with the \(extreme) values: \(error.code): \(error.message)")
                    }
                    calls += 1
                    let alive = try? await health.check(HealthV1.HealthCheckRequest(), options: options)
                    guard alive?.status == .serving, services.exited.isEmpty else {
                        Issue.record(
                            "\(schema.name)/\(method.name) with the \(extreme) values took down \(services.exited)")
                        return
                    }
                }
            }
        }
        #expect(calls >= 2 * 70, "only \(calls) calls made")
    }

    /// A request of `messageName` with every field at `extreme`.
    static func request(_ messageName: String, _ extreme: Extreme) -> JSONValue {
        message(SchemaRegistry.messageTypes[messageName]!._cDescriptor, extreme, depth: 0)
    }

    private static func message(_ raw: UnsafeRawPointer, _ extreme: Extreme, depth: Int) -> JSONValue {
        let descriptor = raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self).pointee
        var members: [(String, JSONValue)] = []
        for index in 0..<Int(descriptor.n_fields) {
            let field = descriptor.fields[index]
            if field.type == PROTOBUF_C_TYPE_MESSAGE && depth >= 3 { continue }
            let one = value(field, extreme, depth: depth)
            let repeated = field.label == PROTOBUF_C_LABEL_REPEATED
            members.append(
                (String(cString: field.name), repeated ? .array(extreme == .largest ? [one, one] : [one]) : one))
        }
        return .object(members)
    }

    private static func value(_ field: ProtobufCFieldDescriptor, _ extreme: Extreme, depth: Int) -> JSONValue {
        let largest = extreme == .largest
        switch field.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            return .integer(largest ? Int64(Int32.max) : Int64(Int32.min))
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            return .unsigned(largest ? UInt64(UInt32.max) : 0)
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            return .integer(largest ? .max : .min)
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            return .unsigned(largest ? .max : 0)
        case PROTOBUF_C_TYPE_FLOAT, PROTOBUF_C_TYPE_DOUBLE:
            return .number(largest ? 1e300 : -1e300)
        case PROTOBUF_C_TYPE_BOOL:
            return .bool(largest)
        case PROTOBUF_C_TYPE_ENUM:
            let values = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self).pointee
            return .integer(largest ? Int64(values.values[Int(values.n_values) - 1].value) : 12_345)
        case PROTOBUF_C_TYPE_STRING:
            return .string(largest ? String(repeating: "Ω", count: 3000) : "")
        case PROTOBUF_C_TYPE_BYTES:
            return .string(Data(repeating: 0xff, count: largest ? 3000 : 0).base64EncodedString())
        case PROTOBUF_C_TYPE_MESSAGE:
            return message(field.descriptor, extreme, depth: depth + 1)
        default:
            return .null
        }
    }
}
