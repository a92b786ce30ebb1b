import API
import Foundation
import RPC
import Schema
import Synchronization

// Helpers every test target shares: processes the tests own, free ports, waiting for another thread.

/// Where the package's executables were built: beside the test bundle.
public func builtExecutable(_ name: String) -> URL {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = testBinary.deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    fatalError("\(name) is not built next to \(testBinary.path); run `swift build` first")
}

/// Polls `condition` until it holds or `timeout` passes; true if it held. For preconditions that depend on
/// another thread catching up, never for the property under test's timing.
public func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// The outcome of `body`, or nil when it has not finished within `limit`: for work that must not hang, so that a
/// hang fails the test at once instead of stalling the run (the hung task is left behind).
public func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async
    -> Result<T, any Error>?
{
    return await withCheckedContinuation { continuation in
        let settle = FirstOutcome(continuation)
        Task {
            do { settle(.success(try await body())) } catch { settle(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: limit)
            settle(nil)
        }
    }
}

/// Resumes a continuation with the first outcome given, once.
private final class FirstOutcome<T: Sendable>: Sendable {
    let continuation: Mutex<CheckedContinuation<Result<T, any Error>?, Never>?>
    init(_ continuation: CheckedContinuation<Result<T, any Error>?, Never>) { self.continuation = Mutex(continuation) }
    func callAsFunction(_ outcome: Result<T, any Error>?) {
        continuation.withLock { $0.take() }?.resume(returning: outcome)
    }
}

/// Runs blocking work (process I/O, raw sockets) on a thread of its own: Swift's cooperative pool has as many
/// threads as cores (2 here), and blocking one starves every server and client under test.
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// A child process the test owns: killed when the test is done with it, even on failure.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let output = Pipe()

    public init(_ executable: URL, arguments: [String], environment: [String: String]? = nil) throws {
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Starts `executable` and waits, off the cooperative pool, for its first line (interop-server prints its
    /// endpoint once it serves).
    public static func start(
        _ executable: URL, arguments: [String], environment: [String: String]? = nil
    ) async throws -> ChildProcess {
        let child = try ChildProcess(executable, arguments: arguments, environment: environment)
        _ = try await offPool { try child.firstLine() }
        return child
    }

    /// Kills the process and waits for it, off the cooperative pool.
    public func stop(signal: Int32 = SIGKILL) async {
        _ = try? await offPool { self.kill(signal: signal) }
    }

    /// The first line the process prints. Blocks: call through `start`.
    private func firstLine(timeout: Duration = .seconds(20)) throws -> String {
        let handle = output.fileHandleForReading
        var bytes = [UInt8]()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            bytes += chunk
            if let newline = bytes.firstIndex(of: 10) { return String(decoding: bytes[..<newline], as: UTF8.self) }
        }
        throw CocoaError(
            .fileReadUnknown,
            userInfo: [NSLocalizedDescriptionKey: "no endpoint printed by \(process.executableURL!.lastPathComponent)"])
    }

    public func kill(signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    deinit { kill() }
}

/// A free TCP port on loopback below Linux's ephemeral range (32768+). A connect to a closed port inside that
/// range can end in a TCP self-connection, which would look like a server to the client under test. No port is
/// handed out twice in one test run: tests run in parallel and bind their ports a moment after choosing them, so
/// two tests drawing the same free port would otherwise both reach the one that bound it first.
public func freeLoopbackPort() -> Int {
    for _ in 0..<100 {
        let port = Int.random(in: 20_000..<32_000)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        if bound { return port }
    }
    fatalError("no free loopback port between 20000 and 32000")
}

private let handedOutPorts = Mutex<Set<Int>>([])

/// A service process (by executable name) on SQLite in a temporary folder, listening on a free loopback port,
/// answering health checks before `body` runs and killed when it ends.
public func withServiceProcess<T>(
    _ executable: String, arguments: [String] = [], environment: [String: String] = [:],
    _ body: (_ endpoint: String) async throws -> T
) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-\(executable)-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let endpoint = "tcp://127.0.0.1:\(freeLoopbackPort())"
    let service = try ChildProcess(
        builtExecutable(executable),
        arguments: ["--endpoint", endpoint, "--data-dir", folder.path, "--log-level", "warning"]
            + arguments, environment: environment)
    defer { service.kill() }
    try await waitUntilServing(endpoint)
    return try await body(endpoint)
}

/// Waits (up to 30 s) until a service at `endpoint` answers a health check (over CURVE with `security`).
public func waitUntilServing(_ endpoint: String, security: ClientSecurity? = nil) async throws {
    let channel = try ClientChannel(
        endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(2), security: security),
        logger: quietLogger)
    defer { channel.close() }
    try await HealthV1.HealthClient(channel: channel).waitUntilServing()
}

/// A producer-service process on SQLite in a temporary folder, stopped when `body` ends.
public func withProducerProcess<T>(_ body: (_ endpoint: String) async throws -> T) async throws -> T {
    try await withServiceProcess("producer-service", body)
}

/// Serves `services` on a fresh loopback server, runs `body` with a channel to it, then closes that channel and
/// `closing`, and shuts the server down gracefully — also when `body` throws.
public func withServer<T>(
    _ services: [ServiceRegistration], closing: [ClientChannel] = [], _ body: (ClientChannel) async throws -> T
) async throws -> T {
    let server = RPCServer(
        configuration: .init(endpoints: ["tcp://127.0.0.1:*"]), services: services, logger: quietLogger)
    let endpoint = try server.start()[0]
    let channel = try ClientChannel(
        endpoints: [endpoint], configuration: .init(defaultTimeout: .seconds(10)),
        logger: quietLogger)
    let result: Result<T, any Error>
    do {
        result = .success(try await body(channel))
    } catch {
        result = .failure(error)
    }
    channel.close()
    closing.forEach { $0.close() }
    server.beginGracefulShutdown()
    await server.waitUntilFinished()
    return try result.get()
}

/// An endpoint where nothing listens (below the ephemeral range, so it cannot self-connect).
public func deadEndpoint() -> String { "tcp://127.0.0.1:\(freeLoopbackPort())" }

/// Runs an executable of the package to completion, off the cooperative pool: its exit status and standard output.
public func runTool(_ name: String, _ arguments: [String], environment: [String: String] = [:]) async throws
    -> (status: Int32, output: String)
{
    try await runProgram(builtExecutable(name), arguments, environment: environment)
}

/// Runs any program to completion, off the cooperative pool: its exit status and its output (stdout and stderr).
public func runProgram(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) async throws
    -> (status: Int32, output: String)
{
    try await offPool {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A small deterministic generator (SplitMix64) so that failures can be replayed from the seed.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
