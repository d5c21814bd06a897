/// L16 (RFC 3551 §4.5.11): uncompressed 16-bit signed linear PCM, most significant byte first
/// (network byte order), two bytes per sample. The phone uses it mono at 8000, 16000 and 48000 Hz
/// under dynamic payload types (static PTs 10 and 11 are 44.1 kHz, which it does not offer).
public enum L16 {
    /// Bytes per sample per channel.
    public static let bytesPerSample = 2
    /// Sample rates the phone offers L16 at.
    public static let sampleRates: [Int] = [8000, 16000, 48000]

    /// Payload bytes for `samples` samples.
    public static func payloadBytes(samples: Int) -> Int { samples * bytesPerSample }

    /// Writes `pcm` big-endian into `payload` and returns the bytes written (`2 * pcm.count`).
    /// `payload` must hold them: buffers are sized at set-up, so a short one is a programming error.
    public static func encode(_ pcm: UnsafeBufferPointer<Int16>, into payload: UnsafeMutableRawBufferPointer) -> Int {
        let bytes = pcm.count * bytesPerSample
        precondition(payload.count >= bytes, "L16.encode: payload buffer too small")
        for index in 0..<pcm.count {
            let sample = UInt16(bitPattern: pcm[index])
            payload[2 * index] = UInt8(truncatingIfNeeded: sample >> 8)
            payload[2 * index + 1] = UInt8(truncatingIfNeeded: sample)
        }
        return bytes
    }

    /// Reads a big-endian payload into `pcm` and returns the samples written (`payload.count / 2`).
    /// An odd-length payload, or one with more samples than `pcm` holds, throws.
    public static func decode(_ payload: UnsafeRawBufferPointer, into pcm: UnsafeMutableBufferPointer<Int16>)
        throws(CodecError) -> Int
    {
        guard payload.count % bytesPerSample == 0 else {
            throw CodecError("L16: payload of \(payload.count) bytes is odd; samples are 2 bytes each")
        }
        let samples = payload.count / bytesPerSample
        guard samples <= pcm.count else {
            throw CodecError("L16: payload holds \(samples) samples, the buffer only \(pcm.count)")
        }
        for index in 0..<samples {
            let high = UInt16(payload[2 * index])
            let low = UInt16(payload[2 * index + 1])
            pcm[index] = Int16(bitPattern: high << 8 | low)
        }
        return samples
    }
}
