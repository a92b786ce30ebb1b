import Synchronization

/// End-to-end request ids: 16 lower-case hex digits.
///
/// SplitMix64 over a process-wide counter seeded from the system's random source: unique within a process (the
/// mix is a bijection), unpredictable enough to tell processes apart, and without a `getrandom` system call per id
/// as `UInt64.random` would make.
public enum RequestID {
    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func make() -> String {
        var value = mix(counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in stride(from: 15, through: 0, by: -1) {
                buffer[index] = hexDigits[Int(value & 0xf)]
                value >>= 4
            }
            return 16
        }
    }

    private static func mix(_ seed: UInt64) -> UInt64 {
        var z = seed
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
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
