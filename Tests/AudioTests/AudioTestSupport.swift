// The shared test support (Tests/Support/TestSupport), for every file of this target.
@_exported import TestSupport
import Foundation

@testable import Audio

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
