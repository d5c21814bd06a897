/// Opus (RFC 6716, RTP payload RFC 7587) over libopus. The encoder and decoder own one libopus
/// state each, created at set-up and destroyed in `deinit`; encoding and decoding a frame works
/// in caller-owned buffers and allocates nothing. libopus's variadic ctl calls go through the
/// `deskphone_opus_*` static inline shims in `Sources/COpus/ctl.h`.
import COpus

/// Opus encoder configuration: audio format, frame length and the libopus knobs the phone sets.
public struct OpusSettings: Equatable, Sendable {
    /// libopus's application mode (`OPUS_APPLICATION_*`).
    public enum Application: Equatable, Sendable {
        /// Speech first: SILK/hybrid favoured, the right mode for calls.
        case voip
        /// General audio (music on hold, intercom chimes).
        case audio
        /// CELT only, lowest algorithmic delay; no SILK, so no in-band FEC.
        case lowDelay
    }

    /// Input and output sample rates libopus accepts.
    public static let sampleRates: [Int] = [8000, 12000, 16000, 24000, 48000]
    /// Frame durations the phone packetizes Opus in (libopus also has 2.5, 5 and 80..120 ms).
    public static let frameDurations: [Int] = [10, 20, 40, 60]
    /// Bit rates libopus accepts for a fixed rate (it clamps to what the mode can use).
    public static let bitrateRange: ClosedRange<Int> = 500...512_000

    /// Audio sample rate in Hz (8000, 12000, 16000, 24000 or 48000); RTP still counts 48 kHz.
    public var sampleRate: Int
    /// 1 (mono, the phone's normal case) or 2.
    public var channels: Int
    /// Frame duration: 10, 20, 40 or 60 ms.
    public var frameMilliseconds: Int
    /// Target bit rate in bit/s; nil lets libopus choose (`OPUS_AUTO`).
    public var bitrate: Int?
    /// Encoder complexity 0...10. The default 5 keeps a small ARM core's budget; libopus's own is 9 or 10.
    public var complexity: Int
    /// In-band forward error correction (`OPUS_SET_INBAND_FEC`); only SILK/hybrid frames carry it.
    public var inbandFEC: Bool
    /// Expected packet loss in percent (`OPUS_SET_PACKET_LOSS_PERC`); FEC is only sent when this is > 0.
    public var expectedLossPercent: Int
    /// Discontinuous transmission (`OPUS_SET_DTX`): silence gives packets of 1-2 bytes that need not be sent.
    public var dtx: Bool
    /// libopus application mode.
    public var application: Application

    public init(
        sampleRate: Int = 48000, channels: Int = 1, frameMilliseconds: Int = 20, bitrate: Int? = nil,
        complexity: Int = 5, inbandFEC: Bool = false, expectedLossPercent: Int = 0, dtx: Bool = false,
        application: Application = .voip
    ) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.frameMilliseconds = frameMilliseconds
        self.bitrate = bitrate
        self.complexity = complexity
        self.inbandFEC = inbandFEC
        self.expectedLossPercent = expectedLossPercent
        self.dtx = dtx
        self.application = application
    }

    /// Samples per channel in one frame.
    public var frameSamples: Int { sampleRate / 1000 * frameMilliseconds }

    /// Throws a `CodecError` naming the first setting out of range.
    public func validate() throws(CodecError) {
        guard OpusSettings.sampleRates.contains(sampleRate) else {
            throw CodecError("opus: sample rate \(sampleRate) Hz unsupported (8000, 12000, 16000, 24000 or 48000)")
        }
        guard channels == 1 || channels == 2 else {
            throw CodecError("opus: \(channels) channels unsupported (1 or 2)")
        }
        guard OpusSettings.frameDurations.contains(frameMilliseconds) else {
            throw CodecError("opus: \(frameMilliseconds) ms frames unsupported (10, 20, 40 or 60)")
        }
        if let bitrate, !OpusSettings.bitrateRange.contains(bitrate) {
            throw CodecError("opus: bit rate \(bitrate) bit/s out of range (500...512000)")
        }
        guard (0...10).contains(complexity) else {
            throw CodecError("opus: complexity \(complexity) out of range (0...10)")
        }
        guard (0...100).contains(expectedLossPercent) else {
            throw CodecError("opus: expected loss \(expectedLossPercent)% out of range (0...100)")
        }
    }

    var libopusApplication: Int32 {
        switch application {
        case .voip: return OPUS_APPLICATION_VOIP
        case .audio: return OPUS_APPLICATION_AUDIO
        case .lowDelay: return OPUS_APPLICATION_RESTRICTED_LOWDELAY
        }
    }
}

