// Packet loss concealment for the waveform codecs (G.711, G.722, L16): pitch-based waveform
// substitution after ITU-T G.711 Appendix I, at any sample rate, with no added delay.
//
// At the first lost frame of a burst the history (the last 3.25 longest pitch periods) is copied
// once and its pitch found by normalised cross-correlation: a coarse search on a copy decimated
// to about 4 kHz (box-filtered), a refinement at full rate around the coarse peak, and a check
// that prefers the shortest lag nearly as good as the best (so a multiple of the period is not
// taken for the period). Pitch range 2.5-15 ms (400-67 Hz), correlation window 20 ms. The last
// pitch period is replayed cyclically; the join of the replayed block with itself is smoothed by
// a linear overlap-add of its last quarter period with the quarter period before the block. The
// block grows to two periods after 10 ms of loss and to three after 20 ms, each change
// cross-faded over a quarter period at the same phase. The output fades linearly from 10 ms of
// loss, 20 % per 10 ms, and is silent from 60 ms. Appendix I delays its output 3.75 ms so it can
// rewrite the history's tail; we add no delay, so instead the difference between the last played
// sample and its one-period-back counterpart is blended out over the first quarter period. The
// first good frame after a loss is merged by a linear cross-fade from the (attenuated)
// concealment continuation, over a quarter period (at least 2 ms) plus 4 ms per extra 10 ms lost,
// at most 10 ms. Concealed output goes into the history, as in Appendix I.

/// Pitch-based packet loss concealment (ITU-T G.711 Appendix I waveform substitution) for one
/// mono stream; allocates its buffers at init and nothing per frame.
public final class PacketLossConcealer {
    /// Samples per second of the stream (8000 for G.711, 16000 for G.722, any for L16).
    public let sampleRate: Int
    /// Samples per frame, the count `concealLostFrame(into:)` writes.
    public let frameSamples: Int

    // Geometry, in samples at `sampleRate`.
    /// 10 ms: the unit in which G.711 Appendix I counts a loss.
    let unitSamples: Int
    /// Shortest pitch period searched (2.5 ms).
    let minPitch: Int
    /// Longest pitch period searched (15 ms, as in G.711 Appendix I).
    let maxPitch: Int
    /// 3 longest periods plus a quarter period: what three replayed periods and their overlap need.
    let historyLength: Int
    /// The correlation window of the pitch search (20 ms).
    let correlationLength: Int
    /// Decimation of the coarse pitch search (to about 4 kHz).
    let decimation: Int
    /// Growth of the merge cross-fade per extra 10 ms lost (4 ms).
    let mergeIncrement: Int
    /// Shortest merge cross-fade (2 ms; Appendix I's quarter period alone is 1 ms at 250 Hz).
    let mergeMinimum: Int
    /// Gain lost per sample from 10 ms of loss on: 20 % per 10 ms.
    let attenuationPerSample: Float

    /// The last `historyLength` samples played (good and concealed), oldest first.
    private let history: UnsafeMutablePointer<Int16>
    /// The history as of the burst's start, in float, with the replayed block's tail smoothed.
    private let pitchBuffer: UnsafeMutablePointer<Float>
    /// The decimated copy searched coarsely.
    private let decimated: UnsafeMutablePointer<Float>
    /// Normalised correlation per coarse lag.
    private let coarseScore: UnsafeMutablePointer<Float>
    /// The history's last quarter period as it was, before the tail was smoothed.
    private let originalTail: UnsafeMutablePointer<Float>
    /// The old block's continuation, cross-faded out when the block grows.
    private let fadeFrom: UnsafeMutablePointer<Float>

