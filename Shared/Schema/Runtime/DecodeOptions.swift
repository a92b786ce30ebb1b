/// Limits and strictness for decoding untrusted bytes.
///
/// protobuf-c 1.4.1 has no cap of its own on size or nesting: 2 MB of empty repeated sub-messages can make it
/// allocate ~90 MB. Decoding is therefore bounded twice: by the input size, and by an allocation budget that
/// grows with the input (`allocationFactor` × size + `allocationSlack`, never above `maxAllocationBytes`).
public struct DecodeOptions: Sendable, Hashable {
    /// Largest encoded message accepted, in bytes. Default 4 MiB, as gRPC's receive limit.
    public var maxMessageBytes: Int
    /// Allowed memory per input byte while unpacking.
    public var allocationFactor: Int
    /// Allowed memory on top of `allocationFactor` × size, for small messages.
    public var allocationSlack: Int
    /// Absolute ceiling on memory for one decode.
    public var maxAllocationBytes: Int
    /// Refuse enum values the schema does not name, naming the field (servers decode requests this way).
    public var strictEnums: Bool
    /// Refuse strings that are not UTF-8 or that hold a NUL, and fields beyond their bounds (docs/LIMITS.md),
    /// naming the field (`RequestCheck`; servers decode requests this way, so that what they store is exactly
    /// what was sent, and small enough to answer with again).
    public var strictFields: Bool

    public init(
        maxMessageBytes: Int = 4 << 20, allocationFactor: Int = 12, allocationSlack: Int = 64 << 10,
        maxAllocationBytes: Int = 64 << 20, strictEnums: Bool = false, strictFields: Bool = false
    ) {
        self.strictFields = strictFields
        self.maxMessageBytes = maxMessageBytes
        self.allocationFactor = allocationFactor
        self.allocationSlack = allocationSlack
        self.maxAllocationBytes = maxAllocationBytes
        self.strictEnums = strictEnums
    }

    func allocationLimit(forInputBytes count: Int) -> Int {
        min(maxAllocationBytes, count.multipliedReportingOverflow(by: allocationFactor).partialValue + allocationSlack)
    }
}
