/// SHA-256 (FIPS 180-4 §6.2), the algorithm RFC 8760 §2 adds to SIP digest authentication.
public struct SHA256: HashFunction {
    public static let outputByteCount = 32

    private var state = SHA256.initialState
    private var buffer = HashBlockBuffer(blockByteCount: 64)

    /// FIPS 180-4 §5.3.3: the first 32 bits of the fractional parts of the square roots of the
    /// first eight primes.
    private static let initialState: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]

    /// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
    /// first 64 primes.
    static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var current = state
        buffer.absorb(bytes) { block in SHA256.compress(&current, block) }
        state = current
    }

    public mutating func finalize() -> [UInt8] {
        var current = state
        buffer.pad(lengthByteCount: 8, bigEndian: true) { block in SHA256.compress(&current, block) }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in current {
            HashBits.appendBigEndian(word, to: &digest)
        }
        state = SHA256.initialState
        return digest
    }

    /// FIPS 180-4 §6.2.2: the message schedule and 64 rounds over one 64-byte block.
    private static func compress(_ state: inout [UInt32], _ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            for index in 0..<16 {
                schedule[index] = HashBits.loadBigEndianUInt32(block, index &* 4)
            }
            for index in 16..<64 {
                let w15 = schedule[index &- 15]
                let w2 = schedule[index &- 2]
                let sigma0 = HashBits.rotateRight(w15, 7) ^ HashBits.rotateRight(w15, 18) ^ (w15 &>> 3)
                let sigma1 = HashBits.rotateRight(w2, 17) ^ HashBits.rotateRight(w2, 19) ^ (w2 &>> 10)
                schedule[index] = sigma1 &+ schedule[index &- 7] &+ sigma0 &+ schedule[index &- 16]
            }
            var a = state[0]
            var b = state[1]
            var c = state[2]
            var d = state[3]
            var e = state[4]
            var f = state[5]
            var g = state[6]
            var h = state[7]
            for index in 0..<64 {
                let bigSigma1 = HashBits.rotateRight(e, 6) ^ HashBits.rotateRight(e, 11) ^ HashBits.rotateRight(e, 25)
                let choose = (e & f) ^ (~e & g)
                let t1 = h &+ bigSigma1 &+ choose &+ roundConstants[index] &+ schedule[index]
                let bigSigma0 = HashBits.rotateRight(a, 2) ^ HashBits.rotateRight(a, 13) ^ HashBits.rotateRight(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = bigSigma0 &+ majority
                h = g
                g = f
                f = e
                e = d &+ t1
                d = c
                c = b
                b = a
                a = t1 &+ t2
            }
            state[0] = state[0] &+ a
            state[1] = state[1] &+ b
            state[2] = state[2] &+ c
            state[3] = state[3] &+ d
            state[4] = state[4] &+ e
            state[5] = state[5] &+ f
            state[6] = state[6] &+ g
            state[7] = state[7] &+ h
        }
    }
}
