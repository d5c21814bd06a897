import CMallocCounter
import Foundation
import Testing

@testable import Voice

#if DEBUG
    /// Allocation counts are asserted on optimized builds only (as in ReactorTests).
    private let opusOptimizedBuild = false
#else
    private let opusOptimizedBuild = true
#endif

/// Deterministic generator for the random-packet and test-signal code.
private struct OpusTestLCG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}

/// Test signals and measurements.
private enum OpusSignal {
    /// Two tones (300 Hz and 1 kHz), amplitude about a quarter of full scale.
    static func tones(_ count: Int, rate: Int) -> [Int16] {
        (0..<count).map { i in
            let t = Double(i) / Double(rate)
            return Int16(6000 * sin(2 * .pi * 300 * t) + 3000 * sin(2 * .pi * 1000 * t))
        }
    }

    /// A rising sweep (200 Hz up by 3 kHz per second): not periodic, so the correlation peak
    /// sits at the true codec delay (a steady tone's peak can slip by a fraction of a period).
    static func chirp(_ count: Int, rate: Int) -> [Int16] {
        var phase = 0.0
        return (0..<count).map { i in
            phase += 2 * .pi * (200 + 3000 * Double(i) / Double(rate)) / Double(rate)
            return Int16(8000 * sin(phase))
        }
    }

    /// Speech-like: a harmonic buzz whose pitch and loudness change every 20 ms, so concealment
    /// (which extrapolates the last pitch period) cannot guess the next frame.
    static func speechLike(_ count: Int, rate: Int, seed: UInt64) -> [Int16] {
        var rng = OpusTestLCG(state: seed)
        var out = [Int16](repeating: 0, count: count)
        let segment = rate / 50
        var phase = 0.0
        var pitch = 150.0
        var gain = 0.5
        for i in 0..<count {
            if i % segment == 0 {
                pitch = 100 + Double(rng.next() % 200)
                gain = 0.2 + Double(rng.next() % 80) / 100
            }
            phase += 2 * .pi * pitch / Double(rate)
            var v = 0.0
            for h in 1...6 where Double(h) * pitch < Double(rate) / 2 { v += sin(Double(h) * phase) / Double(h) }
            out[i] = Int16(max(-32000, min(32000, 9000 * gain * v)))
        }
        return out
    }

    /// Best normalized cross-correlation of `output` against `input` delayed by 0...maxDelay,
    /// over the samples from `start`; returns (correlation, delay).
    static func bestCorrelation(_ input: [Int16], _ output: [Int16], start: Int, maxDelay: Int) -> (Double, Int) {
        var best = (-1.0, 0)
        for delay in 0...maxDelay {
            var xy = 0.0, xx = 0.0, yy = 0.0
            for i in start..<output.count where i - delay >= 0 {
                let x = Double(input[i - delay]), y = Double(output[i])
                xy += x * y
                xx += x * x
                yy += y * y
            }
            let c = xy / max(1, (xx * yy).squareRoot())
            if c > best.0 { best = (c, delay) }
        }
        return best
    }

    static func energy(_ s: ArraySlice<Int16>) -> Double { s.reduce(0.0) { $0 + Double($1) * Double($1) } }

    static func errorEnergy(_ a: ArraySlice<Int16>, _ b: ArraySlice<Int16>) -> Double {
        zip(a, b).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
    }
}

/// Encodes `pcm` frame by frame; returns the packets.
private func opusEncodeAll(_ encoder: OpusEncoder, _ pcm: [Int16]) throws -> [[UInt8]] {
    let frame = encoder.frameSamples * encoder.channels
    var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
    var packets: [[UInt8]] = []
    try pcm.withUnsafeBufferPointer { all in
        for start in stride(from: 0, to: all.count - frame + 1, by: frame) {
            let slice = UnsafeBufferPointer(rebasing: all[start..<start + frame])
            let n = try packet.withUnsafeMutableBytes { try encoder.encode(slice, into: $0) }
            packets.append(Array(packet[0..<n]))
        }
    }
    return packets
}

/// Decodes one packet into a fresh array of the decoded length.
private func opusDecodeOne(_ decoder: OpusDecoder, _ packet: [UInt8]) throws -> [Int16] {
    var pcm = [Int16](repeating: 0, count: decoder.maxPacketSamples * decoder.channels)
    let n = try packet.withUnsafeBytes { bytes in
        try pcm.withUnsafeMutableBufferPointer { try decoder.decode(bytes, into: $0) }
    }
    return Array(pcm[0..<n * decoder.channels])
}

