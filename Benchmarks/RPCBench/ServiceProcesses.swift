import Foundation

/// Service executables started beside rpc-bench for a benchmark, on SQLite in a scratch folder, each told where
/// the others are; stopped (SIGTERM) and their folder removed when this is let go.
final class ServiceProcesses {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ft-bench-\(UUID().uuidString)")
    private(set) var processes: [Process] = []
    private let base = Int.random(in: 20_000..<31_000)

    /// The endpoint of the `index`th service started (events endpoints follow at base + 10).
    func endpoint(_ index: Int) -> String { "tcp://127.0.0.1:\(base + index)" }

    /// Starts `executables` (producer-service, …) from rpc-bench's own folder, Marketplace-Info with its events.
    init(_ executables: [String]) throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        var environment = ProcessInfo.processInfo.environment
        for (index, executable) in executables.enumerated() {
            let variable = executable.replacingOccurrences(of: "-service", with: "").uppercased()
                .replacingOccurrences(of: "-", with: "_")
            environment["FT_\(variable)_ENDPOINTS"] = endpoint(index)
        }
        for (index, executable) in executables.enumerated() {
            let process = Process()
            process.executableURL = directory.appendingPathComponent(executable)
            process.arguments =
                [
                    "--endpoint", endpoint(index), "--log-level", "warning", "--data-dir",
                    folder.appendingPathComponent(executable).path,
                ]
                + (executable == "marketplace-info-service" ? ["--events-endpoint", endpoint(10 + index)] : [])
            process.environment = environment
            try process.run()
            processes.append(process)
        }
    }

    deinit {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// One service executable from rpc-bench's own folder, serving on a random loopback port with the arguments given
/// after its endpoint (its storage, say); `stop` ends it with SIGTERM and waits.
struct BenchService {
    let endpoint = "tcp://127.0.0.1:\(Int.random(in: 20_000..<32_000))"
    private let process = Process()

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent(executable)
        process.arguments = ["--endpoint", endpoint] + arguments
        try process.run()
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
