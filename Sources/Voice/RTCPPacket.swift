// RTCP compound packets (RFC 3550 §6): SR, RR, SDES CNAME, BYE and XR (RFC 3611) written into the
// caller's buffer, and parsed back with the validity checks of RFC 3550 A.2. RTCP goes out every few
// seconds, so the parsed form uses arrays and strings; writing allocates nothing.

/// Why an RTCP packet was rejected or could not be written (RFC 3550 §6.4, A.2); `description` is a
/// log line.
public enum RTCPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than an RTCP header (4), or not a multiple of 4.
    case badLength(length: Int)
    /// Version field other than 2 in the packet at `offset`.
    case badVersion(UInt8, offset: Int)
    /// The packet at `offset` declares more bytes than the datagram has left.
    case lengthPastEnd(offset: Int, declared: Int, available: Int)
    /// The P bit is set on a packet that is not the last of the compound (RFC 3550 A.2).
    case paddingNotLast(offset: Int)
    /// Padding count of 0 or longer than the packet.
    case badPadding(offset: Int, padding: Int)
    /// The body of packet type `packetType` at `offset` does not fit its declared length.
    case truncatedBody(packetType: UInt8, offset: Int)
    /// The caller's buffer cannot hold what is to be written.
    case bufferTooSmall(needed: Int, available: Int)
    /// More report blocks or sources than the 5-bit count allows, or text over 255 bytes.
    case tooMany(what: String, count: Int)

    public var description: String {
        switch self {
        case .badLength(let length):
            return "RTCP datagram of \(length) bytes (need at least 4, a multiple of 4)"
        case .badVersion(let version, let offset):
            return "RTCP version \(version) at byte \(offset), expected 2"
        case .lengthPastEnd(let offset, let declared, let available):
            return "RTCP packet at byte \(offset) declares \(declared) bytes, \(available) left"
        case .paddingNotLast(let offset):
            return "RTCP padding on the packet at byte \(offset), which is not the last one"
        case .badPadding(let offset, let padding):
            return "RTCP padding count \(padding) invalid in the packet at byte \(offset)"
        case .truncatedBody(let type, let offset):
            return "RTCP packet type \(type) at byte \(offset) is too short for its contents"
        case .bufferTooSmall(let needed, let available):
            return "RTCP buffer of \(available) bytes cannot hold \(needed) bytes"
        case .tooMany(let what, let count):
            return "RTCP cannot carry \(count) \(what)"
        }
    }
}

/// RTCP packet types (RFC 3550 §12.1, RFC 3611 §2).
public enum RTCPPacketType {
    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let goodbye: UInt8 = 203
    public static let application: UInt8 = 204
    public static let extendedReport: UInt8 = 207
}

/// NTP timestamps and the 16.16 "compact" times of RTCP (RFC 3550 §4, §6.4.1).
public enum RTCPTime {
    /// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch).
    public static let unixToNTPSeconds: UInt64 = 2_208_988_800

    /// 64-bit NTP timestamp (32.32 fixed point seconds since 1900) of a Unix wall-clock time in ns.
    public static func ntp(unixNanoseconds: Int64) -> UInt64 {
        let ns = UInt64(max(0, unixNanoseconds))
        let seconds = ns / 1_000_000_000 + unixToNTPSeconds
        let fraction = ((ns % 1_000_000_000) << 32) / 1_000_000_000
        return (seconds << 32) | fraction
    }

