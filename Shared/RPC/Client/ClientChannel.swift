import Logging
import Schema
import Synchronization

/// A connection to every instance of one service, spreading calls over the instances that are up.
///
/// The channel owns one DEALER socket per endpoint, all on one dedicated I/O thread, each watched by a libzmq
/// monitor so the channel knows which instances are connected. A call goes to the connected instance with the
/// fewest calls outstanding; when an instance drops, its calls fail UNAVAILABLE and (for idempotent methods) are
/// retried elsewhere or after it returns. libzmq reconnects by itself, so a restarted server is picked up again.
public final class ClientChannel: Sendable {
    private let core: ChannelCore
    private let nextCallID = Atomic<UInt64>(1)
    private let retryTokens: Mutex<Double>

    public var endpoints: [String] { core.endpoints }
    public var configuration: Configuration { core.configuration }
    var logger: Logger { core.logger }
    var targetName: String { core.targetName }

    /// The channel's I/O thread as a task executor. Code that makes many calls can run on it
    /// (`withTaskExecutorPreference(channel.executor) { … }`) so that sending and resuming need no thread
    /// hand-off; it must not block. Once the channel is closed, tasks still on it carry on on Swift's global
    /// executor.
    public var executor: LoopExecutor { core.executor }

    /// Connects to `endpoints` (all instances of one service). Connection happens in the background; calls made
    /// meanwhile wait for it.
    public init(endpoints: [String], configuration: Configuration = Configuration(), logger: Logger) throws {
        precondition(!endpoints.isEmpty, "a channel needs at least one endpoint")
        let core = ChannelCore(endpoints: endpoints, configuration: configuration, logger: logger)
        self.core = core
        self.retryTokens = Mutex(configuration.retry.maxTokens)
        try LoopThread.start(name: "rpc-client") { ready in
            ClientLoop(channel: core).run(ready: ready)
        }
    }

    /// Fails calls in flight with UNAVAILABLE and closes the sockets. Calls made afterwards fail at once.
    public func close() { core.close() }

    deinit {
        // Only a signal: the loop's thread closes the sockets it owns. The loop holds the core, not this handle,
        // so a channel dropped without `close()` still stops.
        core.close()
    }

    // MARK: calls

    /// Calls a unary method: deadlines, cancellation and retries as the channel's configuration and `options` say.
    public func unary<Request, Response>(
        _ method: UnaryMethod<Request, Response>, _ request: Request, options: CallOptions = CallOptions()
    ) async throws(RPCError) -> Response {
        let bytes = try await call(
            service: method.service, method: method.method, idempotent: method.idempotent,
            payload: request.serializedBytes(), options: options)
        do throws(SchemaError) {
            return try Response(
                serializedBytes: bytes,
                options: DecodeOptions(
                    maxMessageBytes: configuration.maxReceiveMessageBytes))
        } catch {
            throw RPCError(
                .internalError, "the response from \(targetName) is not a valid \(Response.protoName): \(error)")
        }
    }

    /// Calls a method named at run time with an encoded request and returns the encoded response. For tools that
    /// work from the schema's descriptors (`ftadmin call`); services use the typed clients.
    public func call(
        service: String, method: String, idempotent: Bool, payload: [UInt8], options: CallOptions = CallOptions()
    ) async throws(RPCError) -> [UInt8] {
        if let problem = options.metadata.validationError(allowReserved: false) {
            throw RPCError(.invalidArgument, problem)
        }
        if payload.count > configuration.maxSendMessageBytes {
            throw RPCError(
                .resourceExhausted,
                "the request is \(payload.count) bytes, over the limit of \(configuration.maxSendMessageBytes) bytes "
                    + "a server accepts: send less at once (split a file into parts)")
        }
        let (deadline, requestID) = effectiveDeadlineAndRequestID(options)
        var attempt = 1
        while true {
            let result = await self.attempt(
                service: service, method: method, payload: payload, options: options,
                deadline: deadline, requestID: requestID)
            switch result {
            case .success(let bytes):
                returnRetryToken()
                return bytes
            case .failure(let error):
                guard error.isRetriable, idempotent, options.retryEnabled,
                    attempt < configuration.retry.maxAttempts, takeRetryToken()
                else { throw error }
                let pause = configuration.retry.backoff(beforeRetry: attempt)
                if let deadline, ContinuousClock.now + pause >= deadline { throw error }
                do { try await Task.sleep(for: pause) } catch {
                    throw RPCError(.cancelled, "the call was cancelled")
                }
                attempt += 1
                logger.debug(
                    "retrying",
                    metadata: [
                        LogKey.requestID: "\(requestID)", LogKey.method: "\(service)/\(method)",
                        "attempt": "\(attempt)", "after": "\(error)",
                    ])
            }
        }
    }

    private func effectiveDeadlineAndRequestID(_ options: CallOptions) -> (ContinuousClock.Instant?, String) {
        let now = ContinuousClock.now
        var deadline = (options.timeout ?? configuration.defaultTimeout).map { now + $0 }
        let incoming = ServerContext.current
        if let inherited = incoming?.deadline { deadline = min(deadline ?? inherited, inherited) }
        let requestID = options.requestID ?? incoming?.requestID ?? RequestID.make()
        return (deadline, requestID)
    }

    private func attempt(
        service: String, method: String, payload: [UInt8], options: CallOptions, deadline: ContinuousClock.Instant?,
        requestID: String
    ) async -> Result<[UInt8], RPCError> {
        if Task.isCancelled { return .failure(RPCError(.cancelled, "the call was cancelled")) }
        if let deadline, deadline <= .now {
            return .failure(RPCError(.deadlineExceeded, "deadline exceeded before calling \(service)/\(method)"))
        }
        let callID = nextCallID.wrappingAdd(1, ordering: .relaxed).oldValue
        var header = RpcV1.RequestHeader()
        header.protocolVersion = Wire.version
        header.callID = callID
        header.kind = .call
        header.service = service
        header.method = method
        header.requestID = requestID
        header.metadata = Wire.metadataEntries(options.metadata)
        let call = ChannelCall(callID: callID, header: header, payload: payload, deadline: deadline)
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                call.continuation = continuation
                // A caller on the channel's own thread starts the call itself: no queue, no extra loop turn.
                if core.executor.isLoopThread, let loop = core.loop.value {
                    loop.start(call)
                } else if !core.enqueue(.start(call)) {
                    continuation.resume(
                        returning: .failure(
                            RPCError(
                                .unavailable,
                                "the channel to \(core.targetName) was closed")))
                }
            }
        } onCancel: {
            // The flag covers a cancel that overtakes its own start on the way to the loop.
            call.cancelled.store(true, ordering: .releasing)
            _ = core.enqueue(.cancel(callID))
        }
    }

    private func takeRetryToken() -> Bool {
        retryTokens.withLock { tokens in
            tokens = max(0, tokens - 1)
            return tokens > configuration.retry.maxTokens / 2
        }
    }

    private func returnRetryToken() {
        retryTokens.withLock { tokens in
            tokens = min(configuration.retry.maxTokens, tokens + configuration.retry.tokenRatio)
        }
    }

}
