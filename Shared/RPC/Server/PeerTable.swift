/// A ROUTER routing id as an integer: ids of up to 7 bytes (libzmq makes 5-byte ones) are packed with their
/// length; longer ones (set by a client with ZMQ_ROUTING_ID) get a number from a table.
struct PeerID: Hashable, Sendable {
    let value: UInt64

    /// The longest id packed into `value` itself; its top byte holds the length, or `longTag` for a table number.
    static let maxPackedLength = 7
    static let longTag: UInt64 = 0xFF << 56

    var packedLength: Int? {
        let length = Int(value >> 56)
        return length <= Self.maxPackedLength ? length : nil
    }
}

/// The long routing ids of the calls a server has yet to answer.
///
/// Each request takes a reference to its sender's id and its answer (or its cancellation) gives it back, so the
/// table holds only the ids of clients with calls open: a client that reconnects again and again under new long
/// ids cannot make it grow without bound. Short ids need no table.
struct PeerTable {
    private var numbers: [[UInt8]: UInt64] = [:]
    private var entries: [UInt64: Entry] = [:]
    /// Numbers are never reused, so an answer can never go to a later client that took an earlier one's number.
    private var lastNumber: UInt64 = 0

    private struct Entry {
        let identity: [UInt8]
        var references: Int
    }

    /// Long ids held now.
    var longIDCount: Int { entries.count }

    /// The id for a request's sender, held until `release` is called for it once.
    mutating func retain(_ identity: UnsafeRawBufferPointer) -> PeerID {
        if identity.count <= PeerID.maxPackedLength {
            var value = UInt64(identity.count) << 56
            for (index, byte) in identity.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
            return PeerID(value: value)
        }
        let bytes = [UInt8](identity)
        if let known = numbers[bytes] {
            entries[known]!.references += 1
            return PeerID(value: known)
        }
        lastNumber += 1
        let number = lastNumber | PeerID.longTag
        numbers[bytes] = number
        entries[number] = Entry(identity: bytes, references: 1)
        return PeerID(value: number)
    }

    /// Gives back one reference taken by `retain`; the id is forgotten when none is left.
    mutating func release(_ peer: PeerID) {
        guard peer.packedLength == nil, let entry = entries[peer.value] else { return }
        if entry.references > 1 {
            entries[peer.value]!.references -= 1
        } else {
            entries[peer.value] = nil
            numbers[entry.identity] = nil
        }
    }

    /// Runs `body` with the routing id that `peer` stands for (empty for a long id no longer held).
    func withIdentity<R>(of peer: PeerID, _ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R
    {
        if let length = peer.packedLength {
            var packed = peer.value.littleEndian
            return try withUnsafeBytes(of: &packed) { (raw) throws(ZMQError) -> R in
                try body(UnsafeRawBufferPointer(rebasing: raw[..<length]))
            }
        }
        let result = (entries[peer.value]?.identity ?? []).withUnsafeBytes { raw in
            Result { () throws(ZMQError) -> R in try body(raw) }
        }
        return try result.get()
    }
}