    /// The middle 32 bits of an NTP timestamp (16.16 seconds), as LSR and RTT use them.
    public static func middle32(_ ntp: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: ntp >> 16) }

    /// A duration in 1/65536 s units (DLSR), saturating at the 32-bit maximum.
    public static func compact(nanoseconds: Int64) -> UInt32 {
        let ns = UInt64(max(0, nanoseconds))
        let value = (ns / 1_000_000_000) << 16 + ((ns % 1_000_000_000) << 16) / 1_000_000_000
        return value > UInt64(UInt32.max) ? UInt32.max : UInt32(value)
    }

    /// A duration in ns as RTP clock ticks at `clockRate` (truncated), without overflow for any Int64.
    public static func ticks(nanoseconds: Int64, clockRate: Int) -> UInt64 {
        let ns = UInt64(max(0, nanoseconds))
        let rate = UInt64(clockRate)
        return (ns / 1_000_000_000) * rate + (ns % 1_000_000_000) * rate / 1_000_000_000
    }

    /// Round-trip time in 1/65536 s (RFC 3550 §6.4.1): A - LSR - DLSR, where A is the middle 32 bits
    /// of the NTP time the report block arrived. Nil when the block carries no LSR (0) or the
    /// result is negative by more than `roundTripSlack` (clock step, bogus block); a smaller
    /// negative is the far end's DLSR rounded up on a sub-millisecond path (loopback, LAN) and
    /// counts as 0.
    public static func roundTrip(arrivalNTP: UInt64, lastSR: UInt32, delaySinceLastSR: UInt32) -> UInt32? {
        guard lastSR != 0 else { return nil }
        let sinceSR = middle32(arrivalNTP) &- lastSR
        guard sinceSR < 0x8000_0000 else { return nil }
        if sinceSR >= delaySinceLastSR { return sinceSR - delaySinceLastSR }
        return delaySinceLastSR - sinceSR <= roundTripSlack ? 0 : nil
    }

    /// How far A - LSR - DLSR may fall below 0 and still mean "no measurable round trip": 10 ms
    /// in 1/65536 s (a far end that keeps time in milliseconds rounds its DLSR by up to one).
    public static let roundTripSlack: UInt32 = 655

    /// A 16.16 compact time in milliseconds.
    public static func milliseconds(compact: UInt32) -> Double { Double(compact) * 1000 / 65536 }
}

/// The sender info of an SR (RFC 3550 §6.4.1).
public struct RTCPSenderInfo: Equatable, Sendable, CustomStringConvertible {
    /// Wall-clock time of the report, NTP format.
    public var ntpTimestamp: UInt64
    /// The same instant on the RTP media clock.
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32

    public init(ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32) {
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
    }

    public var description: String {
        "ntp=\(ntpTimestamp >> 32).\(ntpTimestamp & 0xFFFF_FFFF) rtp=\(rtpTimestamp) packets=\(packetCount) "
            + "octets=\(octetCount)"
    }
}

/// One reception report block of an SR or RR (RFC 3550 §6.4.1).
public struct RTCPReportBlock: Equatable, Sendable, CustomStringConvertible {
    /// The source this block reports on.
    public var ssrc: UInt32
    /// Fraction of packets lost since the previous report, ×256.
    public var fractionLost: UInt8
    /// Cumulative packets lost (24-bit signed on the wire: -8388608...8388607; duplicates make it negative).
    public var cumulativeLost: Int32
    /// Cycles (high 16 bits) and highest sequence number received (low 16 bits).
    public var extendedHighestSequence: UInt32
    /// Interarrival jitter in RTP timestamp units (RFC 3550 A.8).
    public var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR from this source, 0 if none.
    public var lastSR: UInt32
    /// Delay since that SR arrived, 1/65536 s.
    public var delaySinceLastSR: UInt32

    public init(
        ssrc: UInt32, fractionLost: UInt8, cumulativeLost: Int32, extendedHighestSequence: UInt32, jitter: UInt32,
        lastSR: UInt32, delaySinceLastSR: UInt32
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSR = lastSR
        self.delaySinceLastSR = delaySinceLastSR
    }

    /// Bytes of a report block.
    public static let size = 24

    public var description: String {
        "block ssrc=\(RTPBytes.hex(ssrc)) fraction=\(fractionLost)/256 lost=\(cumulativeLost) "
            + "highest=\(extendedHighestSequence) jitter=\(jitter) lsr=\(lastSR) dlsr=\(delaySinceLastSR)"
    }