/// A CodecError for a failed libopus call: `"<what>: <opus_strerror text>"`.
@inline(never)
func opusError(_ what: String, _ code: Int32) -> CodecError {
    CodecError(what + ": " + String(cString: opus_strerror(code)))
}

/// One libopus encoder (`opus_encoder_create`), for one stream, one frame at a time.
public final class OpusEncoder {
    /// Packet buffer size that fits any packet libopus can produce (its own recommendation).
    public static let maxPacketBytes = 4000

    /// The settings in force (the setters below keep this up to date).
    public private(set) var settings: OpusSettings
    /// Samples per channel in one frame; `encode` takes exactly `frameSamples * channels` samples.
    public let frameSamples: Int
    /// Channels interleaved in the input.
    public let channels: Int
    /// Encoder look-ahead in samples per channel at `sampleRate` (`OPUS_GET_LOOKAHEAD`): the decoded signal
    /// lags the input by this much.
    public let lookahead: Int
    private let state: OpaquePointer

    /// Creates and configures an encoder; throws if a setting is out of range or libopus refuses it.
    public init(_ settings: OpusSettings) throws(CodecError) {
        try settings.validate()
        var status: Int32 = OPUS_OK
        let created = opus_encoder_create(
            Int32(settings.sampleRate), Int32(settings.channels), settings.libopusApplication, &status)
        guard let created, status == OPUS_OK else {
            if let created { opus_encoder_destroy(created) }
            throw opusError("opus_encoder_create", status)
        }
        var look: Int32 = 0
        do {
            try OpusEncoder.apply(settings, to: created)
            try OpusEncoder.check(deskphone_opus_enc_get_lookahead(created, &look), "OPUS_GET_LOOKAHEAD")
        } catch {
            opus_encoder_destroy(created)
            throw error
        }
        self.state = created
        self.settings = settings
        self.frameSamples = settings.frameSamples
        self.channels = settings.channels
        self.lookahead = Int(look)
    }

    deinit { opus_encoder_destroy(state) }

    private static func check(_ status: Int32, _ what: String) throws(CodecError) {
        if status != OPUS_OK { throw opusError(what, status) }
    }

    private static func apply(_ s: OpusSettings, to st: OpaquePointer) throws(CodecError) {
        try check(deskphone_opus_enc_set_bitrate(st, s.bitrate.map { Int32($0) } ?? OPUS_AUTO), "OPUS_SET_BITRATE")
        try check(deskphone_opus_enc_set_complexity(st, Int32(s.complexity)), "OPUS_SET_COMPLEXITY")
        try check(deskphone_opus_enc_set_inband_fec(st, s.inbandFEC ? 1 : 0), "OPUS_SET_INBAND_FEC")
        try check(
            deskphone_opus_enc_set_packet_loss_perc(st, Int32(s.expectedLossPercent)), "OPUS_SET_PACKET_LOSS_PERC")
        try check(deskphone_opus_enc_set_dtx(st, s.dtx ? 1 : 0), "OPUS_SET_DTX")
    }

    /// Encodes one frame of exactly `frameSamples * channels` interleaved samples into `packet`
    /// and returns the packet length in bytes (at least 1). `maxPacketBytes` always suffices; a
    /// smaller buffer (3 bytes at least) caps the packet, and so the bit rate, of this frame.
    /// With DTX on, a packet of 2 bytes or less (see `needsTransmission`) need not be sent.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into packet: UnsafeMutableRawBufferPointer)
        throws(CodecError) -> Int
    {
        let needed = frameSamples * channels
        guard pcm.count == needed, let input = pcm.baseAddress else {
            throw CodecError(
                "opus_encode: \(pcm.count) samples given, a \(settings.frameMilliseconds) ms frame needs \(needed)")
        }
        // Below 3 bytes libopus does not fail: it silently emits a TOC-only "lost frame" packet.
        guard let output = packet.baseAddress, packet.count >= 3 else {
            throw CodecError("opus_encode: packet buffer of \(packet.count) bytes is too small (at least 3)")
        }
        let written = opus_encode(
            state, input, Int32(frameSamples), output.assumingMemoryBound(to: UInt8.self),
            Int32(clamping: packet.count))
        if written < 0 { throw opusError("opus_encode", written) }
        return Int(written)
    }

    /// False for a DTX packet (2 bytes or less): the receiver conceals / generates comfort noise instead.
    public static func needsTransmission(packetBytes: Int) -> Bool { packetBytes > 2 }

