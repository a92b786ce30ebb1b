import Logging
import Schema
import ServiceLifecycle
import Storage
import Synchronization

/// Checks every second that the process reaches its database (`Database.probe`: for SQLite, that the file at its
/// path is still the one it opened) and keeps health in step: NOT_SERVING, with the reason logged, for as long as
/// it does not, SERVING again once it does. A probe that has not answered within a second counts as a failure.
public final class DatabaseWatch: Service, Sendable {
    let database: any Database
    let location: DatabaseLocation
    let health: HealthService
    let logger: Logger
    let interval: Duration
    private let state: Mutex<State>

    private struct State {
        var status: ReflectionV1.DatabaseStatus
        var probing = false
    }

    public init(
        database: any Database, location: DatabaseLocation, health: HealthService, logger: Logger,
        interval: Duration = .seconds(1)
    ) {
        self.database = database
        self.location = location
        self.health = health
        self.logger = logger
        self.interval = interval
        let backend =
            switch location {
            case .sqlite: "sqlite"
            case .postgres: "postgres"
            }
        self.state = Mutex(
            State(
                status: ReflectionV1.DatabaseStatus(
                    backend: backend, location: location.place, reachable: true,
                    checkedAt: CommonV1.Timestamp(unixMicros: Clock.unixMicros()))))
    }

    /// What the last check found.
    public var status: ReflectionV1.DatabaseStatus { state.withLock { $0.status } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.check()
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// Probes once, waiting at most `interval`; a probe still running from before is not doubled.
    func check() async {
        let start = state.withLock { state in
            defer { state.probing = true }
            return !state.probing
        }
        let outcome: String?
        if start {
            let database = self.database
            let probe = Task { () -> String? in
                do {
                    try await database.probe()
                    return nil
                } catch {
                    return error.message
                }
            }
            let finished = Task {
                let result = await probe.value
                self.state.withLock { $0.probing = false }
                return result
            }
            outcome = await firstOf(finished, timeout: interval, otherwise: "no answer within \(interval)")
        } else {
            outcome = "no answer to the previous check yet"
        }
        record(outcome)
    }

    private func record(_ error: String?) {
        let changed = state.withLock { state -> Bool in
            let was = state.status.reachable
            state.status.reachable = error == nil
            state.status.error = error ?? ""
            state.status.checkedAt = CommonV1.Timestamp(unixMicros: Clock.unixMicros())
            return was != (error == nil)
        }
        health.setImpediment(error.map { "the database is unreachable: \($0)" })
        guard changed else { return }
        if let error {
            logger.error(
                "database unreachable: serving NOT_SERVING until it is back",
                metadata: ["database": "\(location)", "error": "\(error)"])
        } else {
            logger.notice("database reachable again: serving", metadata: ["database": "\(location)"])
        }
    }
}

extension Error {
    /// A storage error's own message; any other error's description.
    fileprivate var message: String { (self as? StorageError)?.message ?? "\(self)" }
}

/// The value of `task`, or `otherwise` when it has not finished within `timeout` (the task goes on by itself).
func firstOf<T: Sendable>(_ task: Task<T, Never>, timeout: Duration, otherwise: T) async -> T {
    await withCheckedContinuation { continuation in
        let once = ResumeOnce(continuation)
        Task { once.resume(await task.value) }
        Task {
            try? await Task.sleep(for: timeout)
            once.resume(otherwise)
        }
    }
}

/// Resumes a continuation with the first value given, once.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>
    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = Mutex(continuation) }
    func resume(_ value: T) { continuation.withLock { $0.take() }?.resume(returning: value) }
}
