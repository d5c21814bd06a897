import CLinux

/// A non-blocking pipe whose ends close when the test is done.
public final class TestPipe {
    public let readEnd: Int32
    public let writeEnd: Int32

    public init() {
        var fds: (Int32, Int32) = (-1, -1)
        let rc = withUnsafeMutableBytes(of: &fds) { cl_pipe($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }
        precondition(rc == 0, "pipe2 failed")
        readEnd = fds.0
        writeEnd = fds.1
    }

    public func write(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { cl_write(writeEnd, $0.baseAddress, $0.count) } }

    /// Reads until the pipe is empty; the number of bytes read.
    @discardableResult
    public func drain() -> Int {
        var buffer = [UInt8](repeating: 0, count: 256)
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { cl_read(readEnd, $0.baseAddress, $0.count) }
            guard n > 0 else { return total }
            total += n
        }
    }

    public func closeWriteEnd() { _ = cl_close(writeEnd) }

    deinit {
        _ = cl_close(readEnd)
        _ = cl_close(writeEnd)
    }
}
