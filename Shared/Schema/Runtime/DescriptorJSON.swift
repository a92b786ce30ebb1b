import CProtobufC
import Foundation

/// Converts between JSON and protobuf bytes for any message of the schema, by walking protoc-c's descriptors:
/// no per-message code. Field names are as in the .proto; enums are written by name (numbers accepted); bytes are
/// base64; 64-bit integers are accepted as numbers or strings.
public enum DescriptorJSON {
    /// Encodes a JSON object as the message named `messageName` (fully qualified).
    public static func encode(_ json: JSONValue, as messageName: String) throws(SchemaError) -> [UInt8] {
        let descriptor = try descriptor(named: messageName)
        let arena = Arena()
        let message = try build(json, descriptor, arena, path: "")
        let packed = message.assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(packed)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = size == 0 ? 0 : protobuf_c_message_pack(packed, buffer.baseAddress!)
        }
    }

    /// Decodes bytes of the message named `messageName` into JSON, every field included.
    public static func decode(
        _ bytes: [UInt8], as messageName: String, options: DecodeOptions = DecodeOptions()
    ) throws(SchemaError) -> JSONValue {
        let descriptor = try descriptor(named: messageName)
        guard bytes.count <= options.maxMessageBytes else {
            throw .messageTooLarge(size: bytes.count, limit: options.maxMessageBytes)
        }
        let result: Result<JSONValue, SchemaError> = withBudgetedAllocator(
            limit: options.allocationLimit(forInputBytes: bytes.count)
        ) { allocator, budget in
            let unpacked = bytes.withUnsafeBufferPointer {
                protobuf_c_message_unpack(descriptor, allocator, $0.count, $0.baseAddress)
            }
            guard let unpacked else {
                return .failure(
                    budget.pointee.exceeded
                        ? .allocationBudgetExceeded(limit: budget.pointee.limit) : .malformed(messageName))
            }
            defer { protobuf_c_message_free_unpacked(unpacked, allocator) }
            return .success(read(UnsafeRawPointer(unpacked), descriptor))
        }
        return try result.get()
    }

    private static func descriptor(named name: String) throws(SchemaError) -> UnsafePointer<ProtobufCMessageDescriptor>
    {
        guard let type = SchemaRegistry.messageTypes[name] else {
            throw .invalidJSON(field: "", reason: "the schema has no message named \"\(name)\"")
        }
        return type._descriptor
    }

    // MARK: JSON → C

    private static func build(
        _ json: JSONValue, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, _ arena: Arena, path: String
    ) throws(SchemaError) -> UnsafeMutableRawPointer {
        let message = arena.message(UnsafeRawPointer(descriptor))
        let messageName = String(cString: descriptor.pointee.name)
        guard case .object(let members) = json else {
            throw .invalidJSON(field: path, reason: "expected an object for \(messageName)")
        }
        for (key, value) in members {
            guard let field = fieldDescriptor(descriptor, named: key) else {
                let known = fields(descriptor).map { String(cString: $0.name) }.joined(separator: ", ")
                throw .invalidJSON(
                    field: join(path, key), reason: "\(messageName) has no such field (fields: \(known))")
            }
            try store(value, field: field, in: message, arena: arena, path: join(path, key))
        }
        return message
    }

    private static func store(
        _ json: JSONValue, field: ProtobufCFieldDescriptor, in message: UnsafeMutableRawPointer, arena: Arena,
        path: String
    ) throws(SchemaError) {
        if case .null = json { return }
        let slot = message + Int(field.offset)
        if field.label == PROTOBUF_C_LABEL_REPEATED {
            guard case .array(let values) = json else { throw .invalidJSON(field: path, reason: "expected an array") }
            let size = elementSize(field)
            let storage = values.isEmpty ? nil : arena.allocate(size * values.count)
            for (index, value) in values.enumerated() {
                try storeScalar(
                    value, field: field, at: storage! + index * size, arena: arena, path: "\(path)[\(index)]")
            }
            (message + Int(field.quantifier_offset)).storeBytes(of: values.count, as: Int.self)
            slot.storeBytes(of: storage, as: UnsafeMutableRawPointer?.self)
        } else {
            try storeScalar(json, field: field, at: slot, arena: arena, path: path)
        }
    }

    private static func elementSize(_ field: ProtobufCFieldDescriptor) -> Int {
        switch field.type {
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64, PROTOBUF_C_TYPE_UINT64,
            PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_DOUBLE:
            8
        case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_MESSAGE: MemoryLayout<UnsafeRawPointer>.size
        case PROTOBUF_C_TYPE_BYTES: MemoryLayout<ProtobufCBinaryData>.size
        default: 4
        }
    }

    private static func storeScalar(
        _ json: JSONValue, field: ProtobufCFieldDescriptor, at slot: UnsafeMutableRawPointer, arena: Arena,
        path: String
    ) throws(SchemaError) {
        switch field.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            slot.storeBytes(of: try integer(json, Int32.self, path), as: Int32.self)
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            slot.storeBytes(of: try integer(json, UInt32.self, path), as: UInt32.self)
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            slot.storeBytes(of: try integer(json, Int64.self, path), as: Int64.self)
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            slot.storeBytes(of: try integer(json, UInt64.self, path), as: UInt64.self)
        case PROTOBUF_C_TYPE_FLOAT:
            slot.storeBytes(of: Float(try number(json, path)), as: Float.self)
        case PROTOBUF_C_TYPE_DOUBLE:
            slot.storeBytes(of: try number(json, path), as: Double.self)
        case PROTOBUF_C_TYPE_BOOL:
            guard case .bool(let value) = json else {
                throw .invalidJSON(field: path, reason: "expected true or false")
            }
            slot.storeBytes(of: Int32(value ? 1 : 0), as: Int32.self)
        case PROTOBUF_C_TYPE_STRING:
            guard case .string(let value) = json else { throw .invalidJSON(field: path, reason: "expected a string") }
            slot.storeBytes(of: arena.string(value), as: UnsafeMutablePointer<CChar>.self)
        case PROTOBUF_C_TYPE_BYTES:
            guard case .string(let value) = json, let data = Data(base64Encoded: value) else {
                throw .invalidJSON(field: path, reason: "expected base64 text")
            }
            slot.storeBytes(of: arena.bytes([UInt8](data)), as: ProtobufCBinaryData.self)
        case PROTOBUF_C_TYPE_ENUM:
            let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            slot.storeBytes(of: try enumValue(json, descriptor, path), as: Int32.self)
        case PROTOBUF_C_TYPE_MESSAGE:
            let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
            slot.storeBytes(of: try build(json, descriptor, arena, path: path), as: UnsafeMutableRawPointer.self)
        default:
            throw .invalidJSON(field: path, reason: "field type \(field.type.rawValue) is not supported")
        }
    }

    private static func integer<T: FixedWidthInteger>(_ json: JSONValue, _: T.Type, _ path: String) throws(SchemaError)
        -> T
    {
        let value: T?
        switch json {
        case .integer(let number): value = T(exactly: number)
        case .unsigned(let number): value = T(exactly: number)
        case .number(let number): value = T(exactly: number)
        case .string(let text): value = T(text)
        default: throw .invalidJSON(field: path, reason: "expected an integer")
        }
        guard let value else { throw .invalidJSON(field: path, reason: "not an integer in the range of \(T.self)") }
        return value
    }

    private static func number(_ json: JSONValue, _ path: String) throws(SchemaError) -> Double {
        switch json {
        case .integer(let number): return Double(number)
        case .unsigned(let number): return Double(number)
        case .number(let number): return number
        case .string(let text): if let value = Double(text) { return value }
        default: break
        }
        throw .invalidJSON(field: path, reason: "expected a number")
    }

    private static func enumValue(
        _ json: JSONValue, _ descriptor: UnsafePointer<ProtobufCEnumDescriptor>, _ path: String
    ) throws(SchemaError) -> Int32 {
        let values = (0..<Int(descriptor.pointee.n_values)).map { descriptor.pointee.values[$0] }
        let names = values.map { String(cString: $0.name) }
        switch json {
        case .integer(let number):
            if let value = Int32(exactly: number) { return value }
        case .string(let text):
            let wanted = text.uppercased()
            // The full name (SERVING_STATUS_SERVING) or its last part after the enum's prefix (SERVING).
            if let index = names.firstIndex(where: { $0 == wanted || $0.hasSuffix("_" + wanted) }) {
                return values[index].value
            }
        default: break
        }
        let enumName = String(cString: descriptor.pointee.name)
        throw .invalidJSON(
            field: path,
            reason: "unknown value \(json.text(indent: 0)) of \(enumName) (values: \(names.joined(separator: ", ")))")
    }

    // MARK: C → JSON

    private static func read(_ message: UnsafeRawPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>)
        -> JSONValue
    {
        var members: [(String, JSONValue)] = []
        for field in fields(descriptor) {
            let name = String(cString: field.name)
            let slot = message + Int(field.offset)
            if field.label == PROTOBUF_C_LABEL_REPEATED {
                let count = (message + Int(field.quantifier_offset)).load(as: Int.self)
                let base = slot.load(as: UnsafeRawPointer?.self)
                let size = elementSize(field)
                members.append((name, .array((0..<count).compactMap { readScalar(field, base! + $0 * size) })))
            } else if let value = readScalar(field, slot) {
                members.append((name, value))
            }
        }
        return .object(members)
    }

    private static func readScalar(_ field: ProtobufCFieldDescriptor, _ slot: UnsafeRawPointer) -> JSONValue? {
        switch field.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            return .integer(Int64(slot.load(as: Int32.self)))
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32: return .integer(Int64(slot.load(as: UInt32.self)))
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            return .integer(slot.load(as: Int64.self))
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64: return .unsigned(slot.load(as: UInt64.self))
        case PROTOBUF_C_TYPE_FLOAT: return .number(Double(slot.load(as: Float.self)))
        case PROTOBUF_C_TYPE_DOUBLE: return .number(slot.load(as: Double.self))
        case PROTOBUF_C_TYPE_BOOL: return .bool(slot.load(as: Int32.self) != 0)
        case PROTOBUF_C_TYPE_STRING:
            return .string(slot.load(as: UnsafePointer<CChar>?.self).map { String(cString: $0) } ?? "")
        case PROTOBUF_C_TYPE_BYTES:
            let data = slot.load(as: ProtobufCBinaryData.self)
            let bytes = data.len == 0 ? Data() : Data(bytes: data.data, count: data.len)
            return .string(bytes.base64EncodedString())
        case PROTOBUF_C_TYPE_ENUM:
            let number = slot.load(as: Int32.self)
            let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            if let value = protobuf_c_enum_descriptor_get_value(descriptor, number) {
                return .string(String(cString: value.pointee.name))
            }
            return .integer(Int64(number))
        case PROTOBUF_C_TYPE_MESSAGE:
            guard let sub = slot.load(as: UnsafeRawPointer?.self) else { return nil }
            return read(sub, field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
        default:
            return nil
        }
    }

    // MARK: descriptors

    private static func fields(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [ProtobufCFieldDescriptor] {
        (0..<Int(descriptor.pointee.n_fields)).map { descriptor.pointee.fields[$0] }
    }

    private static func fieldDescriptor(
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, named name: String
    ) -> ProtobufCFieldDescriptor? {
        protobuf_c_message_descriptor_get_field_by_name(descriptor, name)?.pointee
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }
}
