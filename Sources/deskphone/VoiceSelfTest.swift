import Config
import Voice

/// The codec checks of `deskphone --self-test --vectors DIR`: the ITU-T G.191 G.711 and G.722
/// vectors through this very build (so the ARM builds prove bit-exactness under qemu), an
/// Opus round trip through libopus, and concealment. DIR is `testvectors/itu-t-g191`.
struct VoiceSelfTest {
    let vectors: String
    private(set) var tally: SelfTestTally
    var passed: Int { tally.passed }
    var failed: Int { tally.failed }

    init(vectors: String, report: @escaping (String) -> Void) {
        self.vectors = vectors
        tally = SelfTestTally(report: report)
    }

    mutating func run() {
        check("G.711 mu-law encode/decode match the G.191 sweep", g711(.muLaw, "u"))
        check("G.711 A-law encode/decode match the G.191 sweep", g711(.aLaw, "a"))
        check("G.722 encoder matches codspw.cod", g722Encode())
        check("G.722 decoder modes 1, 2, 3 match outsp1..3.bin", g722Decode())
        check("Opus 16 kHz round trip through libopus keeps the signal", opusRoundTrip())
        check("concealment fills a lost G.711 frame with signal", concealment())
        check("RTCP intervals are finite and within 0.5..1.5 of the deterministic one", rtcpInterval())
    }

