import CProtobufC

/// Checks the strings of an encoded message before it is unpacked: each must be valid UTF-8 (proto3 requires it;
/// conforming decoders refuse a message that breaks it) and hold no NUL character (protobuf-c hands strings over
/// as C strings, so a NUL would silently cut one short: "ab\0cd" would be stored as "ab"). A server refuses such a
/// request, naming the field, rather than store something other than what was sent.
///
/// It walks the wire format with the message's protoc-c descriptor, into nested messages (map entries included).
/// Anything it cannot read is left to protobuf-c, which refuses malformed input on its own.
public enum StringCheck {
    /// Nesting beyond this is not followed (protobuf-c's own unpacking bounds what it accepts).
    static let maxDepth = 64

    static func check(
        _ bytes: UnsafeRawBufferPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) throws(SchemaError) {
        var reader = WireReader(bytes: bytes)
        try check(&reader, end: bytes.count, descriptor, path: "", depth: 0)
    }

    private static func check(
        _ reader: inout WireReader, end: Int, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, path: String,
        depth: Int
    ) throws(SchemaError) {
        guard depth < maxDepth else { return }
        var seen: [UInt32: Int] = [:]
        while reader.offset < end {
            guard let tag = reader.varint(), tag >> 3 <= UInt64(UInt32.max) else { return }
            let number = UInt32(truncatingIfNeeded: tag >> 3)
            switch tag & 7 {
            case 0: guard reader.varint() != nil else { return }
            case 1: guard reader.skip(8) else { return }
            case 5: guard reader.skip(4) else { return }
            case 2:
                guard let length = reader.varint(), length <= UInt64(end - reader.offset) else { return }
                let start = reader.offset
                let stop = start + Int(length)
                if let field = Self.field(number, in: descriptor) {
                    let index = seen[number, default: 0]
                    seen[number] = index + 1
                    let name = String(cString: field.pointee.name)
                    let here =
                        (path.isEmpty ? name : path + "." + name)
                        + (field.pointee.label == PROTOBUF_C_LABEL_REPEATED ? "[\(index)]" : "")
                    switch field.pointee.type {
                    case PROTOBUF_C_TYPE_STRING:
                        if let reason = problem(UnsafeRawBufferPointer(rebasing: reader.bytes[start..<stop])) {
                            throw .invalidString(field: here, reason: reason)
                        }
                    case PROTOBUF_C_TYPE_MESSAGE:
                        if let nested = field.pointee.descriptor?.assumingMemoryBound(
                            to: ProtobufCMessageDescriptor.self)
                        {
                            var inner = reader
                            try check(&inner, end: stop, nested, path: here, depth: depth + 1)
                        }
                    default: break
                    }
                }
                reader.offset = stop
            default:
                return
            }
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

    mutating func skip(_ count: Int) -> Bool {
        guard count <= bytes.count - offset else { return false }
        offset += count
        return true
    }
}
