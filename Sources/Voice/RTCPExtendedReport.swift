// RTCP XR VoIP Metrics (RFC 3611 §4.7): the report block, the burst/gap loss model of its
// Appendix A.2 run over the stream of received, lost and discarded packets, and the call quality
// estimate (R factor, MOS) from the E-model the jitter buffer's delay estimator already uses.

/// The VoIP Metrics report block of RTCP XR (RFC 3611 §4.7), field by field as on the wire.
/// Levels, RERL, R factors and MOS values use 127 for "unavailable".
public struct RTCPVoIPMetrics: Equatable, Sendable, CustomStringConvertible {
    /// XR block type of VoIP Metrics.
    public static let blockType: UInt8 = 7
    /// Bytes of the block (header included): block length 8.
    public static let size = 36
    /// The "unavailable" value of the 8-bit level, RERL, R and MOS fields.
    public static let unavailable: UInt8 = 127

    /// Packet loss concealment in the RX config byte (§4.7.6).
    public enum ConcealmentType: UInt8, Sendable {
        case unspecified = 0
        case disabled = 1
        case enhanced = 2
        case standard = 3
    }

    /// Jitter buffer adaptivity in the RX config byte (§4.7.6).
    public enum JitterBufferType: UInt8, Sendable {
        case unknown = 0
        case nonAdaptive = 2
        case adaptive = 3
    }

    /// The source this block reports on.
    public var ssrc: UInt32
    /// Fraction lost in the network since reception began, ×256.
    public var lossRate: UInt8 = 0
    /// Fraction discarded (late or early) by the jitter buffer, ×256.
    public var discardRate: UInt8 = 0
    /// Fraction of packets lost or discarded within bursts, ×256.
    public var burstDensity: UInt8 = 0
    /// Fraction of packets lost or discarded within gaps, ×256.
    public var gapDensity: UInt8 = 0
    /// Mean burst duration, ms.
    public var burstDuration: UInt16 = 0
    /// Mean gap duration, ms.
    public var gapDuration: UInt16 = 0
    /// Most recent round-trip delay, ms (0: unknown).
    public var roundTripDelay: UInt16 = 0
    /// Mouth-to-ear delay inside this end system (buffers, codec, device), ms (0: unknown).
    public var endSystemDelay: UInt16 = 0
    /// Signal level, dBm0 as a signed byte; 127 unavailable.
    public var signalLevel: UInt8 = unavailable
    /// Noise level, dBm0 as a signed byte; 127 unavailable.
    public var noiseLevel: UInt8 = unavailable
    /// Residual echo return loss, dB; 127 unavailable.
    public var residualEchoReturnLoss: UInt8 = unavailable
    /// Gap threshold of the burst/gap model (RFC 3611 recommends 16).
    public var gmin: UInt8 = 16
    /// R factor 0...100, 127 unavailable.
    public var rFactor: UInt8 = unavailable
    /// External R factor (the other segment of the call), 127 unavailable.
    public var externalRFactor: UInt8 = unavailable
    /// Listening-quality MOS ×10 (10...50), 127 unavailable.
    public var mosLQ: UInt8 = unavailable
    /// Conversational-quality MOS ×10 (10...50), 127 unavailable.
    public var mosCQ: UInt8 = unavailable
    public var concealment: ConcealmentType = .unspecified
    public var jitterBufferType: JitterBufferType = .unknown
    /// Jitter buffer adjustment rate 0...15 (§4.7.6).
    public var jitterBufferRate: UInt8 = 0
    /// Current nominal jitter buffer delay, ms.
    public var jitterBufferNominal: UInt16 = 0
    /// Current maximum jitter buffer delay, ms.
    public var jitterBufferMaximum: UInt16 = 0
    /// Absolute maximum delay the (adaptive) jitter buffer can reach, ms.
    public var jitterBufferAbsoluteMaximum: UInt16 = 0

    public init(ssrc: UInt32) { self.ssrc = ssrc }

