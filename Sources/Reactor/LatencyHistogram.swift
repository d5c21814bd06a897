/// A fixed-size histogram of durations for percentiles without allocation per sample: 100 µs
/// buckets up to 400 ms (later samples land in the last bucket). Used for the phone's
/// capture-to-send and receive-to-playback delays (issue 7 item 6).
public struct LatencyHistogram: Sendable, CustomStringConvertible {
    /// Width of one bucket in nanoseconds.
    public static let bucketNanoseconds: Int64 = 100_000
    /// Number of buckets (the last one also holds everything beyond it).
    public static let bucketCount = 4_000

    private var buckets: [UInt32]
    /// Samples recorded.
    public private(set) var count: UInt64 = 0
    /// Largest sample, ns.
    public private(set) var maximumNanoseconds: Int64 = 0
    private var sumNanoseconds: Int64 = 0

    public init() { buckets = [UInt32](repeating: 0, count: LatencyHistogram.bucketCount) }

    /// Records one duration (negative ones count as 0).
    public mutating func record(nanoseconds: Int64) {
        let value = max(0, nanoseconds)
        let index = min(Int(value / LatencyHistogram.bucketNanoseconds), LatencyHistogram.bucketCount - 1)
        buckets.withUnsafeMutableBufferPointer { $0[index] &+= 1 }
        count &+= 1
        sumNanoseconds &+= value
        if value > maximumNanoseconds { maximumNanoseconds = value }
    }

    /// Forgets every sample.
    public mutating func reset() {
        buckets.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        count = 0
        maximumNanoseconds = 0
        sumNanoseconds = 0
    }

    /// The duration below which `percent` % of the samples lie, as the upper edge of its bucket
    /// (so at most 100 µs above the true value); 0 without samples.
    public func percentileNanoseconds(_ percent: Int) -> Int64 {
        guard count > 0 else { return 0 }
        let wanted = max(1, (count * UInt64(min(100, max(0, percent))) + 99) / 100)
        var seen: UInt64 = 0
        for index in 0..<LatencyHistogram.bucketCount {
            seen += UInt64(buckets[index])
            if seen >= wanted {
                return min(Int64(index + 1) * LatencyHistogram.bucketNanoseconds, maximumNanoseconds)
            }
        }
        return maximumNanoseconds
    }

    /// Median, ns.
    public var p50Nanoseconds: Int64 { percentileNanoseconds(50) }
    /// 99th percentile, ns.
    public var p99Nanoseconds: Int64 { percentileNanoseconds(99) }
    /// Mean, ns.
    public var meanNanoseconds: Int64 { count == 0 ? 0 : sumNanoseconds / Int64(count) }

    /// "p50 20.1 ms p99 20.3 ms max 21.0 ms (n=500)".
    public var description: String {
        "p50 " + LatencyHistogram.milliseconds(p50Nanoseconds) + " p99 " + LatencyHistogram.milliseconds(p99Nanoseconds)
            + " max " + LatencyHistogram.milliseconds(maximumNanoseconds) + " (n=" + String(count) + ")"
    }

    /// Nanoseconds as milliseconds with one decimal ("20.1 ms"), without floating-point text.
    public static func milliseconds(_ nanoseconds: Int64) -> String {
        let tenths = (max(0, nanoseconds) + 50_000) / 100_000
        return String(tenths / 10) + "." + String(tenths % 10) + " ms"
    }
}
