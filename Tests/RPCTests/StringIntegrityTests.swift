import API
import CProtobufC
import Foundation
import RPC
import Schema
import ServiceKit
import TestSupport
import Testing

/// What is accepted is stored exactly: every string the services decode is valid UTF-8 without NUL, or the call is
/// refused naming the field (protobuf-c holds strings as C strings, so a NUL would cut one short, and U+FFFD would
/// stand in for bytes that are not UTF-8); spreadsheet cells likewise, naming row and column.
@Suite("Strings exact or refused", .serialized)
struct StringIntegrityTests {
    /// A request of `descriptor` whose every string field (nested ones too, and one element of each repeated one)
    /// holds a marker of its own, eleven bytes long, with the field's path as the server names it.
    struct Marked {
        var markers: [(path: String, marker: String)] = []

        mutating func message(_ raw: UnsafeRawPointer, path: String, depth: Int) -> JSONValue {
            let descriptor = raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self).pointee
            var members: [(String, JSONValue)] = []
            for index in 0..<Int(descriptor.n_fields) {
                let field = descriptor.fields[index]
                let name = String(cString: field.name)
                let repeated = field.label == PROTOBUF_C_LABEL_REPEATED
                let here = (path.isEmpty ? name : path + "." + name) + (repeated ? "[0]" : "")
                let value: JSONValue
                switch field.type {
                case PROTOBUF_C_TYPE_STRING:
                    let marker = String(format: "Zs%09d", markers.count)
                    markers.append((here, marker))
                    value = .string(marker)
                case PROTOBUF_C_TYPE_MESSAGE where depth < 3:
                    value = message(field.descriptor, path: here, depth: depth + 1)
                default:
                    continue
                }
                members.append((name, repeated ? .array([value]) : value))
            }
            return .object(members)
        }
    }

    /// `payload` with the eleven bytes of `marker` replaced by `bytes` (also eleven).
    static func replacing(_ marker: String, with bytes: [UInt8], in payload: [UInt8]) -> [UInt8]? {
        let needle = Array(marker.utf8)
        guard
            let start = (0...(payload.count - needle.count)).first(where: {
                Array(payload[$0..<$0 + needle.count]) == needle
            })
        else { return nil }
        var result = payload
        result.replaceSubrange(start..<start + needle.count, with: bytes)
        return result
    }

    /// Eleven bytes with a NUL in the middle, and eleven that are not UTF-8.
    static let withNUL: [UInt8] = Array("ab".utf8) + [0] + Array("cdefghij".utf8)
    static let notUTF8: [UInt8] = Array("ab".utf8) + [0xFF, 0xFE] + Array("cdefghi".utf8)

    @Test(
        "every string field of every method's request: a NUL or bytes that are not UTF-8 are INVALID_ARGUMENT naming it"
    )
    func everyStringField() async throws {
        let services = try await ThreeServices()
        var checked = 0
        for (serviceName, endpoint) in [
            (ServiceDirectory.producer.rpcService, services.producerEndpoint),
            (ServiceDirectory.marketplaceInfo.rpcService, services.marketEndpoint),
            (ServiceDirectory.assistance.rpcService, services.assistanceEndpoint),
        ] {
            let schema = try #require(SchemaRegistry.service(named: serviceName))
            let channel = try services.channel(endpoint)
            for method in schema.methods {
                var marked = Marked()
                let json = marked.message(
                    SchemaRegistry.messageTypes[method.inputType]!._cDescriptor, path: "", depth: 0)
                let payload = try DescriptorJSON.encode(json, as: method.inputType)
                for (path, marker) in marked.markers {
                    for (what, bytes) in [("a NUL", Self.withNUL), ("bytes that are not UTF-8", Self.notUTF8)] {
                        let bad = try #require(Self.replacing(marker, with: bytes, in: payload), "\(marker) not found")
                        let error = await failure {
                            try await channel.call(
                                service: schemaName(schema), method: method.name, idempotent: false, payload: bad,
                                options: CallOptions(timeout: .seconds(10)))
                        }
                        #expect(
                            error?.code == .invalidArgument && error?.message.contains("\(path): ") == true,
                            "\(method.name) with \(what) in \(path): \(String(describing: error))")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked >= 400, "only \(checked) string fields checked")
    }

    private func schemaName(_ schema: ServiceSchema) -> String { schema.name }

    @Test("text beyond ASCII comes back byte for byte: names, notes, library entries")
    func exactText() async throws {
        let services = try await ThreeServices()
        let text = "Ñandutí — 🧺 ✓ «tejido» \u{200F}עברית\u{200F} 中文 e\u{301} \"q\" back\\slash 𝄞"
        let producer = try services.producer
        var group = ProducerV1.ProducerGroup(
            name: text, kind: .cooperative, country: "PY", region: text, crafts: ["lace"], notes: text)
        group.localName = text
        let created = try await producer.createProducerGroup(.init(group: group, requestID: RequestID.make()))
        let read = try await producer.getProducerGroup(.init(id: created.id))
        for (field, value) in [
            ("name", read.name), ("local_name", read.localName), ("region", read.region),
            ("notes", read.notes),
        ] {
            #expect(Array(value.utf8) == Array(text.utf8), "\(field) came back as \(value)")
        }
        let market = try services.market
        let entry = try await market.addLibraryEntry(
            .init(
                entry: MarketplaceV1.LibraryEntry(
                    title: text, body: text, topics: ["dyeing"], crafts: ["lace"], authorKind: .organisation,
                    author: text),
                requestID: RequestID.make()))
        let stored = try await market.getLibraryEntry(.init(id: entry.id))
        #expect(Array(stored.title.utf8) == Array(text.utf8) && Array(stored.body.utf8) == Array(text.utf8))
        #expect(Array(stored.author.utf8) == Array(text.utf8))
    }

    @Test("a spreadsheet cell with a NUL, or bytes that are not UTF-8, fails the import naming row and column")
    func spreadsheetCells() async throws {
        let services = try await ThreeServices()
        let producer = try services.producer
        let header = "name,kind,country,crafts,notes\n"
        var withNUL = Array((header + "Bolga Weavers,cooperative,GH,baskets,first\n").utf8)
        withNUL += Array("Tamale Weavers,cooperative,GH,baskets,ab".utf8) + [0] + Array("cd\n".utf8)
        withNUL += Array("Navrongo Weavers,cooperative,GH,baskets,third\n".utf8)
        let nul = await failure {
            try await producer.importProducerGroups(.init(csv: withNUL, mode: .add, requestID: RequestID.make()))
        }
        #expect(
            nul?.code == .invalidArgument && nul?.message.contains("row 3: column 5 (notes) holds a NUL") == true,
            "\(String(describing: nul))")
        var notUTF8 = Array((header + "Bolga Weavers,cooperative,GH,baskets,first\n").utf8)
        notUTF8 += Array("Tamale Weavers,cooperative,GH,bask".utf8) + [0xE9] + Array("ts,second\n".utf8)
        let bad = await failure {
            try await producer.importProducerGroups(.init(csv: notUTF8, mode: .add, requestID: RequestID.make()))
        }
        #expect(
            bad?.code == .invalidArgument
                && bad?.message.contains("row 3: column 4 (crafts) is not UTF-8 (byte 0xE9)")
                    == true,
            "\(String(describing: bad))")
        // Nothing of either file was written.
        let listed = try await producer.listProducerGroups(.init(pageSize: 100))
        #expect(listed.groups.isEmpty, "\(listed.groups.map(\.name))")
    }

    @Test("two request ids that differ only after a NUL are refused, not taken for the same one")
    func requestIDsWithNUL() async throws {
        let services = try await ThreeServices()
        let channel = try services.channel(services.producerEndpoint)
        for suffix in ["A", "B"] {
            let json = JSONValue.object([
                (
                    "group",
                    .object([
                        ("name", .string("Group \(suffix)")), ("kind", .string("GROUP_KIND_COOPERATIVE")),
                        ("country", .string("GH")),
                    ])
                ),
                ("request_id", .string("x0\(suffix)")),
            ])
            let payload = try DescriptorJSON.encode(json, as: ProducerV1.CreateProducerGroupRequest.protoName)
            let bad = try #require(Self.replacing("x0\(suffix)", with: [0x78, 0, Array(suffix.utf8)[0]], in: payload))
            let error = await failure {
                try await channel.call(
                    service: ServiceDirectory.producer.rpcService, method: "CreateProducerGroup", idempotent: false,
                    payload: bad)
            }
            #expect(error?.code == .invalidArgument && error?.message.contains("request_id: holds a NUL") == true)
        }
    }
}
