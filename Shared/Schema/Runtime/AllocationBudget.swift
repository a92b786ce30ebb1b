import CProtobufC

#if canImport(Glibc)
    import Glibc
#endif

/// The state behind the `ProtobufCAllocator` used for untrusted input: counts live bytes and refuses to go over.
///
/// Small allocations are carved from a scratch region on the decoding thread's stack (most messages fit in it
/// whole), so a typical decode calls `malloc` not at all; larger ones fall back to `malloc`. Bytes taken from the
/// region count against the budget until the decode ends, heap blocks until they are freed.
struct AllocationBudget {
    let limit: Int
    var used = 0
    var exceeded = false
    var region: UnsafeMutableRawPointer?
    var regionSize = 0
    var regionUsed = 0

    init(limit: Int, region: UnsafeMutableRawBufferPointer? = nil) {
        self.limit = limit
        self.region = region?.baseAddress
        self.regionSize = region?.count ?? 0
    }

    func inRegion(_ pointer: UnsafeMutableRawPointer) -> Bool {
        guard let region else { return false }
        return pointer >= region && pointer < region + regionSize
    }
}

/// Bytes of stack that a decode sets aside for protobuf-c's allocations, and an encode for its arena and its
/// output: Swift puts temporary allocations of up to 1 KiB on the stack without checking the stack's size.
let stackScratchBytes = 1024

/// Runs `body` with a protobuf-c allocator bounded by `limit` and backed first by a scratch region on the stack.
func withBudgetedAllocator<R>(
    limit: Int, _ body: (UnsafeMutablePointer<ProtobufCAllocator>, UnsafeMutablePointer<AllocationBudget>) -> R
) -> R {
    withUnsafeTemporaryAllocation(byteCount: stackScratchBytes, alignment: 16) { scratch in
        var budget = AllocationBudget(limit: limit, region: scratch)
        return withUnsafeMutablePointer(to: &budget) { budgetPointer in
            var allocator = ProtobufCAllocator(
                alloc: budgetedAlloc, free: budgetedFree, allocator_data: UnsafeMutableRawPointer(budgetPointer))
            return withUnsafeMutablePointer(to: &allocator) { body($0, budgetPointer) }
        }
    }
}

/// Each heap block carries its size in a header so that `free` can give the bytes back to the budget.
private let headerSize = 16

let budgetedAlloc: @convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer? = { data, size in
    let budget = data!.assumingMemoryBound(to: AllocationBudget.self)
    guard size <= budget.pointee.limit - budget.pointee.used else {
        budget.pointee.exceeded = true
        return nil
    }
    let rounded = (max(size, 1) + 15) & ~15
    if let region = budget.pointee.region, rounded <= budget.pointee.regionSize - budget.pointee.regionUsed {
        defer { budget.pointee.regionUsed += rounded }
        budget.pointee.used += size
        return region + budget.pointee.regionUsed
    }
    guard let block = malloc(size + headerSize) else { return nil }
    block.storeBytes(of: size, as: Int.self)
    budget.pointee.used += size
    return block + headerSize
}

let budgetedFree: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { data, pointer in
    guard let pointer else { return }
    let budget = data!.assumingMemoryBound(to: AllocationBudget.self)
    // Scratch bytes go back with the region when the decode ends.
    if budget.pointee.inRegion(pointer) { return }
    let block = pointer - headerSize
    budget.pointee.used -= block.load(as: Int.self)
    free(block)
}
