import Foundation

/// Signal analysis and test tones for the audio and media tests.
public enum Signal {
    /// Power of `frequency` in `samples` (Goertzel), normalised so a full-scale sine gives ~0.25.
    public static func goertzel(_ samples: ArraySlice<Int16>, frequency: Double, sampleRate: Int) -> Double {
        let w = 2 * Double.pi * frequency / Double(sampleRate)
        let c = 2 * cos(w)
        var s1 = 0.0
        var s2 = 0.0
        for x in samples {
            let s0 = Double(x) / 32768 + c * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = s1 * s1 + s2 * s2 - c * s1 * s2
        let n = Double(samples.count)
        return power / (n * n)
    }

    /// Root mean square of `samples` (0 for none).
    public static func rms(_ samples: ArraySlice<Int16>) -> Double {
        guard !samples.isEmpty else { return 0 }
        var sum = 0.0
        for x in samples { sum += Double(x) * Double(x) }
        return (sum / Double(samples.count)).squareRoot()
    }

    /// A sine of `frequency` at `amplitude`, `count` samples from phase 0.
    public static func sine(_ frequency: Double, amplitude: Double, count: Int, sampleRate: Int) -> [Int16] {
        (0..<count).map {
            Int16((amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(sampleRate))).rounded())
        }
    }
}
