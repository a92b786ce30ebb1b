/// Arithmetic on figures derived from stored records, which must never trap: a derived figure past its type's
/// range stays at the range's end.
extension Int32 {
    /// `value` rounded, held within Int32's range; 0 for NaN.
    public init(roundingClamped value: Double) {
        guard !value.isNaN else {
            self = 0
            return
        }
        self = Int32(value.rounded().clamped(to: Double(Int32.min)...Double(Int32.max)))
    }
}

extension Int64 {
    /// The sum, held at Int64's largest or smallest value instead of overflowing.
    public func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
