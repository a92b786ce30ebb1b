import API
import Foundation
import Logging
import RPC
import Schema

/// The same work through the full runtime: typed client, envelope, protobuf-c, handler task, typed response.
struct RPCClientBench {
    /// The client channel's busy poll (the server's is set where it is started).
    var busyPoll = defaultBusyPoll
    /// CURVE keys, for a server that has them.
    var security: ClientSecurity?
    /// Names the rows ("rpc", "rpc-curve").
    var system: String { security == nil ? "rpc" : "rpc-curve" }

    func latency(endpoint: String, payload: [UInt8], calls: Int, onLoop: Bool) throws -> Measurement {
        try Self.blocking {
            let (client, channel) = try connect(endpoint)
            defer { channel.close() }
            if onLoop {
                return try await withTaskExecutorPreference(channel.executor) {
                    try await measureLatency(client, payload: payload, calls: calls, mode: "latency")
                }
            }
            return try await measureLatency(client, payload: payload, calls: calls, mode: "latency-pool")
        }
    }

    /// Round trips to two servers, one call at a time, alternating between them (and which of a pair goes first),
    /// each on its own channel's I/O thread; the samples of each, in nanoseconds. See `CompareBench`.
    func alternatingLatency(_ first: String, _ second: String, payload: [UInt8], calls: Int) throws
        -> ([UInt64], [UInt64])
    {
        try Self.blocking {
            let (clientA, channelA) = try connect(first)
            let (clientB, channelB) = try connect(second)
            defer {
                channelA.close()
                channelB.close()
            }
            let request = TestingV1.SimpleRequest(payload: payload)
            let warmUp = min(2000, calls)
            var samples: [[UInt64]] = [[], []]
            for pair in 0..<(warmUp + calls) {
                for position in 0..<2 {
                    let server = (pair + position) % 2
                    let (client, channel) = server == 0 ? (clientA, channelA) : (clientB, channelB)
                    let nanos = try await withTaskExecutorPreference(channel.executor) {
                        let before = nowNanos()
                        _ = try await client.unaryCall(request)
                        return nowNanos() - before
                    }
                    if pair >= warmUp { samples[server].append(nanos) }
                }
            }
            return (samples[0], samples[1])
        }
    }

    /// Calls one at a time at `rate` a second, each on the channel's I/O thread; the round trips in nanoseconds,
    /// the time they took, and the CPU time each process of `measuring` used meanwhile.
    func paced(endpoint: String, payload: [UInt8], rate: Int, calls: Int, measuring pids: [Int32]) throws
        -> (samples: [UInt64], elapsed: Duration, cpuNanos: [UInt64])
    {
        try Self.blocking {
            let (client, channel) = try connect(endpoint)
            defer { channel.close() }
            let request = TestingV1.SimpleRequest(payload: payload)
            for _ in 0..<min(200, calls) { _ = try await client.unaryCall(request) }
            let interval = Duration.seconds(1) / rate
            var samples = [UInt64]()
            samples.reserveCapacity(calls)
            // Read before the channel closes, while its thread is still counted.
            let cpuBefore = pids.map(ProcessCPU.snapshot(of:))
            let start = ContinuousClock.now
            for index in 0..<calls {
                try await Task.sleep(until: start + interval * index, clock: .continuous)
                let nanos = try await withTaskExecutorPreference(channel.executor) {
                    let before = nowNanos()
                    _ = try await client.unaryCall(request)
                    return nowNanos() - before
                }
                samples.append(nanos)
            }
            let elapsed = ContinuousClock.now - start
            let cpu = zip(pids, cpuBefore).map { ProcessCPU.nanos(of: $0, since: $1) }
            return (samples, elapsed, cpu)
        }
    }

    private func measureLatency(
        _ client: TestingV1.TestServiceClient, payload: [UInt8], calls: Int, mode: String
    ) async throws -> Measurement {
        do {
            let request = TestingV1.SimpleRequest(payload: payload)
            for _ in 0..<min(2000, calls) { _ = try await client.unaryCall(request) }
            var samples = [UInt64]()
            samples.reserveCapacity(calls)
            let start = ContinuousClock.now
            for _ in 0..<calls {
                let before = nowNanos()
                _ = try await client.unaryCall(request)
                samples.append(nowNanos() - before)
            }
            return Measurement(system: system, mode: mode, samples: samples, elapsed: .now - start, calls: calls)
        }
    }

    func throughput(endpoint: String, payload: [UInt8], calls: Int, inFlight: Int, onLoop: Bool) throws
        -> Measurement
    {
        try Self.blocking {
            let (client, channel) = try connect(endpoint)
            defer { channel.close() }
            let request = TestingV1.SimpleRequest(payload: payload)
            let executor: (any TaskExecutor)? = onLoop ? channel.executor : nil
            _ = try await Self.run(client, request, calls: min(20_000, calls), inFlight: inFlight, executor: executor)
            let start = ContinuousClock.now
            let samples = try await Self.run(client, request, calls: calls, inFlight: inFlight, executor: executor)
            return Measurement(
                system: system, mode: onLoop ? "throughput" : "throughput-pool", samples: samples,
                elapsed: .now - start, calls: calls)
        }
    }

    private static func run(
        _ client: TestingV1.TestServiceClient, _ request: TestingV1.SimpleRequest, calls: Int, inFlight: Int,
        executor: (any TaskExecutor)?
    ) async throws -> [UInt64] {
        try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for worker in 0..<inFlight {
                let share = calls / inFlight + (worker < calls % inFlight ? 1 : 0)
                group.addTask(executorPreference: executor) {
                    var samples = [UInt64]()
                    samples.reserveCapacity(share)
                    for _ in 0..<share {
                        let before = nowNanos()
                        _ = try await client.unaryCall(request)
                        samples.append(nowNanos() - before)
                    }
                    return samples
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    private func connect(_ endpoint: String) throws -> (TestingV1.TestServiceClient, ClientChannel) {
        let channel = try ClientChannel(
            endpoints: [endpoint],
            configuration: .init(defaultTimeout: .seconds(30), busyPoll: busyPoll, security: security),
            logger: Logger(label: "rpc-bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        return (TestingV1.TestServiceClient(channel: channel), channel)
    }

    /// Runs async work from the synchronous command and waits for it.
    private static func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task {
            do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
            semaphore.signal()
        }
        semaphore.wait()
        return try box.result!.get()
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
