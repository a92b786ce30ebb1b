import RPC
import Schema

extension HealthV1.HealthClient {
    /// Polls the health check every 50 ms until the service answers, for a process that was just started; false if
    /// `timeout` passes first.
    @discardableResult
    public func waitUntilServing(timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await check(HealthV1.HealthCheckRequest(), options: CallOptions(timeout: .milliseconds(200))))
                != nil
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
