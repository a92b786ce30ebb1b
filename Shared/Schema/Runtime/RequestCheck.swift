import CProtobufC

/// Checks an encoded request before it is unpacked, so that a server stores exactly what was sent and nothing
/// larger than it can answer with again:
///
/// - every string is valid UTF-8 (proto3 requires it; conforming decoders refuse a message that breaks it) and holds
///   no NUL character (protobuf-c hands strings over as C strings, so a NUL would silently cut one short: "ab\0cd"
///   would be stored as "ab");
/// - every field is within its bounds (`SchemaRegistry.fieldLimits`, docs/LIMITS.md): characters of a string,
///   entries of a repeated field, the range of an integer. Every field out of bounds is named at once; the
///   service's own checks (a country code, a date, a record that must exist) come once these hold.
///
/// It walks the wire format with the message's protoc-c descriptor, into nested messages. Anything it cannot read
/// is left to protobuf-c, which refuses malformed input on its own.
public enum RequestCheck {
    /// Nesting beyond this is not followed (protobuf-c's own unpacking bounds what it accepts).
    static let maxDepth = 64

    static func check(
        _ bytes: UnsafeRawBufferPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) throws(SchemaError) {
        var reader = WireReader(bytes: bytes)
        var problems = Problems()
        check(&reader, end: bytes.count, descriptor, path: "", depth: 0, &problems)
        if !problems.found.isEmpty { throw .invalidFields(problems.found) }
    }

    /// What a request has wrong, every field of it up to a count (so that the answer stays small).
    struct Problems {
        static let most = 50
        var found: [FieldProblem] = []

        mutating func add(_ field: String, _ reason: String) {
            if found.count < Self.most { found.append(FieldProblem(field: field, reason: reason)) }
        }
    }

    /// Each message's bounds by field number, found by its descriptor's address.
    nonisolated(unsafe) private static let limits: [UnsafeRawPointer: [UInt32: FieldLimit]] = {
        var byDescriptor: [UnsafeRawPointer: [UInt32: FieldLimit]] = [:]
        for (name, fields) in SchemaRegistry.fieldLimits {
            if let type = SchemaRegistry.messageTypes[name] { byDescriptor[type._cDescriptor] = fields }
        }
        return byDescriptor
    }()

    private static func check(
        _ reader: inout WireReader, end: Int, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, path: String,
        depth: Int, _ problems: inout Problems
    ) {
        guard depth < maxDepth else { return }
        let bounds = limits[UnsafeRawPointer(descriptor)] ?? [:]
        var entries: [UInt32: Int] = [:]
        func here(_ field: UnsafePointer<ProtobufCFieldDescriptor>, index: Int?) -> String {
            let name = String(cString: field.pointee.name)
            return (path.isEmpty ? name : path + "." + name) + (index.map { "[\($0)]" } ?? "")
        }
        while reader.offset < end {
            guard let tag = reader.varint(), tag >> 3 <= UInt64(UInt32.max) else { return }
            let number = UInt32(truncatingIfNeeded: tag >> 3)
            let field = Self.field(number, in: descriptor)
            let repeated = field?.pointee.label == PROTOBUF_C_LABEL_REPEATED
            let index = entries[number, default: 0]
            let bound = bounds[number]
            switch tag & 7 {
            case 0:
                guard let raw = reader.varint() else { return }
                entries[number] = index + 1
                if let field, let range = bound?.range {
                    checkRange(raw, field, range, here(field, index: repeated ? index : nil), &problems)
                }
            case 1, 5:
                let width = tag & 7 == 1 ? 8 : 4
                guard reader.offset + width <= end else { return }
                var raw: UInt64 = 0
                for byte in 0..<width { raw |= UInt64(reader.bytes[reader.offset + byte]) << (8 * UInt64(byte)) }
                reader.offset += width
                entries[number] = index + 1
                if let field, let range = bound?.range {
                    checkRange(raw, field, range, here(field, index: repeated ? index : nil), &problems)
                }
            case 2:
                guard let length = reader.varint(), length <= UInt64(end - reader.offset) else { return }
                let start = reader.offset
                let stop = start + Int(length)
                defer { reader.offset = stop }
                guard let field else { continue }
                let name = here(field, index: repeated ? index : nil)
                switch field.pointee.type {
                case PROTOBUF_C_TYPE_STRING:
                    entries[number] = index + 1
                    let text = UnsafeRawBufferPointer(rebasing: reader.bytes[start..<stop])
                    if let reason = problem(text) {
                        problems.add(name, reason)
                    } else if let most = bound?.characters {
                        let count = text.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
                        if count > most { problems.add(name, "must be at most \(most) characters, got \(count)") }
                    }
                case PROTOBUF_C_TYPE_MESSAGE:
                    entries[number] = index + 1
                    if let nested = field.pointee.descriptor?.assumingMemoryBound(to: ProtobufCMessageDescriptor.self) {
                        var inner = reader
                        check(&inner, end: stop, nested, path: name, depth: depth + 1, &problems)
                    }
                case PROTOBUF_C_TYPE_BYTES:
                    entries[number] = index + 1
                default:
                    // Packed repeated scalars: each element is an entry, and each must be within its range.
                    var packed = WireReader(bytes: UnsafeRawBufferPointer(rebasing: reader.bytes[..<stop]))
                    packed.offset = start
                    let width = Self.fixedWidth(field.pointee.type)
                    var element = index
                    while packed.offset < stop {
                        var raw: UInt64 = 0
                        if let width {
                            guard packed.offset + width <= stop else { break }
                            for byte in 0..<width {
                                raw |= UInt64(packed.bytes[packed.offset + byte]) << (8 * UInt64(byte))
                            }
                            packed.offset += width
                        } else {
                            guard let value = packed.varint() else { break }
                            raw = value
                        }
                        if let range = bound?.range {
                            checkRange(raw, field, range, here(field, index: element), &problems)
                        }
                        element += 1
                    }
                    entries[number] = element
                }
            default:
                return
            }
        }
        for (number, count) in entries {
            guard let most = bounds[number]?.entries, count > most, let field = Self.field(number, in: descriptor)
            else { continue }
            problems.add(here(field, index: nil), "must have at most \(most) entries, got \(count)")
        }
    }

