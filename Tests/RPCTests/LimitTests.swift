import API
import CProtobufC
import Foundation
import RPC
import Schema
import ServiceKit
import TestSupport
import Testing

/// Every bound of docs/LIMITS.md holds: a string or list over its limit, and an integer outside its range, in any
/// method's request, is INVALID_ARGUMENT naming the field.
@Suite("Limits on every field", .serialized)
struct LimitTests {
    /// The paths of a request's fields that have a bound of `kind`, walking nested messages (first entries of
    /// repeated ones), with the bound.
    static func bounded(_ raw: UnsafeRawPointer, path: [JSONPath.Step] = [], depth: Int = 0) -> [(
        path: [JSONPath.Step], limit: FieldLimit, field: ProtobufCFieldDescriptor
    )] {
        let descriptor = raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self).pointee
        let name = String(cString: descriptor.name)
        let limits = SchemaRegistry.fieldLimits[name] ?? [:]
        var found: [(path: [JSONPath.Step], limit: FieldLimit, field: ProtobufCFieldDescriptor)] = []
        for index in 0..<Int(descriptor.n_fields) {
            let field = descriptor.fields[index]
            let step = JSONPath.Step(
                name: String(cString: field.name), index: field.label == PROTOBUF_C_LABEL_REPEATED ? 0 : nil)
            if let limit = limits[field.id] { found.append((path + [step], limit, field)) }
            if field.type == PROTOBUF_C_TYPE_MESSAGE && depth < 3 {
                found += bounded(field.descriptor, path: path + [step], depth: depth + 1)
            }
        }
        return found
    }

    @Test("an integer outside its range, in any method's request, is INVALID_ARGUMENT naming it")
    func everyRange() async throws {
        let services = try await ThreeServices()
        let load = try await runTool("ftadmin", ["examples", "load"], environment: services.environment)
        try #require(load.status == 0, "\(load.output)")
        let sweep = try ExtremeValueTests.Sweep(services)
        try await sweep.harvestLists()
        var checked = 0
        for (schema, channel) in sweep.targets {
            for method in schema.methods where !method.noSideEffects || method.name.hasPrefix("Search") {
                let descriptor = SchemaRegistry.messageTypes[method.inputType]!._cDescriptor
                let plausible = ExtremeValueTests.Plausible(
                    ids: sweep.ids, kind: sweep.ids.kinds.first ?? "", numbers: .one, requestID: RequestID.make()
                ).message(descriptor, depth: 0)
                for (path, limit, _) in Self.bounded(descriptor) {
                    guard let range = limit.range else { continue }
                    for outside in [range.upperBound + 1, range.lowerBound - 1]
                    where outside != Int64.min && outside != Int64.max {
                        guard let request = JSONPath.set(plausible, path, .integer(outside)) else { continue }
                        let payload = try DescriptorJSON.encode(request, as: method.inputType)
                        let shown = JSONPath.text(path)
                        let error = await failure {
                            try await channel.call(
                                service: schema.name, method: method.name, idempotent: false, payload: payload,
                                options: CallOptions(timeout: .seconds(10), requestID: "limit-\(checked)"))
                        }
                        let message = error?.message ?? ""
                        #expect(
                            error?.code == .invalidArgument
                                && (message.contains(shown)
                                    || message.contains(shown.replacingOccurrences(of: "[0]", with: ""))),
                            "\(method.name) with \(shown) = \(outside): \(String(describing: error))")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked >= 40, "only \(checked) ranges checked")
    }

    @Test("a string over its limit and a list over its entries are refused naming them, before any work")
    func stringsAndLists() async throws {
        let services = try await ThreeServices()
        let producer = try services.producer
        var group = ProducerV1.ProducerGroup(name: "Bolga Basket Weavers", kind: .cooperative, country: "GH")
        group.notes = String(repeating: "n", count: 5001)
        group.crafts = (0..<21).map { "craft \($0)" }
        group.region = String(repeating: "é", count: 101)
        let error = await failure {
            try await producer.createProducerGroup(.init(group: group, requestID: RequestID.make()))
        }
        let fields = Set(error?.fieldViolations.map(\.field) ?? [])
        #expect(error?.code == .invalidArgument && fields == ["group.notes", "group.crafts", "group.region"])
        #expect(error?.message.contains("group.notes: must be at most 5000 characters, got 5001") == true)
        #expect(error?.message.contains("group.crafts: must have at most 20 entries, got 21") == true)
        #expect(error?.message.contains("group.region: must be at most 100 characters, got 101") == true)
        // Exactly at the limits is accepted.
        group.notes.removeLast()
        group.crafts.removeLast()
        group.region.removeLast()
        _ = try await producer.createProducerGroup(.init(group: group, requestID: RequestID.make()))
    }
}

extension LimitTests {
    @Test("a page holds what fits in an answer, however large the records: every record is reached, page by page")
    func pagesFit() async throws {
        let services = try await ThreeServices()
        let producer = try services.producer
        let large = String(repeating: "𝄞", count: 5000)  // 20,000 bytes of UTF-8
        for index in 0..<60 {
            var group = ProducerV1.ProducerGroup(
                name: "Weavers \(index) " + String(repeating: "𝄞", count: 180), kind: .cooperative, country: "GH")
            group.notes = large
            _ = try await producer.createProducerGroup(.init(group: group, requestID: "large-\(index)"))
        }
        var seen: Set<String> = []
        var pages = 0
        var token = ""
        repeat {
            let page = try await producer.listProducerGroups(.init(pageSize: 500, pageToken: token))
            #expect(page.serializedBytes().count <= PageBudget.bytes + (64 << 10))
            seen.formUnion(page.groups.map(\.id))
            token = page.nextPageToken
            pages += 1
        } while !token.isEmpty && pages < 100
        #expect(seen.count == 60 && pages >= 2, "\(seen.count) groups in \(pages) pages")
    }
}

/// A path into a JSON request: field names, with an index into repeated ones.
enum JSONPath {
    struct Step {
        let name: String
        let index: Int?
    }

    /// `json` with the value at `path` replaced; nil when the path is not there.
    static func set(_ json: JSONValue, _ path: [Step], _ value: JSONValue) -> JSONValue? {
        guard let step = path.first else { return value }
        guard case .object(var members) = json, let at = members.firstIndex(where: { $0.0 == step.name }) else {
            return nil
        }
        if let index = step.index {
            guard case .array(var elements) = members[at].1, index < elements.count,
                let inner = set(elements[index], Array(path.dropFirst()), value)
            else { return nil }
            elements[index] = inner
            members[at].1 = .array(elements)
        } else {
            guard let inner = set(members[at].1, Array(path.dropFirst()), value) else { return nil }
            members[at].1 = inner
        }
        return .object(members)
    }

    static func text(_ path: [Step]) -> String {
        path.map { $0.name + ($0.index.map { "[\($0)]" } ?? "") }.joined(separator: ".")
    }
}
