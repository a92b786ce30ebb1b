import API
import Foundation
import RPC
import Schema
import Synchronization
import TestSupport
import Testing

@Suite("Durability", .serialized)
struct CrashTests {
    /// Starts producer-service on `port` with `storage` flags and waits until it answers health checks.
    private func startService(port: Int, storage: [String]) async throws -> ChildProcess {
        let service = try ChildProcess(
            builtExecutable("producer-service"),
            arguments: ["--endpoint", "tcp://127.0.0.1:\(port)", "--log-level", "warning"] + storage)
        let channel = try ClientChannel(
            endpoints: ["tcp://127.0.0.1:\(port)"], configuration: .init(defaultTimeout: .seconds(2)),
            logger: quietLogger)
        defer { channel.close() }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await HealthV1.HealthClient(channel: channel).check(HealthV1.HealthCheckRequest())) != nil {
                return service
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await service.stop()
        throw RPCError(.unavailable, "producer-service did not start on port \(port)")
    }

    @Test("every acknowledged write survives kill -9 of the service", arguments: Backend.allCases)
    func acknowledgedWritesSurviveKill(backend: Backend) async throws {
        try await withDatabase(backend) { location in
            let storage: [String]
            switch location {
            case .sqlite(let path): storage = ["--data-dir", (path as NSString).deletingLastPathComponent]
            case .postgres(let url): storage = ["--database-url", url]
            }
            let port = freeLoopbackPort()
            var service: ChildProcess? = try await startService(port: port, storage: storage)
            defer { service?.kill() }
            let channel = try ClientChannel(
                endpoints: ["tcp://127.0.0.1:\(port)"], configuration: .init(defaultTimeout: .seconds(2)),
                logger: quietLogger)
            defer { channel.close() }
            let client = ProducerV1.ProducerServiceClient(channel: channel)

            // One writer keeps creating groups; the service is killed while it writes, once it has had some
            // acknowledged (a loaded machine may take seconds for the first fsyncs).
            let count = Mutex(0)
            let writer = Task {
                var acknowledged: [String] = []
                for index in 0..<100_000 {
                    if Task.isCancelled { break }
                    do {
                        let group = try await client.createProducerGroup(
                            ProducerV1.CreateProducerGroupRequest(
                                group: sampleGroup("Crash test group \(index)"), requestID: "crash-\(index)"
                            ), options: CallOptions(retryEnabled: false))
                        acknowledged.append(group.id)
                        count.withLock { $0 += 1 }
                    } catch {
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
                return acknowledged
            }
            try await Task.sleep(for: .milliseconds(1500))
            let patience = ContinuousClock.now + .seconds(20)
            while count.withLock({ $0 }) < 10 && ContinuousClock.now < patience {
                try await Task.sleep(for: .milliseconds(100))
            }
            await service?.stop(signal: SIGKILL)
            try await Task.sleep(for: .milliseconds(300))
            writer.cancel()
            let acknowledged = await writer.value
            #expect(acknowledged.count >= 10, "too few writes before the kill to test anything (\(acknowledged.count))")

            service = try await startService(port: port, storage: storage)
            // Lost means NOT_FOUND once the service serves again; a call that finds it still starting (a busy
            // machine) is asked again, so that only writes really gone count.
            #expect(
                try await HealthV1.HealthClient(channel: channel).waitUntilServing(), "not serving after the restart")
            var missing: [String] = []
            for id in acknowledged {
                var answered = false
                for _ in 0..<20 where !answered {
                    do {
                        _ = try await client.getProducerGroup(ProducerV1.GetProducerGroupRequest(id: id))
                        answered = true
                    } catch let error as RPCError where error.code == .notFound {
                        missing.append(id)
                        answered = true
                    } catch {
                        try await Task.sleep(for: .milliseconds(250))
                    }
                }
                #expect(answered, "\(id) could not be read back after the restart")
            }
            #expect(missing.isEmpty, "\(missing.count) of \(acknowledged.count) acknowledged groups were lost")
        }
    }
}
