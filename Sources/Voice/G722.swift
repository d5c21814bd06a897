/// ITU-T G.722 sub-band ADPCM (SB-ADPCM): 16 kHz 16-bit PCM at 64 kbit/s, decodable at
/// 64, 56 and 48 kbit/s. Bit-exact with the ITU-T G.191 (STL) reference `g722.c`/`funcg722.c`
/// on its test vectors (`inpsp.bin`, `codspw.cod`, `outsp1..3.bin`), including the reference's
/// saturating 16-bit arithmetic (the `add`/`sub`/`shl`/`L_shl` basic operators) wherever it
/// can saturate; everywhere else plain wrapping 32-bit arithmetic is used because the operands
/// are provably in range (the bound is noted at each place).
///
/// Names follow the Recommendation's computational blocks: 1L SUBTRA, 2L QUANTL, 3L INVQAL/
/// LOGSCL/SCALEL, 4 (both bands) RECONS/PARREC/UPZERO/UPPOL2/UPPOL1/FILTEZ/FILTEP/PREDIC,
/// 5L INVQBL/LIMIT, 1H-3H (SUBTRA/QUANTH/INVQAH/LOGSCH/SCALEH) for the higher band, and the
/// transmit/receive QMF. The state is stored `Int32` fields and one `InlineArray`: no arrays
/// in the state, nothing allocated on the coding path, and data-dependent selects are written
/// branch-free (sign masks) because mispredicted branches dominate on small cores.

/// G.722 decoder operating mode: how many bits of each lower-band code make the output.
public enum G722Mode: Int, Sendable {
    /// Mode 1, 64 kbit/s: all six lower-band bits (6-bit INVQBL).
    case kbps64 = 1
    /// Mode 2, 56 kbit/s: the lower-band code's LSB is ignored (5-bit INVQBL).
    case kbps56 = 2
    /// Mode 3, 48 kbit/s: the lower-band code's two LSBs are ignored (4-bit INVQBL).
    case kbps48 = 3
}

// MARK: - Tables (of the Recommendation's QUANTL, INVQAL/INVQBL, LOGSCL and SCALEL blocks)
//
// The inverse quantizer tables are pre-composed per code: value = ±(output level) << 3, the
// sign and level taken from the Recommendation's RIL/RISIL/OQ tables, so INVQ = (DET * t) >> 15.

/// QUANTL decision levels Q6(1...29), padded to 32 with Q6(29) for a branch-free binary search.
let g722Q6: [Int32] = [
    35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786,
    858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 2919, 2919, 2919,
]

/// INVQAL (block 3L): the 4-bit inverse quantizer, indexed by the 6-bit code (IL >> 2 levels).
let g722QM4: [Int16] = [
    0, 0, 0, 0, -20456, -20456, -20456, -20456, -12896, -12896, -12896, -12896, -8968, -8968, -8968, -8968,
    -6288, -6288, -6288, -6288, -4240, -4240, -4240, -4240, -2584, -2584, -2584, -2584, -1200, -1200, -1200, -1200,
    20456, 20456, 20456, 20456, 12896, 12896, 12896, 12896, 8968, 8968, 8968, 8968, 6288, 6288, 6288, 6288,
    4240, 4240, 4240, 4240, 2584, 2584, 2584, 2584, 1200, 1200, 1200, 1200, 0, 0, 0, 0,
]

/// INVQBL mode 2 (block 5L): the 5-bit inverse quantizer, indexed by the 6-bit code.
let g722QM5: [Int16] = [
    -280, -280, -280, -280, -23352, -23352, -17560, -17560, -14120, -14120, -11664, -11664, -9752, -9752,
    -8184, -8184, -6864, -6864, -5712, -5712, -4696, -4696, -3784, -3784, -2960, -2960, -2208, -2208,
    -1520, -1520, -880, -880, 23352, 23352, 17560, 17560, 14120, 14120, 11664, 11664, 9752, 9752,
    8184, 8184, 6864, 6864, 5712, 5712, 4696, 4696, 3784, 3784, 2960, 2960, 2208, 2208,
    1520, 1520, 880, 880, 280, 280, -280, -280,
]

/// INVQBL mode 1 (block 5L): the 6-bit inverse quantizer, indexed by the 6-bit code.
let g722QM6: [Int16] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360,
    -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032,
    -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360,
    8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
    1688, 1360, 1040, 728, 432, 136, -432, -136,
]

