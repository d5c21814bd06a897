// Key press -> request on the wire: the samples of the recording benchmark (issue 8 item 6).

/// Latencies from a record key event to its request handed to the transport (or seen by the
/// peer), in nanoseconds, with percentiles for the benchmark's printout. Feed it from
/// `RecordingController.onRequestSent` (press time, send time).
public struct RecordingLatency: CustomStringConvertible {
    public private(set) var samples: [Int64] = []

    public init() {}

    /// Adds one sample (negative values count as 0).
    public mutating func add(_ nanoseconds: Int64) {
        samples.append(max(0, nanoseconds))
    }

    public var count: Int { samples.count }

    /// The `p`-th percentile (0...100, nearest rank), 0 without samples.
    public func percentile(_ p: Int) -> Int64 {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let rank = (max(0, min(100, p)) * sorted.count + 99) / 100
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    /// `n=1000 p50=0.041 ms p99=0.112 ms max=0.300 ms`
    public var description: String {
        "n=" + String(count) + " p50=" + RecordingLatency.milliseconds(percentile(50)) + " ms p99="
            + RecordingLatency.milliseconds(percentile(99)) + " ms max="
            + RecordingLatency.milliseconds(samples.max() ?? 0) + " ms"
    }

    /// Nanoseconds as milliseconds with three decimals.
    static func milliseconds(_ ns: Int64) -> String {
        let us = ns / 1000
        let fraction = us % 1000
        let pad = fraction < 10 ? "00" : fraction < 100 ? "0" : ""
        return String(us / 1000) + "." + pad + String(fraction)
    }
}
