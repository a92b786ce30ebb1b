import Foundation
import Synchronization

/// What a long command is doing, on standard error (standard output stays the command's answer). On a terminal,
/// one line redrawn in place: a bar when the total is known, the seconds so far while the service works. Otherwise
/// (a file, a pipe, a script) a plain line for each step that lasts longer than a second, and none for quick ones.
final class Progress: Sendable {
    static let isTerminal = isatty(STDERR_FILENO) == 1
    private let started = ContinuousClock.now
    private let line = Mutex<(text: String, shown: Bool)>(("", false))
    private let terminal: Bool

    init(terminal: Bool = Progress.isTerminal) {
        self.terminal = terminal
    }

    private var seconds: String { String(format: "%.0f s", (ContinuousClock.now - started) / .seconds(1)) }

    /// A step with a count of `done` out of `total` (when known), as a bar on a terminal.
    func update(_ text: String, done: Int? = nil, of total: Int? = nil) {
        var shown = text
        if let done, let total, total > 0 {
            let width = 30
            let filled = min(width, done * width / total)
            shown =
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
                + "\(done.formatted()) of \(total.formatted()) \(text)"
        } else if let done {
            shown = "\(done.formatted()) \(text)"
        }
        draw(shown)
    }

    /// Runs `work` (one call the service takes its time over), showing `text` and the seconds so far.
    func waiting<T>(_ text: String, _ work: () async throws -> T) async rethrows -> T {
        let ticker = Task { [self] in
            // A terminal's line moves five times a second; plain lines come after a second, then every five.
            if !terminal { try? await Task.sleep(for: .seconds(1)) }
            while !Task.isCancelled {
                draw("\(text)… \(seconds)")
                try? await Task.sleep(for: .milliseconds(terminal ? 200 : 5000))
            }
        }
        defer { ticker.cancel() }
        return try await work()
    }

    /// Clears the terminal line (or ends the plain lines) once the command is done.
    func finish() {
        line.withLock { state in
            guard state.shown else { return }
            FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" : "").utf8))
            state.shown = false
        }
    }

    /// Redraws the terminal line; without a terminal, writes a line when the text changed and a second has passed.
    private func draw(_ text: String) {
        let elapsed = ContinuousClock.now - started
        line.withLock { state in
            if terminal {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
                state.shown = true
            } else if elapsed >= .seconds(1), text != state.text {
                FileHandle.standardError.write(Data("\(text)\n".utf8))
            }
            state.text = text
        }
    }
}
