import Foundation

@testable import Audio

/// Test helpers: signal analysis and scratch files.
enum Signal {
    /// Power of `frequency` in `samples` (Goertzel), normalised so a full-scale sine gives ~0.25.
    static func goertzel(_ samples: ArraySlice<Int16>, frequency: Double, sampleRate: Int) -> Double {
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

    static func rms(_ samples: ArraySlice<Int16>) -> Double {
        guard !samples.isEmpty else { return 0 }
        var sum = 0.0
        for x in samples { sum += Double(x) * Double(x) }
        return (sum / Double(samples.count)).squareRoot()
    }

    /// A sine of `frequency` at `amplitude`, `count` samples from phase 0.
    static func sine(_ frequency: Double, amplitude: Double, count: Int, sampleRate: Int) -> [Int16] {
        (0..<count).map {
            Int16((amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(sampleRate))).rounded())
        }
    }
}

enum Scratch {
    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    /// A fresh path under the temporary directory (removed first if it exists).
    static func path(_ tag: String) -> String {
        lock.lock()
        counter += 1
        let n = counter
        lock.unlock()
        let path = NSTemporaryDirectory() + "deskphone-audio-" + String(getpid()) + "-" + String(n) + "-" + tag + ".raw"
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    static func readSamples(_ path: String) -> [Int16] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 2)).map {
                Int16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))
            }
        }
    }

    static func write(_ samples: [Int16], to path: String) {
        let data = samples.withUnsafeBufferPointer { Data(buffer: $0) }
        _ = FileManager.default.createFile(atPath: path, contents: data)
    }
}

/// The test binary holds CMallocCounter's interposed allocator (linked for the other test
/// targets); its per-thread counter is reachable by symbol.
@_silgen_name("mc_thread_allocations")
func mc_thread_allocations() -> UInt64

#if DEBUG
    let audioOptimized = false
#else
    let audioOptimized = true
#endif
