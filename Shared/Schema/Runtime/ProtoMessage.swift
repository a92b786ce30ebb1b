import CProtobufC

/// A message of the schema: a Swift value that encodes to, and decodes from, protobuf bytes through protoc-c.
///
/// Conforming types are generated from the `.proto` files by `scripts/generate.sh`; do not write them by hand.
public protocol ProtoMessage: Sendable, Hashable {
    /// The fully qualified name in the schema, e.g. `"fairtrade.rpc.v1.RequestHeader"`.
    static var protoName: String { get }
    /// A message with every field at its default.
    init()

    // The codec's link to protoc-c; underscored because only generated code and the codec use them.
    // Raw pointers keep C types out of the public interface.

    /// The address of this message's `ProtobufCMessageDescriptor`.
    static var _cDescriptor: UnsafeRawPointer { get }
    /// Reads an unpacked protoc-c message of this type.
    init(_c raw: UnsafeRawPointer, _ options: DecodeOptions) throws(SchemaError)
    /// Builds a protoc-c message of this type whose memory belongs to `arena`.
    func _c(in arena: Arena) -> UnsafeMutableRawPointer
}

/// An enum of the schema. Values this build does not know decode as `.unrecognized(n)` unless decoding is strict.
public protocol ProtoEnum: Sendable, Hashable, CaseIterable {
    init(rawValue: Int32)
    var rawValue: Int32 { get }
    /// The value's name in the `.proto`, e.g. `"SERVING_STATUS_SERVING"`.
    var protoName: String { get }
}

extension ProtoEnum {
    /// Whether this value is one the schema names.
    public var isRecognized: Bool { Self.allCases.contains(self) }
}

extension ProtoMessage {
    /// The protobuf encoding of this message.
    public func serializedBytes() -> [UInt8] {
        Arena.withScratch { arena in
            let message = _c(in: arena).assumingMemoryBound(to: ProtobufCMessage.self)
            let size = protobuf_c_message_get_packed_size(message)
            return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                count = size == 0 ? 0 : protobuf_c_message_pack(message, buffer.baseAddress!)
            }
        }
    }

    /// Encodes this message into memory that lives only for `body`: the stack for small messages. For callers
    /// that hand the bytes straight on (to a socket, which copies them) and need no array of their own.
    public func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Arena.withScratch { arena in
            let message = _c(in: arena).assumingMemoryBound(to: ProtobufCMessage.self)
            let size = protobuf_c_message_get_packed_size(message)
            func packed(_ buffer: UnsafeMutableRawBufferPointer) throws -> R {
                let count =
                    size == 0
                    ? 0
                    : protobuf_c_message_pack(
                        message, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
                return try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            }
            if size <= stackScratchBytes {
                return try withUnsafeTemporaryAllocation(byteCount: stackScratchBytes, alignment: 16) {
                    try packed($0)
                }
            }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer { buffer.deallocate() }
            return try packed(buffer)
        }
    }

    /// Decodes a message from untrusted bytes, within `options`' limits on size and memory.
    public init(serializedBytes bytes: UnsafeRawBufferPointer, options: DecodeOptions = .init()) throws(SchemaError) {
        guard bytes.count <= options.maxMessageBytes else {
            throw .messageTooLarge(size: bytes.count, limit: options.maxMessageBytes)
        }
        if options.strictFields { try RequestCheck.check(bytes, Self._descriptor) }
        let result: Result<Self, SchemaError> = withBudgetedAllocator(
            limit: options.allocationLimit(forInputBytes: bytes.count)
        ) { allocator, budget in
            let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard let unpacked = protobuf_c_message_unpack(Self._descriptor, allocator, bytes.count, base) else {
                return .failure(
                    budget.pointee.exceeded
                        ? .allocationBudgetExceeded(limit: budget.pointee.limit) : .malformed(Self.protoName))
            }
            defer { protobuf_c_message_free_unpacked(unpacked, allocator) }
            do throws(SchemaError) {
                return .success(try Self(_c: UnsafeRawPointer(unpacked), options))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Checks an encoded message as servers check requests (`RequestCheck`): strings UTF-8 without NUL, fields within
    /// their bounds; naming the first that is not. For bytes decoded without `strictFields`.
    public static func checkFields(in bytes: UnsafeRawBufferPointer) throws(SchemaError) {
        try RequestCheck.check(bytes, _descriptor)
    }

    /// Decodes a message from untrusted bytes, within `options`' limits on size and memory.
    public init(serializedBytes bytes: [UInt8], options: DecodeOptions = .init()) throws(SchemaError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SchemaError) -> Self in try Self(serializedBytes: raw, options: options) }
        }
        self = try result.get()
    }
}

extension ProtoMessage {
    static var _descriptor: UnsafePointer<ProtobufCMessageDescriptor> {
        _cDescriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
    }
}