    /// Whether a good frame has been seen since init or reset.
    private var hasHistory = false
    /// Whether the current burst replays the history (false: silence before any good frame).
    private var burstStarted = false
    /// The pitch period found at the start of the current (or last) burst, in samples.
    private(set) var pitchPeriod = 0
    /// A quarter of the pitch period: the overlap-add length.
    private(set) var overlap = 1
    /// Length of the replayed block (1, 2 or 3 periods) and the read position in it.
    private(set) var blockLength = 0
    private var blockOffset = 0
    /// Samples concealed in the current burst.
    private var lostSamples = 0
    private var lostFrames = 0
    /// The start blend: the last played sample minus the block's last sample, blended out.
    private var startCorrection: Float = 0
    private var startCorrectionLeft = 0
    /// The cross-fade from the old block's continuation after the block grew.
    private var fadeLength = 0
    private var fadePosition = 0

    /// Makes a concealer for `sampleRate` Hz frames of `frameSamples` samples; allocates all buffers once.
    public init(sampleRate: Int, frameSamples: Int) {
        precondition(sampleRate >= 1_000 && frameSamples > 0, "PacketLossConcealer: bad sample rate or frame")
        self.sampleRate = sampleRate
        self.frameSamples = frameSamples
        unitSamples = sampleRate / 100
        minPitch = max(4, sampleRate / 400)
        maxPitch = sampleRate * 15 / 1_000
        historyLength = 3 * maxPitch + maxPitch / 4
        correlationLength = sampleRate / 50
        decimation = max(1, sampleRate / 4_000)
        mergeIncrement = sampleRate / 250
        mergeMinimum = sampleRate / 500
        attenuationPerSample = 0.2 / Float(unitSamples)
        let decimatedCapacity = historyLength / decimation + 2
        history = UnsafeMutablePointer<Int16>.allocate(capacity: historyLength)
        history.initialize(repeating: 0, count: historyLength)
        pitchBuffer = UnsafeMutablePointer<Float>.allocate(capacity: historyLength)
        pitchBuffer.initialize(repeating: 0, count: historyLength)
        decimated = UnsafeMutablePointer<Float>.allocate(capacity: decimatedCapacity)
        decimated.initialize(repeating: 0, count: decimatedCapacity)
        coarseScore = UnsafeMutablePointer<Float>.allocate(capacity: decimatedCapacity)
        coarseScore.initialize(repeating: 0, count: decimatedCapacity)
        originalTail = UnsafeMutablePointer<Float>.allocate(capacity: maxPitch / 4 + 1)
        originalTail.initialize(repeating: 0, count: maxPitch / 4 + 1)
        fadeFrom = UnsafeMutablePointer<Float>.allocate(capacity: maxPitch / 4 + 1)
        fadeFrom.initialize(repeating: 0, count: maxPitch / 4 + 1)
    }

    deinit {
        history.deallocate()
        pitchBuffer.deallocate()
        decimated.deallocate()
        coarseScore.deallocate()
        originalTail.deallocate()
        fadeFrom.deallocate()
    }

    /// Lost frames since the last good frame (or since init/reset).
    public var consecutiveLostFrames: Int { lostFrames }

    /// Forgets the history and any loss in progress (a new call or stream); concealment is silent again.
    public func reset() {
        history.update(repeating: 0, count: historyLength)
        hasHistory = false
        burstStarted = false
        lostSamples = 0
        lostFrames = 0
        pitchPeriod = 0
        fadeLength = 0
        fadePosition = 0
        startCorrectionLeft = 0
    }

    /// A good frame was decoded: after a loss, cross-fades it in place from the concealment (G.711 App. I).
    public func receivedGoodFrame(_ pcm: UnsafeMutableBufferPointer<Int16>) {
        guard let base = pcm.baseAddress else { return }
        let count = pcm.count
        if burstStarted && lostSamples > 0 {
            let units = (lostSamples + unitSamples - 1) / unitSamples
            let length = min(max(overlap, mergeMinimum) + (units - 1) * mergeIncrement, unitSamples, count)
            let gain = gainAt(lostSamples)
            if length > 0 {
                let step = 1 / Float(length)
                for k in 0..<length {
                    let w = Float(k + 1) * step
                    let f = nextBlockSample()
                    base[k] = pcm16(f * gain * (1 - w) + Float(base[k]) * w)
                }
            }
        }
        burstStarted = false
        lostSamples = 0
        lostFrames = 0
        appendToHistory(base, count)
        hasHistory = true
    }

