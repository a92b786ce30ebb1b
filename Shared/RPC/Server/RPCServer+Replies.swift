import CZeroMQ
import Logging
import Metrics
import Schema
import Synchronization

/// RPCServer: what handler tasks call to answer, on any thread (the outbox the I/O loop drains).
extension RPCServer {
    /// Answers a call: at once when the handler finished on the loop's thread, else through the outbox.
    func answer(_ reply: Reply) {
        if executor.isLoopThread, let loop = loop.value {
            loop.complete(reply)
        } else {
            post(reply)
        }
    }

    func post(_ reply: Reply) {
        let wasEmpty = shared.withLock { state in
            state.outbox.append(reply)
            return state.outbox.count == 1
        }
        if wasEmpty { wakeup.signal() }
    }

    var hasOutbox: Bool { shared.withLock { !$0.outbox.isEmpty } }

    func takeOutbox() -> (replies: [Reply], shutdown: Bool) {
        shared.withLock { state in
            defer { state.outbox.removeAll(keepingCapacity: true) }
            return (state.outbox, state.shutdownRequested)
        }
    }

    func markFinished() {
        let waiters = shared.withLock { state in
            state.finished = true
            defer { state.finishWaiters = [] }
            return state.finishWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs one call and answers it.
    func serve(
        _ key: CallKey, method entry: MethodEntry, payload: [UInt8], context: ServerContext,
        received: ContinuousClock.Instant
    ) async {
        var failure: RPCError?
        var response: [UInt8] = []
        if let deadline = context.deadline, deadline <= .now {
            failure = RPCError(.deadlineExceeded, "deadline passed before the call started")
        } else {
            do {
                response = try await ServerContext.$current.withValue(context) {
                    try await entry.handler.invoke(payload, configuration.requestDecodeOptions, context)
                }
            } catch let error as RPCError {
                failure = error
            } catch let error as RPCStatusConvertible {
                failure = error.rpcError
                if failure?.code == .internalError {
                    context.logger.error("handler failed", metadata: ["error": "\(error)"])
                }
            } catch is CancellationError {
                failure =
                    context.deadline.map { $0 <= .now } == true
                    ? RPCError(.deadlineExceeded, "deadline exceeded while the server was working")
                    : RPCError(.cancelled, "the call was cancelled")
            } catch {
                context.logger.error("handler failed", metadata: ["error": "\(error)"])
                failure = RPCError(
                    .internalError, "internal error; the server logged it under request id \(context.requestID)")
            }
        }
        if failure == nil, response.count > configuration.maxSendMessageBytes {
            failure = RPCError(
                .resourceExhausted,
                "the answer would be \(response.count) bytes, over the \(configuration.maxSendMessageBytes) bytes a "
                    + "client accepts: ask for less at once (a smaller page, a narrower filter, a smaller file)")
            response = []
        }
        entry.metrics.record(code: failure?.code ?? .ok, duration: .now - received)
        if let failure, failure.code != .internalError {
            context.logger.debug("call failed", metadata: ["code": "\(failure.code)", "message": "\(failure.message)"])
        }
        answer(Reply(key: key, error: failure, payload: failure == nil ? response : []))
    }
}