/// LOGSCL (block 3L): the log scale-factor multiplier W(IL), indexed by the 4-bit code IL >> 2.
let g722WL: [Int32] = [-60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58, -30, -60]

/// SCALEL/SCALEH (blocks 3L/3H): DET = (ILA(NB >> 6 [+ 64 in the lower band]) + 1) << 2, i.e. the
/// Recommendation's ILB antilog table shifted by NB >> 11; 353 entries, 8 ... 16384.
let g722Det: [Int16] = [
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 20, 20, 20, 20, 20,
    20, 20, 20, 24, 24, 24, 24, 24, 24, 24, 28, 28, 28, 28, 28, 28,
    32, 32, 32, 32, 32, 32, 36, 36, 36, 36, 36, 40, 40, 40, 40, 44,
    44, 44, 44, 48, 48, 48, 48, 52, 52, 52, 56, 56, 56, 56, 60, 60,
    64, 64, 64, 68, 68, 68, 72, 72, 76, 76, 76, 80, 80, 84, 84, 88,
    88, 92, 92, 96, 96, 100, 100, 104, 104, 108, 112, 112, 116, 116, 120, 124,
    128, 128, 132, 136, 136, 140, 144, 148, 152, 152, 156, 160, 164, 168, 172, 176,
    180, 184, 188, 192, 196, 200, 204, 208, 212, 220, 224, 228, 232, 236, 244, 248,
    256, 260, 264, 272, 276, 284, 288, 296, 304, 308, 316, 324, 332, 336, 344, 352,
    360, 368, 376, 384, 392, 400, 412, 420, 428, 440, 448, 456, 468, 476, 488, 500,
    512, 520, 532, 544, 556, 568, 580, 592, 608, 620, 632, 648, 664, 676, 692, 708,
    724, 740, 756, 772, 788, 804, 824, 840, 860, 880, 896, 916, 936, 956, 980, 1000,
    1024, 1044, 1068, 1092, 1116, 1140, 1164, 1188, 1216, 1244, 1268, 1296, 1328, 1356, 1384, 1416,
    1448, 1480, 1512, 1544, 1576, 1612, 1648, 1684, 1720, 1760, 1796, 1836, 1876, 1916, 1960, 2004,
    2048, 2092, 2136, 2184, 2232, 2280, 2332, 2380, 2432, 2488, 2540, 2596, 2656, 2712, 2772, 2832,
    2896, 2960, 3024, 3088, 3156, 3228, 3296, 3368, 3444, 3520, 3596, 3676, 3756, 3836, 3920, 4008,
    4096, 4184, 4276, 4372, 4464, 4564, 4664, 4764, 4868, 4976, 5084, 5196, 5312, 5428, 5548, 5668,
    5792, 5920, 6048, 6180, 6316, 6456, 6596, 6740, 6888, 7040, 7192, 7352, 7512, 7676, 7844, 8016,
    8192, 8372, 8556, 8744, 8932, 9128, 9328, 9532, 9740, 9956, 10172, 10396, 10624, 10856, 11096, 11336,
    11584, 11840, 12100, 12364, 12632, 12912, 13192, 13484, 13776, 14080, 14388, 14704, 15024, 15352, 15688, 16032,
    16384,
]

// MARK: - Arithmetic helpers

/// Saturation to 16 bits: the reference's `add`/`sub`/`shl` basic operators.
@inline(__always)
func g722Sat16(_ x: Int32) -> Int32 { min(max(x, -32768), 32767) }

/// LIMIT (block 5L and the transmit QMF output): clamp to the 15-bit range -16384 ... 16383.
@inline(__always)
func g722Limit(_ x: Int32) -> Int32 { min(max(x, -16384), 16383) }

// MARK: - QMF (transmit and receive, 24 taps, G.722 QMF coefficients h(0)...h(23))

/// The QMF delay line: 12 sample pairs in a ring stored twice, so the
/// 24-sample window starting at the newest pair is always contiguous: `window[i]` is x(n - i).
struct G722QMFLine {
    /// Ring cells 0..<24 and their mirror 24..<48.
    var cells: InlineArray<48, Int16> = .init(repeating: 0)
    /// Pair slot (0..<12) of the newest pair.
    var head = 0
}

