/// Plays a `TonePattern` into 16-bit frames at 8, 16 or 48 kHz, frame by frame with no
/// allocation: each sine is a two-multiply recursive oscillator restarted at phase 0 at every
/// segment, and every sounding segment opens and closes with a raised-cosine ramp (5 ms by
/// default) so neither the cadence nor `start`/`stop` clicks. Cadence edges are sample-exact:
/// a 500 ms segment at 8 kHz is 4000 samples, ramps included. Pure: no ALSA, no clock; the
/// owner mixes or writes the frames (e.g. from a playback `pull`).
public struct ToneGenerator {
    struct Oscillator {
        var coefficient = 0.0
        var previous = 0.0
        var beforePrevious = 0.0

        /// Starts a sine of `step` radians per sample at phase 0, scaled by `amplitude`.
        init(step: Double, amplitude: Double) {
            coefficient = 2 * ToneGenerator.cosine(step)
            previous = -amplitude * ToneGenerator.sine(step)  // sample -1
            beforePrevious = -amplitude * ToneGenerator.sine(2 * step)  // sample -2
        }

        init() {}

        mutating func next() -> Double {
            let value = coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = value
            return value
        }
    }

    public let sampleRate: Int
    /// Length of the fade in and out, in samples.
    public let rampSamples: Int
    private let ramp: [Double]
    private var oscillators: [Oscillator]
    private var oscillatorCount = 0
    private var pattern: TonePattern? = nil
    private var pending: TonePattern? = nil
    private var segmentIndex = 0
    private var position = 0
    private var segmentLength = 0
    private var firstPass = true
    /// While stopping: samples left in the fade-out (0 when not stopping).
    private var fadeLeft = 0
    /// The envelope at the moment the fade-out began.
    private var fadeFrom = 1.0
    private var lastGain = 0.0
    private var fading = false

    public init(sampleRate: Int, rampMilliseconds: Int = 5) {
        self.sampleRate = sampleRate
        rampSamples = max(1, sampleRate * rampMilliseconds / 1000)
        var ramp: [Double] = []
        ramp.reserveCapacity(rampSamples)
        for k in 0..<rampSamples {
            ramp.append(0.5 - 0.5 * ToneGenerator.cosine(Double.pi * Double(k + 1) / Double(rampSamples + 1)))
        }
        self.ramp = ramp
        oscillators = [Oscillator](repeating: Oscillator(), count: 4)
    }

    /// Whether a tone sounds (or is fading out).
    public var isActive: Bool { pattern != nil }

    /// The tone playing, if any.
    public var current: TonePattern? { pattern }

    /// Plays `pattern` from the start of its cadence. If a tone is sounding it fades out first.
    public mutating func start(_ pattern: TonePattern) {
        if self.pattern != nil && lastGain > 0 {
            pending = pattern
            beginFade()
            return
        }
        begin(pattern)
    }

    /// Fades the tone out (at once if it is silent right now); `isActive` turns false when done.
    public mutating func stop() {
        pending = nil
        guard pattern != nil else { return }
        if lastGain == 0 && fadeLeft == 0 {
            pattern = nil
            return
        }
        beginFade()
    }

    private mutating func beginFade() {
        if fadeLeft > 0 { return }
        fadeFrom = lastGain
        fadeLeft = rampSamples
        fading = true
    }

    private mutating func begin(_ pattern: TonePattern) {
        self.pattern = pattern
        pending = nil
        fadeLeft = 0
        fading = false
        firstPass = true
        lastGain = 0
        enter(segment: 0, of: pattern)
    }

    private mutating func enter(segment index: Int, of pattern: TonePattern) {
        segmentIndex = index
        position = 0
        let segment = pattern.segments[index]
        segmentLength = segment.milliseconds == 0 ? Int.max : segment.milliseconds * sampleRate / 1000
        let amplitude = 32767 * ToneGenerator.decibels(pattern.levelDBm0 - 3.14)
        oscillatorCount = 0
        for f in segment.frequencies where f * 2 < sampleRate && oscillatorCount < 4 {
            let step = 2 * Double.pi * Double(f) / Double(sampleRate)
            oscillators[oscillatorCount] = Oscillator(step: step, amplitude: amplitude)
            oscillatorCount += 1
        }
    }

