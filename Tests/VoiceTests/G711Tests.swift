import Foundation
import Testing

@testable import Voice

@Suite("G.711 against the ITU-T G.191 vectors")
struct G711Tests {
    /// First index where two word arrays differ, for failure messages.
    func firstMismatch(_ a: [Int16], _ b: [Int16]) -> String {
        guard a.count == b.count else { return "length \(a.count) vs \(b.count)" }
        for i in 0..<a.count where a[i] != b[i] {
            return "first mismatch at word \(i): got \(a[i]), reference \(b[i])"
        }
        return "identical"
    }

    func encodeAll(_ law: G711Law, _ input: [Int16]) -> [Int16] {
        var codes = [UInt8](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { src in
            codes.withUnsafeMutableBufferPointer { _ = G711.encode(law, src, into: $0) }
        }
        return codes.map { Int16($0) }
    }

    func decodeAll(_ law: G711Law, _ codes: [Int16]) -> [Int16] {
        let bytes = codes.map { UInt8(truncatingIfNeeded: $0) }
        var out = [Int16](repeating: 0, count: bytes.count)
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { _ = G711.decode(law, src, into: $0) }
        }
        return out
    }

    @Test("the sweep covers every 16-bit input")
    func sweepIsComplete() throws {
        let input = try TestData.words("g711/sweep.src")
        #expect(input.count == 65_536)
        #expect(input.first == Int16.min && input.last == Int16.max)
    }

    @Test("mu-law encoder matches sweep-r.u on all 65,536 inputs")
    func muLawEncode() throws {
        let input = try TestData.words("g711/sweep.src")
        let reference = try TestData.words("g711/sweep-r.u")
        let ours = encodeAll(.muLaw, input)
        #expect(ours == reference, "\(firstMismatch(ours, reference))")
    }

    @Test("A-law encoder matches sweep-r.a on all 65,536 inputs")
    func aLawEncode() throws {
        let input = try TestData.words("g711/sweep.src")
        let reference = try TestData.words("g711/sweep-r.a")
        let ours = encodeAll(.aLaw, input)
        #expect(ours == reference, "\(firstMismatch(ours, reference))")
    }

    @Test("mu-law decoder matches sweep-r.u-u")
    func muLawDecode() throws {
        let codes = try TestData.words("g711/sweep-r.u")
        let reference = try TestData.words("g711/sweep-r.u-u")
        let ours = decodeAll(.muLaw, codes)
        #expect(ours == reference, "\(firstMismatch(ours, reference))")
    }

    @Test("A-law decoder matches sweep-r.a-a")
    func aLawDecode() throws {
        let codes = try TestData.words("g711/sweep-r.a")
        let reference = try TestData.words("g711/sweep-r.a-a")
        let ours = decodeAll(.aLaw, codes)
        #expect(ours == reference, "\(firstMismatch(ours, reference))")
    }

    @Test("encode+decode in one pass matches sweep-r.reu and sweep-r.rea")
    func roundTrip() throws {
        let input = try TestData.words("g711/sweep.src")
        for (law, file) in [(G711Law.muLaw, "g711/sweep-r.reu"), (.aLaw, "g711/sweep-r.rea")] {
            let reference = try TestData.words(file)
            let ours = decodeAll(law, encodeAll(law, input))
            #expect(ours == reference, "\(law) \(firstMismatch(ours, reference))")
        }
    }

    @Test("every code decodes and re-encodes to itself (except mu-law's negative zero)")
    func codesAreFixedPoints() {
        for code in 0...255 {
            let c = UInt8(code)
            #expect(G711.aLawEncode(G711.aLawDecode(c)) == c)
            let back = G711.muLawEncode(G711.muLawDecode(c))
            // 0x7F decodes to 0, which encodes as positive zero 0xFF.
            #expect(back == c || (c == 0x7F && back == 0xFF))
        }
    }

    @Test("frame calls write min(input, output) and nothing beyond")
    func frameBounds() {
        let pcm: [Int16] = [0, 1000, -1000, 32767, -32768]
        var codes = [UInt8](repeating: 0xEE, count: 8)
        let n = pcm.withUnsafeBufferPointer { src in
            codes.withUnsafeMutableBufferPointer {
                G711.encode(.aLaw, src, into: UnsafeMutableBufferPointer(rebasing: $0[0..<3]))
            }
        }
        #expect(n == 3)
        #expect(codes[3...] == [0xEE, 0xEE, 0xEE, 0xEE, 0xEE])
    }
}
