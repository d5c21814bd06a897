// RTP packets (RFC 3550 §5.1) read and written in place: the parser takes the datagram's bytes and
// returns the header fields and where the payload lies in them (no copy), the writer puts a fixed
// 12-byte header into the caller's send buffer. Neither allocates.

/// Why an RTP packet was rejected (RFC 3550 §5.1, A.1 header validity checks); `description` is a
/// log line.
public enum RTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer than the 12 fixed header bytes.
    case tooShort(length: Int)
    /// Version field other than 2.
    case badVersion(UInt8)
    /// The CSRC list runs past the end of the packet.
    case csrcPastEnd(csrcCount: Int, length: Int)
    /// The X bit is set but the 4-byte extension header does not fit.
    case extensionHeaderPastEnd(offset: Int, length: Int)
    /// The header extension's declared length runs past the end of the packet.
    case extensionPastEnd(words: Int, offset: Int, length: Int)
    /// The P bit is set but the padding count (last octet) is zero.
    case zeroPadding
    /// The padding count is larger than what follows the header.
    case paddingTooLong(padding: Int, available: Int)
    /// The caller's buffer cannot hold what is to be written.
    case bufferTooSmall(needed: Int, available: Int)

    public var description: String {
        switch self {
        case .tooShort(let length):
            return "RTP packet of \(length) bytes is shorter than the 12-byte header"
        case .badVersion(let version):
            return "RTP version \(version), expected 2"
        case .csrcPastEnd(let count, let length):
            return "RTP CSRC list of \(count) entries runs past the end of a \(length)-byte packet"
        case .extensionHeaderPastEnd(let offset, let length):
            return "RTP header extension at byte \(offset) runs past the end of a \(length)-byte packet"
        case .extensionPastEnd(let words, let offset, let length):
            return "RTP header extension of \(words) words at byte \(offset) runs past the end of a "
                + "\(length)-byte packet"
        case .zeroPadding:
            return "RTP padding bit set with a padding count of 0"
        case .paddingTooLong(let padding, let available):
            return "RTP padding of \(padding) bytes but only \(available) bytes follow the header"
        case .bufferTooSmall(let needed, let available):
            return "buffer of \(available) bytes cannot hold \(needed) bytes"
        }
    }
}

/// The fields of a fixed RTP header a sender chooses (RFC 3550 §5.1), without CSRCs or extension:
/// what a phone puts on every packet it sends.
public struct RTPHeader: Equatable, Sendable, CustomStringConvertible {
    /// Bytes of the fixed header.
    public static let size = 12

    public var marker: Bool
    /// Payload type, 0...127.
    public var payloadType: UInt8
    public var sequence: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32

    public init(marker: Bool = false, payloadType: UInt8, sequence: UInt16, timestamp: UInt32, ssrc: UInt32) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequence = sequence
        self.timestamp = timestamp
        self.ssrc = ssrc
    }

    /// Writes the 12-byte header (V=2, no padding, no extension, no CSRC) at the start of `buffer`
    /// and returns 12, the offset the payload goes at.
    public func write(into buffer: UnsafeMutableRawBufferPointer) throws(RTPError) -> Int {
        guard buffer.count >= RTPHeader.size else {
            throw .bufferTooSmall(needed: RTPHeader.size, available: buffer.count)
        }
        buffer[0] = 0x80
        buffer[1] = (marker ? 0x80 : 0) | (payloadType & 0x7F)
        RTPBytes.store16(sequence, buffer, 2)
        RTPBytes.store32(timestamp, buffer, 4)
        RTPBytes.store32(ssrc, buffer, 8)
        return RTPHeader.size
    }

    public var description: String {
        "RTP pt=\(payloadType) seq=\(sequence) ts=\(timestamp) ssrc=\(RTPBytes.hex(ssrc))"
            + (marker ? " M" : "")
    }
}

/// A parsed RTP packet (RFC 3550 §5.1): the header fields and where the CSRC list and payload lie in
/// the bytes it was parsed from. Padding and any header extension are checked and skipped.
public struct RTPPacket: Equatable, Sendable, CustomStringConvertible {
    public var marker: Bool
    public var payloadType: UInt8
    public var sequence: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    /// Number of CSRC identifiers (0...15), read with `csrc(_:in:)`.
    public var csrcCount: Int
    /// The header extension's profile word (RFC 3550 §5.3.1), nil when the X bit is clear.
    public var extensionProfile: UInt16?
    /// Offset of the payload in the packet bytes.
    public var payloadOffset: Int
    /// Payload length in bytes (padding excluded); may be 0.
    public var payloadCount: Int
    /// Padding bytes at the end (0 when the P bit is clear).
    public var paddingCount: Int

    /// The sender-chosen header fields.
    public var header: RTPHeader {
        RTPHeader(marker: marker, payloadType: payloadType, sequence: sequence, timestamp: timestamp, ssrc: ssrc)
    }

