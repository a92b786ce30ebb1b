import Schema
import Synchronization

/// One attempt of a call, from its start to its answer. The caller makes it and hands it to the channel's loop;
/// from then on only the loop's thread touches it, except for the cancellation flag.
final class ChannelCall: @unchecked Sendable {
    let callID: UInt64
    @exclusivity(unchecked) var header: RpcV1.RequestHeader
    let payload: [UInt8]
    let deadline: ContinuousClock.Instant?
    /// Set when the caller's task is cancelled, so that the loop never starts a call whose cancel it saw first.
    let cancelled = Atomic<Bool>(false)
    /// Set by the caller before the call reaches the loop.
    @exclusivity(unchecked) var continuation: UnsafeContinuation<Result<[UInt8], RPCError>, Never>!
    /// The instance it was given to; whether the request went out (a cancel before that needs no message); whether
    /// it has been answered.
    @exclusivity(unchecked) var connection: Int?
    @exclusivity(unchecked) var sent = false
    @exclusivity(unchecked) var finished = false

    init(callID: UInt64, header: RpcV1.RequestHeader, payload: [UInt8], deadline: ContinuousClock.Instant?) {
        self.callID = callID
        self.header = header
        self.payload = payload
        self.deadline = deadline
    }
}
