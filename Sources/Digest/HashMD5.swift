/// The MD5 message digest (RFC 1321), the default algorithm of SIP digest authentication
/// (RFC 3261 §22.4, RFC 7616 §3.2). Weak as a hash; kept because most registrars still ask for it.
public struct MD5: HashFunction {
    public static let outputByteCount = 16

    private var state = MD5.initialState
    private var buffer = HashBlockBuffer(blockByteCount: 64)

    private static let initialState: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476]

    /// T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 §3.4.
    private static let sineTable: [UInt32] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
    ]

    /// Per-round left rotations, four per round group (RFC 1321 §3.4).
    private static let rotations: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var current = state
        buffer.absorb(bytes) { block in MD5.compress(&current, block) }
        state = current
    }

    public mutating func finalize() -> [UInt8] {
        var current = state
        buffer.pad(lengthByteCount: 8, bigEndian: false) { block in MD5.compress(&current, block) }
        var digest: [UInt8] = []
        digest.reserveCapacity(16)
        for word in current {
            for shift in stride(from: 0, through: 24, by: 8) {
                digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
            }
        }
        state = MD5.initialState
        return digest
    }

    /// Processes one 64-byte block (RFC 1321 §3.4): four rounds of sixteen operations.
    private static func compress(_ state: inout [UInt32], _ block: UnsafeRawPointer) {
        var a = state[0]
        var b = state[1]
        var c = state[2]
        var d = state[3]
        for step in 0..<64 {
            var mixed: UInt32
            let wordIndex: Int
            switch step >> 4 {
            case 0:
                mixed = (b & c) | (~b & d)
                wordIndex = step
            case 1:
                mixed = (b & d) | (c & ~d)
                wordIndex = (5 &* step &+ 1) & 15
            case 2:
                mixed = b ^ c ^ d
                wordIndex = (3 &* step &+ 5) & 15
            default:
                mixed = c ^ (b | ~d)
                wordIndex = (7 &* step) & 15
            }
            let word = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: wordIndex &* 4, as: UInt32.self))
            mixed = mixed &+ a &+ sineTable[step] &+ word
            a = d
            d = c
            c = b
            b = b &+ HashBits.rotateLeft(mixed, rotations[(step >> 4) &* 4 &+ (step & 3)])
        }
        state[0] = state[0] &+ a
        state[1] = state[1] &+ b
        state[2] = state[2] &+ c
        state[3] = state[3] &+ d
    }
}
