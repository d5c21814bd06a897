import Testing

@testable import Voice

@Suite("L16")
struct L16Tests {
    @Test("samples go out most significant byte first")
    func byteOrder() {
        let pcm: [Int16] = [0x0102, -2, Int16.min, Int16.max, 0, 0x7F80]
        var payload = [UInt8](repeating: 0xAA, count: 14)
        let n = pcm.withUnsafeBufferPointer { src in payload.withUnsafeMutableBytes { L16.encode(src, into: $0) } }
        #expect(n == 12)
        #expect(Array(payload[0..<12]) == [0x01, 0x02, 0xFF, 0xFE, 0x80, 0x00, 0x7F, 0xFF, 0x00, 0x00, 0x7F, 0x80])
        #expect(payload[12] == 0xAA && payload[13] == 0xAA, "nothing written past the samples")
    }

    @Test("big-endian bytes decode to the right samples")
    func decodeBytes() throws {
        let payload: [UInt8] = [0x01, 0x02, 0xFF, 0xFE, 0x80, 0x00, 0x7F, 0xFF]
        var pcm = [Int16](repeating: 0, count: 4)
        let n = try payload.withUnsafeBytes { src in
            try pcm.withUnsafeMutableBufferPointer { try L16.decode(src, into: $0) }
        }
        #expect(n == 4)
        #expect(pcm == [0x0102, -2, Int16.min, Int16.max])
    }

    @Test("every sample value round-trips", arguments: [8000, 16000, 48000])
    func roundTrip(rate: Int) throws {
        #expect(L16.sampleRates.contains(rate))
        let frame = rate / 50  // 20 ms
        var all = (Int(Int16.min)...Int(Int16.max)).map { Int16($0) }
        all += [Int16](repeating: 0, count: (frame - all.count % frame) % frame)
        var payload = [UInt8](repeating: 0, count: L16.payloadBytes(samples: frame))
        var pcm = [Int16](repeating: 0, count: frame)
        for start in stride(from: 0, to: all.count, by: frame) {
            let chunk = Array(all[start..<start + frame])
            let bytes = chunk.withUnsafeBufferPointer { src in
                payload.withUnsafeMutableBytes { L16.encode(src, into: $0) }
            }
            #expect(bytes == 2 * frame)
            let samples = try payload.withUnsafeBytes { src in
                try pcm.withUnsafeMutableBufferPointer { try L16.decode(src, into: $0) }
            }
            #expect(samples == frame)
            #expect(pcm == chunk)
        }
    }

    @Test("an odd payload length throws a clear error")
    func oddLength() {
        let payload = [UInt8](repeating: 0, count: 321)
        var pcm = [Int16](repeating: 0, count: 320)
        let error = #expect(throws: CodecError.self) {
            try payload.withUnsafeBytes { src in
                try pcm.withUnsafeMutableBufferPointer { try L16.decode(src, into: $0) }
            }
        }
        #expect(error?.message == "L16: payload of 321 bytes is odd; samples are 2 bytes each")
    }

    @Test("a payload longer than the buffer throws; an empty one gives no samples")
    func bounds() throws {
        let payload = [UInt8](repeating: 0, count: 642)
        var pcm = [Int16](repeating: 0, count: 320)
        let error = #expect(throws: CodecError.self) {
            try payload.withUnsafeBytes { src in
                try pcm.withUnsafeMutableBufferPointer { try L16.decode(src, into: $0) }
            }
        }
        #expect(error?.message == "L16: payload holds 321 samples, the buffer only 320")
        let empty = [UInt8]()
        let n = try empty.withUnsafeBytes { src in
            try pcm.withUnsafeMutableBufferPointer { try L16.decode(src, into: $0) }
        }
        #expect(n == 0)
    }
}