/// QMF even taps: h(0) x(n) + h(2) x(n-2) + ... + h(22) x(n-22), at most 6482 * 32768 in size.
@inline(__always)
func g722QMFEven(_ w: UnsafeMutablePointer<Int16>) -> Int32 {
    var a = 3 &* Int32(w[0]) &- 11 &* Int32(w[2]) &+ 12 &* Int32(w[4]) &+ 32 &* Int32(w[6])
    a = a &- 210 &* Int32(w[8]) &+ 951 &* Int32(w[10]) &+ 3876 &* Int32(w[12]) &- 805 &* Int32(w[14])
    return a &+ 362 &* Int32(w[16]) &- 156 &* Int32(w[18]) &+ 53 &* Int32(w[20]) &- 11 &* Int32(w[22])
}

/// QMF odd taps: h(1) x(n-1) + h(3) x(n-3) + ... + h(23) x(n-23) (h(23 - i) = h(i)).
@inline(__always)
func g722QMFOdd(_ w: UnsafeMutablePointer<Int16>) -> Int32 {
    var b = 0 &- 11 &* Int32(w[1]) &+ 53 &* Int32(w[3]) &- 156 &* Int32(w[5]) &+ 362 &* Int32(w[7])
    b = b &- 805 &* Int32(w[9]) &+ 3876 &* Int32(w[11]) &+ 951 &* Int32(w[13]) &- 210 &* Int32(w[15])
    return b &+ 32 &* Int32(w[17]) &+ 12 &* Int32(w[19]) &- 11 &* Int32(w[21]) &+ 3 &* Int32(w[23])
}

// MARK: - Adaptive predictor (block 4, identical for both bands)

/// One sub-band's ADPCM state: scale factor (blocks 3L/3H) and the pole/zero predictor (block 4).
struct G722Band {
    /// Signal estimate S (PREDIC) for the next sample.
    var s: Int32 = 0
    /// Zero-section output SZ (FILTEZ) for the next sample.
    var sz: Int32 = 0
    /// Log scale factor NB (LOGSCL/LOGSCH).
    var nb: Int32 = 0
    /// Scale factor DET (SCALEL/SCALEH).
    var det: Int32
    /// Pole-section coefficients A1, A2.
    var a1: Int32 = 0, a2: Int32 = 0
    /// Zero-section coefficients B1...B6.
    var b1: Int32 = 0, b2: Int32 = 0, b3: Int32 = 0, b4: Int32 = 0, b5: Int32 = 0, b6: Int32 = 0
    /// Quantized difference signals D(n-1)...D(n-6).
    var d1: Int32 = 0, d2: Int32 = 0, d3: Int32 = 0, d4: Int32 = 0, d5: Int32 = 0, d6: Int32 = 0
    /// Partially reconstructed signals P(n-1), P(n-2).
    var p1: Int32 = 0, p2: Int32 = 0
    /// Reconstructed signals R(n-1), R(n-2).
    var r1: Int32 = 0, r2: Int32 = 0

    /// Reset state (G.722 reset: DETL = 32, DETH = 8, everything else zero).
    init(det: Int32) { self.det = det }

    /// UPZERO for one coefficient: B = B * (1 - 2^-8) ± (D == 0 ? 0 : 2^-8), sign from SGN(D) * SGN(Di).
    @inline(__always)
    static func upzero(_ b: Int32, _ d: Int32, _ di: Int32, _ step: Int32) -> Int32 {
        let flip = (d ^ di) >> 31  // 0 when the signs agree, -1 when they differ
        // |B * 32640 >> 15| <= 32640 and the step is 128: no saturation possible.
        return ((step ^ flip) &- flip) &+ ((b &* 32640) >> 15)
    }

    // `@_transparent` (here and on adaptLower/adaptHigher) rather than `@inline(__always)`: the
    // optimizer's inliner declines the latter once the coding loop is large, and the calls cost
    // about 10% on armv7 (measured).