    /// The RTCP report interval drawn from a 64-bit generator (RFC 3550 §6.3.1): on a 32-bit
    /// `Int` a `1 << 53` scale once made it infinite, and the call's timer trapped.
    private func rtcpInterval() -> String? {
        struct Counter: RandomNumberGenerator {
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            mutating func next() -> UInt64 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return state
            }
        }
        var generator = Counter()
        for _ in 0..<200 {
            var interval = RTCPTransmissionInterval(sessionBandwidth: 8000)
            let fixed = interval.deterministicInterval(weSent: true)
            let seconds = interval.nextInterval(weSent: true, generator: &generator)
            let low = fixed * 0.5 / (2.718281828459045 - 1.5)
            let high = fixed * 1.5 / (2.718281828459045 - 1.5)
            guard seconds.isFinite, seconds >= low, seconds <= high else {
                return "interval " + String(Int64(seconds.isFinite ? seconds * 1000 : -1)) + " ms"
            }
        }
        return nil
    }

    private mutating func check(_ name: String, _ problem: String?) { tally.check(name, problem) }

    /// Little-endian 16-bit words of a vector file, or nil (with the reason in `error`).
    private func words(_ relative: String, _ problem: inout String) -> [Int16]? {
        let bytes: [UInt8]
        do {
            bytes = try FileText.bytes(vectors + "/" + relative, limit: 1 << 22)
        } catch {
            problem = error.description
            return nil
        }
        var out = [Int16](repeating: 0, count: bytes.count / 2)
        for i in 0..<out.count {
            out[i] = Int16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8)
        }
        return out
    }

    private func firstDifference(_ a: [Int16], _ b: [Int16]) -> String? {
        if a.count != b.count { return "length " + String(a.count) + " vs " + String(b.count) }
        for i in 0..<a.count where a[i] != b[i] {
            return "word " + String(i) + ": " + String(a[i]) + " vs reference " + String(b[i])
        }
        return nil
    }

    private func g711(_ law: G711Law, _ suffix: String) -> String? {
        var error = ""
        guard let input = words("g711/sweep.src", &error), let codes = words("g711/sweep-r." + suffix, &error),
            let decoded = words("g711/sweep-r." + suffix + "-" + suffix, &error)
        else { return error }
        var ours = [UInt8](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { src in
            ours.withUnsafeMutableBufferPointer { _ = G711.encode(law, src, into: $0) }
        }
        if let d = firstDifference(ours.map { Int16($0) }, codes) { return "encode " + d }
        let referenceCodes = codes.map { UInt8(truncatingIfNeeded: $0) }
        var pcm = [Int16](repeating: 0, count: codes.count)
        referenceCodes.withUnsafeBufferPointer { src in
            pcm.withUnsafeMutableBufferPointer { _ = G711.decode(law, src, into: $0) }
        }
        if let d = firstDifference(pcm, decoded) { return "decode " + d }
        return nil
    }

    private func g722Encode() -> String? {
        var error = ""
        guard let input = words("g722/inpsp.bin", &error), let reference = words("g722/codspw.cod", &error) else {
            return error
        }
        var encoder = G722Encoder()
        var codes = [UInt8](repeating: 0, count: input.count / 2)
        input.withUnsafeBufferPointer { src in
            codes.withUnsafeMutableBufferPointer { _ = encoder.encode(src, into: $0) }
        }
        return firstDifference(codes.map { Int16($0) }, reference.map { $0 & 0xFF })
    }

    private func g722Decode() -> String? {
        var error = ""
        guard let reference = words("g722/codspw.cod", &error) else { return error }
        let codes = reference.map { UInt8(truncatingIfNeeded: $0) }
        for (mode, file) in [
            (G722Mode.kbps64, "g722/outsp1.bin"), (.kbps56, "g722/outsp2.bin"), (.kbps48, "g722/outsp3.bin"),
        ] {
            guard let expected = words(file, &error) else { return error }
            var decoder = G722Decoder(mode: mode)
            var pcm = [Int16](repeating: 0, count: codes.count * 2)
            codes.withUnsafeBufferPointer { src in
                pcm.withUnsafeMutableBufferPointer { _ = decoder.decode(src, into: $0) }
            }
            if let d = firstDifference(pcm, expected) { return file + " " + d }
        }
        return nil
    }

    private func opusRoundTrip() -> String? {
        let configuration = CodecConfiguration(kind: .opus, sampleRate: 16000)
        guard let encoder = try? VoiceEncoder(configuration), let decoder = try? VoiceDecoder(configuration) else {
            return "cannot set up libopus"
        }
        var signal = SyntheticSpeech(sampleRate: 16000, seed: 5)
        var pcm = [Int16](repeating: 0, count: 320)
        var out = [Int16](repeating: 0, count: 320)
        var payload = [UInt8](repeating: 0, count: configuration.maxPayloadBytes)
        var inEnergy = 0.0
        var outEnergy = 0.0
        for frame in 0..<40 {
            pcm.withUnsafeMutableBufferPointer { signal.fill($0) }
            let n = pcm.withUnsafeBufferPointer { src in
                payload.withUnsafeMutableBytes { dst -> Int in
                    do throws(CodecError) { return try encoder.encode(src, into: dst) } catch { return -1 }
                }
            }
            if n < 0 { return "encode failed at frame " + String(frame) }
            let decoded = payload.withUnsafeBytes { p in
                out.withUnsafeMutableBufferPointer { dst -> Int in
                    do throws(CodecError) {
                        return try decoder.decode(UnsafeRawBufferPointer(rebasing: p[0..<n]), into: dst)
                    } catch {
                        return -1
                    }
                }
            }
            if decoded != 320 { return "decode gave " + String(decoded) + " samples" }
            if frame >= 10 {
                for i in 0..<320 {
                    inEnergy += Double(pcm[i]) * Double(pcm[i])
                    outEnergy += Double(out[i]) * Double(out[i])
                }
            }
        }
        let ratio = outEnergy / max(1, inEnergy)
        return ratio > 0.5 && ratio < 2 ? nil : "output/input energy " + String(Int(ratio * 100)) + "%"
    }

    private func concealment() -> String? {
        guard let decoder = try? VoiceDecoder(CodecConfiguration(kind: .pcmu)) else { return "cannot set up" }
        var signal = SyntheticSpeech(sampleRate: 8000, seed: 9)
        var pcm = [Int16](repeating: 0, count: 160)
        var codes = [UInt8](repeating: 0, count: 160)
        var out = [Int16](repeating: 0, count: 160)
        for _ in 0..<10 {
            pcm.withUnsafeMutableBufferPointer { signal.fill($0) }
            pcm.withUnsafeBufferPointer { src in
                codes.withUnsafeMutableBufferPointer { _ = G711.encode(.muLaw, src, into: $0) }
            }
            codes.withUnsafeBytes { p in
                out.withUnsafeMutableBufferPointer { dst in
                    do throws(CodecError) { _ = try decoder.decode(p, into: dst) } catch {}
                }
            }
        }
        let n = out.withUnsafeMutableBufferPointer { decoder.conceal(into: $0) }
        let energy = out.reduce(0.0) { $0 + Double($1) * Double($1) } / 160
        if n != 160 { return "concealed " + String(n) + " samples" }
        return energy > 1000 ? nil : "concealed frame is near silence"
    }
}
