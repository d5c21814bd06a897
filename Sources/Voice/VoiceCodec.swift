/// One codec as the voice path uses it: a frame of PCM in, a payload out, and back, with
/// loss concealment on the receive side. The codec-specific engines (G.711, G.722, Opus,
/// L16) stay plain types; these two classes give the RTP path and the tools one shape.

/// What to build: a codec and the parameters the SDP answer and the configuration gave.
public struct CodecConfiguration: Equatable, Sendable {
    public var kind: CodecKind
    /// PCM sample rate: 8000 for G.711, 16000 for G.722, 8000/16000/48000 for L16 and Opus.
    public var sampleRate: Int
    /// Frame duration (the RTP ptime) in milliseconds.
    public var frameMilliseconds: Int
    /// Opus bit rate in bit/s (nil: libopus's choice).
    public var bitrate: Int?
    /// G.722 decoder mode (1: 64, 2: 56, 3: 48 kbit/s). The encoder always produces 64 kbit/s
    /// codes; in modes 2 and 3 it clears the bits the lower rates do not carry.
    public var g722Mode: G722Mode
    /// Opus complexity 0...10.
    public var complexity: Int
    /// Opus in-band FEC, and the loss rate (percent) it is tuned for.
    public var inbandFEC: Bool
    public var expectedLossPercent: Int
    /// Opus discontinuous transmission.
    public var dtx: Bool

    public init(kind: CodecKind, sampleRate: Int? = nil, frameMilliseconds: Int = 20) {
        self.kind = kind
        switch kind {
        case .pcmu, .pcma, .telephoneEvent: self.sampleRate = sampleRate ?? 8000
        case .g722: self.sampleRate = sampleRate ?? 16000
        case .l16: self.sampleRate = sampleRate ?? 16000
        case .opus: self.sampleRate = sampleRate ?? 48000
        }
        self.frameMilliseconds = frameMilliseconds
        self.bitrate = nil
        self.g722Mode = .kbps64
        self.complexity = 5
        self.inbandFEC = false
        self.expectedLossPercent = 0
        self.dtx = false
    }

    /// PCM samples in one frame.
    public var frameSamples: Int { sampleRate * frameMilliseconds / 1000 }

    /// Checks the combination; the error says what is wrong in words.
    public func validate() throws(CodecError) {
        switch kind {
        case .pcmu, .pcma:
            if sampleRate != 8000 { throw CodecError("G.711 samples at 8000 Hz, not " + String(sampleRate)) }
        case .g722:
            if sampleRate != 16000 { throw CodecError("G.722 samples at 16000 Hz, not " + String(sampleRate)) }
        case .l16:
            if sampleRate != 8000 && sampleRate != 16000 && sampleRate != 48000 {
                throw CodecError("L16 rate must be 8000, 16000 or 48000 Hz, not " + String(sampleRate))
            }
        case .opus:
            if sampleRate != 8000 && sampleRate != 12000 && sampleRate != 16000 && sampleRate != 24000
                && sampleRate != 48000
            {
                throw CodecError("Opus rate must be 8000, 12000, 16000, 24000 or 48000 Hz, not " + String(sampleRate))
            }
            if frameMilliseconds != 10 && frameMilliseconds != 20 && frameMilliseconds != 40
                && frameMilliseconds != 60
            {
                throw CodecError("Opus frames are 10, 20, 40 or 60 ms, not " + String(frameMilliseconds))
            }
        case .telephoneEvent:
            throw CodecError("telephone-event carries DTMF events, not audio")
        }
        if frameMilliseconds < 10 || frameMilliseconds > 120 || frameMilliseconds % 10 != 0 {
            throw CodecError("frame duration must be 10...120 ms in steps of 10, not " + String(frameMilliseconds))
        }
    }

    /// The largest payload one frame can produce.
    public var maxPayloadBytes: Int {
        switch kind {
        case .pcmu, .pcma: return frameSamples
        case .g722: return frameSamples / 2
        case .l16: return frameSamples * 2
        case .opus: return 1275 * max(1, frameMilliseconds / 20 + 1)
        case .telephoneEvent: return 4
        }
    }
}

/// The send side of a codec: one frame of PCM in, one RTP payload out. Allocates only at
/// set-up.
public final class VoiceEncoder {
    public let configuration: CodecConfiguration
    private var g722: G722Encoder? = nil
    private let opus: OpusEncoder?

    public init(_ configuration: CodecConfiguration) throws(CodecError) {
        try configuration.validate()
        self.configuration = configuration
        if configuration.kind == .opus {
            var settings = OpusSettings(sampleRate: configuration.sampleRate)
            settings.frameMilliseconds = configuration.frameMilliseconds
            settings.bitrate = configuration.bitrate
            settings.complexity = configuration.complexity
            settings.inbandFEC = configuration.inbandFEC
            settings.expectedLossPercent = configuration.expectedLossPercent
            settings.dtx = configuration.dtx
            opus = try OpusEncoder(settings)
        } else {
            opus = nil
        }
        if configuration.kind == .g722 { g722 = G722Encoder() }
    }

    /// PCM samples one call to `encode` takes.
    public var frameSamples: Int { configuration.frameSamples }