    /// Block 4 with quantized difference `d`: RECONS, PARREC, UPZERO, UPPOL2, UPPOL1, FILTEZ, FILTEP, PREDIC.
    /// Returns the reconstructed signal R = S + D (saturated) computed with the old S.
    @_transparent
    @discardableResult
    mutating func predict(_ d: Int32) -> Int32 {
        let p = g722Sat16(d &+ sz)  // PARREC
        let r = g722Sat16(s &+ d)  // RECONS

        // UPZERO (uses the old D(n-1)...D(n-6)), then the delay line shift. Step = D == 0 ? 0 : 128.
        let step = ((d | (0 &- d)) >> 31) & 128
        b1 = G722Band.upzero(b1, d, d1, step)
        b2 = G722Band.upzero(b2, d, d2, step)
        b3 = G722Band.upzero(b3, d, d3, step)
        b4 = G722Band.upzero(b4, d, d4, step)
        b5 = G722Band.upzero(b5, d, d5, step)
        b6 = G722Band.upzero(b6, d, d6, step)
        d6 = d5; d5 = d4; d4 = d3; d3 = d2; d2 = d1; d1 = d

        // Sign agreements as masks (0 when SGN(P) == SGN(P(n-k)), -1 otherwise), for
        // branch-free selects: (x ^ m) - m is x or -x.
        let flip1 = (p ^ p1) >> 31
        let flip2 = (p ^ p2) >> 31

        // UPPOL2: A2 = A2 * (1 - 2^-7) + 2^-7 * (-4 A1 SGN(P0 P1)) ± 128, limited to ±12288.
        // |A1| can reach 27648, so the reference's `shl(A1, 2)` and its negation both saturate.
        let same1 = ~flip1
        let wd2 = g722Sat16((g722Sat16(a1 << 2) ^ same1) &- same1) >> 7  // -4 A1 when the signs agree
        let wd3 = (128 ^ flip2) &- flip2
        let apl2 = min(max(wd2 &+ wd3 &+ ((a2 &* 32512) >> 15), -12288), 12288)

        // UPPOL1: A1 = A1 * (1 - 2^-8) ± 192, limited to ±(15360 - A2).
        let lim = 15360 &- apl2
        let apl1 = min(max(((192 ^ flip1) &- flip1) &+ ((a1 &* 32640) >> 15), 0 &- lim), lim)
        a1 = apl1
        a2 = apl2
        p2 = p1; p1 = p

        // FILTEZ with the new coefficients and delay line: a chain of saturating 16-bit adds in
        // the reference's order (B6 first). 2 * D never overflows: |D| <= 10228.
        var z = ((d6 &* 2) &* b6) >> 15
        z = g722Sat16(z &+ (((d5 &* 2) &* b5) >> 15))
        z = g722Sat16(z &+ (((d4 &* 2) &* b4) >> 15))
        z = g722Sat16(z &+ (((d3 &* 2) &* b3) >> 15))
        z = g722Sat16(z &+ (((d2 &* 2) &* b2) >> 15))
        z = g722Sat16(z &+ (((d1 &* 2) &* b1) >> 15))
        sz = z

        // FILTEP: 2 * R saturates in the reference, and so does the sum.
        r2 = r1; r1 = r
        let sp = g722Sat16(((a1 &* g722Sat16(r1 &* 2)) >> 15) &+ ((a2 &* g722Sat16(r2 &* 2)) >> 15))
        s = g722Sat16(sp &+ z)  // PREDIC
        return r
    }

    /// Lower band, blocks 3L INVQAL/LOGSCL/SCALEL and 4: adapts to the 6-bit code `il`
    /// (through its 4-bit truncation, whatever the decoder mode).
    @_transparent
    mutating func adaptLower(_ il: Int) {
        let d = (det &* Int32(g722QM4[il])) >> 15  // INVQAL: |D| <= 16384 * 20456 >> 15 = 10228
        // LOGSCL: NB = NB * 127/128 + W(IL), limited to 0 ... 18432; SCALEL.
        let nbp = min(max(((nb &* 32512) >> 15) &+ g722WL[il >> 2], 0), 18432)
        nb = nbp
        det = Int32(g722Det[Int(nbp >> 6) &+ 64])
        predict(d)
    }

    /// Higher band, blocks 3H INVQAH/LOGSCH/SCALEH and 4: adapts to the 2-bit code `ih`.
    /// Returns the reconstructed signal RH = SH + DH (before LIMIT).
    @_transparent
    @discardableResult
    mutating func adaptHigher(_ ih: Int32) -> Int32 {
        // INVQAH: QQ2 = ±(926 or 202) << 3, negative for codes 0, 1; the larger for codes 0, 2.
        let odd = ih & 1
        let magnitude = 7408 &- odd &* 5792
        let negative = (ih >> 1) &- 1  // -1 for codes 0, 1
        let dh = (det &* ((magnitude ^ negative) &- negative)) >> 15
        // LOGSCH: NB = NB * 127/128 + (798 or -214), limited to 0 ... 22528; SCALEH.
        let nbp = min(max(((nb &* 32512) >> 15) &+ 798 &- odd &* 1012, 0), 22528)
        nb = nbp
        det = Int32(g722Det[Int(nbp >> 6)])
        return predict(dh)
    }
}