    /// The RX config byte: PLC (2 bits), JBA (2 bits), JB rate (4 bits).
    public var rxConfig: UInt8 {
        concealment.rawValue << 6 | jitterBufferType.rawValue << 4 | (jitterBufferRate & 0x0F)
    }

    func write(_ b: UnsafeMutableRawBufferPointer, _ o: Int) {
        b[o] = RTCPVoIPMetrics.blockType
        b[o + 1] = 0
        RTPBytes.store16(8, b, o + 2)
        RTPBytes.store32(ssrc, b, o + 4)
        b[o + 8] = lossRate
        b[o + 9] = discardRate
        b[o + 10] = burstDensity
        b[o + 11] = gapDensity
        RTPBytes.store16(burstDuration, b, o + 12)
        RTPBytes.store16(gapDuration, b, o + 14)
        RTPBytes.store16(roundTripDelay, b, o + 16)
        RTPBytes.store16(endSystemDelay, b, o + 18)
        b[o + 20] = signalLevel
        b[o + 21] = noiseLevel
        b[o + 22] = residualEchoReturnLoss
        b[o + 23] = gmin
        b[o + 24] = rFactor
        b[o + 25] = externalRFactor
        b[o + 26] = mosLQ
        b[o + 27] = mosCQ
        b[o + 28] = rxConfig
        b[o + 29] = 0
        RTPBytes.store16(jitterBufferNominal, b, o + 30)
        RTPBytes.store16(jitterBufferMaximum, b, o + 32)
        RTPBytes.store16(jitterBufferAbsoluteMaximum, b, o + 34)
    }

    static func read(_ b: UnsafeRawBufferPointer, _ o: Int) -> RTCPVoIPMetrics {
        var m = RTCPVoIPMetrics(ssrc: RTPBytes.load32(b, o + 4))
        m.lossRate = b[o + 8]
        m.discardRate = b[o + 9]
        m.burstDensity = b[o + 10]
        m.gapDensity = b[o + 11]
        m.burstDuration = RTPBytes.load16(b, o + 12)
        m.gapDuration = RTPBytes.load16(b, o + 14)
        m.roundTripDelay = RTPBytes.load16(b, o + 16)
        m.endSystemDelay = RTPBytes.load16(b, o + 18)
        m.signalLevel = b[o + 20]
        m.noiseLevel = b[o + 21]
        m.residualEchoReturnLoss = b[o + 22]
        m.gmin = b[o + 23]
        m.rFactor = b[o + 24]
        m.externalRFactor = b[o + 25]
        m.mosLQ = b[o + 26]
        m.mosCQ = b[o + 27]
        let config = b[o + 28]
        m.concealment = ConcealmentType(rawValue: config >> 6) ?? .unspecified
        m.jitterBufferType = JitterBufferType(rawValue: (config >> 4) & 3) ?? .unknown
        m.jitterBufferRate = config & 0x0F
        m.jitterBufferNominal = RTPBytes.load16(b, o + 30)
        m.jitterBufferMaximum = RTPBytes.load16(b, o + 32)
        m.jitterBufferAbsoluteMaximum = RTPBytes.load16(b, o + 34)
        return m
    }

    /// Fills the loss, discard and burst/gap fields from `model`.
    public mutating func fillLoss(from model: RTCPBurstGapModel) {
        lossRate = model.lossRate
        discardRate = model.discardRate
        let metrics = model.burstGapMetrics()
        burstDensity = metrics.burstDensity
        gapDensity = metrics.gapDensity
        burstDuration = metrics.burstDuration
        gapDuration = metrics.gapDuration
        gmin = UInt8(truncatingIfNeeded: model.gmin)
    }

