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

    /// The same with the field's example data loaded, so that calls get past "not found" into the services' work:
    /// every id field holds a real id (each kind of id in turn where a field has been seen holding several),
    /// texts, dates and currencies are plausible, and numbers are 1, then 1,000,000 and 10^15 (the largest the
    /// services take), then their largest and smallest.
    @Test("with the example data loaded, every method with real ids and numbers from 1 to their extremes")
    func everyMethodWithData() async throws {
        let services = try await ThreeServices()
        let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment)
        try #require(load.status == 0, "\(load.output)")
        let sweep = try Sweep(services)
        try await sweep.harvestLists()
        try #require(sweep.ids.kinds.count >= 6, "ids found: \(sweep.ids.kinds)")
        // A first pass with plausible numbers creates records of more kinds (markets, demand, threads, …), whose
        // ids the second pass uses too.
        try await sweep.run([.one])
        try await sweep.run(Numbers.allCases)
        #expect(sweep.calls >= 70 * Numbers.allCases.count, "only \(sweep.calls) calls made")
        #expect(sweep.answers["OK", default: 0] >= 200, "answers: \(sweep.answers)")
    }

    /// Calls every method of the three services with plausible requests, keeping the ids they answer with.
    final class Sweep {
        let services: ThreeServices
        let targets: [(schema: ServiceSchema, channel: ClientChannel)]
        var ids = IDPool()
        var calls = 0
        /// How many calls got each status.
        var answers: [String: Int] = [:]
        var options = CallOptions(timeout: .seconds(10))
        /// Every call made: its service and method, the request id of its header, and the status it answered.
        var log: [(service: ServiceSchema, method: ServiceSchema.Method, requestID: String, code: RPCError.Code)] = []
        /// Every call answered OK: its request and its answer, encoded.
        var answered: [(service: ServiceSchema, method: ServiceSchema.Method, request: [UInt8], answer: [UInt8])] = []

        /// Calls with `key` when the services run with keys.
        init(_ services: ThreeServices, key: String = "producer-service") throws {
            self.services = services
            targets = try [
                (ServiceDirectory.producer.rpcService, services.producerEndpoint),
                (ServiceDirectory.marketplaceInfo.rpcService, services.marketEndpoint),
                (ServiceDirectory.assistance.rpcService, services.assistanceEndpoint),
            ].map { (try #require(SchemaRegistry.service(named: $0.0)), try services.channel($0.1, as: key)) }
        }

        /// Every List and Search method with an empty request: the ids of the example data.
        func harvestLists() async throws {
            for (schema, channel) in targets {
                for method in schema.methods where method.name.hasPrefix("List") || method.name.hasPrefix("Search") {
                    let request = try DescriptorJSON.encode(.object([]), as: method.inputType)
                    if let answer = try? await channel.call(
                        service: schema.name, method: method.name, idempotent: true, payload: request,
                        options: options)
                    {
                        ids.harvest(try DescriptorJSON.decode(answer, as: method.outputType))
                    }
                }
            }
        }

        /// Each method with each kind of id (where the request's fields take different ids by kind) and each of
        /// `numbers`. Records an issue for a status that means a bug, and stops at a service that went down.
        func run(_ numbers: [Numbers]) async throws {
            let kinds = ids.kinds
            for (schema, channel) in targets {
                let health = HealthV1.HealthClient(channel: channel)
                for method in schema.methods {
                    let descriptor = SchemaRegistry.messageTypes[method.inputType]!._cDescriptor
                    var sent: Set<JSONValue> = []
                    for kind in kinds {
                        for numbers in numbers {
                            let key = Plausible(ids: ids, kind: kind, numbers: numbers, requestID: "")
                                .message(descriptor, depth: 0)
                            guard sent.insert(key).inserted else { continue }
                            calls += 1
                            let json = Plausible(ids: ids, kind: kind, numbers: numbers, requestID: "sweep-\(calls)")
                                .message(descriptor, depth: 0)
                            let payload = try DescriptorJSON.encode(json, as: method.inputType)
                            let what = "\(schema.name)/\(method.name) with \(kind) ids and \(numbers) numbers"
                            var callOptions = options
                            callOptions.requestID = "call-\(calls)-" + RequestID.make()
                            do {
                                let answer = try await channel.call(
                                    service: schema.name, method: method.name, idempotent: false, payload: payload,
                                    options: callOptions)
                                log.append((schema, method, callOptions.requestID!, .ok))
                                answered.append((schema, method, payload, answer))
                                answers["OK", default: 0] += 1
                                if let json = try? DescriptorJSON.decode(answer, as: method.outputType) {
                                    ids.harvest(json)
                                }
                            } catch {
                                log.append((schema, method, callOptions.requestID!, error.code))
                                answers["\(error.code)", default: 0] += 1
                                let unexpected: Set<RPCError.Code> = [
                                    .internalError, .unknown, .dataLoss, .deadlineExceeded,
                                ]
                                #expect(!unexpected.contains(error.code), "\(what): \(error.code): \(error.message)")
                            }
                            let alive = try? await health.check(HealthV1.HealthCheckRequest(), options: options)
                            guard alive?.status == .serving, services.exited.isEmpty else {
                                Issue.record("\(what) took down \(services.exited)")
                                throw CancellationError()
                            }
                        }
                    }
                }
            }
        }
    }

    enum Numbers: CaseIterable {
        case one, bound, largest, smallest
    }

    /// Ids the services handed out ("pg_…", "og_…"), by the name of the field that held them.
    struct IDPool {
        private var prefixesByField: [String: Set<String>] = [:]
        private var idByPrefix: [String: String] = [:]

        var kinds: [String] { idByPrefix.keys.sorted() }

        mutating func harvest(_ json: JSONValue, field: String = "") {
            switch json {
            case .string(let text):
                let parts = text.split(separator: "_", maxSplits: 1)
                guard parts.count == 2, parts[0].count == 2, parts[1].count == 16,
                    parts[1].allSatisfy(\.isHexDigit)
                else { return }
                let prefix = String(parts[0])
                prefixesByField[field, default: []].insert(prefix)
                if idByPrefix[prefix] == nil { idByPrefix[prefix] = text }
            case .array(let values): values.forEach { harvest($0, field: field) }
            case .object(let members): members.forEach { harvest($0.1, field: $0.0) }
            default: break
            }
        }

        /// An id for `field`: of `kind` when the field has held that kind or none was seen in it, else of a kind
        /// it has held.
        func id(for field: String, kind: String) -> String {
            let seen =
                prefixesByField[field] ?? prefixesByField[field.hasSuffix("s") ? String(field.dropLast()) : field]
                ?? []
            let prefix = seen.isEmpty || seen.contains(kind) ? kind : seen.sorted()[0]
            return idByPrefix[prefix] ?? ""
        }
    }

    /// Requests with plausible texts, dates and money, real ids, and numbers as chosen.
    struct Plausible {
        let ids: IDPool
        let kind: String
        let numbers: Numbers
        let requestID: String

        func message(_ raw: UnsafeRawPointer, depth: Int) -> JSONValue {
            let descriptor = raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self).pointee
            switch String(cString: descriptor.name) {
            case "fairtrade.common.v1.Date":
                return .object([("year", .integer(2025)), ("month", .integer(3)), ("day", .integer(15))])
            case "fairtrade.common.v1.Money":
                return .object([("minor_units", int64()), ("currency", .string("USD"))])
            default: break
            }
            var members: [(String, JSONValue)] = []
            for index in 0..<Int(descriptor.n_fields) {
                let field = descriptor.fields[index]
                let name = String(cString: field.name)
                if field.type == PROTOBUF_C_TYPE_MESSAGE && depth >= 3 || name == "update_mask" || name == "page_token"
                {
                    continue
                }
                let one = value(field, name, depth: depth)
                members.append((name, field.label == PROTOBUF_C_LABEL_REPEATED ? .array([one]) : one))
            }
            return .object(members)
        }

        private func int64() -> JSONValue {
            switch numbers {
            case .one: .integer(1)
            case .bound: .integer(1_000_000_000_000_000)
            case .largest: .integer(.max)
            case .smallest: .integer(.min)
            }
        }

        private func value(_ field: ProtobufCFieldDescriptor, _ name: String, depth: Int) -> JSONValue {
            switch field.type {
            case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
                switch numbers {
                case .one: return .integer(name.hasSuffix("year") ? 2020 : 1)
                case .bound: return .integer(1_000_000)
                case .largest: return .integer(Int64(Int32.max))
                case .smallest: return .integer(Int64(Int32.min))
                }
            case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
                return int64()
            case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
                return .unsigned(numbers == .largest ? UInt64(UInt32.max) : 1)
            case PROTOBUF_C_TYPE_FLOAT, PROTOBUF_C_TYPE_DOUBLE:
                return .number(numbers == .largest ? 1e300 : numbers == .smallest ? -1e300 : 1)
            case PROTOBUF_C_TYPE_BOOL:
                return .bool(numbers != .one)
            case PROTOBUF_C_TYPE_ENUM:
                let values = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self).pointee
                return .integer(Int64(values.values[Int(values.n_values) - 1].value))
            case PROTOBUF_C_TYPE_STRING:
                return .string(text(name))
            case PROTOBUF_C_TYPE_BYTES:
                return .string("")
            case PROTOBUF_C_TYPE_MESSAGE:
                return message(field.descriptor, depth: depth + 1)
            default:
                return .null
            }
        }

        private func text(_ name: String) -> String {
            switch name {
            case "request_id": requestID
            case "country", "countries", "recipient_countries": "GH"
            case "currency": "USD"
            case "skill", "code": "basketry"
            case "unit": "piece"
            case "product", "craft", "crafts": "baskets"
            case "email": "coop@example.org"
            case "phone": "+233 20 000 0000"
            case "iati_identifier": ""
            case "query": "dye"
            case "csv": "title\n"
            default:
                name == "id" || name.hasSuffix("_id") || name.hasSuffix("_ids") || name == "cascades_from"
                    ? ids.id(for: name, kind: kind) : "Bolga"
            }
        }
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
