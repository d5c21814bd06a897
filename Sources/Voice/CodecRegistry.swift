/// The codecs the phone can negotiate in SDP: rtpmap name, RTP clock, audio format, static
/// payload type and packetization. RTP clock and audio rate differ for G.722 (8000 vs 16000,
/// RFC 3551 §4.5.2) and Opus (always 48000/2 in SDP, RFC 7587, whatever rate it codes at).

/// One codec as SDP names it (`a=rtpmap`) and as the media path runs it.
public struct CodecDescriptor: Equatable, Sendable {
    /// Which codec implementation runs it.
    public let kind: CodecKind
    /// The rtpmap encoding name in its usual spelling ("PCMU", "G722", "opus", "L16", "telephone-event").
    public let encodingName: String
    /// RTP timestamp rate (the rtpmap clock rate).
    public let rtpClockRate: Int
    /// Audio sample rate the codec works at (16000 for G.722, 48000 for Opus as described in SDP).
    public let sampleRate: Int
    /// Channel count as written in SDP (2 for Opus per RFC 7587; the phone still codes mono).
    public let channels: Int
    /// Static RTP payload type (RFC 3551 table 4), nil when a dynamic one (96...127) is used.
    public let staticPayloadType: Int?
    /// The packet durations (ptime, ms) the phone sends in, ascending.
    public let frameDurations: [Int]
    /// ptime used when the offer names none.
    public let defaultPtime: Int

    public init(
        kind: CodecKind, encodingName: String, rtpClockRate: Int, sampleRate: Int, channels: Int = 1,
        staticPayloadType: Int? = nil, frameDurations: [Int], defaultPtime: Int
    ) {
        self.kind = kind
        self.encodingName = encodingName
        self.rtpClockRate = rtpClockRate
        self.sampleRate = sampleRate
        self.channels = channels
        self.staticPayloadType = staticPayloadType
        self.frameDurations = frameDurations
        self.defaultPtime = defaultPtime
    }

    /// Longest ptime the phone sends this codec in.
    public var maxPtime: Int { frameDurations.last ?? defaultPtime }
    /// Shortest ptime the phone sends this codec in.
    public var minPtime: Int { frameDurations.first ?? defaultPtime }

    /// Audio samples (per channel, at `sampleRate`) in one packet of `ptime` ms: G.722 20 ms is 320.
    public func samplesPerFrame(ptime: Int) -> Int { sampleRate * ptime / 1000 }

    /// RTP timestamp advance per packet of `ptime` ms: G.722 20 ms is 160, Opus 20 ms is 960.
    public func rtpTimestampIncrement(ptime: Int) -> Int { rtpClockRate * ptime / 1000 }

    /// True when the phone can send this codec in packets of `ptime` ms.
    public func isValidPtime(_ ptime: Int) -> Bool { frameDurations.contains(ptime) }

    /// The ptime to send given the peer's `a=ptime` (nil: none) and `a=maxptime` (nil: none): the
    /// longest allowed duration not above either, else the shortest allowed. G.711 offered 25 gives
    /// 20, offered 5 gives 10, offered 100 gives 40; Opus offered 30 gives 20.
    public func choosePtime(offered: Int?, maxptime: Int? = nil) -> Int {
        let wanted = offered ?? defaultPtime
        let limit = min(wanted, maxptime ?? wanted)
        var chosen = minPtime
        for duration in frameDurations where duration <= limit { chosen = duration }
        return chosen
    }

    /// The rtpmap value, "PCMU/8000" or "opus/48000/2" (channels written only when not 1).
    public var rtpmap: String {
        let base = encodingName + "/" + String(rtpClockRate)
        return channels == 1 ? base : base + "/" + String(channels)
    }
}

/// The table of codecs the phone supports, and SDP lookups over it.
public enum CodecRegistry {
    /// Packet durations for the sample-based G.711/G.722/L16 codecs (RFC 3551 default 20 ms).
    static let tenToForty: [Int] = [10, 20, 30, 40]