// MARK: - Encoder

/// G.722 SB-ADPCM encoder (transmit QMF, blocks 1L-4L and 1H-4H): 16 kHz `Int16` in,
/// one 8-bit code (IH << 6 | IL) per two input samples, 64 kbit/s.
public struct G722Encoder: Sendable {
    /// Transmit QMF delay line (input samples).
    var qmf = G722QMFLine()
    /// Lower sub-band ADPCM state.
    var low = G722Band(det: 32)
    /// Higher sub-band ADPCM state.
    var high = G722Band(det: 8)

    /// An encoder in the G.722 reset state.
    public init() {}

    /// Returns to the G.722 reset state (zero QMF history, DETL = 32, DETH = 8).
    public mutating func reset() { self = G722Encoder() }

    /// Encodes `pcm.count` samples (must be even; an odd last sample is ignored) into
    /// `pcm.count / 2` codes, fewer if `codes` is shorter; returns the codes written.
    public mutating func encode(
        _ pcm: UnsafeBufferPointer<Int16>, into codes: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        let n = min(pcm.count / 2, codes.count)
        guard n > 0, let src = pcm.baseAddress, let dst = codes.baseAddress else { return 0 }
        var lo = low
        var hi = high
        var head = qmf.head
        withUnsafeMutableBytes(of: &qmf.cells) { raw in
            let ring = raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: Int16.self)
            for j in 0..<n {
                // Transmit QMF: the older sample of the pair (the reference's xin1) is x(n-1), the
                // newer x(n). Sums stay below 2^30, so no saturation; XL = (A + B) >> 14 and
                // XH = (A - B) >> 14 (the reference's doubled coefficients and `L_shr(.., 16)`), LIMITed.
                head = head == 0 ? 11 : head &- 1
                let w = ring + 2 &* head
                let x0 = src[2 &* j]
                let x1 = src[2 &* j &+ 1]
                w[0] = x1
                w[1] = x0
                w[24] = x1
                w[25] = x0
                let ea = g722QMFEven(w)
                let ob = g722QMFOdd(w)
                let xl = g722Limit((ea &+ ob) >> 14)
                let xh = g722Limit((ea &- ob) >> 14)

                // Lower band: SUBTRA (saturating), QUANTL.
                let el = g722Sat16(xl &- lo.s)
                let wd = el ^ (el >> 31)  // magnitude, one's complement for negatives
                // Count the decision levels with (Q6 * DET) >> 12 <= WD, i.e. Q6 * DET < (WD + 1) << 12.
                let bound = (wd &+ 1) << 12
                let det = lo.det
                // Branch-free binary search: (product - bound) >> 31 is -1 when product < bound.
                var m = 0
                m |= Int(truncatingIfNeeded: ((g722Q6[m | 15] &* det &- bound) >> 31) & 16)
                m |= Int(truncatingIfNeeded: ((g722Q6[m | 7] &* det &- bound) >> 31) & 8)
                m |= Int(truncatingIfNeeded: ((g722Q6[m | 3] &* det &- bound) >> 31) & 4)
                m |= Int(truncatingIfNeeded: ((g722Q6[m | 1] &* det &- bound) >> 31) & 2)
                m |= Int(truncatingIfNeeded: ((g722Q6[m] &* det &- bound) >> 31) & 1)
                let mil = min(m &+ 1, 30)  // the reference's MIL, 1 ... 30
                // IL = 62 - MIL for EL >= 0; for EL < 0, 64 - MIL (MIL < 3) or 34 - MIL.
                let small = (mil &- 3) >> 31  // -1 when MIL < 3
                let il = 62 &- mil &+ (Int(truncatingIfNeeded: el >> 31) & ((small & 30) &- 28))
                lo.adaptLower(il)

                // Higher band: SUBTRA, QUANTH (one decision level, 564 << 3 scaled by DETH).
                let eh = g722Sat16(xh &- hi.s)
                let wdh = eh ^ (eh >> 31)
                // IH: 3 or 2 (EH >= 0, inside or outside the decision level), 1 or 0 (EH < 0).
                let inside = ((wdh &- ((564 &* hi.det) >> 12)) >> 31) & 1
                let ih = (~(eh >> 31) & 2) | inside
                hi.adaptHigher(ih)

                dst[j] = UInt8(truncatingIfNeeded: (ih << 6) | Int32(truncatingIfNeeded: il))
            }
        }
        qmf.head = head
        low = lo
        high = hi
        return n
    }

    /// Array convenience (allocates; not for the audio path): encodes `pcm` into `pcm.count / 2` codes.
    public mutating func encode(_ pcm: [Int16]) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: pcm.count / 2)
        let n = pcm.withUnsafeBufferPointer { src in
            codes.withUnsafeMutableBufferPointer { encode(src, into: $0) }
        }
        return Array(codes.prefix(n))
    }
}

