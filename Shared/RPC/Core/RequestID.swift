#if canImport(Glibc)
import Glibc
#endif

/// End-to-end request ids: 16 lower-case hex digits, random.
public enum RequestID {
    public static func make() -> String {
        let value = UInt64.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension Duration {
    /// Whole microseconds, rounded up, never negative.
    var microsecondsRoundedUp: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64((attoseconds + 999_999_999_999) / 1_000_000_000_000)
    }

    /// Whole milliseconds, rounded up, for zmq_poll.
    var millisecondsRoundedUp: Int { Int((microsecondsRoundedUp + 999) / 1000) }
}
