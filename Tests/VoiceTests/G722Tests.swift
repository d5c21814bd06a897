import CMallocCounter
import Foundation
import TestSupport
import Testing

@testable import Voice

@Suite("G.722 against the ITU-T G.191 vectors")
struct G722Tests {
    /// First index where two arrays differ, for failure messages.
    func firstMismatch<T: Equatable>(_ ours: [T], _ reference: [T]) -> String {
        for i in 0..<min(ours.count, reference.count) where ours[i] != reference[i] {
            return "first mismatch at index \(i): got \(ours[i]), reference \(reference[i])"
        }
        if ours.count != reference.count { return "length \(ours.count) vs reference \(reference.count)" }
        return "identical"
    }

    /// The reference codes: the low byte of each word of codspw.cod.
    func referenceCodes() throws -> [UInt8] {
        try TestData.words("g722/codspw.cod").map { UInt8(truncatingIfNeeded: $0) }
    }

    /// Encodes `input` in chunks of `frame` samples through the pointer API, state carried over.
    func encode(_ input: [Int16], frame: Int, with encoder: inout G722Encoder) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: input.count / 2)
        input.withUnsafeBufferPointer { src in
            codes.withUnsafeMutableBufferPointer { dst in
                var start = 0
                while start < src.count {
                    let count = min(frame, src.count - start)
                    let written = encoder.encode(
                        UnsafeBufferPointer(rebasing: src[start..<(start + count)]),
                        into: UnsafeMutableBufferPointer(rebasing: dst[(start / 2)...]))
                    #expect(written == count / 2)
                    start += count
                }
            }
        }
        return codes
    }

    /// Decodes `codes` in chunks of `frame` codes through the pointer API, state carried over.
    func decode(_ codes: [UInt8], frame: Int, with decoder: inout G722Decoder) -> [Int16] {
        var pcm = [Int16](repeating: 0, count: 2 * codes.count)
        codes.withUnsafeBufferPointer { src in
            pcm.withUnsafeMutableBufferPointer { dst in
                var start = 0
                while start < src.count {
                    let count = min(frame, src.count - start)
                    let written = decoder.decode(
                        UnsafeBufferPointer(rebasing: src[start..<(start + count)]),
                        into: UnsafeMutableBufferPointer(rebasing: dst[(2 * start)...]))
                    #expect(written == 2 * count)
                    start += count
                }
            }
        }
        return pcm
    }

    @Test("the vectors have the documented sizes")
    func vectorSizes() throws {
        #expect(try TestData.words("g722/inpsp.bin").count == 97_536)
        #expect(try TestData.words("g722/codspw.cod").count == 48_768)
        for mode in 1...3 {
            #expect(try TestData.words("g722/outsp\(mode).bin").count == 97_536)
        }
    }

    @Test("encoder matches codspw.cod for the whole file, in one call")
    func encodeWhole() throws {
        let input = try TestData.words("g722/inpsp.bin")
        let reference = try referenceCodes()
        var encoder = G722Encoder()
        let ours = encoder.encode(input)
        #expect(ours == reference, "\(firstMismatch(ours, reference))")
    }

    @Test("encoder matches codspw.cod in frames (320 = 20 ms), state carried over", arguments: [320, 2, 6, 1000])
    func encodeFrames(frame: Int) throws {
        let input = try TestData.words("g722/inpsp.bin")
        let reference = try referenceCodes()
        var encoder = G722Encoder()
        let ours = encode(input, frame: frame, with: &encoder)
        #expect(ours == reference, "frame \(frame): \(firstMismatch(ours, reference))")
    }

    @Test("decoder matches outsp1/2/3.bin in modes 1, 2, 3", arguments: [G722Mode.kbps64, .kbps56, .kbps48])
    func decodeModes(mode: G722Mode) throws {
        let codes = try referenceCodes()
        let reference = try TestData.words("g722/outsp\(mode.rawValue).bin")
        var decoder = G722Decoder(mode: mode)
        #expect(decoder.mode == mode)
        let ours = decoder.decode(codes)
        #expect(ours == reference, "mode \(mode.rawValue): \(firstMismatch(ours, reference))")

        var framed = G722Decoder(mode: mode)
        let oursFramed = decode(codes, frame: 160, with: &framed)
        #expect(
            oursFramed == reference, "mode \(mode.rawValue), 160-code frames: \(firstMismatch(oursFramed, reference))")
    }

    @Test("in modes 2 and 3 the decoder ignores the lower-band code's 1 or 2 LSBs")
    func modesIgnoreLSBs() throws {
        let codes = try referenceCodes()
        for (mode, mask) in [(G722Mode.kbps56, UInt8(0xFE)), (.kbps48, 0xFC)] {
            var plain = G722Decoder(mode: mode)
            var masked = G722Decoder(mode: mode)
            let a = plain.decode(codes)
            let b = masked.decode(codes.map { $0 & mask })
            #expect(a == b, "mode \(mode.rawValue): \(firstMismatch(b, a))")
        }
    }

    @Test("decoding 10,000 random bytes in every mode does not crash and writes every sample")
    func randomBytes() {
        var rng = SplitMix64(seed: 10_000)
        let codes = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for mode in [G722Mode.kbps64, .kbps56, .kbps48] {
            var decoder = G722Decoder(mode: mode)
            let pcm = decoder.decode(codes)
            #expect(pcm.count == 20_000)
            // Int16 cannot leave its range; check that the output is live, not stuck at a rail.
            #expect(Set(pcm).count > 100)
        }
        // Extremes: all-zero, all-ones and alternating codes drive the predictors to their limits.
        for pattern: [UInt8] in [[0x00], [0xFF], [0x00, 0xFF], [0x3F, 0xC0], [0x04, 0xFB]] {
            let stream = (0..<10_000).map { pattern[$0 % pattern.count] }
            var decoder = G722Decoder()
            #expect(decoder.decode(stream).count == 20_000)
        }
    }

    @Test("encoding full-scale noise, square waves and silence does not crash")
    func extremeInput() {
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<16_000).map { _ in Int16.random(in: .min ... .max, using: &rng) }
        let square = (0..<16_000).map { ($0 / 8) % 2 == 0 ? Int16.max : Int16.min }
        for input in [noise, square, [Int16](repeating: 0, count: 16_000)] {
            var encoder = G722Encoder()
            let codes = encoder.encode(input)
            #expect(codes.count == 8_000)
            var decoder = G722Decoder()
            #expect(decoder.decode(codes).count == 16_000)
        }
    }

    @Test("reset() makes a second run identical to the first")
    func resetRepeats() throws {
        let input = try TestData.words("g722/inpsp.bin")
        let reference = try referenceCodes()
        var encoder = G722Encoder()
        let first = encoder.encode(input)
        encoder.reset()
        let second = encoder.encode(input)
        #expect(first == second, "\(firstMismatch(second, first))")
        #expect(second == reference, "\(firstMismatch(second, reference))")

        var decoder = G722Decoder(mode: .kbps56)
        let one = decoder.decode(reference)
        decoder.reset()
        #expect(decoder.mode == .kbps56)
        let two = decoder.decode(reference)
        #expect(one == two, "\(firstMismatch(two, one))")
    }

    @Test("odd and short buffers: whole pairs only, bounded by the output")
    func bufferBounds() {
        var encoder = G722Encoder()
        let pcm: [Int16] = [1, 2, 3, 4, 5]
        var codes = [UInt8](repeating: 0xAA, count: 4)
        let written = pcm.withUnsafeBufferPointer { src in
            codes.withUnsafeMutableBufferPointer { encoder.encode(src, into: $0) }
        }
        #expect(written == 2)
        #expect(codes[2] == 0xAA && codes[3] == 0xAA)

        var decoder = G722Decoder()
        var out = [Int16](repeating: 7, count: 5)
        let samples = [UInt8](repeating: 0x55, count: 4).withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { decoder.decode(src, into: $0) }
        }
        #expect(samples == 4)
        #expect(out[4] == 7)
        #expect(
            encoder.encode(
                UnsafeBufferPointer(start: nil, count: 0), into: UnsafeMutableBufferPointer(start: nil, count: 0)) == 0)
    }

    @Test("encoding and decoding 20 ms frames allocates nothing, whatever the mode")
    func noAllocation() throws {
        let input = try TestData.words("g722/inpsp.bin")
        var codes = [UInt8](repeating: 0, count: 160)
        var pcm = [Int16](repeating: 0, count: 320)
        var encoder = G722Encoder()
        var decoder = G722Decoder()
        let modes: [G722Mode] = [.kbps64, .kbps56, .kbps48]
        let frames = input.count / 320
        var allocations: UInt64 = 0
        input.withUnsafeBufferPointer { src in
            codes.withUnsafeMutableBufferPointer { code in
                pcm.withUnsafeMutableBufferPointer { out in
                    func step(_ f: Int) {
                        let frame = UnsafeBufferPointer(rebasing: src[(f * 320)..<(f * 320 + 320)])
                        _ = encoder.encode(frame, into: code)
                        decoder.mode = modes[f % 3]
                        _ = decoder.decode(UnsafeBufferPointer(code), into: out)
                    }
                    // Warm up: the first use of the tables and of generic code may allocate once.
                    for f in 0..<3 { step(f) }
                    let before = mc_thread_allocations()
                    for f in 3..<frames { step(f) }
                    allocations = mc_thread_allocations() - before
                }
            }
        }
        #expect(allocations == 0, "allocations over \(frames) frames: \(allocations)")
    }

    // MARK: against the literal model, where the vectors do not reach


    /// Full-scale and clipped signals: noise, square waves, overdriven sines, steps, impulses.
    func harshSignals() -> [(String, [Int16])] {
        var rng = SplitMix64(seed: 722)
        func clip(_ x: Double) -> Int16 { Int16(max(min(x, 32767), -32768)) }
        var signals: [(String, [Int16])] = [
            ("full-scale noise", (0..<8_000).map { _ in Int16.random(in: .min ... .max, using: &rng) })
        ]
        for period in [2, 3, 4, 7, 16, 60, 320] {
            signals.append(
                ("square, period \(period)", (0..<4_000).map { ($0 / max(period / 2, 1)) % 2 == 0 ? .max : .min }))
        }
        for hz in [40.0, 300.0, 2_900.0, 7_400.0] {
            let sine = (0..<4_000).map { clip(4 * 32768 * sin(2 * Double.pi * hz * Double($0) / 16_000)) }
            signals.append(("sine \(hz) Hz overdriven 4x", sine))
        }
        let steps = (0..<4_000).map { i -> Int16 in (i / 500) % 2 == 0 ? .max : .min }
        let impulses = (0..<4_000).map { i -> Int16 in i % 97 == 0 ? .min : (i % 97 == 48 ? .max : 0) }
        signals.append(("DC steps", steps))
        signals.append(("impulses", impulses))
        return signals
    }

    @Test("encoder equals the literal reference model on full-scale and clipped signals")
    func encoderMatchesModel() {
        for (name, input) in harshSignals() {
            var encoder = G722Encoder()
            var model = G722Model()
            let ours = encoder.encode(input)
            let theirs = stride(from: 0, to: input.count - 1, by: 2).map { model.encode(input[$0], input[$0 + 1]) }
            #expect(ours == theirs, "\(name): \(firstMismatch(ours, theirs))")
        }
    }

    @Test("decoder equals the literal reference model on arbitrary codes, all modes")
    func decoderMatchesModel() {
        var rng = SplitMix64(seed: 64_000)
        var streams: [(String, [UInt8])] = [("random", (0..<6_000).map { _ in UInt8.random(in: 0...255, using: &rng) })]
        for pattern: [UInt8] in [[0x00], [0xFF], [0x3F], [0xC0], [0x00, 0xFF], [0x3F, 0xC0], [0x04, 0xFB, 0x7C]] {
            streams.append(("pattern \(pattern)", (0..<2_000).map { pattern[$0 % pattern.count] }))
        }
        // Runs of a few favourite codes: scale factors pinned at their limits, predictor sums
        // saturating at 16 bits (the speech vectors never go there).
        for _ in 0..<8 {
            let count = Int.random(in: 1...4, using: &rng)
            let favourites = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var codes: [UInt8] = []
            while codes.count < 3_000 {
                codes += [UInt8](
                    repeating: favourites.randomElement(using: &rng)!, count: .random(in: 1...200, using: &rng))
            }
            streams.append(("runs of \(favourites)", codes))
        }
        // Codes of a harsh signal: large, fast-changing scale factors.
        var encoder = G722Encoder()
        streams.append(("encoded square wave", encoder.encode((0..<8_000).map { ($0 / 3) % 2 == 0 ? .max : .min })))
        for (name, codes) in streams {
            for mode in [G722Mode.kbps64, .kbps56, .kbps48] {
                var decoder = G722Decoder(mode: mode)
                var model = G722Model()
                let ours = decoder.decode(codes)
                let theirs = codes.flatMap { code -> [Int16] in
                    let (a, b) = model.decode(code, mode: mode.rawValue)
                    return [a, b]
                }
                #expect(ours == theirs, "\(name), mode \(mode.rawValue): \(firstMismatch(ours, theirs))")
            }
        }
    }

    @Test("the literal model itself reproduces the ITU vectors")
    func modelMatchesVectors() throws {
        let input = try TestData.words("g722/inpsp.bin")
        let reference = try referenceCodes()
        var model = G722Model()
        let codes = stride(from: 0, to: 16_000, by: 2).map { model.encode(input[$0], input[$0 + 1]) }
        #expect(codes == Array(reference.prefix(8_000)), "\(firstMismatch(codes, Array(reference.prefix(8_000))))")
        let outsp1 = try TestData.words("g722/outsp1.bin")
        var decoder = G722Model()
        let pcm = reference.prefix(8_000).flatMap { code -> [Int16] in
            let (a, b) = decoder.decode(code, mode: 1)
            return [a, b]
        }
        #expect(pcm == Array(outsp1.prefix(16_000)), "\(firstMismatch(pcm, Array(outsp1.prefix(16_000))))")
    }
}

