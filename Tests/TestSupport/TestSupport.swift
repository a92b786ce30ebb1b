import Foundation

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
public func eventually(timeout: Duration = .seconds(3), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return condition()
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
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no endpoint printed by \(process.executableURL!.lastPathComponent)"])
    }

    public func kill(signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    deinit { kill() }
}

/// A free TCP port on loopback below Linux's ephemeral range (32768+). A connect to a closed port inside that
/// range can end in a TCP self-connection, which would look like a server to the client under test.
public func freeLoopbackPort() -> Int {
    for _ in 0..<100 {
        let port = Int.random(in: 20_000..<32_000)
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

