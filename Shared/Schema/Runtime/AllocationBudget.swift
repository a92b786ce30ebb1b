import CProtobufC

#if canImport(Glibc)
import Glibc
#endif

/// The state behind the `ProtobufCAllocator` used for untrusted input: counts live bytes and refuses to go over.
struct AllocationBudget {
    let limit: Int
    var used = 0
    var exceeded = false
}

/// Each block carries its size in a header so that `free` can give the bytes back to the budget.
private let headerSize = 16

let budgetedAlloc: @convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer? = { data, size in
    let budget = data!.assumingMemoryBound(to: AllocationBudget.self)
    guard size <= budget.pointee.limit - budget.pointee.used else {
        budget.pointee.exceeded = true
        return nil
    }
    guard let block = malloc(size + headerSize) else { return nil }
    block.storeBytes(of: size, as: Int.self)
    budget.pointee.used += size
    return block + headerSize
}

let budgetedFree: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { data, pointer in
    guard let pointer else { return }
    let budget = data!.assumingMemoryBound(to: AllocationBudget.self)
    let block = pointer - headerSize
    budget.pointee.used -= block.load(as: Int.self)
    free(block)
}
