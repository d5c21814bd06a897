// Message digests for SIP digest authentication (RFC 7616 §3.2, RFC 8760 §2): the firmware carries
// its own MD5, SHA-256 and SHA-512/256 so it needs no crypto library. These hashes only serve the
// challenge-response of digest authentication; they are not meant for anything needing secrecy.

/// A streaming cryptographic hash (MD5, SHA-256, SHA-512, SHA-512/256): feed bytes with `update`,
/// read the digest once with `finalize()`. One-shot helpers and lowercase hex come with it.
public protocol HashFunction {
    /// Digest size in bytes (16 for MD5, 32 for SHA-256 and SHA-512/256).
    static var outputByteCount: Int { get }
    /// A new hash of the empty message.
    init()
    /// Absorbs `bytes` (any length, any number of calls).
    mutating func update(_ bytes: UnsafeRawBufferPointer)
    /// Pads, returns the digest and leaves the value reset to a fresh hash.
    mutating func finalize() -> [UInt8]
}

extension HashFunction {
    /// Absorbs the bytes of an array.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Absorbs the UTF-8 bytes of `text`.
    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var function = Self()
        function.update(bytes)
        return function.finalize()
    }

    /// The digest of the UTF-8 bytes of `text`.
    public static func hash(_ text: String) -> [UInt8] {
        var function = Self()
        function.update(text)
        return function.finalize()
    }

    /// The digest of `bytes` as lowercase hex (RFC 7616 §3.4.1 writes every H() this way).
    public static func hexDigest(_ bytes: [UInt8]) -> String {
        HashEncoding.lowercaseHex(hash(bytes))
    }

    /// The digest of the UTF-8 bytes of `text` as lowercase hex.
    public static func hexDigest(_ text: String) -> String {
        HashEncoding.lowercaseHex(hash(text))
    }
}

/// Text encodings of digests.
public enum HashEncoding {
    /// `bytes` written as lowercase hexadecimal, two digits per byte.
    public static func lowercaseHex(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(HashBits.hexDigitByte(byte >> 4))
            text.append(HashBits.hexDigitByte(byte & 0x0f))
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Bit and byte helpers of the hash rounds.
enum HashBits {
    @inline(__always)
    static func hexDigitByte(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10
    }

    @inline(__always)
    static func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value &<< count) | (value &>> (32 &- count))
    }
}

/// The partial block and the message length shared by the Merkle–Damgård hashes: bytes gather
/// here until a whole block is ready for the compression function.
struct HashBlockBuffer {
    let blockByteCount: Int
    private(set) var pending: [UInt8] = []
    /// Message length in bytes so far (the padding needs it in bits; 2^64 bytes is far away).
    private(set) var messageByteCount: UInt64 = 0

    init(blockByteCount: Int) {
        self.blockByteCount = blockByteCount
        pending.reserveCapacity(blockByteCount)
    }

    /// Adds `input`, calling `compress` with the start of every completed block.
    mutating func absorb(_ input: UnsafeRawBufferPointer, compress: (UnsafeRawPointer) -> Void) {
        messageByteCount &+= UInt64(input.count)
        guard let base = input.baseAddress, input.count > 0 else { return }
        var offset = 0
        if !pending.isEmpty {
            let take = min(blockByteCount - pending.count, input.count)
            pending.append(contentsOf: UnsafeRawBufferPointer(start: base, count: take))
            offset = take
            guard pending.count == blockByteCount else { return }
            pending.withUnsafeBytes { compress($0.baseAddress!) }
            pending.removeAll(keepingCapacity: true)
        }
        while input.count - offset >= blockByteCount {
            compress(base + offset)
            offset += blockByteCount
        }
        if offset < input.count {
            pending.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: input.count - offset))
        }
    }

    /// Appends the padding (0x80, zeros, then the bit length in `lengthByteCount` big- or
    /// little-endian bytes) and compresses the last block or two, then resets.
    mutating func pad(lengthByteCount: Int, bigEndian: Bool, compress: (UnsafeRawPointer) -> Void) {
        let bitCountLow = messageByteCount &<< 3
        let bitCountHigh = messageByteCount >> 61
        var tail = pending
        tail.append(0x80)
        while (tail.count + lengthByteCount) % blockByteCount != 0 {
            tail.append(0)
        }
        var lengthBytes = [UInt8](repeating: 0, count: lengthByteCount)
        for index in 0..<lengthByteCount {
            // index counts from the least significant byte
            let shift = UInt64(index % 8) * 8
            let word = index < 8 ? bitCountLow : (index < 16 ? bitCountHigh : 0)
            let byte = UInt8(truncatingIfNeeded: word >> shift)
            lengthBytes[bigEndian ? lengthByteCount - 1 - index : index] = byte
        }
        tail.append(contentsOf: lengthBytes)
        tail.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                compress(raw.baseAddress! + offset)
                offset += blockByteCount
            }
        }
        pending.removeAll(keepingCapacity: true)
        messageByteCount = 0
    }
}
