// Target-delay estimator of the jitter buffer: "floor plus E-model-optimal margin".
//
// Each packet's one-way delay d (arrival time minus media time; any clock offset) is split into a
// floor, the minimum of d over the last ~0.5 s of packets (a sliding minimum over blocks, so it
// follows clock drift, queue build-up and route changes), and the relative delay r = d - floor.
// The relative delays go into a histogram with exponential forgetting (time constant ~60 s of
// packets), which keeps rare events (Wi-Fi stalls, handovers) in memory. The margin M is the one
// that maximises the ITU-T G.107 E-model R over that histogram: a packet with r > M counts as lost,
// so R(M) = 93.2 - Id(M + base) - Ie_eff(network loss + P(r > M)). The playout delay then follows
// floor + M: the floor moves the delay with the network at once, the margin covers the jitter it
// pays for. Fixed memory, O(bins) per packet, no allocation after init.

/// Estimates the playout delay that trades late loss against delay by the E-model.
public struct JitterBufferDelayEstimator {
    /// Histogram bin width in milliseconds.
    public static let binMilliseconds = 1.0
    /// Number of histogram bins (relative delays above the last bin count in it).
    public static let binCount = 1_000

    /// Packets per floor block and the number of blocks (the floor window).
    let blockPackets: Int
    let blockCount = 6
    /// Mouth-to-ear delay outside the buffer assumed by the E-model cost (ms).
    public var baseDelayMilliseconds = 40.0
    /// Weight of one new observation relative to the decayed history (1 / packets of memory).
    public var forgetting = 1.0 / 3_000.0

    private var blockMinimum: [Double]
    private var blockFill = 0
    private var blockIndex = 0
    private var currentMinimum = Double.infinity
    /// The floor: minimum one-way delay of the last `blockCount` blocks (ms).
    public private(set) var floorMilliseconds = 0.0
    /// Whether any packet has been seen since init or `resetFloor`.
    public private(set) var hasFloor = false

    private var histogram: [Float]
    private var increment: Float = 1
    private var histogramTotal: Float = 0
    /// Network loss rate estimate (0...1).
    public private(set) var lossRate = 0.0
    /// The margin above the floor that maximises R (ms).
    public private(set) var marginMilliseconds: Double
    /// Packets observed since init.
    public private(set) var observations = 0
    private var sinceUpdate = 0

    /// Makes an estimator for packets of `packetMilliseconds`; `initialMarginMilliseconds` until data is in.
    public init(packetMilliseconds: Int, initialMarginMilliseconds: Double = 40) {
        blockPackets = max(1, 500 / max(1, packetMilliseconds) / 6)
        blockMinimum = [Double](repeating: Double.infinity, count: 6)
        histogram = [Float](repeating: 0, count: JitterBufferDelayEstimator.binCount)
        marginMilliseconds = initialMarginMilliseconds
    }

    /// Forgets the floor (new stream timeline: SSRC change or timestamp jump); keeps the jitter statistics.
    public mutating func resetFloor() {
        for i in 0..<blockCount { blockMinimum[i] = Double.infinity }
        blockFill = 0
        blockIndex = 0
        currentMinimum = Double.infinity
        hasFloor = false
    }

    /// Records `lost` packets missing (positive) or found again after reordering (negative).
    public mutating func recordLoss(_ lost: Int, expected: Int) {
        let a = 1.0 / 500.0
        if lost < 0 {
            lossRate = max(0, lossRate - a * Double(-lost))
            return
        }
        for i in 0..<expected { lossRate = lossRate * (1 - a) + (i < lost ? a : 0) }
    }

    /// Records one packet's one-way delay (arrival minus media time, in ms, any offset).
    public mutating func observe(delayMilliseconds d: Double) {
        currentMinimum = min(currentMinimum, d)
        blockMinimum[blockIndex] = currentMinimum
        blockFill += 1
        if blockFill >= blockPackets {
            blockFill = 0
            blockIndex = (blockIndex + 1) % blockCount
            currentMinimum = Double.infinity
            blockMinimum[blockIndex] = Double.infinity
        }
        var floor = Double.infinity
        for i in 0..<blockCount { floor = min(floor, blockMinimum[i]) }
        floorMilliseconds = floor
        hasFloor = true
        let r = d - floor
        var bin = Int(r / JitterBufferDelayEstimator.binMilliseconds)
        if bin < 0 { bin = 0 }
        if bin >= JitterBufferDelayEstimator.binCount { bin = JitterBufferDelayEstimator.binCount - 1 }
        // Exponential forgetting without touching every bin: grow the increment instead.
        increment *= Float(1 / (1 - forgetting))
        histogram[bin] += increment
        histogramTotal += increment
        if increment > 1e20 {
            let scale = 1 / increment
            for i in 0..<JitterBufferDelayEstimator.binCount { histogram[i] *= scale }
            histogramTotal *= scale
            increment = 1
        }
        observations += 1
        sinceUpdate += 1
        if sinceUpdate >= 5 || observations < 50 {
            sinceUpdate = 0
            updateMargin()
        }
    }

    /// G.107 R for a one-way delay (ms) and a loss percentage (G.711 with PLC, BurstR 1).
    public static func emodelR(delayMilliseconds d: Double, lossPercent p: Double) -> Double {
        let id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0)
        let ie = 95 * p / (p + 25.1)
        return 93.2 - id - ie
    }

    private mutating func updateMargin() {
        guard histogramTotal > 0, observations >= 10 else { return }
        let total = Double(histogramTotal)
        var tail = 0.0
        var bestR = -Double.infinity
        var best = 0
        var bin = JitterBufferDelayEstimator.binCount - 1
        while bin >= 0 {
            // Late fraction if the margin ends at the top of this bin.
            let late = tail / total
            let m = Double(bin + 1) * JitterBufferDelayEstimator.binMilliseconds
            let r = JitterBufferDelayEstimator.emodelR(
                delayMilliseconds: m + baseDelayMilliseconds, lossPercent: 100 * (lossRate + late * (1 - lossRate)))
            if r >= bestR {
                bestR = r
                best = bin + 1
            }
            tail += Double(histogram[bin])
            bin -= 1
        }
        marginMilliseconds = Double(best) * JitterBufferDelayEstimator.binMilliseconds
    }
}