    func write(_ b: UnsafeMutableRawBufferPointer, _ o: Int) {
        RTPBytes.store32(ssrc, b, o)
        let lost = min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)
        RTPBytes.store32(UInt32(fractionLost) << 24 | (UInt32(bitPattern: lost) & 0xFF_FFFF), b, o + 4)
        RTPBytes.store32(extendedHighestSequence, b, o + 8)
        RTPBytes.store32(jitter, b, o + 12)
        RTPBytes.store32(lastSR, b, o + 16)
        RTPBytes.store32(delaySinceLastSR, b, o + 20)
    }

    static func read(_ b: UnsafeRawBufferPointer, _ o: Int) -> RTCPReportBlock {
        let word = RTPBytes.load32(b, o + 4)
        // Sign-extend the 24-bit cumulative loss.
        let lost = Int32(bitPattern: (word & 0xFF_FFFF) << 8) >> 8
        return RTCPReportBlock(
            ssrc: RTPBytes.load32(b, o), fractionLost: UInt8(word >> 24), cumulativeLost: lost,
            extendedHighestSequence: RTPBytes.load32(b, o + 8), jitter: RTPBytes.load32(b, o + 12),
            lastSR: RTPBytes.load32(b, o + 16), delaySinceLastSR: RTPBytes.load32(b, o + 20))
    }
}

/// One packet of a parsed RTCP compound packet (RFC 3550 §6.4-6.6, RFC 3611 §2).
public enum RTCPPacket: Equatable, Sendable, CustomStringConvertible {
    /// SR: the sender's SSRC, its sender info and its reception reports.
    case senderReport(ssrc: UInt32, info: RTCPSenderInfo, blocks: [RTCPReportBlock])
    /// RR: the reporter's SSRC and its reception reports.
    case receiverReport(ssrc: UInt32, blocks: [RTCPReportBlock])
    /// SDES: per chunk the source and its CNAME (nil if the chunk has none); other items are skipped.
    case sourceDescription([RTCPSourceDescription])
    /// BYE: the sources leaving and the optional reason.
    case goodbye(ssrcs: [UInt32], reason: String?)
    /// XR: the reporter's SSRC and its VoIP metrics blocks; other block types are skipped.
    case extendedReport(ssrc: UInt32, voipMetrics: [RTCPVoIPMetrics])
    /// A packet type this parser does not read (APP, feedback...): its type and length in bytes.
    case other(packetType: UInt8, length: Int)

    public var description: String {
        switch self {
        case .senderReport(let ssrc, let info, let blocks):
            return "SR ssrc=\(RTPBytes.hex(ssrc)) \(info) blocks=\(blocks.count)"
        case .receiverReport(let ssrc, let blocks):
            return "RR ssrc=\(RTPBytes.hex(ssrc)) blocks=\(blocks.count)"
        case .sourceDescription(let chunks):
            return "SDES chunks=\(chunks.count)"
        case .goodbye(let ssrcs, let reason):
            return "BYE sources=\(ssrcs.count)" + (reason.map { " reason=\($0)" } ?? "")
        case .extendedReport(let ssrc, let blocks):
            return "XR ssrc=\(RTPBytes.hex(ssrc)) voip-metrics=\(blocks.count)"
        case .other(let type, let length):
            return "RTCP type \(type) (\(length) bytes)"
        }
    }

