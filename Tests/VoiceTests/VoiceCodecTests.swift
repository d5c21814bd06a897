import CMallocCounter
import Foundation
import Testing

@testable import Voice

#if DEBUG
    let voiceCodecOptimized = false
#else
    let voiceCodecOptimized = true
#endif

@Suite("VoiceEncoder and VoiceDecoder")
struct VoiceCodecTests {
    static let configurations: [CodecConfiguration] = [
        CodecConfiguration(kind: .pcmu),
        CodecConfiguration(kind: .pcma),
        CodecConfiguration(kind: .g722),
        CodecConfiguration(kind: .l16, sampleRate: 8000),
        CodecConfiguration(kind: .l16, sampleRate: 16000),
        CodecConfiguration(kind: .l16, sampleRate: 48000, frameMilliseconds: 10),
        CodecConfiguration(kind: .opus, sampleRate: 16000),
        CodecConfiguration(kind: .opus, sampleRate: 48000),
    ]

    func speech(_ rate: Int, seconds: Double) -> [Int16] {
        var pcm = [Int16](repeating: 0, count: Int(Double(rate) * seconds))
        var generator = SyntheticSpeech(sampleRate: rate, seed: 3)
        pcm.withUnsafeMutableBufferPointer { generator.fill($0) }
        return pcm
    }

    /// Encodes and decodes `pcm` frame by frame; `lost` frames are concealed instead.
    func roundTrip(_ configuration: CodecConfiguration, _ pcm: [Int16], lost: Set<Int> = []) throws -> [Int16] {
        let encoder = try VoiceEncoder(configuration)
        let decoder = try VoiceDecoder(configuration)
        let frame = configuration.frameSamples
        var payload = [UInt8](repeating: 0, count: configuration.maxPayloadBytes)
        var out = [Int16](repeating: 0, count: frame)
        var result: [Int16] = []
        for f in 0..<(pcm.count / frame) {
            let n = try pcm.withUnsafeBufferPointer { src in
                try payload.withUnsafeMutableBytes { dst in
                    try encoder.encode(UnsafeBufferPointer(rebasing: src[f * frame..<(f + 1) * frame]), into: dst)
                }
            }
            let decoded: Int
            if lost.contains(f) {
                decoded = out.withUnsafeMutableBufferPointer { decoder.conceal(into: $0) }
            } else {
                decoded = try payload.withUnsafeBytes { p in
                    try out.withUnsafeMutableBufferPointer {
                        try decoder.decode(UnsafeRawBufferPointer(rebasing: p[0..<n]), into: $0)
                    }
                }
            }
            #expect(decoded == frame)
            result.append(contentsOf: out[0..<decoded])
        }
        return result
    }

    /// SNR in dB of `output` against `input`, at the best delay up to `maxDelay` samples.
    func snr(_ input: [Int16], _ output: [Int16], maxDelay: Int) -> Double {
        var best = -Double.infinity
        for delay in 0...maxDelay {
            var signal = 0.0
            var noise = 0.0
            for i in 0..<(min(input.count, output.count - delay)) {
                let x = Double(input[i])
                let e = Double(output[i + delay]) - x
                signal += x * x
                noise += e * e
            }
            best = max(best, 10 * log10(signal / max(noise, 1)))
        }
        return best
    }

    @Test("round trips keep the signal", arguments: configurations)
    func roundTripQuality(_ configuration: CodecConfiguration) throws {
        let pcm = speech(configuration.sampleRate, seconds: 1.2)
        let out = try roundTrip(configuration, pcm)
        #expect(out.count == pcm.count - pcm.count % configuration.frameSamples)
        switch configuration.kind {
        case .l16:
            #expect(out == Array(pcm.prefix(out.count)))
        case .pcmu, .pcma:
            #expect(snr(pcm, out, maxDelay: 0) > 30)
        case .g722:
            // The QMF pair delays by 22 samples (11 in each direction).
            #expect(snr(pcm, out, maxDelay: 40) > 12)
        default:
            break  // Opus quality is asserted by correlation in OpusTests.
        }
    }

    @Test("a lost frame is concealed with a frame of signal, and counted", arguments: configurations)
    func concealment(_ configuration: CodecConfiguration) throws {
        let pcm = speech(configuration.sampleRate, seconds: 0.6)
        let frames = pcm.count / configuration.frameSamples
        let lostFrame = frames / 3  // inside the voiced part of the synthetic speech
        let out = try roundTrip(configuration, pcm, lost: [lostFrame])
        let frame = configuration.frameSamples
        let concealed = out[lostFrame * frame..<(lostFrame + 1) * frame]
        let energy = concealed.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(frame)
        #expect(energy > 1000, "concealment of a voiced frame should not be silence")
        #expect(out.count == frames * frame)
    }