    /// Encodes one frame (exactly `frameSamples` samples for Opus; any count for the
    /// sample-by-sample codecs, even for G.722). Returns the payload length.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into payload: UnsafeMutableRawBufferPointer)
        throws(CodecError) -> Int
    {
        switch configuration.kind {
        case .pcmu, .pcma:
            guard pcm.count <= payload.count else { throw CodecError("payload buffer too small") }
            let law: G711Law = configuration.kind == .pcmu ? .muLaw : .aLaw
            return G711.encode(law, pcm, into: payload.bindMemory(to: UInt8.self))
        case .g722:
            guard pcm.count % 2 == 0 else { throw CodecError("G.722 frames need an even number of samples") }
            guard pcm.count / 2 <= payload.count else { throw CodecError("payload buffer too small") }
            let codes = payload.bindMemory(to: UInt8.self)
            let n = g722!.encode(pcm, into: codes)
            let mask: UInt8
            switch configuration.g722Mode {
            case .kbps64: mask = 0xFF
            case .kbps56: mask = 0xFE
            case .kbps48: mask = 0xFC
            }
            if mask != 0xFF { for i in 0..<n { codes[i] &= mask } }
            return n
        case .l16:
            guard pcm.count * 2 <= payload.count else { throw CodecError("payload buffer too small") }
            return L16.encode(pcm, into: payload)
        case .opus:
            return try opus!.encode(pcm, into: payload)
        case .telephoneEvent:
            throw CodecError("telephone-event has no audio encoder")
        }
    }
}

/// The receive side of a codec: RTP payloads in, PCM out; a lost frame is concealed (the
/// pitch-based concealer for G.711, G.722 and L16, libopus's own for Opus, and Opus in-band
/// FEC when the next packet is already here). Allocates only at set-up.
public final class VoiceDecoder {
    public let configuration: CodecConfiguration
    private var g722: G722Decoder? = nil
    private let opus: OpusDecoder?
    private let concealer: PacketLossConcealer?

    public init(_ configuration: CodecConfiguration) throws(CodecError) {
        try configuration.validate()
        self.configuration = configuration
        if configuration.kind == .opus {
            opus = try OpusDecoder(sampleRate: configuration.sampleRate)
            concealer = nil
        } else {
            opus = nil
            concealer = PacketLossConcealer(
                sampleRate: configuration.sampleRate, frameSamples: configuration.frameSamples)
        }
        if configuration.kind == .g722 { g722 = G722Decoder(mode: configuration.g722Mode) }
    }

    /// PCM samples in one frame.
    public var frameSamples: Int { configuration.frameSamples }

    /// Frames lost in a row so far (0 after a good frame).
    public private(set) var consecutiveLosses = 0

    /// Decodes one payload into `pcm`. Returns the samples written. Bytes that are not a
    /// valid payload throw (Opus, odd L16) and leave the decoder usable.
    public func decode(_ payload: UnsafeRawBufferPointer, into pcm: UnsafeMutableBufferPointer<Int16>)
        throws(CodecError) -> Int
    {
        let n: Int
        switch configuration.kind {
        case .pcmu, .pcma:
            let law: G711Law = configuration.kind == .pcmu ? .muLaw : .aLaw
            n = G711.decode(law, payload.bindMemory(to: UInt8.self), into: pcm)
        case .g722:
            guard payload.count * 2 <= pcm.count else { throw CodecError("PCM buffer too small for the payload") }
            n = g722!.decode(payload.bindMemory(to: UInt8.self), into: pcm)
        case .l16:
            n = try L16.decode(payload, into: pcm)
        case .opus:
            n = try opus!.decode(payload, into: pcm)
        case .telephoneEvent:
            throw CodecError("telephone-event has no audio decoder")
        }
        if let concealer, n > 0 {
            concealer.receivedGoodFrame(UnsafeMutableBufferPointer(rebasing: pcm[0..<n]))
        }
        consecutiveLosses = 0
        return n
    }

    /// A frame was lost: writes `frameSamples` samples of concealment into `pcm`.
    public func conceal(into pcm: UnsafeMutableBufferPointer<Int16>) -> Int {
        let count = min(frameSamples, pcm.count)
        let out = UnsafeMutableBufferPointer(rebasing: pcm[0..<count])
        consecutiveLosses += 1
        if let concealer {
            concealer.concealLostFrame(into: out)
            return count
        }
        if let opus, let n = try? opus.conceal(frameSamples: count, into: out) {
            return n
        }
        out.update(repeating: 0)
        return count
    }

    /// A frame was lost but the next packet has arrived: Opus recovers the lost frame from
    /// that packet's in-band FEC data; the other codecs conceal.
    public func recover(lostFrameFrom next: UnsafeRawBufferPointer, into pcm: UnsafeMutableBufferPointer<Int16>)
        -> Int
    {
        guard let opus else { return conceal(into: pcm) }
        let count = min(frameSamples, pcm.count)
        if let n = try? opus.recoverFromNext(next, frameSamples: count, into: pcm) {
            consecutiveLosses += 1
            return n
        }
        return conceal(into: pcm)
    }
}
