import API
import Logging
import RPC
import Schema
import Synchronization

/// `fairtrade.testing.v1.TestService`, after gRPC's interop test service: echoes, sleeps, fails on request, counts,
/// and forwards to another server. Tests and `rpc-bench` use it to exercise the runtime end to end.
public final class TestService: TestingV1.TestServiceHandler {
    /// Unique per process, returned in every SimpleResponse.
    public let instanceID: String
    private let counter = Atomic<UInt64>(0)
    private let channels = Mutex<[String: ClientChannel]>([:])
    private let logger: Logger

    public init(instanceID: String = RequestID.make(), logger: Logger = Logger(label: "test-service")) {
        self.instanceID = instanceID
        self.logger = logger
    }

    /// The largest payload UnaryCall makes up on request: the default receive limit, less room for the envelope.
    public static let maxResponseSize: Int32 = (4 << 20) - 1024

    /// How many times IncrementCounter ran.
    public var count: UInt64 { counter.load(ordering: .relaxed) }

    public func emptyCall(_ request: CommonV1.Empty, context: ServerContext) async throws -> CommonV1.Empty {
        CommonV1.Empty()
    }

    public func unaryCall(_ request: TestingV1.SimpleRequest, context: ServerContext) async throws
        -> TestingV1.SimpleResponse
    {
        let remaining = context.timeRemaining.map { max(UInt64(1), $0.microsecondsClamped) } ?? 0
        if request.sleepMillis > 0 { try await Task.sleep(for: .milliseconds(Int64(request.sleepMillis))) }
        if request.failUnexpectedly { throw UnexpectedFailure(detail: "secret internal detail 0xdeadbeef") }
        if let status = request.responseStatus, status.code != .ok {
            throw RPCError(RPCError.Code(rawValue: status.code.rawValue) ?? .unknown, status.message)
        }
        guard (0...Self.maxResponseSize).contains(request.responseSize) else {
            throw RPCError.invalidArgument(
                field: "response_size", "must be between 0 and \(Self.maxResponseSize), got \(request.responseSize)")
        }
        return TestingV1.SimpleResponse(
            payload: request.responseSize > 0
                ? [UInt8](repeating: 0x61, count: Int(request.responseSize)) : request.payload,
            text: request.text,
            metadata: context.metadata.map { RpcV1.MetadataEntry(key: $0.key, value: $0.value) },
            requestID: context.requestID, remainingMicros: remaining, instanceID: instanceID,
            callerKeyName: context.caller?.keyName ?? "", callerRole: context.caller?.role.rawValue ?? "")
    }

    public func incrementCounter(_ request: TestingV1.CountRequest, context: ServerContext) async throws
        -> TestingV1.CountResponse
    {
        TestingV1.CountResponse(count: counter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    public func forward(_ request: TestingV1.ForwardRequest, context: ServerContext) async throws
        -> TestingV1.SimpleResponse
    {
        guard !request.endpoint.isEmpty else { throw RPCError.invalidArgument(field: "endpoint", "must not be empty") }
        let client = TestingV1.TestServiceClient(channel: try channel(to: request.endpoint))
        // No options: the remaining deadline and the request id pass on from `context` by themselves.
        return try await client.unaryCall(request.inner ?? TestingV1.SimpleRequest())
    }

    private func channel(to endpoint: String) throws -> ClientChannel {
        try channels.withLock { channels in
            if let channel = channels[endpoint] { return channel }
            let channel = try ClientChannel(endpoints: [endpoint], logger: logger)
            channels[endpoint] = channel
            return channel
        }
    }

    deinit {
        channels.withLock { channels in channels.values.forEach { $0.close() } }
    }
}

/// A failure that is not an `RPCError`: the runtime must answer INTERNAL and keep `detail` to its log.
struct UnexpectedFailure: Error {
    let detail: String
}

extension Duration {
    /// Whole microseconds, 0 when negative.
    public var microsecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000_000)
    }
}
