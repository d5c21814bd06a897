import CMallocCounter
import Testing

@testable import Voice

#if DEBUG
    let jitterBufferOptimized = false
#else
    let jitterBufferOptimized = true
#endif

/// One packet of a scripted stream: what the network delivers and when.
struct ScriptedPacket {
    var seq: UInt16
    var ts: UInt32
    var arrivalMs: Double
    var ssrc: UInt32 = 1
}

/// Plays a scripted stream through a JitterBuffer with a manual playout clock (10 ms periods).
final class JitterBufferHarness {
    let jb: JitterBuffer
    let encoder: VoiceEncoder
    var speech: SyntheticSpeech
    var frames: [JitterBufferFrame] = []
    var delays: [Double] = []
    let frameSamples: Int

    init(codec: CodecConfiguration = CodecConfiguration(kind: .pcmu)) throws {
        var c = codec
        if c.kind == .opus {
            c.inbandFEC = true
            c.expectedLossPercent = 10
        }
        jb = try JitterBuffer(JitterBufferConfiguration(codec: c))
        encoder = try VoiceEncoder(c)
        speech = SyntheticSpeech(sampleRate: c.sampleRate, seed: 3)
        frameSamples = c.frameSamples
    }

    /// Encodes one frame of speech.
    func payload() throws -> [UInt8] {
        var pcm = [Int16](repeating: 0, count: frameSamples)
        pcm.withUnsafeMutableBufferPointer { speech.fill($0) }
        var out = [UInt8](repeating: 0, count: encoder.configuration.maxPayloadBytes)
        let n = try pcm.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { try encoder.encode(src, into: $0) }
        }
        return Array(out[0..<n])
    }

    /// Runs from 0 to `untilMs`, handing each packet to the buffer at the first tick after its arrival.
    func run(_ packets: [ScriptedPacket], untilMs: Double) throws {
        var encoded: [[UInt8]] = []
        for _ in packets { encoded.append(try payload()) }
        let order = packets.indices.sorted { packets[$0].arrivalMs < packets[$1].arrivalMs }
        var cursor = 0
        var out = [Int16](repeating: 0, count: jb.configuration.codec.sampleRate / 100)
        var t = 0.0
        while t <= untilMs {
            while cursor < order.count && packets[order[cursor]].arrivalMs <= t {
                let p = packets[order[cursor]]
                encoded[order[cursor]].withUnsafeBytes {
                    jb.insert(
                        sequence: p.seq, timestamp: p.ts, ssrc: p.ssrc, marker: false, payload: $0,
                        arrivalNanoseconds: Int64(p.arrivalMs * 1_000_000))
                }
                cursor += 1
            }
            let f = out.withUnsafeMutableBufferPointer { jb.pull(nowNanoseconds: Int64(t * 1_000_000), into: $0) }
            frames.append(f)
            t += 10
        }
    }

    var played: [UInt16] { frames.compactMap { $0.sequence } }
    /// Periods of `kind` in the talking span (first to last period that starts a packet), as the referee counts.
    func count(_ kind: JitterBufferFrameKind) -> Int {
        guard let first = frames.firstIndex(where: { $0.sequence != nil }),
            let last = frames.lastIndex(where: { $0.sequence != nil })
        else { return 0 }
        return frames[first...last].filter { $0.kind == kind }.count
    }
}

/// A 20 ms stream of `count` packets from `firstSeq`/`firstTs`, delivered after `delay(i)` ms.
func stream(
    count: Int, firstSeq: UInt16 = 0, firstTs: UInt32 = 0, startMs: Double = 0, ssrc: UInt32 = 1,
    delay: (Int) -> Double = { _ in 5 }
) -> [ScriptedPacket] {
    (0..<count).map { i in
        ScriptedPacket(
            seq: firstSeq &+ UInt16(truncatingIfNeeded: i), ts: firstTs &+ UInt32(i * 160),
            arrivalMs: startMs + Double(i) * 20 + delay(i), ssrc: ssrc)
    }
}

@Suite("JitterBuffer")
struct JitterBufferTests {
    @Test func inOrderStreamPlaysEveryPacketOnce() throws {
        let h = try JitterBufferHarness()
        try h.run(stream(count: 100), untilMs: 2_300)
        #expect(h.played == (0..<100).map { UInt16($0) })
        #expect(h.count(.expand) == 0)
    }

