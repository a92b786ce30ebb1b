import ArgumentParser
import RPC
import ServiceKit
import Testing

@Suite("A service process's options: busy poll and shutdown grace")
struct ServiceOptionsTests {
    private func busyPoll(_ arguments: [String], environment: [String: String] = [:]) throws -> Duration {
        try ServiceOptions.parse(arguments).configuration(for: ServiceDirectory.producer, environment: environment)
            .busyPoll
    }

    @Test("defaults to 50 µs; the flag wins over the environment; 0 turns it off")
    func values() throws {
        #expect(try busyPoll([]) == defaultBusyPoll)
        #expect(try busyPoll([], environment: ["FT_BUSY_POLL_MICROS": "0"]) == .zero)
        #expect(
            try busyPoll(["--busy-poll-micros", "120"], environment: ["FT_BUSY_POLL_MICROS": "0"]) == .microseconds(120)
        )
    }

    @Test("a value that is not a number, or out of range, is an error naming it")
    func badValues() throws {
        #expect(throws: (any Error).self) { try busyPoll(["--busy-poll-micros=-1"]) }
        #expect(throws: (any Error).self) { try busyPoll(["--busy-poll-micros", "20000"]) }
        let error = #expect(throws: ValidationError.self) {
            try busyPoll([], environment: ["FT_BUSY_POLL_MICROS": "fast"])
        }
        #expect(error?.message.contains("FT_BUSY_POLL_MICROS") == true)
    }

    @Test(
        "a shutdown grace that is not a number of seconds up to an hour is an error, not a crash",
        arguments: ["nan", "inf", "1e300", "3601"])
    func badGrace(value: String) throws {
        let options = try ServiceOptions.parse(["--shutdown-grace-seconds", value])
        let error = #expect(throws: ValidationError.self) {
            try options.configuration(for: ServiceDirectory.producer, environment: [:])
        }
        #expect(error?.message.contains("shutdown grace") == true)
        #expect(throws: ValidationError.self) {
            try ServiceOptions.parse([]).configuration(
                for: ServiceDirectory.producer, environment: ["FT_SHUTDOWN_GRACE_SECONDS": value])
        }
    }
}