    /// Sets the target bit rate in bit/s (nil: libopus chooses).
    public func setBitrate(_ bitrate: Int?) throws(CodecError) {
        var next = settings
        next.bitrate = bitrate
        try next.validate()
        try OpusEncoder.check(
            deskphone_opus_enc_set_bitrate(state, bitrate.map { Int32($0) } ?? OPUS_AUTO), "OPUS_SET_BITRATE")
        settings = next
    }

    /// Sets the complexity, 0...10.
    public func setComplexity(_ complexity: Int) throws(CodecError) {
        var next = settings
        next.complexity = complexity
        try next.validate()
        try OpusEncoder.check(deskphone_opus_enc_set_complexity(state, Int32(complexity)), "OPUS_SET_COMPLEXITY")
        settings = next
    }

    /// Turns in-band FEC on or off.
    public func setInbandFEC(_ on: Bool) throws(CodecError) {
        try OpusEncoder.check(deskphone_opus_enc_set_inband_fec(state, on ? 1 : 0), "OPUS_SET_INBAND_FEC")
        settings.inbandFEC = on
    }

    /// Sets the expected packet loss, 0...100 % (e.g. from RTCP receiver reports).
    public func setExpectedLossPercent(_ percent: Int) throws(CodecError) {
        var next = settings
        next.expectedLossPercent = percent
        try next.validate()
        try OpusEncoder.check(
            deskphone_opus_enc_set_packet_loss_perc(state, Int32(percent)), "OPUS_SET_PACKET_LOSS_PERC")
        settings = next
    }

    /// Turns discontinuous transmission on or off.
    public func setDTX(_ on: Bool) throws(CodecError) {
        try OpusEncoder.check(deskphone_opus_enc_set_dtx(state, on ? 1 : 0), "OPUS_SET_DTX")
        settings.dtx = on
    }

    /// Forgets the signal history (a new talk spurt after a hold, a new stream), keeping the settings.
    public func reset() throws(CodecError) {
        try OpusEncoder.check(deskphone_opus_enc_reset(state), "OPUS_RESET_STATE")
    }

    /// The bit rate libopus is actually targeting (`OPUS_GET_BITRATE`; resolves `nil` to a number).
    public var effectiveBitrate: Int {
        var value: Int32 = 0
        _ = deskphone_opus_enc_get_bitrate(state, &value)
        return Int(value)
    }

    /// True when the last frame was encoded as DTX silence (`OPUS_GET_IN_DTX`; false if libopus lacks it).
    public var isInDTX: Bool {
        var value: Int32 = 0
        return deskphone_opus_enc_get_in_dtx(state, &value) == OPUS_OK && value != 0
    }

    /// Range coder state after the last packet (`OPUS_GET_FINAL_RANGE`), equal to the decoder's for a good packet.
    public var finalRange: UInt32 {
        var value: UInt32 = 0
        _ = deskphone_opus_enc_get_final_range(state, &value)
        return value
    }
}

/// One libopus decoder (`opus_decoder_create`): packets in, PCM out, plus loss concealment and FEC recovery.
public final class OpusDecoder {
    /// Output sample rate in Hz.
    public let sampleRate: Int
    /// Channels interleaved in the output.
    public let channels: Int
    private let state: OpaquePointer

    /// Creates a decoder for 8000, 12000, 16000, 24000 or 48000 Hz output, 1 or 2 channels.
    public init(sampleRate: Int, channels: Int = 1) throws(CodecError) {
        guard OpusSettings.sampleRates.contains(sampleRate) else {
            throw CodecError("opus: sample rate \(sampleRate) Hz unsupported (8000, 12000, 16000, 24000 or 48000)")
        }
        guard channels == 1 || channels == 2 else {
            throw CodecError("opus: \(channels) channels unsupported (1 or 2)")
        }
        var status: Int32 = OPUS_OK
        let created = opus_decoder_create(Int32(sampleRate), Int32(channels), &status)
        guard let created, status == OPUS_OK else {
            if let created { opus_decoder_destroy(created) }
            throw opusError("opus_decoder_create", status)
        }
        self.state = created
        self.sampleRate = sampleRate
        self.channels = channels
    }

    deinit { opus_decoder_destroy(state) }

    /// Samples per channel in the longest packet Opus allows (120 ms): a `pcm` buffer of
    /// `maxPacketSamples * channels` takes any packet.
    public var maxPacketSamples: Int { sampleRate / 1000 * 120 }