    /// Parses a compound RTCP packet (RFC 3550 §6.1) with the checks of A.2: version 2 throughout,
    /// lengths adding up to the datagram, padding only on the last packet, bodies within their length.
    public static func parseCompound(_ bytes: UnsafeRawBufferPointer) throws(RTCPError) -> [RTCPPacket] {
        let total = bytes.count
        guard total >= 4, total % 4 == 0 else { throw .badLength(length: total) }
        var packets: [RTCPPacket] = []
        var offset = 0
        while offset < total {
            guard total - offset >= 4 else { throw .badLength(length: total) }
            let first = bytes[offset]
            let version = first >> 6
            guard version == 2 else { throw .badVersion(version, offset: offset) }
            let declared = (Int(RTPBytes.load16(bytes, offset + 2)) + 1) * 4
            guard declared <= total - offset else {
                throw .lengthPastEnd(offset: offset, declared: declared, available: total - offset)
            }
            var length = declared
            if first & 0x20 != 0 {
                guard offset + declared == total else { throw .paddingNotLast(offset: offset) }
                let padding = Int(bytes[offset + declared - 1])
                guard padding > 0, padding <= declared - 4 else { throw .badPadding(offset: offset, padding: padding) }
                length -= padding
            }
            let body = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
            packets.append(try parseOne(body, count: Int(first & 0x1F), type: bytes[offset + 1], offset: offset))
            offset += declared
        }
        return packets
    }

    /// One packet; `b` holds it from its header to the end of its content (padding removed).
    static func parseOne(_ b: UnsafeRawBufferPointer, count: Int, type: UInt8, offset: Int) throws(RTCPError)
        -> RTCPPacket
    {
        let truncated = RTCPError.truncatedBody(packetType: type, offset: offset)
        switch type {
        case RTCPPacketType.senderReport:
            guard b.count >= 28 + count * RTCPReportBlock.size else { throw truncated }
            let ntp = UInt64(RTPBytes.load32(b, 8)) << 32 | UInt64(RTPBytes.load32(b, 12))
            let info = RTCPSenderInfo(
                ntpTimestamp: ntp, rtpTimestamp: RTPBytes.load32(b, 16), packetCount: RTPBytes.load32(b, 20),
                octetCount: RTPBytes.load32(b, 24))
            return .senderReport(ssrc: RTPBytes.load32(b, 4), info: info, blocks: readBlocks(b, at: 28, count: count))
        case RTCPPacketType.receiverReport:
            guard b.count >= 8 + count * RTCPReportBlock.size else { throw truncated }
            return .receiverReport(ssrc: RTPBytes.load32(b, 4), blocks: readBlocks(b, at: 8, count: count))
        case RTCPPacketType.sourceDescription:
            var chunks: [RTCPSourceDescription] = []
            var o = 4
            for _ in 0..<count {
                guard o + 4 <= b.count else { throw truncated }
                var chunk = RTCPSourceDescription(ssrc: RTPBytes.load32(b, o), cname: nil)
                o += 4
                // Items until a null octet, then padding to the next 32-bit boundary.
                while true {
                    guard o < b.count else { throw truncated }
                    let item = b[o]
                    if item == 0 { break }
                    guard o + 2 <= b.count, o + 2 + Int(b[o + 1]) <= b.count else { throw truncated }
                    let text = UnsafeRawBufferPointer(rebasing: b[(o + 2)..<(o + 2 + Int(b[o + 1]))])
                    if item == 1 { chunk.cname = String(decoding: text, as: UTF8.self) }
                    o += 2 + text.count
                }
                o = (o + 4) & ~3
                guard o <= b.count else { throw truncated }
                chunks.append(chunk)
            }
            return .sourceDescription(chunks)
        case RTCPPacketType.goodbye:
            guard b.count >= 4 + 4 * count else { throw truncated }
            var ssrcs: [UInt32] = []
            for i in 0..<count { ssrcs.append(RTPBytes.load32(b, 4 + 4 * i)) }
            var reason: String? = nil
            let o = 4 + 4 * count
            if o < b.count {
                let length = Int(b[o])
                guard o + 1 + length <= b.count else { throw truncated }
                reason = String(
                    decoding: UnsafeRawBufferPointer(rebasing: b[(o + 1)..<(o + 1 + length)]), as: UTF8.self)
            }
            return .goodbye(ssrcs: ssrcs, reason: reason)
        case RTCPPacketType.extendedReport:
            guard b.count >= 8 else { throw truncated }
            var metrics: [RTCPVoIPMetrics] = []
            var o = 8
            while o < b.count {
                guard o + 4 <= b.count else { throw truncated }
                let blockLength = 4 + 4 * Int(RTPBytes.load16(b, o + 2))
                guard o + blockLength <= b.count else { throw truncated }
                if b[o] == RTCPVoIPMetrics.blockType {
                    guard blockLength == RTCPVoIPMetrics.size else { throw truncated }
                    metrics.append(RTCPVoIPMetrics.read(b, o))
                }
                o += blockLength
            }
            return .extendedReport(ssrc: RTPBytes.load32(b, 4), voipMetrics: metrics)
        default:
            return .other(packetType: type, length: b.count)
        }
    }

