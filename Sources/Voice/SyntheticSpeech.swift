/// A deterministic speech-like test signal: voiced segments (a glottal-like harmonic series
/// whose pitch glides between 90 and 260 Hz, shaped by a few formant-ish weights, with a
/// syllable-rate amplitude envelope) alternating with unvoiced noise and short pauses. For
/// benchmarks, the jitter-buffer simulator and concealment tests, where real signal matters
/// (pitch for concealment and time-stretching) but a recording is not at hand.
public struct SyntheticSpeech {
    public let sampleRate: Int
    private var phase: Double = 0
    private var sampleIndex: Int = 0
    private var noiseState: UInt32

    public init(sampleRate: Int, seed: UInt32 = 1) {
        self.sampleRate = sampleRate
        self.noiseState = seed == 0 ? 1 : seed
    }

    /// Fills `out` with the next samples of the signal.
    public mutating func fill(_ out: UnsafeMutableBufferPointer<Int16>) {
        let rate = Double(sampleRate)
        for i in 0..<out.count {
            let t = Double(sampleIndex) / rate
            // 1.2 s cycle: 0.8 s voiced, 0.25 s unvoiced, 0.15 s pause.
            let cycle = t.truncatingRemainder(dividingBy: 1.2)
            var value = 0.0
            if cycle < 0.8 {
                let pitch = 175 + 85 * SyntheticSpeech.sine(2 * Double.pi * 0.7 * t)
                phase += pitch / rate
                if phase >= 1 { phase -= 1 }
                // Harmonics up to 3.4 kHz (or Nyquist), weighted by three broad formants.
                var harmonic = 1.0
                while harmonic * pitch < min(3400, rate / 2 - 100) {
                    let f = harmonic * pitch
                    let weight =
                        SyntheticSpeech.formant(f, 700, 130) + 0.6 * SyntheticSpeech.formant(f, 1220, 200)
                        + 0.3 * SyntheticSpeech.formant(f, 2600, 300)
                    value += weight / harmonic.squareRoot() * SyntheticSpeech.sine(2 * Double.pi * harmonic * phase)
                    harmonic += 1
                }
                let envelope = 0.55 + 0.45 * SyntheticSpeech.sine(2 * Double.pi * 4 * t)
                value *= 5200 * envelope
            } else if cycle < 1.05 {
                value = Double(nextNoise()) * 1400
            }
            out[i] = Int16(max(-32768, min(32767, value.rounded())))
            sampleIndex += 1
        }
    }

    /// Uniform noise in -1...1 from a 32-bit LCG.
    private mutating func nextNoise() -> Double {
        noiseState = noiseState &* 1_664_525 &+ 1_013_904_223
        return Double(Int32(bitPattern: noiseState)) / 2_147_483_648
    }

    private static func formant(_ f: Double, _ center: Double, _ width: Double) -> Double {
        let d = (f - center) / width
        return 1 / (1 + d * d)
    }

    /// sin(x) without libm (Embedded builds have no Foundation): range reduction and a
    /// Taylor polynomial, accurate to ~1e-7 - ample for a test signal.
    static func sine(_ x: Double) -> Double {
        let twoPi = 2 * Double.pi
        var r = x - (x / twoPi).rounded(.down) * twoPi
        if r > Double.pi { r -= twoPi }
        if r > Double.pi / 2 { r = Double.pi - r } else if r < -Double.pi / 2 { r = -Double.pi - r }
        let r2 = r * r
        return r * (1 - r2 / 6 * (1 - r2 / 20 * (1 - r2 / 42 * (1 - r2 / 72 * (1 - r2 / 110)))))
    }
}