@Suite("Opus")
struct OpusTests {
    @Test(
        "round trip of a sweep correlates with the input at the encoder's look-ahead",
        arguments: [8000, 16000, 48000], [10, 20, 40, 60])
    func roundTrip(rate: Int, ms: Int) throws {
        let encoder = try OpusEncoder(OpusSettings(sampleRate: rate, frameMilliseconds: ms, bitrate: 32000))
        let decoder = try OpusDecoder(sampleRate: rate)
        #expect(encoder.frameSamples == rate / 1000 * ms)
        let input = OpusSignal.chirp(rate * 6 / 10 / encoder.frameSamples * encoder.frameSamples, rate: rate)
        var output: [Int16] = []
        for packet in try opusEncodeAll(encoder, input) {
            #expect(packet.count > 2 && packet.count <= OpusEncoder.maxPacketBytes)
            let pcm = try opusDecodeOne(decoder, packet)
            #expect(pcm.count == encoder.frameSamples)
            #expect(decoder.lastPacketDuration == encoder.frameSamples)
            output += pcm
        }
        #expect(output.count == input.count)
        let (corr, delay) = OpusSignal.bestCorrelation(input, output, start: rate / 5, maxDelay: 2 * encoder.lookahead)
        #expect(corr > 0.95, "correlation \(corr) at delay \(delay), lookahead \(encoder.lookahead)")
        #expect(abs(delay - encoder.lookahead) <= rate / 1000, "delay \(delay) vs lookahead \(encoder.lookahead)")
    }

