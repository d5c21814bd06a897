/// A small deflate compressor (RFC 1951): LZ77 matches found through a one-entry hash of the
/// next three bytes, coded with the fixed Huffman codes (§3.2.6). Far from zlib's ratio, but
/// LCD pictures (long runs, repeated rows) shrink to a few per cent of their size.
struct DeflateFixed {
    private var out: [UInt8] = []
    private var bitBuffer: UInt32 = 0
    private var bitCount: UInt32 = 0

    static let lengthBase: [Int] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ]
    static let lengthExtra: [UInt32] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    static let distanceBase: [Int] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    static let distanceExtra: [UInt32] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]

    /// The raw deflate stream of `data` (one final fixed-Huffman block).
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var d = DeflateFixed()
        d.out.reserveCapacity(data.count / 8 + 64)
        d.bits(1, 1)  // BFINAL
        d.bits(1, 2)  // BTYPE = 01, fixed Huffman
        let hashSize = 1 << 15
        var head = [Int](repeating: -1, count: hashSize)
        var i = 0
        let n = data.count
        while i < n {
            var matchLength = 0
            var matchDistance = 0
            if i + 2 < n {
                let h = (Int(data[i]) << 10 ^ Int(data[i + 1]) << 5 ^ Int(data[i + 2])) & (hashSize - 1)
                let candidate = head[h]
                head[h] = i
                if candidate >= 0 && i - candidate <= 32768 {
                    var l = 0
                    let limit = min(258, n - i)
                    while l < limit && data[candidate + l] == data[i + l] { l += 1 }
                    if l >= 3 {
                        matchLength = l
                        matchDistance = i - candidate
                    }
                }
            }
            if matchLength >= 3 {
                d.length(matchLength)
                d.distance(matchDistance)
                // Index the positions inside the match so later data can refer to them.
                var k = i + 1
                let end = i + matchLength
                while k < end && k + 2 < n {
                    let h = (Int(data[k]) << 10 ^ Int(data[k + 1]) << 5 ^ Int(data[k + 2])) & (hashSize - 1)
                    head[h] = k
                    k += 1
                }
                i = end
            } else {
                d.literal(Int(data[i]))
                i += 1
            }
        }
        d.literal(256)  // end of block
        if d.bitCount > 0 { d.out.append(UInt8(d.bitBuffer & 0xFF)) }
        return d.out
    }

    /// Appends `count` bits of `value`, least significant first.
    private mutating func bits(_ value: UInt32, _ count: UInt32) {
        bitBuffer |= value << bitCount
        bitCount += count
        while bitCount >= 8 {
            out.append(UInt8(bitBuffer & 0xFF))
            bitBuffer >>= 8
            bitCount -= 8
        }
    }

    /// Appends a Huffman code (most significant bit first).
    private mutating func code(_ value: UInt32, _ length: UInt32) {
        var reversed: UInt32 = 0
        for b in 0..<length where value & (1 << b) != 0 { reversed |= 1 << (length - 1 - b) }
        bits(reversed, length)
    }

    private mutating func literal(_ v: Int) {
        switch v {
        case 0...143: code(UInt32(0x30 + v), 8)
        case 144...255: code(UInt32(0x190 + v - 144), 9)
        case 256...279: code(UInt32(v - 256), 7)
        default: code(UInt32(0xC0 + v - 280), 8)
        }
    }

    private mutating func length(_ l: Int) {
        var c = DeflateFixed.lengthBase.count - 1
        while DeflateFixed.lengthBase[c] > l { c -= 1 }
        literal(257 + c)
        let extra = DeflateFixed.lengthExtra[c]
        if extra > 0 { bits(UInt32(l - DeflateFixed.lengthBase[c]), extra) }
    }

    private mutating func distance(_ d: Int) {
        var c = DeflateFixed.distanceBase.count - 1
        while DeflateFixed.distanceBase[c] > d { c -= 1 }
        code(UInt32(c), 5)
        let extra = DeflateFixed.distanceExtra[c]
        if extra > 0 { bits(UInt32(d - DeflateFixed.distanceBase[c]), extra) }
    }
}