    /// G.711 µ-law, static PT 0.
    public static let pcmu = CodecDescriptor(
        kind: .pcmu, encodingName: "PCMU", rtpClockRate: 8000, sampleRate: 8000, staticPayloadType: 0,
        frameDurations: tenToForty, defaultPtime: 20)
    /// G.711 A-law, static PT 8.
    public static let pcma = CodecDescriptor(
        kind: .pcma, encodingName: "PCMA", rtpClockRate: 8000, sampleRate: 8000, staticPayloadType: 8,
        frameDurations: tenToForty, defaultPtime: 20)
    /// G.722, static PT 9: samples at 16000 Hz but its RTP clock is 8000 (RFC 3551 §4.5.2).
    public static let g722 = CodecDescriptor(
        kind: .g722, encodingName: "G722", rtpClockRate: 8000, sampleRate: 16000, staticPayloadType: 9,
        frameDurations: tenToForty, defaultPtime: 20)
    /// Opus: always "opus/48000/2" in SDP (RFC 7587); dynamic PT.
    public static let opus = CodecDescriptor(
        kind: .opus, encodingName: "opus", rtpClockRate: 48000, sampleRate: 48000, channels: 2,
        frameDurations: [10, 20, 40, 60], defaultPtime: 20)
    /// L16 mono 8 kHz, dynamic PT.
    public static let l16At8000 = CodecDescriptor(
        kind: .l16, encodingName: "L16", rtpClockRate: 8000, sampleRate: 8000,
        frameDurations: tenToForty, defaultPtime: 20)
    /// L16 mono 16 kHz, dynamic PT (40 ms is 1280 bytes, still one Ethernet frame).
    public static let l16At16000 = CodecDescriptor(
        kind: .l16, encodingName: "L16", rtpClockRate: 16000, sampleRate: 16000,
        frameDurations: tenToForty, defaultPtime: 20)
    /// L16 mono 48 kHz, dynamic PT: 10 ms only, as 20 ms (1920 bytes) would not fit one Ethernet frame.
    public static let l16At48000 = CodecDescriptor(
        kind: .l16, encodingName: "L16", rtpClockRate: 48000, sampleRate: 48000,
        frameDurations: [10], defaultPtime: 10)
    /// RFC 4733 DTMF events beside 8 kHz-clock audio (G.711, G.722, L16/8000). Events follow the
    /// audio stream's packetization; the durations here only bound it.
    public static let telephoneEvent8000 = CodecDescriptor(
        kind: .telephoneEvent, encodingName: "telephone-event", rtpClockRate: 8000, sampleRate: 8000,
        frameDurations: [10, 20, 30, 40, 50, 60], defaultPtime: 20)
    /// RFC 4733 DTMF events beside L16/16000.
    public static let telephoneEvent16000 = CodecDescriptor(
        kind: .telephoneEvent, encodingName: "telephone-event", rtpClockRate: 16000, sampleRate: 16000,
        frameDurations: [10, 20, 30, 40, 50, 60], defaultPtime: 20)
    /// RFC 4733 DTMF events beside Opus and L16/48000.
    public static let telephoneEvent48000 = CodecDescriptor(
        kind: .telephoneEvent, encodingName: "telephone-event", rtpClockRate: 48000, sampleRate: 48000,
        frameDurations: [10, 20, 30, 40, 50, 60], defaultPtime: 20)

    /// Every supported codec, wideband first (a reasonable default offer order).
    public static let all: [CodecDescriptor] = [
        opus, g722, pcmu, pcma, l16At16000, l16At8000, l16At48000,
        telephoneEvent8000, telephoneEvent16000, telephoneEvent48000,
    ]

    /// The codec an rtpmap names, or nil. The name matches case-insensitively, the clock rate exactly;
    /// channels default to 1 as in SDP. Opus is found as "opus/48000/2" and, leniently, "opus/48000".
    public static func find(encodingName: String, clockRate: Int, channels: Int = 1) -> CodecDescriptor? {
        for codec in all where codec.rtpClockRate == clockRate {
            guard asciiCaseInsensitiveEqual(codec.encodingName, encodingName) else { continue }
            if codec.channels == channels || (codec.kind == .opus && channels == 1) { return codec }
        }
        return nil
    }

    /// The codec a static payload type stands for (0 PCMU, 8 PCMA, 9 G722), or nil.
    public static func find(staticPayloadType: Int) -> CodecDescriptor? {
        for codec in all where codec.staticPayloadType == staticPayloadType { return codec }
        return nil
    }

    /// The telephone-event descriptor with the same RTP clock as `audio`, or nil (RFC 4733 §7.1.1).
    public static func telephoneEvent(for audio: CodecDescriptor) -> CodecDescriptor? {
        find(encodingName: "telephone-event", clockRate: audio.rtpClockRate)
    }

    /// True when the phone can send `codec` in packets of `ptime` ms.
    public static func isValidPtime(_ ptime: Int, for codec: CodecDescriptor) -> Bool { codec.isValidPtime(ptime) }

    /// The ptime to send `codec` in given the peer's `a=ptime` and `a=maxptime` (see `CodecDescriptor.choosePtime`).
    public static func choosePtime(offered: Int?, maxptime: Int? = nil, for codec: CodecDescriptor) -> Int {
        codec.choosePtime(offered: offered, maxptime: maxptime)
    }

    /// ASCII case-insensitive equality (SDP tokens are ASCII); no Unicode tables needed.
    static func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
        var left = a.utf8.makeIterator()
        var right = b.utf8.makeIterator()
        while true {
            let l = left.next()
            let r = right.next()
            guard let l, let r else { return l == nil && r == nil }
            if asciiLower(l) != asciiLower(r) { return false }
        }
    }

    private static func asciiLower(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }
}