    /// Decodes one packet into `pcm` (interleaved) and returns the samples per channel written.
    /// A malformed packet, or one longer than `pcm` holds, throws.
    public func decode(_ packet: UnsafeRawBufferPointer, into pcm: UnsafeMutableBufferPointer<Int16>)
        throws(CodecError) -> Int
    {
        guard let data = packet.baseAddress, packet.count > 0 else {
            throw CodecError("opus_decode: empty packet (use conceal for a lost one)")
        }
        guard let output = pcm.baseAddress, pcm.count >= channels else {
            throw CodecError("opus_decode: empty output buffer")
        }
        let decoded = opus_decode(
            state, data.assumingMemoryBound(to: UInt8.self), Int32(clamping: packet.count), output,
            Int32(clamping: pcm.count / channels), 0)
        if decoded < 0 { throw opusError("opus_decode", decoded) }
        return Int(decoded)
    }

    /// A packet was lost: libopus concealment (`opus_decode` with no data) writes `frameSamples`
    /// samples per channel (a multiple of 2.5 ms, at most 120 ms) and returns that count.
    public func conceal(frameSamples: Int, into pcm: UnsafeMutableBufferPointer<Int16>) throws(CodecError) -> Int {
        let output = try checkLossFrame(frameSamples, pcm, "opus_decode(concealment)")
        let decoded = opus_decode(state, nil, 0, output, Int32(frameSamples), 0)
        if decoded < 0 { throw opusError("opus_decode(concealment)", decoded) }
        return Int(decoded)
    }

    /// A packet was lost but the next one is here: rebuilds the lost `frameSamples` from the
    /// next packet's in-band FEC (`decode_fec = 1`) and returns that count. Where the next packet
    /// carries no FEC (CELT mode, FEC off, shorter frame) libopus conceals instead. The next
    /// packet itself must still be given to `decode` afterwards.
    public func recoverFromNext(
        _ nextPacket: UnsafeRawBufferPointer, frameSamples: Int, into pcm: UnsafeMutableBufferPointer<Int16>
    ) throws(CodecError) -> Int {
        let output = try checkLossFrame(frameSamples, pcm, "opus_decode(fec)")
        guard let data = nextPacket.baseAddress, nextPacket.count > 0 else {
            throw CodecError("opus_decode(fec): empty next packet")
        }
        let decoded = opus_decode(
            state, data.assumingMemoryBound(to: UInt8.self), Int32(clamping: nextPacket.count), output,
            Int32(frameSamples), 1)
        if decoded < 0 { throw opusError("opus_decode(fec)", decoded) }
        return Int(decoded)
    }

    /// Checks a concealment length and output buffer; returns the buffer's start.
    private func checkLossFrame(_ frameSamples: Int, _ pcm: UnsafeMutableBufferPointer<Int16>, _ what: String)
        throws(CodecError) -> UnsafeMutablePointer<Int16>
    {
        let quantum = sampleRate / 400  // 2.5 ms
        guard frameSamples > 0, frameSamples % quantum == 0, frameSamples <= maxPacketSamples else {
            throw CodecError("\(what): \(frameSamples) samples is not a multiple of 2.5 ms up to 120 ms")
        }
        guard let output = pcm.baseAddress, pcm.count >= frameSamples * channels else {
            throw CodecError("\(what): output holds \(pcm.count) samples, \(frameSamples * channels) needed")
        }
        return output
    }

    /// Samples per channel in the last packet decoded or concealed (`OPUS_GET_LAST_PACKET_DURATION`).
    public var lastPacketDuration: Int {
        var value: Int32 = 0
        _ = deskphone_opus_dec_get_last_packet_duration(state, &value)
        return Int(value)
    }

    /// Range decoder state after the last packet (`OPUS_GET_FINAL_RANGE`).
    public var finalRange: UInt32 {
        var value: UInt32 = 0
        _ = deskphone_opus_dec_get_final_range(state, &value)
        return value
    }

    /// Forgets the stream history (a new stream or SSRC).
    public func reset() throws(CodecError) {
        let status = deskphone_opus_dec_reset(state)
        if status != OPUS_OK { throw opusError("OPUS_RESET_STATE", status) }
    }

    /// Samples per channel a packet holds at `sampleRate` (`opus_packet_get_nb_samples`), without decoding it.
    public static func samples(in packet: UnsafeRawBufferPointer, sampleRate: Int) throws(CodecError) -> Int {
        guard let data = packet.baseAddress, packet.count > 0 else {
            throw CodecError("opus_packet_get_nb_samples: empty packet")
        }
        let count = opus_packet_get_nb_samples(
            data.assumingMemoryBound(to: UInt8.self), Int32(clamping: packet.count), Int32(clamping: sampleRate))
        if count < 0 { throw opusError("opus_packet_get_nb_samples", count) }
        return Int(count)
    }
}