    /// Bytes per element of a fixed-width scalar type; nil for varints.
    private static func fixedWidth(_ type: ProtobufCType) -> Int? {
        switch type {
        case PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_SFIXED32, PROTOBUF_C_TYPE_FLOAT: 4
        case PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_SFIXED64, PROTOBUF_C_TYPE_DOUBLE: 8
        default: nil
        }
    }

    /// The integer a field's raw wire value stands for, checked against `range`.
    private static func checkRange(
        _ raw: UInt64, _ field: UnsafePointer<ProtobufCFieldDescriptor>, _ range: ClosedRange<Int64>, _ name: String,
        _ problems: inout Problems
    ) {
        let value: Int64?
        switch field.pointee.type {
        case PROTOBUF_C_TYPE_INT32: value = Int64(Int32(truncatingIfNeeded: raw))
        case PROTOBUF_C_TYPE_SFIXED32: value = Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: raw)))
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SFIXED64: value = Int64(bitPattern: raw)
        case PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SINT64:
            value = Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32: value = Int64(UInt32(truncatingIfNeeded: raw))
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64: value = raw > UInt64(Int64.max) ? nil : Int64(raw)
        default: return
        }
        if let value, range.contains(value) { return }
        let shown = value.map(String.init) ?? String(raw)
        if range.lowerBound == 0, let value, value < 0 {
            problems.add(name, "must not be negative, got \(shown)")
        } else if let value, value < range.lowerBound {
            problems.add(name, "must be at least \(range.lowerBound), got \(shown)")
        } else {
            problems.add(name, "must be at most \(range.upperBound), got \(shown)")
        }
    }

    /// The field with `number`, by binary search (protoc-c sorts them by number).
    private static func field(_ number: UInt32, in descriptor: UnsafePointer<ProtobufCMessageDescriptor>)
        -> UnsafePointer<ProtobufCFieldDescriptor>?
    {
        guard let fields = descriptor.pointee.fields else { return nil }
        var low = 0
        var high = Int(descriptor.pointee.n_fields) - 1
        while low <= high {
            let middle = (low + high) / 2
            let id = fields[middle].id
            if id == number { return fields + middle }
            if id < number { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    /// What is wrong with a string's bytes, or nil.
    static func problem(_ bytes: UnsafeRawBufferPointer) -> String? {
        if let nul = bytes.firstIndex(of: 0) {
            return "holds a NUL character (byte \(nul)), which cannot be stored intact: remove it"
        }
        if let bad = firstInvalidUTF8(bytes) {
            return "is not valid UTF-8 (byte \(bad) is 0x\(String(bytes[bad], radix: 16, uppercase: true))): "
                + "send text in UTF-8"
        }
        return nil
    }

    /// The offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629: no overlong forms,
    /// no surrogates, nothing above U+10FFFF), or nil when all are well formed.
    public static func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: return index
            }
            guard index + length <= count else { return index }
            let second = bytes[index + 1]
            guard second >= low && second <= high else { return index }
            for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { return index }
            index += length
        }
        return nil
    }
}

/// Reads protobuf's wire format; every read says whether the input held what it needed.
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count && shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}