    /// Moves to the next segment to play; false when the pattern has ended (all `!` segments).
    private mutating func advance(_ pattern: TonePattern) -> Bool {
        var index = segmentIndex
        for _ in 0..<(pattern.segments.count + 1) {
            index += 1
            if index == pattern.segments.count {
                index = 0
                firstPass = false
            }
            if firstPass || !pattern.segments[index].once {
                enter(segment: index, of: pattern)
                return true
            }
        }
        return false
    }

    /// Writes the next `out.count` samples (zeros when no tone plays).
    public mutating func fill(_ out: UnsafeMutableBufferPointer<Int16>) {
        render(out, adding: false)
    }

    /// Adds the next `out.count` samples to `out`, saturating (a call-waiting tone over the
    /// call's audio); leaves `out` as it is when no tone plays.
    public mutating func mix(into out: UnsafeMutableBufferPointer<Int16>) {
        render(out, adding: true)
    }

    private mutating func render(_ out: UnsafeMutableBufferPointer<Int16>, adding: Bool) {
        var i = 0
        while i < out.count {
            guard let pattern else {
                while i < out.count && !adding {
                    out[i] = 0
                    i += 1
                }
                return
            }
            if position >= segmentLength {
                if !advance(pattern) {
                    self.pattern = nil
                    lastGain = 0
                    continue
                }
            }
            // Envelope: ramps at both ends of the segment, and the fade-out when stopping.
            var gain = 1.0
            if position < rampSamples { gain = ramp[position] }
            if segmentLength != Int.max {
                let fromEnd = segmentLength - 1 - position
                if fromEnd < rampSamples { gain = min(gain, ramp[fromEnd]) }
            }
            if fadeLeft > 0 {
                gain = min(gain, fadeFrom * ramp[fadeLeft - 1])
                fadeLeft -= 1
            }
            var value = 0.0
            for k in 0..<oscillatorCount { value += oscillators[k].next() }
            lastGain = oscillatorCount == 0 ? 0 : gain
            var scaled = (value * gain).rounded()
            if adding { scaled += Double(out[i]) }
            out[i] = Int16(max(-32768, min(32767, scaled)))
            position += 1
            i += 1
            if fadeLeft == 0 && fading {
                fading = false
                if let next = pending {
                    begin(next)
                } else {
                    self.pattern = nil
                    lastGain = 0
                }
            }
        }
    }

    // MARK: arithmetic without libm (Embedded builds link no math library for this module)

    /// sin(x), to about 1e-9 over any range (reduced to [-pi/2, pi/2], then a Taylor series).
    static func sine(_ x: Double) -> Double {
        let twoPi = 2 * Double.pi
        var r = x - (x / twoPi).rounded(.down) * twoPi
        if r > Double.pi { r -= twoPi }
        if r > Double.pi / 2 { r = Double.pi - r } else if r < -Double.pi / 2 { r = -Double.pi - r }
        let r2 = r * r
        return r * (1 - r2 / 6 * (1 - r2 / 20 * (1 - r2 / 42 * (1 - r2 / 72 * (1 - r2 / 110 * (1 - r2 / 156))))))
    }

    static func cosine(_ x: Double) -> Double { sine(x + Double.pi / 2) }

    /// 10^(dB/20): the amplitude ratio of a level in decibels.
    static func decibels(_ dB: Double) -> Double {
        // 10^(dB/20) = 2^y with y = dB/20 * log2(10); 2^fraction by its Taylor series.
        let y = dB / 20 * 3.321928094887362
        let whole = y.rounded(.down)
        let f = (y - whole) * 0.6931471805599453
        var term = 1.0
        var sum = 1.0
        for n in 1...14 {
            term *= f / Double(n)
            sum += term
        }
        var scale = 1.0
        let n = Int(whole)
        if n >= 0 {
            for _ in 0..<n { scale *= 2 }
        } else {
            for _ in 0..<(-n) { scale /= 2 }
        }
        return sum * scale
    }
}