    @Test func reorderedPacketsPlayInSequence() throws {
        let h = try JitterBufferHarness()
        // Odd packets overtake even ones by 15 ms.
        try h.run(stream(count: 200) { i in i % 2 == 0 ? 30 : 12 }, untilMs: 4_500)
        #expect(h.played == (0..<200).map { UInt16($0) })
        #expect(h.jb.statistics.late == 0)
    }

    @Test func duplicatesAreDroppedAndCounted() throws {
        let h = try JitterBufferHarness()
        var packets = stream(count: 50)
        for i in stride(from: 5, to: 50, by: 7) {
            var d = packets[i]
            d.arrivalMs += 3
            packets.append(d)
        }
        try h.run(packets, untilMs: 1_300)
        #expect(h.played == (0..<50).map { UInt16($0) })
        #expect(h.jb.statistics.duplicates == 7)
    }

    @Test func lostPacketIsConcealed() throws {
        let h = try JitterBufferHarness()
        var packets = stream(count: 60)
        packets.remove(at: 30)
        try h.run(packets, untilMs: 1_500)
        #expect(!h.played.contains(30))
        #expect(h.played.count == 59)
        #expect(h.count(.expand) >= 1 && h.count(.expand) <= 3)
        #expect(h.jb.statistics.concealed >= 1)
    }

    @Test func opusLossIsRecoveredFromFEC() throws {
        let h = try JitterBufferHarness(codec: CodecConfiguration(kind: .opus))
        // Jitter of up to 32 ms: the next packet is waiting when the lost one is due.
        var packets = stream(count: 60) { i in Double(i % 5) * 8 }
        for i in packets.indices { packets[i].ts = UInt32(i * 960) }
        packets.remove(at: 30)
        try h.run(packets, untilMs: 1_500)
        #expect(h.jb.statistics.recoveredFEC >= 1)
        #expect(h.played.count == 59)
    }

    @Test func latePacketIsDroppedAndCounted() throws {
        let h = try JitterBufferHarness()
        // Packet 40 comes 400 ms late, long after its slot.
        try h.run(stream(count: 80) { i in i == 40 ? 400 : 5 }, untilMs: 2_000)
        #expect(!h.played.contains(40))
        #expect(h.jb.statistics.late == 1)
        #expect(h.played.contains(41) && h.played.contains(79))
    }

    @Test func sequenceAndTimestampWrapAround() throws {
        let h = try JitterBufferHarness()
        try h.run(stream(count: 100, firstSeq: 65_500, firstTs: 0xFFFF_F000), untilMs: 2_300)
        #expect(h.played == (0..<100).map { UInt16(truncatingIfNeeded: 65_500 + $0) })
        #expect(h.jb.statistics.resyncs == 0)
    }

    @Test func ssrcChangeResynchronises() throws {
        let h = try JitterBufferHarness()
        let a = stream(count: 50)
        let b = stream(count: 50, firstSeq: 9_000, firstTs: 123_456_789, startMs: 1_000, ssrc: 2)
        try h.run(a + b, untilMs: 2_400)
        #expect(h.jb.statistics.resyncs == 1)
        #expect(h.played.suffix(40) == (10..<50).map { UInt16(9_000 + $0) })
    }

    @Test func timestampJumpResynchronises() throws {
        let h = try JitterBufferHarness()
        let a = stream(count: 50)
        // Same SSRC, sequence follows on, timestamp leaps ahead by ~10 minutes.
        let b = stream(count: 50, firstSeq: 50, firstTs: 80_000 * 60, startMs: 1_000)
        try h.run(a + b, untilMs: 2_400)
        #expect(h.jb.statistics.resyncs == 1)
        #expect(h.played.suffix(40) == (60..<100).map { UInt16($0) })
    }

    @Test func dtxSilenceKeepsTalkspurtsWhole() throws {
        let h = try JitterBufferHarness()
        // Two talkspurts, 1 s of sender silence between (timestamps jump, sequence follows on).
        let a = stream(count: 50)
        let b = stream(count: 50, firstSeq: 50, firstTs: UInt32(50 * 160 + 8_000), startMs: 2_000)
        try h.run(a + b, untilMs: 3_400)
        #expect(h.played == (0..<100).map { UInt16($0) })
        #expect(h.count(.silence) + h.count(.cng) >= 90)
        #expect(h.jb.statistics.late == 0)
    }