    @Test("encoder and decoder final ranges agree on every packet (the ctl shims work)")
    func finalRanges() throws {
        let encoder = try OpusEncoder(OpusSettings(sampleRate: 16000, frameMilliseconds: 20))
        let decoder = try OpusDecoder(sampleRate: 16000)
        let input = OpusSignal.speechLike(16000, rate: 16000, seed: 3)
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        var pcm = [Int16](repeating: 0, count: decoder.maxPacketSamples)
        try input.withUnsafeBufferPointer { all in
            for start in stride(from: 0, to: all.count, by: 320) {
                let n = try packet.withUnsafeMutableBytes {
                    try encoder.encode(UnsafeBufferPointer(rebasing: all[start..<start + 320]), into: $0)
                }
                let range = encoder.finalRange
                _ = try packet.withUnsafeBytes { bytes in
                    try pcm.withUnsafeMutableBufferPointer {
                        try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[0..<n]), into: $0)
                    }
                }
                #expect(decoder.finalRange == range)
            }
        }
    }

    @Test("stereo encodes and decodes interleaved frames")
    func stereo() throws {
        let encoder = try OpusEncoder(OpusSettings(sampleRate: 48000, channels: 2, frameMilliseconds: 20))
        let decoder = try OpusDecoder(sampleRate: 48000, channels: 2)
        let mono = OpusSignal.tones(960 * 10, rate: 48000)
        var interleaved = [Int16](repeating: 0, count: mono.count * 2)
        for i in 0..<mono.count { interleaved[2 * i] = mono[i]; interleaved[2 * i + 1] = mono[i] / 2 }
        let packets = try opusEncodeAll(encoder, interleaved)
        #expect(packets.count == 10)
        for packet in packets { #expect(try opusDecodeOne(decoder, packet).count == 1920) }
    }

    @Test("out-of-range settings and wrong frame sizes throw with a clear message")
    func badSettings() throws {
        #expect(throws: CodecError.self) { try OpusEncoder(OpusSettings(sampleRate: 44100)) }
        #expect(throws: CodecError.self) { try OpusEncoder(OpusSettings(channels: 3)) }
        #expect(throws: CodecError.self) { try OpusEncoder(OpusSettings(frameMilliseconds: 30)) }
        #expect(throws: CodecError.self) { try OpusEncoder(OpusSettings(bitrate: 100)) }
        #expect(throws: CodecError.self) { try OpusEncoder(OpusSettings(complexity: 11)) }
        #expect(throws: CodecError.self) { try OpusEncoder(OpusSettings(expectedLossPercent: 101)) }
        #expect(throws: CodecError.self) { try OpusDecoder(sampleRate: 22050) }
        #expect(throws: CodecError.self) { try OpusDecoder(sampleRate: 48000, channels: 0) }

        let encoder = try OpusEncoder(OpusSettings(sampleRate: 16000, frameMilliseconds: 20))
        let short = [Int16](repeating: 0, count: 319)
        var packet = [UInt8](repeating: 0, count: 100)
        let error = #expect(throws: CodecError.self) {
            try short.withUnsafeBufferPointer { pcm in
                try packet.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
            }
        }
        #expect(error?.message == "opus_encode: 319 samples given, a 20 ms frame needs 320")
        #expect(throws: CodecError.self) { try encoder.setComplexity(-1) }
        #expect(encoder.settings.complexity == 5)
    }

    @Test("a packet buffer under 3 bytes throws; a small one caps the packet size")
    func smallPacketBuffer() throws {
        let encoder = try OpusEncoder(OpusSettings(sampleRate: 48000, bitrate: 64000))
        let input = OpusSignal.tones(960, rate: 48000)
        var tiny = [UInt8](repeating: 0, count: 2)
        let error = #expect(throws: CodecError.self) {
            try input.withUnsafeBufferPointer { pcm in
                try tiny.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
            }
        }
        #expect(error?.message == "opus_encode: packet buffer of 2 bytes is too small (at least 3)")
        var small = [UInt8](repeating: 0, count: 40)
        let n = try input.withUnsafeBufferPointer { pcm in
            try small.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
        }
        #expect(n > 2 && n <= 40)
    }

    @Test("a malformed packet throws 'opus_decode: corrupted stream'")
    func corrupted() throws {
        let decoder = try OpusDecoder(sampleRate: 16000)
        // Code 3 (arbitrary frame count) with a frame count of zero is invalid (RFC 6716 §3.2.5).
        let error = #expect(throws: CodecError.self) { _ = try opusDecodeOne(decoder, [0x03, 0x00]) }
        #expect(error?.message == "opus_decode: corrupted stream")
        #expect(throws: CodecError.self) { _ = try opusDecodeOne(decoder, []) }
    }

    @Test("DTX: silence becomes packets of 2 bytes or less")
    func dtx() throws {
        func smallPackets(dtx: Bool) throws -> Int {
            let encoder = try OpusEncoder(OpusSettings(sampleRate: 16000, frameMilliseconds: 20, dtx: dtx))
            #expect(encoder.settings.dtx == dtx)
            let packets = try opusEncodeAll(encoder, [Int16](repeating: 0, count: 320 * 50))
            return packets.filter { !OpusEncoder.needsTransmission(packetBytes: $0.count) }.count
        }
        // libopus 1.3 enters DTX after 10 frames (200 ms) of silence and then sends one normal
        // packet every 400 ms to refresh comfort noise: 38 or 39 of 50 frames.
        let withDTX = try smallPackets(dtx: true)
        let withoutDTX = try smallPackets(dtx: false)
        #expect(withDTX >= 36, "DTX packets in 50 frames of silence: \(withDTX)")
        #expect(withoutDTX == 0, "tiny packets without DTX: \(withoutDTX)")
    }

    @Test("the bit rate setting changes the average packet size")
    func bitrate() throws {
        func averageBytes(_ bitrate: Int) throws -> Double {
            let encoder = try OpusEncoder(OpusSettings(sampleRate: 48000, frameMilliseconds: 20, bitrate: bitrate))
            #expect(encoder.effectiveBitrate == bitrate)
            let packets = try opusEncodeAll(encoder, OpusSignal.speechLike(48000, rate: 48000, seed: 7))
            return Double(packets.reduce(0) { $0 + $1.count }) / Double(packets.count)
        }
        let low = try averageBytes(12000)
        let high = try averageBytes(64000)
        // 12 kbit/s at 50 packets/s is 30 bytes; 64 kbit/s is 160 bytes (VBR wanders around these).
        #expect(low > 15 && low < 45, "12 kbit/s average \(low) bytes")
        #expect(high > 110 && high < 210, "64 kbit/s average \(high) bytes")

        let encoder = try OpusEncoder(OpusSettings(sampleRate: 48000))
        try encoder.setBitrate(24000)
        #expect(encoder.effectiveBitrate == 24000)
        #expect(encoder.settings.bitrate == 24000)
        try encoder.setBitrate(nil)
        #expect(encoder.settings.bitrate == nil)
        #expect(throws: CodecError.self) { try encoder.setBitrate(600_000) }
        try encoder.setExpectedLossPercent(10)
        try encoder.setInbandFEC(true)
        try encoder.setDTX(true)
        try encoder.reset()
        #expect(encoder.settings.expectedLossPercent == 10 && encoder.settings.inbandFEC && encoder.settings.dtx)
    }

    @Test("conceal writes frameSamples samples that continue the signal", arguments: [8000, 16000, 48000])
    func conceal(rate: Int) throws {
        let encoder = try OpusEncoder(OpusSettings(sampleRate: rate, frameMilliseconds: 20))
        let decoder = try OpusDecoder(sampleRate: rate)
        for packet in try opusEncodeAll(encoder, OpusSignal.tones(rate / 2, rate: rate)) {
            _ = try opusDecodeOne(decoder, packet)
        }
        let frame = encoder.frameSamples
        var pcm = [Int16](repeating: 0, count: frame)
        let n = try pcm.withUnsafeMutableBufferPointer { try decoder.conceal(frameSamples: frame, into: $0) }
        #expect(n == frame)
        #expect(decoder.lastPacketDuration == frame)
        #expect(OpusSignal.energy(pcm[...]) > 0, "concealment after a tone is not silence")
        // Not a multiple of 2.5 ms, longer than 120 ms, and a buffer too short: all refused.
        #expect(throws: CodecError.self) {
            try pcm.withUnsafeMutableBufferPointer { try decoder.conceal(frameSamples: frame - 1, into: $0) }
        }
        #expect(throws: CodecError.self) {
            try pcm.withUnsafeMutableBufferPointer { try decoder.conceal(frameSamples: rate / 1000 * 140, into: $0) }
        }
        #expect(throws: CodecError.self) {
            try pcm.withUnsafeMutableBufferPointer { try decoder.conceal(frameSamples: frame * 2, into: $0) }
        }
    }

    /// Loses packet `lost` of `packets`; returns the lost frame as produced by concealment or by
    /// FEC recovery from the next packet, and the frame decoded without loss.
    private func lossFrames(_ packets: [[UInt8]], lost: Int, frame: Int, rate: Int) throws
        -> (truth: [Int16], concealed: [Int16], recovered: [Int16])
    {
        let reference = try OpusDecoder(sampleRate: rate)
        let concealing = try OpusDecoder(sampleRate: rate)
        let recovering = try OpusDecoder(sampleRate: rate)
        var truth: [Int16] = []
        for (i, packet) in packets.enumerated() {
            let pcm = try opusDecodeOne(reference, packet)
            if i == lost { truth = pcm }
            if i < lost {
                _ = try opusDecodeOne(concealing, packet)
                _ = try opusDecodeOne(recovering, packet)
            }
        }
        var concealed = [Int16](repeating: 0, count: frame)
        var recovered = [Int16](repeating: 0, count: frame)
        let c = try concealed.withUnsafeMutableBufferPointer { try concealing.conceal(frameSamples: frame, into: $0) }
        let r = try packets[lost + 1].withUnsafeBytes { next in
            try recovered.withUnsafeMutableBufferPointer {
                try recovering.recoverFromNext(next, frameSamples: frame, into: $0)
            }
        }
        #expect(c == frame && r == frame)
        #expect(try opusDecodeOne(recovering, packets[lost + 1]).count == frame, "next packet still decodes")
        return (truth, concealed, recovered)
    }

    @Test("in-band FEC: the frame recovered from the next packet beats concealment")
    func fec() throws {
        let rate = 16000, frame = 320
        let input = OpusSignal.speechLike(rate * 2, rate: rate, seed: 11)
        var settings = OpusSettings(sampleRate: rate, frameMilliseconds: 20, bitrate: 28000)
        let withoutFEC = try opusEncodeAll(OpusEncoder(settings), input)
        settings.inbandFEC = true
        settings.expectedLossPercent = 20
        let withFEC = try opusEncodeAll(OpusEncoder(settings), input)

        var fecWins = 0
        var fecError = 0.0, plcError = 0.0
        let losses = Array(stride(from: 20, to: 95, by: 5))
        for lost in losses {
            let on = try lossFrames(withFEC, lost: lost, frame: frame, rate: rate)
            let e1 = OpusSignal.errorEnergy(on.recovered[...], on.truth[...])
            let e2 = OpusSignal.errorEnergy(on.concealed[...], on.truth[...])
            #expect(OpusSignal.energy(on.recovered[...]) > 0.1 * OpusSignal.energy(on.truth[...]))
            if e1 < e2 { fecWins += 1 }
            fecError += e1
            plcError += e2
            // Without FEC data in the next packet libopus falls back to concealment: same samples.
            let off = try lossFrames(withoutFEC, lost: lost, frame: frame, rate: rate)
            #expect(off.recovered == off.concealed, "no FEC data: recovery is concealment (lost \(lost))")
        }
        #expect(fecWins >= losses.count * 3 / 4, "FEC beat concealment on \(fecWins) of \(losses.count) losses")
        #expect(fecError < plcError / 2, "total error: FEC \(fecError), concealment \(plcError)")
    }

    @Test("1000 random packets throw or decode, never crash")
    func randomPackets() throws {
        let decoder = try OpusDecoder(sampleRate: 48000)
        var rng = OpusTestLCG(state: 42)
        var pcm = [Int16](repeating: 0, count: decoder.maxPacketSamples)
        var threw = 0, decoded = 0
        for _ in 0..<1000 {
            let length = 1 + Int(rng.next() % 300)
            let packet = (0..<length).map { _ in rng.byte() }
            do {
                let n = try packet.withUnsafeBytes { bytes in
                    try pcm.withUnsafeMutableBufferPointer { try decoder.decode(bytes, into: $0) }
                }
                #expect(n > 0 && n <= decoder.maxPacketSamples)
                decoded += 1
            } catch let error as CodecError {
                #expect(error.message.hasPrefix("opus_decode: "))
                threw += 1
            }
            // The same garbage as an FEC source, and as a packet for a too-short buffer.
            _ = try? packet.withUnsafeBytes { bytes in
                try pcm.withUnsafeMutableBufferPointer {
                    try decoder.recoverFromNext(bytes, frameSamples: 960, into: $0)
                }
            }
            _ = try? packet.withUnsafeBytes { bytes in
                try pcm.withUnsafeMutableBufferPointer {
                    try decoder.decode(bytes, into: UnsafeMutableBufferPointer(rebasing: $0[0..<100]))
                }
            }
            _ = try? packet.withUnsafeBytes { try OpusDecoder.samples(in: $0, sampleRate: 48000) }
        }
        #expect(threw + decoded == 1000)
        #expect(threw > 0, "some random packets are malformed (\(threw) threw, \(decoded) decoded)")
    }

    @Test("packet sample count without decoding")
    func packetSamples() throws {
        let encoder = try OpusEncoder(OpusSettings(sampleRate: 16000, frameMilliseconds: 60))
        let packet = try opusEncodeAll(encoder, OpusSignal.tones(960, rate: 16000))[0]
        #expect(try packet.withUnsafeBytes { try OpusDecoder.samples(in: $0, sampleRate: 48000) } == 2880)
        #expect(try packet.withUnsafeBytes { try OpusDecoder.samples(in: $0, sampleRate: 16000) } == 960)
    }

    @Test("encoding and decoding a frame allocates nothing")
    func noAllocation() throws {
        let encoder = try OpusEncoder(
            OpusSettings(sampleRate: 16000, frameMilliseconds: 20, inbandFEC: true, expectedLossPercent: 10))
        let decoder = try OpusDecoder(sampleRate: 16000)
        let input = OpusSignal.speechLike(16000, rate: 16000, seed: 5)
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        var pcm = [Int16](repeating: 0, count: decoder.maxPacketSamples)
        var allocations: UInt64 = 0
        try input.withUnsafeBufferPointer { all in
            try packet.withUnsafeMutableBytes { out in
                try pcm.withUnsafeMutableBufferPointer { pcmOut in
                    for round in 0..<2 {  // the first round warms up
                        let before = mc_thread_allocations()
                        for start in stride(from: 0, to: all.count, by: 320) {
                            let n = try encoder.encode(
                                UnsafeBufferPointer(rebasing: all[start..<start + 320]), into: out)
                            let bytes = UnsafeRawBufferPointer(rebasing: out[0..<n])
                            if start % 3200 == 0 {
                                _ = try decoder.conceal(frameSamples: 320, into: pcmOut)
                                _ = try decoder.recoverFromNext(bytes, frameSamples: 320, into: pcmOut)
                            }
                            _ = try decoder.decode(bytes, into: pcmOut)
                        }
                        if round == 1 { allocations = mc_thread_allocations() - before }
                    }
                }
            }
        }
        if opusOptimizedBuild { #expect(allocations == 0, "allocations in 50 frames: \(allocations)") }
    }
}
