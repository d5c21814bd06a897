// Time-stretching of decoded audio by whole pitch periods (a WSOLA-style overlap-add).
//
// Accelerate: one output period of N samples is the cross-fade of the input from its start with
// the input one lag P later, and N + P input samples are consumed: a pitch period is removed.
// Preemptive expand: the cross-fade runs from the input start to the input one lag earlier (the
// samples already played), and N - P samples are consumed: a pitch period is repeated. P is the
// lag (2.5 ms ... min(15 ms, N)) with the highest normalised correlation between the two
// segments, searched on a copy decimated to ~8 kHz and refined at full rate; a stretch is done only
// where the segments match (voiced, correlation >= 0.5) or the signal is quiet, so it is inaudible.

/// Finds the stretch lag and writes accelerated or expanded periods; allocates only at init.
public struct JitterBufferTimeStretcher {
    /// Samples per second.
    public let sampleRate: Int
    /// Shortest lag (2.5 ms) and longest lag (15 ms, capped by the period) in samples.
    public let minimumLag: Int
    public let maximumLag: Int
    /// Output period in samples.
    public let periodSamples: Int
    let decimation: Int
    /// Normalised correlation a voiced match needs.
    public var correlationThreshold: Float = 0.5

    /// Makes a stretcher for `periodSamples`-sample periods at `sampleRate` Hz.
    public init(sampleRate: Int, periodSamples: Int) {
        self.sampleRate = sampleRate
        self.periodSamples = periodSamples
        minimumLag = max(2, sampleRate / 400)
        maximumLag = max(minimumLag, min(sampleRate * 15 / 1_000, periodSamples))
        decimation = max(1, sampleRate / 8_000)
    }

    /// Best lag for accelerate (`forward`: compares x[0..<N] with x[P..<P+N]) or preemptive expand
    /// (compares x[0..<N] with x[-P..<N-P]); nil when no lag matches well enough. `x` points at the
    /// read position; it must have `maximumLag` valid samples before it (expand) or
    /// N + `maximumLag` after it (accelerate).
    public func findLag(_ x: UnsafePointer<Int16>, forward: Bool) -> Int? {
        let n = periodSamples
        let d = decimation
        let sign = forward ? 1 : -1
        // Energy check: quiet audio stretches at any lag.
        var energy: Float = 0
        var i = 0
        while i < n {
            let v = Float(x[i])
            energy += v * v
            i += d
        }
        let quiet = energy / Float(max(1, n / d)) < 300 * 300
        var bestLag = 0
        var bestScore: Float = -2
        var lag = (minimumLag / d) * d
        if lag < minimumLag { lag += d }
        while lag <= maximumLag {
            let s = correlation(x, x + sign * lag, count: n, step: d)
            if s > bestScore {
                bestScore = s
                bestLag = lag
            }
            lag += d
        }
        if d > 1 {
            let lo = max(minimumLag, bestLag - d + 1)
            let hi = min(maximumLag, bestLag + d - 1)
            var l = lo
            while l <= hi {
                let s = correlation(x, x + sign * l, count: n, step: 1)
                if s > bestScore || l == lo {
                    if s > bestScore {
                        bestScore = s
                        bestLag = l
                    }
                }
                l += 1
            }
        }
        if bestLag == 0 { return nil }
        if bestScore >= correlationThreshold || quiet { return bestLag }
        return nil
    }

    private func correlation(_ a: UnsafePointer<Int16>, _ b: UnsafePointer<Int16>, count: Int, step: Int) -> Float {
        var ab: Float = 0
        var aa: Float = 0
        var bb: Float = 0
        var i = 0
        while i < count {
            let u = Float(a[i])
            let v = Float(b[i])
            ab += u * v
            aa += u * u
            bb += v * v
            i += step
        }
        let den = (aa * bb).squareRoot()
        return den > 0 ? ab / den : 0
    }

    /// Writes one period: a linear cross-fade from x[0...] to x[offset...] (offset = +lag for
    /// accelerate, -lag for preemptive expand).
    public func crossFade(_ x: UnsafePointer<Int16>, offset: Int, into out: UnsafeMutablePointer<Int16>) {
        let n = periodSamples
        let step = 1 / Float(n + 1)
        for k in 0..<n {
            let w = Float(k + 1) * step
            let v = Float(x[k]) * (1 - w) + Float(x[k + offset]) * w
            out[k] = Int16(max(-32768, min(32767, v.rounded())))
        }
    }
}