    /// A frame was lost: writes `frameSamples` concealment samples (G.711 Appendix I) into `out`.
    public func concealLostFrame(into out: UnsafeMutableBufferPointer<Int16>) {
        guard let base = out.baseAddress else { return }
        let n = min(out.count, frameSamples)
        lostFrames += 1
        guard hasHistory else {
            base.update(repeating: 0, count: n)
            return
        }
        if !burstStarted {
            startBurst()
        }
        let muteAt = 6 * unitSamples
        var i = 0
        while i < n {
            if lostSamples >= muteAt {
                base.advanced(by: i).update(repeating: 0, count: n - i)
                lostSamples += n - i
                break
            }
            let phase = lostSamples % unitSamples
            if phase == 0 && lostSamples > 0 && lostSamples <= 2 * unitSamples {
                addPeriod()
            }
            let end = min(n, i + unitSamples - phase)
            if lostSamples < unitSamples {
                for j in i..<end {
                    base[j] = pcm16(nextBlockSample())
                }
                lostSamples += end - i
            } else {
                var gain = gainAt(lostSamples)
                for j in i..<end {
                    base[j] = pcm16(nextBlockSample() * gain)
                    gain -= attenuationPerSample
                }
                lostSamples += end - i
            }
            i = end
        }
        appendToHistory(base, n)
    }

    // MARK: the replay

    /// The gain after `lost` concealed samples: 1 for 10 ms, then down 20 % per 10 ms, 0 from 60 ms.
    @inline(__always)
    private func gainAt(_ lost: Int) -> Float {
        if lost < unitSamples { return 1 }
        return max(0, 1 - Float(lost - unitSamples) * attenuationPerSample)
    }

    /// The next sample of the replayed block, with the pending start blend and block-growth fade.
    @inline(__always)
    private func nextBlockSample() -> Float {
        var v = pitchBuffer[historyLength - blockLength + blockOffset]
        blockOffset += 1
        if blockOffset == blockLength { blockOffset = 0 }
        if fadePosition < fadeLength {
            let w = Float(fadePosition + 1) / Float(fadeLength)
            v = fadeFrom[fadePosition] * (1 - w) + v * w
            fadePosition += 1
        }
        if startCorrectionLeft > 0 {
            v += startCorrection * Float(startCorrectionLeft) / Float(overlap + 1)
            startCorrectionLeft -= 1
        }
        return v
    }

    /// First lost frame of a burst: copy the history, find the pitch, set up a one-period block.
    private func startBurst() {
        for i in 0..<historyLength {
            pitchBuffer[i] = Float(history[i])
        }
        pitchPeriod = findPitch()
        overlap = max(1, pitchPeriod / 4)
        for i in 0..<overlap {
            originalTail[i] = pitchBuffer[historyLength - overlap + i]
        }
        blockLength = pitchPeriod
        blockOffset = 0
        smoothBlockTail()
        startCorrection = originalTail[overlap - 1] - pitchBuffer[historyLength - 1]
        startCorrectionLeft = overlap
        fadeLength = 0
        fadePosition = 0
        lostSamples = 0
        burstStarted = true
    }

    /// Grows the block by one period at the same phase, cross-fading from the old block's continuation.
    private func addPeriod() {
        for k in 0..<overlap {
            fadeFrom[k] = pitchBuffer[historyLength - blockLength + (blockOffset + k) % blockLength]
        }
        blockOffset %= pitchPeriod
        blockLength += pitchPeriod
        smoothBlockTail()
        fadeLength = overlap
        fadePosition = 0
    }