// MARK: - Decoder

/// G.722 SB-ADPCM decoder (blocks 3L-5L and 2H-5H, receive QMF): one 8-bit code in,
/// two 16 kHz `Int16` samples out, in mode 1, 2 or 3.
public struct G722Decoder: Sendable {
    /// Operating mode: which inverse quantizer (INVQBL) produces the lower-band output. The
    /// predictor always adapts with the 4-bit INVQAL, so the mode may change at any code.
    public var mode: G722Mode
    /// Receive QMF delay line: (RL - RH, RL + RH) pairs.
    var qmf = G722QMFLine()
    /// Lower sub-band ADPCM state.
    var low = G722Band(det: 32)
    /// Higher sub-band ADPCM state.
    var high = G722Band(det: 8)

    /// A decoder in the G.722 reset state, decoding in `mode`.
    public init(mode: G722Mode = .kbps64) { self.mode = mode }

    /// Returns to the G.722 reset state; keeps the mode.
    public mutating func reset() { self = G722Decoder(mode: mode) }

    /// Decodes `codes.count` codes into `2 * codes.count` samples (fewer if `pcm` is shorter:
    /// whole pairs only); returns the samples written.
    public mutating func decode(
        _ codes: UnsafeBufferPointer<UInt8>, into pcm: UnsafeMutableBufferPointer<Int16>
    ) -> Int {
        let n = min(codes.count, pcm.count / 2)
        guard n > 0, let src = codes.baseAddress, let dst = pcm.baseAddress else { return 0 }
        switch mode {
        case .kbps64: run(src, dst, n, g722QM6)
        case .kbps56: run(src, dst, n, g722QM5)
        case .kbps48: run(src, dst, n, g722QM4)
        }
        return 2 &* n
    }

    /// The decoding loop with the mode's INVQBL table (64 entries, indexed by the 6-bit code).
    @inline(__always)
    mutating func run(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Int16>, _ n: Int, _ invqbl: [Int16]) {
        var lo = low
        var hi = high
        var head = qmf.head
        withUnsafeMutableBytes(of: &qmf.cells) { raw in
            let ring = raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: Int16.self)
            for j in 0..<n {
                let code = Int32(src[j])
                let il = Int(code & 0x3F)

                // Lower band: INVQBL, RECONS (saturating), LIMIT; then adapt with INVQAL.
                let dl = (lo.det &* Int32(invqbl[il])) >> 15
                let rl = g722Limit(g722Sat16(lo.s &+ dl))
                lo.adaptLower(il)

                // Higher band: INVQAH, RECONS, LIMIT.
                let rh = g722Limit(hi.adaptHigher(code >> 6))

                // Receive QMF: inputs RL - RH and RL + RH (|RL|, |RH| <= 16384: no overflow); the
                // reference's `L_shl(acc, 4)` then `extract_h` is a saturating `>> 11` of the plain sum.
                head = head == 0 ? 11 : head &- 1
                let w = ring + 2 &* head
                let dif = Int16(truncatingIfNeeded: rl &- rh)
                let sum = Int16(truncatingIfNeeded: rl &+ rh)
                w[0] = dif
                w[1] = sum
                w[24] = dif
                w[25] = sum
                dst[2 &* j] = Int16(truncatingIfNeeded: g722Sat16(g722QMFEven(w) >> 11))
                dst[2 &* j &+ 1] = Int16(truncatingIfNeeded: g722Sat16(g722QMFOdd(w) >> 11))
            }
        }
        qmf.head = head
        low = lo
        high = hi
    }

    /// Array convenience (allocates; not for the audio path): decodes `codes` into `2 * codes.count` samples.
    public mutating func decode(_ codes: [UInt8]) -> [Int16] {
        var pcm = [Int16](repeating: 0, count: 2 * codes.count)
        let n = codes.withUnsafeBufferPointer { src in
            pcm.withUnsafeMutableBufferPointer { decode(src, into: $0) }
        }
        return Array(pcm.prefix(n))
    }
}