    /// Fills the jitter buffer fields from what `jitterBuffer` knows: nominal is its current target
    /// delay, maximum that plus how far stall stretching may take it, absolute maximum its delay cap
    /// plus one period. Its concealment is the G.711 Appendix I kind ("standard"), it adapts.
    public mutating func fillJitterBuffer(from jitterBuffer: JitterBuffer) {
        let configuration = jitterBuffer.configuration
        let nominal = jitterBuffer.targetDelayMilliseconds
        jitterBufferNominal = RTCPVoIPMetrics.milliseconds(nominal)
        jitterBufferMaximum = RTCPVoIPMetrics.milliseconds(nominal + configuration.stallStretchMilliseconds)
        jitterBufferAbsoluteMaximum = RTCPVoIPMetrics.milliseconds(
            configuration.maximumDelayMilliseconds + Double(configuration.periodMilliseconds))
        concealment = .standard
        jitterBufferType = .adaptive
    }

    /// Fills R factor and MOS from the E-model (`RTCPQualityEstimate`): listening quality counts
    /// loss and discards only, conversational quality also the one-way delay (half the round trip
    /// plus this end's delay). Leaves them unavailable when nothing was expected yet.
    public mutating func fillQuality(from model: RTCPBurstGapModel) {
        guard model.expected > 0 else { return }
        let lossPercent = 100 * Double(model.lost + model.discarded) / Double(model.expected)
        let oneWay = Double(roundTripDelay) / 2 + Double(endSystemDelay)
        let listening = RTCPQualityEstimate(oneWayDelayMilliseconds: 0, lossPercent: lossPercent)
        let conversational = RTCPQualityEstimate(oneWayDelayMilliseconds: oneWay, lossPercent: lossPercent)
        rFactor = UInt8(conversational.rFactor.rounded())
        mosLQ = UInt8((listening.mos * 10).rounded())
        mosCQ = UInt8((conversational.mos * 10).rounded())
    }

    static func milliseconds(_ value: Double) -> UInt16 {
        value <= 0 ? 0 : value >= 65535 ? 65535 : UInt16(value.rounded())
    }

    public var description: String {
        "VoIP metrics ssrc=\(RTPBytes.hex(ssrc)) loss=\(lossRate)/256 discard=\(discardRate)/256 "
            + "burst=\(burstDensity)/256 \(burstDuration)ms gap=\(gapDensity)/256 \(gapDuration)ms "
            + "rtt=\(roundTripDelay)ms esd=\(endSystemDelay)ms R=\(rFactor) MOS-LQ=\(mosLQ) MOS-CQ=\(mosCQ) "
            + "jb=\(jitterBufferNominal)/\(jitterBufferMaximum)/\(jitterBufferAbsoluteMaximum)ms"
    }
}

/// R factor and MOS of ITU-T G.107 from one-way delay and loss, by the jitter buffer's E-model
/// (`JitterBufferDelayEstimator.emodelR`) and the G.107 Annex B R-to-MOS mapping.
public struct RTCPQualityEstimate: Equatable, Sendable {
    /// R, clamped to 0...100.
    public let rFactor: Double
    /// MOS 1...4.5.
    public let mos: Double

    public init(oneWayDelayMilliseconds: Double, lossPercent: Double) {
        let r = JitterBufferDelayEstimator.emodelR(delayMilliseconds: oneWayDelayMilliseconds, lossPercent: lossPercent)
        rFactor = min(100, max(0, r))
        mos = RTCPQualityEstimate.mos(r: r)
    }

    /// G.107 Annex B: MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6, 1 below R 0, 4.5 above R 100.
    public static func mos(r: Double) -> Double {
        if r <= 0 { return 1 }
        if r >= 100 { return 4.5 }
        return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6
    }
}

/// The burst/gap loss model of RFC 3611 Appendix A.2 over the packets of one source, in sequence
/// order: each is received, lost in the network or discarded by the jitter buffer. Counts the
/// Markov transitions (c11 ... c33) with the gap threshold `gmin`, and loss and discard totals.
public struct RTCPBurstGapModel: Equatable, Sendable {
    /// One packet's fate.
    public enum Event: Sendable {
        case received
        case lost
        case discarded
    }

    /// Density and mean duration of bursts and gaps (RFC 3611 §4.7.2).
    public struct Metrics: Equatable, Sendable {
        public var burstDensity: UInt8
        public var gapDensity: UInt8
        public var burstDuration: UInt16
        public var gapDuration: UInt16
    }

