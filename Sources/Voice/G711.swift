/// ITU-T G.711 companding: mu-law and A-law, bit-exact with the ITU-T G.191 reference
/// (`g711.c` of the STL) on all 65,536 inputs, including its one's-complement treatment of
/// negative inputs (which puts the negative decision boundaries one step from where a
/// two's-complement implementation puts them).
public enum G711Law: Equatable, Hashable, Sendable {
    /// mu-law (North America, Japan): RTP payload type 0, PCMU.
    case muLaw
    /// A-law (Europe and most of the world): RTP payload type 8, PCMA.
    case aLaw
}

/// G.711 encoder and decoder: one byte per 8 kHz sample, stateless.
public enum G711 {
    // MARK: single samples

    /// mu-law code of a 16-bit linear sample (G.711 Table 2a; G.191 `ulaw_compress`).
    @inlinable
    public static func muLawEncode(_ sample: Int16) -> UInt8 {
        let x = Int32(sample)
        // One's complement of negatives, 14-bit magnitude, bias 33, clipped to 13 bits.
        var magnitude = ((x >= 0 ? x : ~x) >> 2) + 33
        if magnitude > 0x1FFF { magnitude = 0x1FFF }
        // Segment = bit length of (magnitude >> 6), plus one.
        let segment = Int32(33 - (UInt32(magnitude) >> 6).leadingZeroBitCount)
        let low = 0xF - ((magnitude >> segment) & 0xF)
        var code = ((8 - segment) << 4) | low
        if x >= 0 { code |= 0x80 }
        return UInt8(truncatingIfNeeded: code)
    }

    /// 16-bit linear value of a mu-law code (G.191 `ulaw_expand`).
    @inlinable
    public static func muLawDecode(_ code: UInt8) -> Int16 {
        let inverted = Int32(~code)
        let exponent = (inverted >> 4) & 0x7
        let mantissa = inverted & 0xF
        let step = Int32(4) << (exponent + 1)
        let magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33
        return Int16(truncatingIfNeeded: code < 0x80 ? -magnitude : magnitude)
    }

    /// A-law code of a 16-bit linear sample (G.711 Table 1a; G.191 `alaw_compress`).
    @inlinable
    public static func aLawEncode(_ sample: Int16) -> UInt8 {
        let x = Int32(sample)
        // One's complement of negatives, 12-bit magnitude.
        var ix = (x >= 0 ? x : ~x) >> 4
        if ix > 15 {
            // Exponent = bit length - 4; mantissa = the 4 bits below the leading one.
            let exponent = Int32(28 - UInt32(ix).leadingZeroBitCount)
            ix = (exponent << 4) | ((ix >> (exponent - 1)) & 0xF)
        }
        if x >= 0 { ix |= 0x80 }
        return UInt8(truncatingIfNeeded: ix ^ 0x55)
    }

    /// 16-bit linear value of an A-law code (G.191 `alaw_expand`).
    @inlinable
    public static func aLawDecode(_ code: UInt8) -> Int16 {
        let ix = Int32(code ^ 0x55)
        let exponent = (ix >> 4) & 0x7
        var mantissa = ix & 0xF
        if exponent > 0 { mantissa += 16 }
        mantissa = (mantissa << 4) + 8
        if exponent > 1 { mantissa <<= exponent - 1 }
        return Int16(truncatingIfNeeded: ix & 0x80 != 0 ? mantissa : -mantissa)
    }

    // MARK: frames

    /// Encodes `pcm` into `codes` (one byte per sample). Returns the bytes written:
    /// `min(pcm.count, codes.count)`.
    @inlinable
    public static func encode(
        _ law: G711Law, _ pcm: UnsafeBufferPointer<Int16>, into codes: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        let n = min(pcm.count, codes.count)
        guard let src = pcm.baseAddress, let dst = codes.baseAddress else { return 0 }
        switch law {
        case .muLaw: for i in 0..<n { dst[i] = muLawEncode(src[i]) }
        case .aLaw: for i in 0..<n { dst[i] = aLawEncode(src[i]) }
        }
        return n
    }

    /// Decodes `codes` into `pcm` (one sample per byte). Returns the samples written:
    /// `min(codes.count, pcm.count)`. Every byte is a valid code, so decoding cannot fail.
    @inlinable
    public static func decode(
        _ law: G711Law, _ codes: UnsafeBufferPointer<UInt8>, into pcm: UnsafeMutableBufferPointer<Int16>
    ) -> Int {
        let n = min(pcm.count, codes.count)
        guard let src = codes.baseAddress, let dst = pcm.baseAddress else { return 0 }
        switch law {
        case .muLaw: for i in 0..<n { dst[i] = muLawDecode(src[i]) }
        case .aLaw: for i in 0..<n { dst[i] = aLawDecode(src[i]) }
        }
        return n
    }
}