    /// Overlap-adds the block's last quarter period (as played) into the quarter period before the
    /// block, so that the block wraps around without a step.
    private func smoothBlockTail() {
        let tail = historyLength - overlap
        let before = historyLength - blockLength - overlap
        let step = 1 / Float(overlap)
        for i in 0..<overlap {
            let w = Float(i + 1) * step
            pitchBuffer[tail + i] = originalTail[i] * (1 - w) + pitchBuffer[before + i] * w
        }
    }

    // MARK: the pitch search

    /// The pitch period of the history's end, in samples: a coarse normalised cross-correlation
    /// search at about 4 kHz, a submultiple check, then a refinement at full rate.
    private func findPitch() -> Int {
        let d = decimation
        let windowD = correlationLength / d
        let kMin = max(1, minPitch / d)
        let kMax = max(kMin, maxPitch / d)
        let count = windowD + kMax
        let origin = historyLength - count * d
        for i in 0..<count {
            var sum: Float = 0
            let p = origin + i * d
            for j in 0..<d { sum += pitchBuffer[p + j] }
            decimated[i] = sum
        }
        let right = count - windowD
        var rightEnergy: Float = 0
        for i in 0..<windowD { rightEnergy += decimated[right + i] * decimated[right + i] }
        let floorD = Float(windowD * d * d)
        rightEnergy = max(rightEnergy, floorD)
        var best: Float = -2
        var bestK = kMin
        for k in kMin...kMax {
            let left = right - k
            var corr: Float = 0
            var energy: Float = 0
            for i in 0..<windowD {
                let l = decimated[left + i]
                corr += l * decimated[right + i]
                energy += l * l
            }
            // Signed square of the normalised correlation (no square root, no libm).
            let score = corr * abs(corr) / (max(energy, floorD) * rightEnergy)
            coarseScore[k] = score
            if score > best {
                best = score
                bestK = k
            }
        }
        // A lag of m periods correlates as well as one period: take the shortest nearly as good.
        if best > 0 {
            var m = bestK / kMin
            while m >= 2 {
                let c = (bestK + m / 2) / m
                let lo = max(kMin, c - 1)
                let hi = min(kMax, c + 1)
                if lo <= hi {
                    var candidate = lo
                    for k in lo...hi where coarseScore[k] > coarseScore[candidate] { candidate = k }
                    if coarseScore[candidate] >= 0.81 * best {  // 0.9 of the correlation
                        bestK = candidate
                        break
                    }
                }
                m -= 1
            }
        }
        // Refine at full rate within one coarse step either side.
        let center = bestK * d
        let lo = max(minPitch, center - (d - 1))
        let hi = max(lo, min(maxPitch, center + (d - 1)))
        let length = correlationLength
        let right0 = historyLength - length
        let floorFull = Float(length)
        var bestFine: Float = -Float.greatestFiniteMagnitude
        var bestLag = lo
        for lag in lo...hi {
            let left = right0 - lag
            var corr: Float = 0
            var energy: Float = 0
            for i in 0..<length {
                let l = pitchBuffer[left + i]
                corr += l * pitchBuffer[right0 + i]
                energy += l * l
            }
            let score = corr * abs(corr) / max(energy, floorFull)
            if score > bestFine {
                bestFine = score
                bestLag = lag
            }
        }
        return bestLag
    }

    // MARK: helpers

    /// Appends `count` played samples to the history, dropping the oldest.
    private func appendToHistory(_ samples: UnsafeMutablePointer<Int16>, _ count: Int) {
        if count >= historyLength {
            history.update(from: samples + (count - historyLength), count: historyLength)
        } else {
            history.update(from: history + count, count: historyLength - count)
            (history + (historyLength - count)).update(from: samples, count: count)
        }
    }

    /// Rounds and saturates to 16 bits.
    @inline(__always)
    private func pcm16(_ v: Float) -> Int16 {
        if v >= 32_767 { return .max }
        if v <= -32_768 { return .min }
        return Int16(v < 0 ? v - 0.5 : v + 0.5)  // truncates: rounds half away from zero
    }
}