    public let gmin: Int
    /// Milliseconds of audio per packet, for the durations.
    public var packetMilliseconds: Int
    /// Received packets since the last loss or discard.
    public private(set) var receivedRun = 0
    /// Losses and discards since the last gap.
    public private(set) var lossesInRun = 0
    public private(set) var c11 = 0
    public private(set) var c13 = 0
    public private(set) var c14 = 0
    public private(set) var c22 = 0
    public private(set) var c23 = 0
    public private(set) var c33 = 0
    /// Packets expected (all events), lost, discarded.
    public private(set) var expected = 0
    public private(set) var lost = 0
    public private(set) var discarded = 0

    public init(packetMilliseconds: Int, gmin: Int = 16) {
        self.packetMilliseconds = packetMilliseconds
        self.gmin = gmin
    }

    /// Takes the next packet's fate (Appendix A.2, per-packet part).
    public mutating func record(_ event: Event) {
        expected += 1
        switch event {
        case .received:
            receivedRun += 1
            return
        case .lost: lost += 1
        case .discarded: discarded += 1
        }
        if receivedRun >= gmin {
            // A gap just ended: the losses since the previous gap were one isolated gap loss, or a
            // burst. (Appendix A.2 counts a burst also for the very first loss, when there were no
            // earlier losses at all; that phantom burst would halve the gap length, so it is skipped.)
            if lossesInRun == 1 { c14 += 1 } else if lossesInRun > 1 { c13 += 1 }
            lossesInRun = 1
            c11 += receivedRun
        } else {
            lossesInRun += 1
            if receivedRun == 0 {
                c33 += 1
            } else {
                c23 += 1
                c22 += receivedRun - 1
            }
        }
        receivedRun = 0
    }

    /// Takes `count` packets of the same fate.
    public mutating func record(_ event: Event, count: Int) {
        for _ in 0..<max(0, count) { record(event) }
    }

    /// Network loss since the start, ×256 (RFC 3611 §4.7.1).
    public var lossRate: UInt8 { RTCPBurstGapModel.fraction(lost, of: expected) }
    /// Jitter buffer discards since the start, ×256.
    public var discardRate: UInt8 { RTCPBurstGapModel.fraction(discarded, of: expected) }

    /// Burst and gap density and duration (Appendix A.2, report part). With no burst yet, the gap
    /// lasts the whole reception and its density is the loss so far.
    public func burstGapMetrics() -> Metrics {
        let m = packetMilliseconds
        guard c13 > 0 else {
            return Metrics(
                burstDensity: 0, gapDensity: RTCPBurstGapModel.fraction(lost + discarded, of: expected),
                burstDuration: 0, gapDuration: RTCPBurstGapModel.clamp16(expected * m))
        }
        let c31 = c13
        let c32 = c23
        let total = c11 + c14 + c13 + c22 + c23 + c31 + c32 + c33
        let p32 = Double(c32) / Double(c31 + c32 + c33)
        let p23 = c22 + c23 < 1 ? 1 : 1 - Double(c22) / Double(c22 + c23)
        let burstDensity = p23 + p32 > 0 ? 256 * p23 / (p23 + p32) : 0
        let gapDensity = c11 + c14 > 0 ? 256 * Double(c14) / Double(c11 + c14) : 0
        let gapLength = (c11 + c14 + c13) * m / c13
        let burstLength = total * m / c13 - gapLength
        return Metrics(
            burstDensity: UInt8(min(255, burstDensity)), gapDensity: UInt8(min(255, gapDensity)),
            burstDuration: RTCPBurstGapModel.clamp16(burstLength), gapDuration: RTCPBurstGapModel.clamp16(gapLength))
    }

    static func fraction(_ part: Int, of whole: Int) -> UInt8 {
        whole <= 0 ? 0 : UInt8(min(255, part * 256 / whole))
    }

    static func clamp16(_ value: Int) -> UInt16 { UInt16(min(65535, max(0, value))) }
}
