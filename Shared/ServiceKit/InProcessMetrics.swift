import CoreMetrics
import Synchronization

/// A swift-metrics backend that keeps counters and latency histograms in the process, for the reflection service's
/// `GetMetrics` (what `ftadmin metrics` shows). Histograms use log-linear buckets: 16 per power of two, so a
/// percentile is within ~6% of the true value at any scale.
public final class InProcessMetrics: MetricsFactory, Sendable {
    /// A metric's identity: its label and dimensions.
    public struct Key: Hashable, Sendable {
        public let label: String
        public let dimensions: [String: String]
    }

    private let counters = Mutex<[Key: CounterBox]>([:])
    private let timers = Mutex<[Key: TimerBox]>([:])
    private let recorders = Mutex<[Key: RecorderBox]>([:])

    public init() {}

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let key = Key(label: label, dimensions: Dictionary(dimensions, uniquingKeysWith: { $1 }))
        return counters.withLock { boxes in
            if let box = boxes[key] { return box }
            let box = CounterBox()
            boxes[key] = box
            return box
        }
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let key = Key(label: label, dimensions: Dictionary(dimensions, uniquingKeysWith: { $1 }))
        return recorders.withLock { boxes in
            if let box = boxes[key] { return box }
            let box = RecorderBox()
            boxes[key] = box
            return box
        }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let key = Key(label: label, dimensions: Dictionary(dimensions, uniquingKeysWith: { $1 }))
        return timers.withLock { boxes in
            if let box = boxes[key] { return box }
            let box = TimerBox()
            boxes[key] = box
            return box
        }
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}

    /// Current value of every counter.
    public func counterValues() -> [Key: Int64] {
        counters.withLock { $0.mapValues { $0.value } }
    }

    /// Current summary of every timer.
    public func timerSummaries() -> [Key: LatencySummary] {
        timers.withLock { $0.mapValues { $0.summary() } }
    }

    /// Last value of every recorder (gauge).
    public func recorderValues() -> [Key: Double] {
        recorders.withLock { $0.mapValues { $0.value } }
    }
}

/// Count, mean, percentiles and maximum of a timer, in nanoseconds.
public struct LatencySummary: Sendable, Hashable {
    public var count: Int64 = 0
    public var meanNanoseconds: Int64 = 0
    public var p50Nanoseconds: Int64 = 0
    public var p99Nanoseconds: Int64 = 0
    public var maxNanoseconds: Int64 = 0
}

private final class CounterBox: CounterHandler, Sendable {
    private let count = Atomic<Int64>(0)
    var value: Int64 { count.load(ordering: .relaxed) }
    func increment(by amount: Int64) { count.wrappingAdd(amount, ordering: .relaxed) }
    func reset() { count.store(0, ordering: .relaxed) }
}

private final class RecorderBox: RecorderHandler, Sendable {
    private let last = Mutex<Double>(0)
    var value: Double { last.withLock { $0 } }
    func record(_ value: Int64) { last.withLock { $0 = Double(value) } }
    func record(_ value: Double) { last.withLock { $0 = value } }
}

private final class TimerBox: TimerHandler, Sendable {
    private struct Histogram {
        static let subBuckets = 16
        var buckets = [Int64](repeating: 0, count: 64 * subBuckets)
        var count: Int64 = 0
        var sum: Int64 = 0
        var max: Int64 = 0

        static func index(_ value: Int64) -> Int {
            guard value >= Int64(subBuckets) else { return Int(Swift.max(value, 0)) }
            let exponent = 63 - value.leadingZeroBitCount  // floor(log2)
            let shift = exponent - 4
            let mantissa = Int(value >> Int64(shift)) - subBuckets  // 0..<16
            return (shift + 1) * subBuckets + mantissa
        }

        static func upperBound(_ index: Int) -> Int64 {
            guard index >= subBuckets else { return Int64(index) }
            let shift = index / subBuckets - 1
            let mantissa = Int64(index % subBuckets + subBuckets)
            return ((mantissa + 1) << Int64(shift)) - 1
        }

        func percentile(_ fraction: Double) -> Int64 {
            guard count > 0 else { return 0 }
            let rank = Int64((Double(count) * fraction).rounded(.up))
            var seen: Int64 = 0
            for (index, bucket) in buckets.enumerated() where bucket > 0 {
                seen += bucket
                if seen >= rank { return Swift.min(Self.upperBound(index), max) }
            }
            return max
        }
    }

    private let histogram = Mutex(Histogram())

    func recordNanoseconds(_ duration: Int64) {
        let value = max(duration, 0)
        histogram.withLock { histogram in
            histogram.buckets[Histogram.index(value)] += 1
            histogram.count += 1
            histogram.sum &+= value
            histogram.max = Swift.max(histogram.max, value)
        }
    }

    func summary() -> LatencySummary {
        histogram.withLock { histogram in
            LatencySummary(
                count: histogram.count, meanNanoseconds: histogram.count == 0 ? 0 : histogram.sum / histogram.count,
                p50Nanoseconds: histogram.percentile(0.5), p99Nanoseconds: histogram.percentile(0.99),
                maxNanoseconds: histogram.max)
        }
    }
}
