// The SIP stream framer (RFC 3261 §18.3, RFC 5626 §3.5.1 keep-alives): what a TCP connection's
// bytes are cut into before the message parser sees them.
import HTTP
import SIP

enum FramerFuzz {
    /// The input as one stream, whole and again in random splits, in both roles (server: lone
    /// CRLFs are padding; client: they are pongs): the frames (client: the messages) and the
    /// error must not depend on the split; every message is within the limits, starts where the stream is, and the
    /// messages appear in the input in order.
    static func framer(_ bytes: UnsafeRawBufferPointer) {
        let limits = SIPStreamFramer.Limits(maxHeaderBytes: 512, maxMessageBytes: 2048)
        for pongs in [false, true] {
            let whole = frames(bytes, limits, pongs, splits: nil)
            var splits = FuzzSplits(bytes)
            let split = frames(bytes, limits, pongs, splits: &splits)
            // A client reports a lone CRLF as a pong at once (it cannot wait for a second CRLF that
            // may never come), so a ping split between its two CRLFs comes out as two pongs there:
            // in that role only the messages and the error must not depend on the split.
            let same =
                pongs
                ? messages(whole.frames) == messages(split.frames) : whole.frames == split.frames
            if !same || whole.error != split.error {
                fatalError(
                    "SIP framing depends on the split: " + String(whole.frames.count) + " vs "
                        + String(split.frames.count) + " frames, error " + (whole.error?.description ?? "none")
                        + " vs " + (split.error?.description ?? "none"))
            }
            var from = 0
            let input = Array(bytes)
            for frame in whole.frames {
                guard case .message(let message) = frame else { continue }
                if message.count > limits.maxMessageBytes || message.isEmpty {
                    fatalError("SIP framer gave a message of " + String(message.count) + " bytes")
                }
                guard let at = find(message, in: input, from: from) else {
                    fatalError("SIP framer gave bytes that are not in the stream in order")
                }
                from = at + message.count
            }
        }
    }

    private static func messages(_ frames: [SIPStreamFrame]) -> [[UInt8]] {
        frames.compactMap { frame in
            if case .message(let bytes) = frame { return bytes }
            return nil
        }
    }

    private static func frames(
        _ bytes: UnsafeRawBufferPointer, _ limits: SIPStreamFramer.Limits, _ pongs: Bool,
        splits: UnsafeMutablePointer<FuzzSplits>?
    ) -> (frames: [SIPStreamFrame], error: SIPStreamFramingError?) {
        var framer = SIPStreamFramer(limits: limits, reportsPongs: pongs)
        var out: [SIPStreamFrame] = []
        var offset = 0
        while offset < bytes.count {
            let n = splits.map { min($0.pointee.next(64), bytes.count - offset) } ?? bytes.count
            framer.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
            offset += n
            do throws(SIPStreamFramingError) {
                while let frame = try framer.next() { out.append(frame) }
            } catch {
                return (out, error)
            }
        }
        return (out, nil)
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && Array(hay[i..<i + needle.count]) == needle { return i }
            i += 1
        }
        return nil
    }
}
