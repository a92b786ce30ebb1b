import API
import Foundation
import Interop
import Logging
import RPC
import Schema
import ServiceKit
import TestSupport

/// Logs of the code under test go nowhere unless FT_TEST_LOG is set.
let testLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = ProcessInfo.processInfo.environment["FT_TEST_LOG"] != nil ? .trace : .critical
    return logger
}()

/// The in-process metrics backend, installed once for the whole test process.
let testMetrics = ServiceProcess.bootstrap(logLevel: .critical)

/// A TestService server (with health and reflection) on an ephemeral loopback port, stopped when `body` ends,
/// even when it throws.
func withTestServer<T>(
    maxReceiveMessageBytes: Int = 4 << 20, maxConcurrentCalls: Int = 4096, gracePeriod: Duration = .seconds(5),
    busyPoll: Duration = defaultBusyPoll,
    _ body: (_ endpoint: String, _ server: RPCServer, _ service: TestService) async throws -> T
) async throws -> T {
    _ = testMetrics
    let service = TestService(logger: testLogger)
    var configuration = ServiceConfiguration(
        endpoints: ["tcp://127.0.0.1:*"], maxConcurrentCalls: maxConcurrentCalls, shutdownGracePeriod: gracePeriod)
    configuration.busyPoll = busyPoll
    let (server, _) = ServiceProcess.makeServer(
        name: "test-server", configuration: configuration, services: [service.registration], metrics: testMetrics,
        logger: testLogger)
    var custom = server
    if maxReceiveMessageBytes != 4 << 20 {
        custom = RPCServer(
            configuration: RPCServer.Configuration(
                endpoints: ["tcp://127.0.0.1:*"], maxConcurrentCalls: maxConcurrentCalls,
                maxReceiveMessageBytes: maxReceiveMessageBytes, shutdownGracePeriod: gracePeriod, busyPoll: busyPoll),
            services: [service.registration], logger: testLogger)
    }
    let endpoint = try custom.start()[0]
    do {
        let result = try await body(endpoint, custom, service)
        custom.beginGracefulShutdown()
        await custom.waitUntilFinished()
        return result
    } catch {
        custom.beginGracefulShutdown()
        await custom.waitUntilFinished()
        throw error
    }
}

/// A channel to `endpoints`, closed when `body` ends.
func withChannel<T>(
    _ endpoints: [String], configuration: ClientChannel.Configuration = .init(defaultTimeout: .seconds(5)),
    _ body: (ClientChannel) async throws -> T
) async throws -> T {
    let channel = try ClientChannel(endpoints: endpoints, configuration: configuration, logger: testLogger)
    defer { channel.close() }
    return try await body(channel)
}

extension RPCError.Code {
    /// Every code a handler can throw (all but OK).
    static var failures: [RPCError.Code] { allCases.filter { $0 != .ok } }
}