// MARK: - A literal model of the G.191 reference, for inputs the ITU vectors never reach

/// A slow, literal model of the ITU-T G.191 reference G.722 (`funcg722.c`): the 16-bit basic
/// operators with their saturation, array delay lines shifted element by element, the linear
/// QUANTL search, the Recommendation's RIL/RISIL/OQ tables and the SCALEL/SCALEH antilog
/// written as the Recommendation's ILB shift. The optimized codec is checked against it on
/// full-scale inputs and arbitrary codes, which drive the saturations the speech vectors
/// never reach.
fileprivate struct G722Model {
    // Basic operators (G.191 `basop`): Word16 results saturate, Word32 results saturate.
    static func sat(_ x: Int32) -> Int32 { min(max(x, -32768), 32767) }
    static func add(_ a: Int32, _ b: Int32) -> Int32 { sat(a + b) }
    static func sub(_ a: Int32, _ b: Int32) -> Int32 { sat(a - b) }
    static func mult(_ a: Int32, _ b: Int32) -> Int32 { sat((a * b) >> 15) }
    static func shl(_ a: Int32, _ n: Int32) -> Int32 { sat(a << n) }
    static func negate(_ a: Int32) -> Int32 { sat(-a) }
    static func lsat(_ x: Int64) -> Int32 { Int32(min(max(x, Int64(Int32.min)), Int64(Int32.max))) }
    static func limit(_ x: Int32) -> Int32 { min(max(x, -16384), 16383) }

    static let q6: [Int32] = [
        0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023,
        1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 3200,
    ]
    /// IL from (sign, MIL): 63, 62, then 31 ... 4 below zero; 61 ... 32 from zero up.
    static let misil: [[Int32]] = [
        [0, 63, 62] + (4...31).reversed().map { Int32($0) } + [0],
        [0] + (32...61).reversed().map { Int32($0) } + [0],
    ]
    static let ril4: [Int] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0]
    static let risi4: [Int32] = [0, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0]
    static let oq4: [Int32] = [0, 150, 323, 530, 786, 1121, 1612, 2557]
    static let ril5: [Int] = [1, 1] + Array((2...15).reversed()) + Array((1...15).reversed()) + [1]
    static let risi5: [Int32] = [Int32](repeating: -1, count: 16) + [Int32](repeating: 0, count: 15) + [-1]
    static let oq5: [Int32] = [0, 35, 110, 190, 276, 370, 473, 587, 714, 858, 1023, 1219, 1458, 1765, 2195, 2919]
    static let ril6: [Int] = [1, 1, 1, 1] + Array((3...30).reversed()) + Array((1...30).reversed()) + [2, 1]
    static let risi6: [Int32] = [Int32](repeating: -1, count: 32) + [Int32](repeating: 0, count: 30) + [-1, -1]
    static let oq6: [Int32] = [
        0, 17, 54, 91, 130, 170, 211, 254, 300, 347, 396, 447, 501, 558, 618, 682, 750, 822, 899, 982,
        1072, 1170, 1279, 1399, 1535, 1689, 1873, 2088, 2376, 2738, 3101,
    ]
    static let wl: [Int32] = [-60, -30, 58, 172, 334, 538, 1198, 3042]
    static let ilb: [Int32] = [
        2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
        2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
    ]
    static let qmfCoefficients: [Int32] = [
        3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
        3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3,
    ].map { $0 * 2 }

    /// SCALEL / SCALEH: DET = (ILB(NB >> 6 & 31) >> (shift - NB >> 11)) << 2.
    static func scale(_ nb: Int32, shift: Int32) -> Int32 {
        let wd2 = shift - (nb >> 11)
        let wd3 = wd2 < 0 ? ilb[Int((nb >> 6) & 31)] << -wd2 : ilb[Int((nb >> 6) & 31)] >> wd2
        return wd3 << 2
    }

    struct Band {
        var det: Int32
        var nb: Int32 = 0, s: Int32 = 0, sz: Int32 = 0
        var a = [Int32](repeating: 0, count: 3), b = [Int32](repeating: 0, count: 7)
        var d = [Int32](repeating: 0, count: 7), p = [Int32](repeating: 0, count: 3)
        var r = [Int32](repeating: 0, count: 3)

        /// Block 4 once D(0) is set: PARREC, RECONS, UPZERO, UPPOL2, UPPOL1, FILTEZ, FILTEP, PREDIC.
        mutating func block4() {
            p[0] = add(d[0], sz)
            r[0] = add(s, d[0])
            let step: Int32 = d[0] == 0 ? 0 : 128
            for i in stride(from: 6, to: 0, by: -1) {
                let wd2 = (d[0] >> 15) == (d[i] >> 15) ? step : sub(0, step)
                b[i] = add(wd2, mult(b[i], 32640))
                d[i] = d[i - 1]
            }
            var wd1 = shl(a[1], 2)
            var wd2 = (p[0] >> 15) == (p[1] >> 15) ? sub(0, wd1) : wd1
            wd2 >>= 7
            let wd3: Int32 = (p[0] >> 15) == (p[2] >> 15) ? 128 : -128
            a[2] = min(max(add(add(wd2, wd3), mult(a[2], 32512)), -12288), 12288)
            wd1 = (p[0] >> 15) == (p[1] >> 15) ? 192 : -192
            var apl1 = add(wd1, mult(a[1], 32640))
            let lim = sub(15360, a[2])
            if sub(apl1, lim) > 0 { apl1 = lim } else if add(apl1, lim) < 0 { apl1 = negate(lim) }
            p[2] = p[1]
            p[1] = p[0]
            a[1] = apl1
            var z: Int32 = 0
            for i in stride(from: 6, to: 0, by: -1) { z = add(z, mult(add(d[i], d[i]), b[i])) }
            sz = z
            r[2] = r[1]
            r[1] = r[0]
            let sp = add(mult(a[1], add(r[1], r[1])), mult(a[2], add(r[2], r[2])))
            s = add(sp, sz)
        }

        /// INVQAL, LOGSCL, SCALEL and block 4 for the 6-bit code `il`.
        mutating func adaptLower(_ il: Int32) {
            let ril = Int(il >> 2)
            let wd1 = shl(oq4[ril4[ril]], 3)
            d[0] = mult(det, risi4[ril] == 0 ? wd1 : negate(wd1))
            nb = min(max(add(mult(nb, 32512), wl[ril4[ril]]), 0), 18432)
            det = scale(nb, shift: 8)
            block4()
        }

        /// INVQAH, LOGSCH, SCALEH and block 4 for the 2-bit code `ih`.
        mutating func adaptHigher(_ ih: Int32) {
            let level: Int32 = ih & 1 == 0 ? 926 : 202
            let wd1 = shl(level, 3)
            d[0] = mult(ih >= 2 ? wd1 : negate(wd1), det)
            nb = min(max(add(mult(nb, 32512), ih & 1 == 0 ? 798 : -214), 0), 22528)
            det = scale(nb, shift: 10)
            block4()
        }
    }

    var low = Band(det: 32), high = Band(det: 8)
    var delay = [Int32](repeating: 0, count: 24)

    /// One 24-tap QMF step on the delay line; returns the even and odd accumulators.
    mutating func qmf(_ newer: Int32, _ older: Int32) -> (Int32, Int32) {
        delay[0] = newer
        delay[1] = older
        var even: Int32 = 0, odd: Int32 = 0
        for i in 0..<12 {
            even = Self.lsat(Int64(even) + Int64(Self.qmfCoefficients[2 * i] * delay[2 * i]))
            odd = Self.lsat(Int64(odd) + Int64(Self.qmfCoefficients[2 * i + 1] * delay[2 * i + 1]))
        }
        for i in stride(from: 23, through: 2, by: -1) { delay[i] = delay[i - 2] }
        return (even, odd)
    }

    /// The reference `g722_encode` for one pair of samples.
    mutating func encode(_ first: Int16, _ second: Int16) -> UInt8 {
        let (a, b) = qmf(Int32(second), Int32(first))
        let low2 = Self.lsat(2 * Int64(Self.lsat(Int64(a) + Int64(b))))
        let high2 = Self.lsat(2 * Int64(Self.lsat(Int64(a) - Int64(b))))
        let xl = Self.limit(Int32(truncatingIfNeeded: Int16(truncatingIfNeeded: low2 >> 16)))
        let xh = Self.limit(Int32(truncatingIfNeeded: Int16(truncatingIfNeeded: high2 >> 16)))

        let el = Self.sub(xl, low.s)
        let wd = el >> 15 == 0 ? el : Self.sub(32767, el & 32767)
        var mil = 0
        var val = Self.mult(Self.shl(Self.q6[mil], 3), low.det)
        while Self.sub(val, wd) <= 0 {
            if mil == 30 { break }
            mil += 1
            val = Self.mult(Self.shl(Self.q6[mil], 3), low.det)
        }
        let il = Self.misil[Int(el >> 15) + 1][mil]
        low.adaptLower(il)

        let eh = Self.sub(xh, high.s)
        let wdh = eh >> 15 == 0 ? eh : Self.sub(32767, eh & 32767)
        let outer = Self.sub(wdh, Self.mult(Self.shl(564, 3), high.det)) >= 0
        let ih: Int32 = eh >> 15 == 0 ? (outer ? 2 : 3) : (outer ? 0 : 1)
        high.adaptHigher(ih)
        return UInt8(truncatingIfNeeded: (ih << 6) + il)
    }

    /// The reference `g722_decode` for one code in `mode` (1, 2 or 3).
    mutating func decode(_ code: UInt8, mode: Int) -> (Int16, Int16) {
        let il = Int32(code & 0x3F)
        let ih = Int32(code >> 6)
        let wd1: Int32
        let negative: Bool
        switch mode {
        case 1:
            wd1 = Self.shl(Self.oq6[Self.ril6[Int(il)]], 3)
            negative = Self.risi6[Int(il)] != 0
        case 2:
            wd1 = Self.shl(Self.oq5[Self.ril5[Int(il >> 1)]], 3)
            negative = Self.risi5[Int(il >> 1)] != 0
        default:
            wd1 = Self.shl(Self.oq4[Self.ril4[Int(il >> 2)]], 3)
            negative = Self.risi4[Int(il >> 2)] != 0
        }
        let dl = Self.mult(low.det, negative ? Self.sub(0, wd1) : wd1)
        let rl = Self.limit(Self.add(low.s, dl))
        low.adaptLower(il)
        high.adaptHigher(ih)
        let rh = Self.limit(high.r[0])

        let (a, b) = qmf(Self.sub(rl, rh), Self.add(rl, rh))
        let out1 = Self.lsat(Int64(a) << 4) >> 16
        let out2 = Self.lsat(Int64(b) << 4) >> 16
        return (Int16(truncatingIfNeeded: out1), Int16(truncatingIfNeeded: out2))
    }
}