    /// Parses and validates one RTP packet; rejects what RFC 3550 says a receiver must not accept.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(RTPError) -> RTPPacket {
        let length = bytes.count
        guard length >= RTPHeader.size else { throw .tooShort(length: length) }
        let first = bytes[0]
        let version = first >> 6
        guard version == 2 else { throw .badVersion(version) }
        let csrcCount = Int(first & 0x0F)
        var offset = RTPHeader.size + 4 * csrcCount
        guard offset <= length else { throw .csrcPastEnd(csrcCount: csrcCount, length: length) }
        var profile: UInt16? = nil
        if first & 0x10 != 0 {
            guard offset + 4 <= length else { throw .extensionHeaderPastEnd(offset: offset, length: length) }
            profile = RTPBytes.load16(bytes, offset)
            let words = Int(RTPBytes.load16(bytes, offset + 2))
            guard offset + 4 + 4 * words <= length else {
                throw .extensionPastEnd(words: words, offset: offset, length: length)
            }
            offset += 4 + 4 * words
        }
        var padding = 0
        if first & 0x20 != 0 {
            padding = Int(bytes[length - 1])
            guard padding > 0 else { throw .zeroPadding }
            guard padding <= length - offset else {
                throw .paddingTooLong(padding: padding, available: length - offset)
            }
        }
        let second = bytes[1]
        return RTPPacket(
            marker: second & 0x80 != 0, payloadType: second & 0x7F, sequence: RTPBytes.load16(bytes, 2),
            timestamp: RTPBytes.load32(bytes, 4), ssrc: RTPBytes.load32(bytes, 8), csrcCount: csrcCount,
            extensionProfile: profile, payloadOffset: offset, payloadCount: length - offset - padding,
            paddingCount: padding)
    }

    /// The payload inside `bytes`, the buffer this packet was parsed from.
    public func payload(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[payloadOffset..<(payloadOffset + payloadCount)])
    }

    /// CSRC number `index` (0..<csrcCount) read from `bytes`, the buffer this packet was parsed from.
    public func csrc(_ index: Int, in bytes: UnsafeRawBufferPointer) -> UInt32 {
        precondition(index >= 0 && index < csrcCount, "CSRC index out of range")
        return RTPBytes.load32(bytes, RTPHeader.size + 4 * index)
    }

    /// True when a datagram on a multiplexed port is RTCP rather than RTP (RFC 5761 §4: the second
    /// byte, marker and payload type together, is 192...223 for RTCP).
    public static func isRTCP(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[1] >= 192 && bytes[1] <= 223
    }

    /// Whether a datagram on a media port is a STUN message (RFC 7983 §7: first byte 0...3; the
    /// RFC 5389 magic cookie 0x2112A442 at bytes 4...7). Peers send STUN there without ICE too
    /// (linphone's binding requests that keep a NAT mapping open); the phone, which does no ICE,
    /// drops them without counting them malformed.
    public static func isSTUN(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 20 && bytes[0] < 4 && bytes[4] == 0x21 && bytes[5] == 0x12 && bytes[6] == 0xA4
            && bytes[7] == 0x42
    }

    public var description: String {
        header.description + " payload=\(payloadCount)B@\(payloadOffset)"
            + (csrcCount > 0 ? " csrc=\(csrcCount)" : "") + (paddingCount > 0 ? " pad=\(paddingCount)" : "")
    }
}

/// Big-endian loads and stores on raw buffers, shared by the RTP and RTCP code.
enum RTPBytes {
    @inline(__always)
    static func load16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 {
        UInt16(b[o]) << 8 | UInt16(b[o + 1])
    }

    @inline(__always)
    static func load32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    @inline(__always)
    static func store16(_ v: UInt16, _ b: UnsafeMutableRawBufferPointer, _ o: Int) {
        b[o] = UInt8(truncatingIfNeeded: v >> 8)
        b[o + 1] = UInt8(truncatingIfNeeded: v)
    }

    @inline(__always)
    static func store32(_ v: UInt32, _ b: UnsafeMutableRawBufferPointer, _ o: Int) {
        b[o] = UInt8(truncatingIfNeeded: v >> 24)
        b[o + 1] = UInt8(truncatingIfNeeded: v >> 16)
        b[o + 2] = UInt8(truncatingIfNeeded: v >> 8)
        b[o + 3] = UInt8(truncatingIfNeeded: v)
    }

    /// "0x" and eight hex digits.
    static func hex(_ v: UInt32) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var s = "0x"
        var shift = 28
        while shift >= 0 {
            s.unicodeScalars.append(Unicode.Scalar(digits[Int((v >> UInt32(shift)) & 0xF)]))
            shift -= 4
        }
        return s
    }
}
