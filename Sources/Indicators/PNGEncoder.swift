/// A minimal PNG encoder (RGB, 8 bits per channel) with its own zlib stream (a small
/// fixed-Huffman deflate, or stored blocks), CRC-32 and Adler-32: no library (PNG spec §5,
/// RFC 1950, RFC 1951).
public enum PNGEncoder {
    /// The PNG file of `canvas`.
    public static func encode(_ canvas: Canvas, compressed: Bool = true) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(canvas.height * (canvas.width * 3 + 1))
        for y in 0..<canvas.height {
            raw.append(0)  // filter type None
            for x in 0..<canvas.width {
                let p = canvas.pixels[y * canvas.width + x]
                raw.append(UInt8((p >> 16) & 0xFF))
                raw.append(UInt8((p >> 8) & 0xFF))
                raw.append(UInt8(p & 0xFF))
            }
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        appendBigEndian(&header, UInt32(canvas.width))
        appendBigEndian(&header, UInt32(canvas.height))
        header += [8, 2, 0, 0, 0]  // 8-bit, truecolour, deflate, no filter set, no interlace
        appendChunk(&out, "IHDR", header)
        appendChunk(&out, "IDAT", compressed ? zlibCompressed(raw) : zlibStored(raw))
        appendChunk(&out, "IEND", [])
        return out
    }

    /// `data` wrapped as a zlib stream of stored (uncompressed) deflate blocks.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)
            out.append(UInt8(n & 0xFF))
            out.append(UInt8(n >> 8))
            out.append(UInt8(~n & 0xFF))
            out.append(UInt8((~n >> 8) & 0xFF))
            out.append(contentsOf: data[offset..<(offset + n)])
            offset += n
        } while offset < data.count
        appendBigEndian(&out, adler32(data))
        return out
    }

    /// `data` as a zlib stream of one fixed-Huffman deflate block.
    public static func zlibCompressed(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        out.append(contentsOf: DeflateFixed.compress(data))
        appendBigEndian(&out, adler32(data))
        return out
    }

    /// CRC-32 (ISO 3309, as used by PNG and zlib's crc32).
    public static func crc32<C: Collection>(_ bytes: C, start: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var c = ~start
        for b in bytes {
            c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8)
        }
        return ~c
    }

    /// Adler-32 (RFC 1950).
    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + 5552)
            while i < end {
                a += UInt32(bytes[i])
                b += a
                i += 1
            }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    static let crcTable: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[n] = c
        }
        return table
    }()

    static func appendBigEndian(_ out: inout [UInt8], _ v: UInt32) {
        out.append(UInt8(v >> 24))
        out.append(UInt8((v >> 16) & 0xFF))
        out.append(UInt8((v >> 8) & 0xFF))
        out.append(UInt8(v & 0xFF))
    }

    static func appendChunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
        appendBigEndian(&out, UInt32(data.count))
        var body = Array(type.utf8)
        body.append(contentsOf: data)
        out.append(contentsOf: body)
        appendBigEndian(&out, crc32(body))
    }
}