    @Test(arguments: [300.0, -300.0])
    func clockDriftDoesNotGrowDelayOrStarve(ppm: Double) throws {
        let h = try JitterBufferHarness()
        // 60 s; the receiver clock runs `ppm` fast or slow: 18 ms of drift in all.
        let packets = stream(count: 3_000) { i in 10 + Double(i) * 20 * ppm * 1e-6 + Double(i % 3) }
        try h.run(packets, untilMs: 60_100)
        #expect(h.played.count == 3_000)
        #expect(h.count(.expand) <= 4)
        if ppm > 0 { #expect(h.jb.statistics.preemptive > 0) } else { #expect(h.jb.statistics.accelerated > 0) }
        // Delay at the end stays near the delay after the start.
        let early = h.frames.prefix(600).filter { $0.kind == .expand }.count
        #expect(early <= 4)
    }

    @Test func stretchingFollowsADelaySpike() throws {
        let h = try JitterBufferHarness()
        // A 200 ms stall at 2 s, released as a burst, then steady again.
        let packets = stream(count: 300) { i in
            let send = Double(i) * 20
            return send >= 2_000 && send < 2_200 ? 2_200 - send + 5 : 5
        }
        try h.run(packets, untilMs: 6_200)
        #expect(h.jb.statistics.preemptive > 0)
        #expect(h.jb.statistics.accelerated > 0)
        // Packets after the spike play at the low delay again.
        let stats = h.jb.statistics
        #expect(stats.late + h.played.count == 300)
        #expect(h.jb.targetDelayMilliseconds < 400)
    }

    @Test func timeStretcherFindsThePitchPeriod() {
        let s = JitterBufferTimeStretcher(sampleRate: 8_000, periodSamples: 80)
        // A 160 Hz pulse-like tone: period 50 samples.
        var x = [Int16](repeating: 0, count: 400)
        for i in 0..<400 { x[i] = Int16(8_000 * SyntheticSpeech.sine(2 * Double.pi * Double(i % 50) / 50)) }
        x.withUnsafeBufferPointer { p in
            let lag = s.findLag(p.baseAddress! + 100, forward: true)
            #expect(lag == 50)
            let back = s.findLag(p.baseAddress! + 100, forward: false)
            #expect(back == 50)
        }
    }

    @Test func estimatorMarginCoversTheJitter() {
        var e = JitterBufferDelayEstimator(packetMilliseconds: 20)
        // Uniform jitter 0...30 ms: the margin ends near the top of it.
        for i in 0..<3_000 { e.observe(delayMilliseconds: 100 + Double((i * 7919) % 31)) }
        #expect(e.marginMilliseconds >= 25 && e.marginMilliseconds <= 32)
        #expect(e.floorMilliseconds >= 100 && e.floorMilliseconds <= 101)
    }

    @Test(.enabled(if: jitterBufferOptimized, "allocation counts are meaningful in optimized builds only"))
    func noAllocationPerFrame() throws {
        let h = try JitterBufferHarness()
        let payloads = try (0..<20).map { _ in try h.payload() }
        var out = [Int16](repeating: 0, count: 80)
        var before: UInt64 = 0
        out.withUnsafeMutableBufferPointer { pcm in
            for k in 0..<2_000 {
                if k == 200 { before = mc_thread_allocations() }
                let t = Double(k) * 10
                if k % 2 == 0 {
                    let i = k / 2
                    if i % 13 != 5 {
                        payloads[i % 20].withUnsafeBytes {
                            h.jb.insert(
                                sequence: UInt16(i), timestamp: UInt32(i * 160), ssrc: 1, marker: false,
                                payload: $0, arrivalNanoseconds: Int64((t + Double(i % 4) * 7) * 1_000_000))
                        }
                    }
                }
                _ = h.jb.pull(nowNanoseconds: Int64(t * 1_000_000), into: pcm)
            }
        }
        let allocations = mc_thread_allocations() - before
        #expect(allocations == 0, "jitter buffer allocated \(allocations) times in 1800 periods")
    }
}
