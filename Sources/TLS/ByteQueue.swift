/// A FIFO of bytes for the engine's buffers: appended at the end, taken from the front without
/// moving the rest (the storage is reset once it is all taken).
struct ByteQueue {
    private var bytes: [UInt8] = []
    private var start = 0

    /// Bytes waiting.
    var count: Int { bytes.count - start }

    mutating func append(_ more: UnsafeRawBufferPointer) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        bytes.append(contentsOf: more)
    }

    /// Moves up to `buffer.count` bytes from the front into `buffer`; returns how many.
    mutating func take(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = Swift.min(buffer.count, count)
        if n == 0 { return 0 }
        let from = start
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + from, byteCount: n) }
        start += n
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        return n
    }
}
