import CProtobufC

#if canImport(Glibc)
    import Glibc
#endif

/// Owns the C memory of a message being built for packing; frees it all at once when released.
///
/// Not thread-safe and not `Sendable`: create one per encode, on the thread that packs. Its stored properties skip
/// Swift's run-time exclusivity checks (a share of every encode): no access spans a call out of the arena.
public final class Arena {
    /// Small allocations are carved from chunks (most messages fit the first); large ones get a block each.
    private static let chunkSize = 2048
    @exclusivity(unchecked) private var chunk: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var used = 0
    @exclusivity(unchecked) private var chunkCapacity = chunkSize
    @exclusivity(unchecked) private var blocks: [UnsafeMutableRawPointer] = []
    /// A first chunk the arena does not own (stack memory from `withScratch`).
    @exclusivity(unchecked) private var borrowed: UnsafeMutableRawPointer?

    public init() {}

    private init(borrowing scratch: UnsafeMutableRawBufferPointer) {
        chunk = scratch.baseAddress
        chunkCapacity = scratch.count
        borrowed = scratch.baseAddress
    }

    deinit { release() }

    /// Runs `body` with an arena whose first chunk is on the stack, so that encoding a typical message calls
    /// `malloc` only for the arena itself. The arena must not escape `body`.
    static func withScratch<R>(_ body: (Arena) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(byteCount: stackScratchBytes, alignment: 16) { scratch in
            let arena = Arena(borrowing: scratch)
            defer { arena.release() }
            return try body(arena)
        }
    }

    /// Frees what the arena owns (not the scratch it borrows); `withScratch` calls it before the scratch goes away.
    private func release() {
        if let chunk, chunk != borrowed { free(chunk) }
        for block in blocks where block != borrowed { free(block) }
        chunk = nil
        blocks = []
        borrowed = nil
    }

    func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let rounded = (max(size, 1) + 15) & ~15
        if rounded > Self.chunkSize / 4 { return allocateBlock(rounded) }
        if chunk == nil || used + rounded > chunkCapacity {
            if let chunk { blocks.append(chunk) }
            chunk = allocateRaw(Self.chunkSize)
            chunkCapacity = Self.chunkSize
            used = 0
        }
        defer { used += rounded }
        return chunk! + used
    }

    private func allocateBlock(_ size: Int) -> UnsafeMutableRawPointer {
        let block = allocateRaw(size)
        blocks.append(block)
        return block
    }

    private func allocateRaw(_ size: Int) -> UnsafeMutableRawPointer {
        guard let block = malloc(size) else { fatalError("out of memory allocating \(size) bytes") }
        return block
    }

    /// A zero-initialised protoc-c message of `descriptor`'s type.
    package func message(_ raw: UnsafeRawPointer) -> UnsafeMutableRawPointer {
        let descriptor = raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
        let block = allocate(descriptor.pointee.sizeof_message)
        protobuf_c_message_init(descriptor, block)
        return block
    }

    package func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        var value = value
        return value.withUTF8 { utf8 in
            let block = allocate(utf8.count + 1).assumingMemoryBound(to: UInt8.self)
            if let base = utf8.baseAddress { block.update(from: base, count: utf8.count) }
            block[utf8.count] = 0
            return UnsafeMutableRawPointer(block).assumingMemoryBound(to: CChar.self)
        }
    }

    package func bytes(_ value: [UInt8]) -> ProtobufCBinaryData {
        guard !value.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let block = allocate(value.count).assumingMemoryBound(to: UInt8.self)
        value.withUnsafeBufferPointer { block.update(from: $0.baseAddress!, count: value.count) }
        return ProtobufCBinaryData(len: value.count, data: block)
    }

    package func array<Element, C>(_ values: [Element], _ convert: (Element) -> C) -> UnsafeMutablePointer<C>? {
        guard !values.isEmpty else { return nil }
        let block = allocate(MemoryLayout<C>.stride * values.count).bindMemory(to: C.self, capacity: values.count)
        for (index, value) in values.enumerated() { (block + index).initialize(to: convert(value)) }
        return block
    }

    package func strings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        array(values) { Optional(string($0)) }
    }

    package func bytesArray(_ values: [[UInt8]]) -> UnsafeMutablePointer<ProtobufCBinaryData>? {
        array(values) { bytes($0) }
    }

    package func messages<M: ProtoMessage, C>(_ values: [M], as: C.Type) -> UnsafeMutablePointer<
        UnsafeMutablePointer<C>?
    >? {
        array(values) { Optional($0._c(in: self).assumingMemoryBound(to: C.self)) }
    }
}