    @Test("decoders survive 2,000 random payloads each, and stay usable")
    func randomPayloads() throws {
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for configuration in Self.configurations {
            let decoder = try VoiceDecoder(configuration)
            var out = [Int16](repeating: 0, count: configuration.frameSamples * 6)
            var failures = 0
            for _ in 0..<2_000 {
                let length = Int(next() % UInt64(min(configuration.maxPayloadBytes, 1500) + 1))
                let payload = (0..<length).map { _ in UInt8(truncatingIfNeeded: next()) }
                do {
                    _ = try payload.withUnsafeBytes { p in
                        try out.withUnsafeMutableBufferPointer { try decoder.decode(p, into: $0) }
                    }
                } catch {
                    failures += 1
                }
            }
            // Still decodes a valid frame afterwards.
            let encoder = try VoiceEncoder(configuration)
            let pcm = speech(configuration.sampleRate, seconds: 0.1)
            var payload = [UInt8](repeating: 0, count: configuration.maxPayloadBytes)
            let n = try pcm.withUnsafeBufferPointer { src in
                try payload.withUnsafeMutableBytes {
                    try encoder.encode(UnsafeBufferPointer(rebasing: src[0..<configuration.frameSamples]), into: $0)
                }
            }
            let decoded = try payload.withUnsafeBytes { p in
                try out.withUnsafeMutableBufferPointer {
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: p[0..<n]), into: $0)
                }
            }
            #expect(decoded == configuration.frameSamples)
            if configuration.kind == .pcmu || configuration.kind == .pcma || configuration.kind == .g722 {
                #expect(failures == 0, "every byte string is a valid \(configuration.kind) payload")
            }
        }
    }

    @Test("invalid combinations are refused with a reason")
    func validation() {
        #expect(throws: CodecError("G.711 samples at 8000 Hz, not 16000")) {
            try VoiceEncoder(CodecConfiguration(kind: .pcmu, sampleRate: 16000))
        }
        #expect(throws: CodecError("Opus frames are 10, 20, 40 or 60 ms, not 30")) {
            try VoiceDecoder(CodecConfiguration(kind: .opus, sampleRate: 48000, frameMilliseconds: 30))
        }
        #expect(throws: CodecError.self) { try VoiceEncoder(CodecConfiguration(kind: .telephoneEvent)) }
        #expect(throws: CodecError.self) { try VoiceEncoder(CodecConfiguration(kind: .l16, sampleRate: 44100)) }
    }

    @Test("G.722 modes 2 and 3 clear the bits those rates do not carry")
    func g722Modes() throws {
        let pcm = speech(16000, seconds: 0.2)
        for (mode, mask) in [(G722Mode.kbps56, UInt8(0x01)), (.kbps48, 0x03)] {
            var configuration = CodecConfiguration(kind: .g722)
            configuration.g722Mode = mode
            let encoder = try VoiceEncoder(configuration)
            var payload = [UInt8](repeating: 0xFF, count: 160)
            _ = try pcm.withUnsafeBufferPointer { src in
                try payload.withUnsafeMutableBytes {
                    try encoder.encode(UnsafeBufferPointer(rebasing: src[0..<320]), into: $0)
                }
            }
            #expect(payload.allSatisfy { $0 & mask == 0 })
        }
    }

    @Test(
        "encode, decode and conceal allocate nothing per frame",
        .enabled(if: voiceCodecOptimized, "allocation counts are meaningful in optimized builds only"),
        arguments: configurations
    )
    func noAllocationPerFrame(_ configuration: CodecConfiguration) throws {
        let encoder = try VoiceEncoder(configuration)
        let decoder = try VoiceDecoder(configuration)
        let frame = configuration.frameSamples
        let pcm = speech(configuration.sampleRate, seconds: 1)
        var payload = [UInt8](repeating: 0, count: configuration.maxPayloadBytes)
        var out = [Int16](repeating: 0, count: frame)
        let frames = pcm.count / frame
        try pcm.withUnsafeBufferPointer { src in
            try payload.withUnsafeMutableBytes { pay in
                try out.withUnsafeMutableBufferPointer { dst in
                    var before: UInt64 = 0
                    for f in 0..<frames {
                        if f == 2 { before = mc_thread_allocations() }
                        let n = try encoder.encode(
                            UnsafeBufferPointer(rebasing: src[f * frame..<(f + 1) * frame]), into: pay)
                        if f % 5 == 4 {
                            _ = decoder.conceal(into: dst)
                        } else {
                            _ = try decoder.decode(UnsafeRawBufferPointer(rebasing: pay[0..<n]), into: dst)
                        }
                    }
                    let allocations = mc_thread_allocations() - before
                    #expect(
                        allocations == 0, "\(configuration.kind) allocated \(allocations) times in \(frames - 2) frames"
                    )
                }
            }
        }
    }

    @Test("the synthetic speech is deterministic and voiced")
    func syntheticSpeech() {
        let a = speech(8000, seconds: 0.5)
        let b = speech(8000, seconds: 0.5)
        #expect(a == b)
        let peak = a.map { abs(Int($0)) }.max() ?? 0
        #expect(peak > 3000 && peak < 32767)
    }
}

extension CodecConfiguration: CustomTestStringConvertible {
    public var testDescription: String { "\(kind) \(sampleRate) Hz \(frameMilliseconds) ms" }
}