    static func readBlocks(_ b: UnsafeRawBufferPointer, at start: Int, count: Int) -> [RTCPReportBlock] {
        var blocks: [RTCPReportBlock] = []
        blocks.reserveCapacity(count)
        for i in 0..<count { blocks.append(RTCPReportBlock.read(b, start + i * RTCPReportBlock.size)) }
        return blocks
    }
}

/// One SDES chunk as the parser keeps it: the source and its CNAME (RFC 3550 §6.5.1).
public struct RTCPSourceDescription: Equatable, Sendable {
    public var ssrc: UInt32
    public var cname: String?

    public init(ssrc: UInt32, cname: String?) {
        self.ssrc = ssrc
        self.cname = cname
    }
}

/// Builds a compound RTCP packet (RFC 3550 §6.1) into a caller's buffer, one packet after the
/// other: an SR or RR first, then SDES CNAME, then XR or BYE. Allocates nothing.
public struct RTCPCompoundWriter {
    public let buffer: UnsafeMutableRawBufferPointer
    /// Bytes written so far: the compound packet's length once done.
    public private(set) var count = 0

    public init(buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    /// The compound packet written so far.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<count]) }

    private func reserve(_ size: Int) throws(RTCPError) {
        guard count + size <= buffer.count else { throw .bufferTooSmall(needed: count + size, available: buffer.count) }
    }

    /// Common header: V=2, no padding, `itemCount`, packet type, length in 32-bit words minus one.
    private func writeHeader(at o: Int, itemCount: Int, type: UInt8, size: Int) {
        buffer[o] = 0x80 | UInt8(itemCount & 0x1F)
        buffer[o + 1] = type
        RTPBytes.store16(UInt16(size / 4 - 1), buffer, o + 2)
    }

    /// Appends an SR (RFC 3550 §6.4.1) with up to 31 report blocks.
    public mutating func appendSenderReport<Blocks: Collection>(
        ssrc: UInt32, info: RTCPSenderInfo, blocks: Blocks
    ) throws(RTCPError) where Blocks.Element == RTCPReportBlock {
        try appendReport(ssrc: ssrc, senderInfo: info, blocks: blocks)
    }

    /// Appends an RR (RFC 3550 §6.4.2) with up to 31 report blocks (none is valid: an empty RR).
    public mutating func appendReceiverReport<Blocks: Collection>(ssrc: UInt32, blocks: Blocks) throws(RTCPError)
    where Blocks.Element == RTCPReportBlock {
        try appendReport(ssrc: ssrc, senderInfo: nil, blocks: blocks)
    }

    /// Appends the report that starts every compound packet (RFC 3550 §6.4): an SR when `senderInfo`
    /// is given (this end sent RTP since the report before last), else an RR.
    public mutating func appendReport<Blocks: Collection>(
        ssrc: UInt32, senderInfo: RTCPSenderInfo?, blocks: Blocks
    ) throws(RTCPError) where Blocks.Element == RTCPReportBlock {
        guard blocks.count <= 31 else { throw .tooMany(what: "report blocks", count: blocks.count) }
        let headerSize = senderInfo == nil ? 8 : 28
        let size = headerSize + RTCPReportBlock.size * blocks.count
        try reserve(size)
        let o = count
        let type = senderInfo == nil ? RTCPPacketType.receiverReport : RTCPPacketType.senderReport
        writeHeader(at: o, itemCount: blocks.count, type: type, size: size)
        RTPBytes.store32(ssrc, buffer, o + 4)
        if let info = senderInfo {
            RTPBytes.store32(UInt32(truncatingIfNeeded: info.ntpTimestamp >> 32), buffer, o + 8)
            RTPBytes.store32(UInt32(truncatingIfNeeded: info.ntpTimestamp), buffer, o + 12)
            RTPBytes.store32(info.rtpTimestamp, buffer, o + 16)
            RTPBytes.store32(info.packetCount, buffer, o + 20)
            RTPBytes.store32(info.octetCount, buffer, o + 24)
        }
        var at = o + headerSize
        for block in blocks {
            block.write(buffer, at)
            at += RTCPReportBlock.size
        }
        count += size
    }

    /// Appends an SDES packet with one chunk holding the CNAME item (RFC 3550 §6.5.1).
    public mutating func appendSourceDescription(ssrc: UInt32, cname: String) throws(RTCPError) {
        let text = cname.utf8
        guard text.count <= 255 else { throw .tooMany(what: "CNAME bytes", count: text.count) }
        // Header, SSRC, item type and length, text, then 1...4 null octets to the 32-bit boundary.
        let size = (4 + 4 + 2 + text.count + 4) & ~3
        try reserve(size)
        let o = count
        writeHeader(at: o, itemCount: 1, type: RTCPPacketType.sourceDescription, size: size)
        RTPBytes.store32(ssrc, buffer, o + 4)
        buffer[o + 8] = 1
        buffer[o + 9] = UInt8(text.count)
        copyPadded(text, at: o + 10, end: o + size)
        count += size
    }

    /// Appends a BYE for `ssrc` with an optional reason (RFC 3550 §6.6).
    public mutating func appendGoodbye(ssrc: UInt32, reason: String? = nil) throws(RTCPError) {
        let reasonBytes = reason?.utf8.count ?? 0
        guard reasonBytes <= 255 else { throw .tooMany(what: "reason bytes", count: reasonBytes) }
        let size = reason == nil ? 8 : (8 + 1 + reasonBytes + 3) & ~3
        try reserve(size)
        let o = count
        writeHeader(at: o, itemCount: 1, type: RTCPPacketType.goodbye, size: size)
        RTPBytes.store32(ssrc, buffer, o + 4)
        if let reason {
            buffer[o + 8] = UInt8(reasonBytes)
            copyPadded(reason.utf8, at: o + 9, end: o + size)
        }
        count += size
    }

    /// Writes `bytes` from `start` and zeroes the rest of the item up to `end` (RFC 3550 §6.5, §6.6:
    /// items end on a 32-bit boundary).
    private mutating func copyPadded<Bytes: Sequence<UInt8>>(_ bytes: Bytes, at start: Int, end: Int) {
        var at = start
        for byte in bytes {
            buffer[at] = byte
            at += 1
        }
        while at < end {
            buffer[at] = 0
            at += 1
        }
    }

    /// Appends an XR packet (RFC 3611 §2) from `ssrc` carrying one VoIP metrics block (§4.7).
    public mutating func appendExtendedReport(ssrc: UInt32, voipMetrics: RTCPVoIPMetrics) throws(RTCPError) {
        let size = 8 + RTCPVoIPMetrics.size
        try reserve(size)
        let o = count
        writeHeader(at: o, itemCount: 0, type: RTCPPacketType.extendedReport, size: size)
        RTPBytes.store32(ssrc, buffer, o + 4)
        voipMetrics.write(buffer, o + 8)
        count += size
    }
}
