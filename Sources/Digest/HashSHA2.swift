/// What tells the 32-bit SHA-2 functions (SHA-256) from the 64-bit ones (SHA-512, SHA-512/256):
/// the round constants (their count is the number of rounds) and the rotations and shifts of
/// σ0, σ1, Σ0 and Σ1 (FIPS 180-4 §4.1.2, §4.1.3).
struct SHA2Parameters<Word: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    let roundConstants: [Word]
    /// (rotate, rotate, shift) of the message schedule's σ0 and σ1.
    let sigma0: (Word, Word, Word)
    let sigma1: (Word, Word, Word)
    /// The three rotations of the rounds' Σ0 and Σ1.
    let bigSigma0: (Word, Word, Word)
    let bigSigma1: (Word, Word, Word)
}

/// The SHA-2 compression function and padding (FIPS 180-4 §5.1, §6.2.2, §6.4.2), for either
/// word size: a block is 16 words, the length field two words, the state eight words.
struct SHA2Core<Word: FixedWidthInteger & UnsignedInteger & Sendable> {
    let parameters: SHA2Parameters<Word>
    let initialState: [Word]
    private var state: [Word]
    private var buffer = HashBlockBuffer(blockByteCount: Word.bitWidth &* 2)

    init(parameters: SHA2Parameters<Word>, initialState: [Word]) {
        self.parameters = parameters
        self.initialState = initialState
        self.state = initialState
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var current = state
        let parameters = parameters
        buffer.absorb(bytes) { block in SHA2Core.compress(&current, block, parameters) }
        state = current
    }

    mutating func finalize(outputByteCount: Int) -> [UInt8] {
        var current = state
        let parameters = parameters
        buffer.pad(lengthByteCount: Word.bitWidth / 4, bigEndian: true) { block in
            SHA2Core.compress(&current, block, parameters)
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(Word.bitWidth)
        for word in current {
            for shift in stride(from: Word.bitWidth &- 8, through: 0, by: -8) {
                digest.append(UInt8(truncatingIfNeeded: word &>> Word(shift)))
            }
        }
        state = initialState
        if digest.count > outputByteCount {
            digest.removeLast(digest.count &- outputByteCount)
        }
        return digest
    }

    @inline(__always)
    private static func rotateRight(_ value: Word, _ count: Word) -> Word {
        (value &>> count) | (value &<< (Word(Word.bitWidth) &- count))
    }

    /// The message schedule and the rounds over one block.
    private static func compress(_ state: inout [Word], _ block: UnsafeRawPointer, _ p: SHA2Parameters<Word>) {
        let rounds = p.roundConstants.count
        let wordBytes = Word.bitWidth / 8
        withUnsafeTemporaryAllocation(of: Word.self, capacity: rounds) { schedule in
            for index in 0..<16 {
                schedule[index] = Word(bigEndian: block.loadUnaligned(fromByteOffset: index &* wordBytes, as: Word.self))
            }
            for index in 16..<rounds {
                let w15 = schedule[index &- 15]
                let w2 = schedule[index &- 2]
                let sigma0 = rotateRight(w15, p.sigma0.0) ^ rotateRight(w15, p.sigma0.1) ^ (w15 &>> p.sigma0.2)
                let sigma1 = rotateRight(w2, p.sigma1.0) ^ rotateRight(w2, p.sigma1.1) ^ (w2 &>> p.sigma1.2)
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
            for index in 0..<rounds {
                let bigSigma1 = rotateRight(e, p.bigSigma1.0) ^ rotateRight(e, p.bigSigma1.1) ^ rotateRight(e, p.bigSigma1.2)
                let choose = (e & f) ^ (~e & g)
                let t1 = h &+ bigSigma1 &+ choose &+ p.roundConstants[index] &+ schedule[index]
                let bigSigma0 = rotateRight(a, p.bigSigma0.0) ^ rotateRight(a, p.bigSigma0.1) ^ rotateRight(a, p.bigSigma0.2)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                h = g
                g = f
                f = e
                e = d &+ t1
                d = c
                c = b
                b = a
                a = t1 &+ bigSigma0 &+ majority
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
