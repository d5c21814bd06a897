// deskphone-codec-bench: times the firmware's codecs on a synthetic speech-like signal.
// Built twice (host Swift by SwiftPM, Embedded Swift by toolchain/build-firmware.py) so
// `deskphone-tool bench codecs` can compare the two builds and the C references. Prints one
// line per measurement: `codec op rate ns_per_audio_second` (`conceal`: ns per lost frame).
// `encode`/`decode` time the bare codec; `decode+plc` the decoder as the RTP path uses it,
// including the history the concealer keeps.
import CLinux
import Voice

struct Case {
    let name: String
    let configuration: CodecConfiguration
}

func cases() -> [Case] {
    var opus16 = CodecConfiguration(kind: .opus, sampleRate: 16000, frameMilliseconds: 20)
    opus16.bitrate = 24000
    var opus48 = CodecConfiguration(kind: .opus, sampleRate: 48000, frameMilliseconds: 20)
    opus48.bitrate = 32000
    return [
        Case(name: "pcmu", configuration: CodecConfiguration(kind: .pcmu)),
        Case(name: "pcma", configuration: CodecConfiguration(kind: .pcma)),
        Case(name: "g722", configuration: CodecConfiguration(kind: .g722)),
        Case(name: "l16", configuration: CodecConfiguration(kind: .l16, sampleRate: 16000)),
        Case(name: "opus16k", configuration: opus16),
        Case(name: "opus48k", configuration: opus48),
    ]
}

/// Best of `rounds` timings of `body`, in ns.
func best(rounds: Int, _ body: () -> Void) -> Int64 {
    var result = Int64.max
    for _ in 0..<rounds {
        let start = cl_monotonic_ns()
        body()
        result = min(result, cl_monotonic_ns() - start)
    }
    return result
}

func run(seconds: Int, only: String?) -> Bool {
    for c in cases() where only == nil || only == c.name {
        let configuration = c.configuration
        let frame = configuration.frameSamples
        let frames = seconds * 1000 / configuration.frameMilliseconds
        var pcm = [Int16](repeating: 0, count: frames * frame)
        var signal = SyntheticSpeech(sampleRate: configuration.sampleRate, seed: 7)
        pcm.withUnsafeMutableBufferPointer { signal.fill($0) }
        let stride = configuration.maxPayloadBytes
        var payloads = [UInt8](repeating: 0, count: frames * stride)
        var lengths = [Int](repeating: 0, count: frames)
        var out = [Int16](repeating: 0, count: frame * 2)
        guard let encoder = try? VoiceEncoder(configuration), let decoder = try? VoiceDecoder(configuration) else {
            print("error " + c.name + " cannot be set up")
            return false
        }
        let encodeNs = best(rounds: 3) {
            pcm.withUnsafeBufferPointer { src in
                payloads.withUnsafeMutableBytes { dst in
                    for f in 0..<frames {
                        let input = UnsafeBufferPointer(rebasing: src[f * frame..<(f + 1) * frame])
                        let output = UnsafeMutableRawBufferPointer(rebasing: dst[f * stride..<(f + 1) * stride])
                        lengths[f] = (try? encoder.encode(input, into: output)) ?? 0
                    }
                }
            }
        }
        // The full receive path: decoding plus the history the concealer keeps.
        let decodeNs = best(rounds: 3) {
            payloads.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for f in 0..<frames {
                        let input = UnsafeRawBufferPointer(rebasing: src[f * stride..<f * stride + lengths[f]])
                        _ = try? decoder.decode(input, into: dst)
                    }
                }
            }
        }
        // The bare codec, for comparison with libraries that have no concealment built in.
        var rawEncodeNs = encodeNs
        var rawDecodeNs = decodeNs
        if configuration.kind == .pcmu || configuration.kind == .pcma {
            let law: G711Law = configuration.kind == .pcmu ? .muLaw : .aLaw
            rawEncodeNs = best(rounds: 3) {
                pcm.withUnsafeBufferPointer { src in
                    payloads.withUnsafeMutableBufferPointer { dst in
                        for f in 0..<frames {
                            _ = G711.encode(
                                law, UnsafeBufferPointer(rebasing: src[f * frame..<(f + 1) * frame]),
                                into: UnsafeMutableBufferPointer(rebasing: dst[f * stride..<(f + 1) * stride]))
                        }
                    }
                }
            }
            rawDecodeNs = best(rounds: 3) {
                payloads.withUnsafeBufferPointer { src in
                    out.withUnsafeMutableBufferPointer { dst in
                        for f in 0..<frames {
                            _ = G711.decode(
                                law, UnsafeBufferPointer(rebasing: src[f * stride..<f * stride + frame]), into: dst)
                        }
                    }
                }
            }
        } else if configuration.kind == .g722 {
            var g722Encoder = G722Encoder()
            var g722Decoder = G722Decoder()
            let codes = frame / 2
            rawEncodeNs = best(rounds: 3) {
                pcm.withUnsafeBufferPointer { src in
                    payloads.withUnsafeMutableBufferPointer { dst in
                        for f in 0..<frames {
                            _ = g722Encoder.encode(
                                UnsafeBufferPointer(rebasing: src[f * frame..<(f + 1) * frame]),
                                into: UnsafeMutableBufferPointer(rebasing: dst[f * stride..<f * stride + codes]))
                        }
                    }
                }
            }
            rawDecodeNs = best(rounds: 3) {
                payloads.withUnsafeBufferPointer { src in
                    out.withUnsafeMutableBufferPointer { dst in
                        for f in 0..<frames {
                            _ = g722Decoder.decode(
                                UnsafeBufferPointer(rebasing: src[f * stride..<f * stride + codes]), into: dst)
                        }
                    }
                }
            }
        }
        // Concealment: alternate good and lost frames (each loss is a fresh burst, the
        // costliest case: pitch search every time); subtract the good frames' decoding.
        let pairs = frames / 2
        let mixedNs = best(rounds: 3) {
            payloads.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for p in 0..<pairs {
                        let f = 2 * p
                        let input = UnsafeRawBufferPointer(rebasing: src[f * stride..<f * stride + lengths[f]])
                        _ = try? decoder.decode(input, into: dst)
                        _ = decoder.conceal(into: dst)
                    }
                }
            }
        }
        let concealNs = max(0, mixedNs - decodeNs / 2) / Int64(pairs)
        let perSecond = Int64(seconds)
        print(c.name + " encode " + String(configuration.sampleRate) + " " + String(rawEncodeNs / perSecond))
        print(c.name + " decode " + String(configuration.sampleRate) + " " + String(rawDecodeNs / perSecond))
        print(c.name + " decode+plc " + String(configuration.sampleRate) + " " + String(decodeNs / perSecond))
        print(c.name + " conceal " + String(configuration.sampleRate) + " " + String(concealNs))
    }
    return true
}

@main
struct CodecBench {
    static func main() {
        var seconds = 20
        var only: String? = nil
        var i = 1
        while i < Int(cl_argc()) {
            let arg = String(cString: cl_argv(Int32(i))!)
            if arg == "--seconds", i + 1 < Int(cl_argc()) {
                seconds = Int(String(cString: cl_argv(Int32(i + 1))!)) ?? seconds
                i += 1
            } else if arg == "--codec", i + 1 < Int(cl_argc()) {
                only = String(cString: cl_argv(Int32(i + 1))!)
                i += 1
            } else {
                print("usage: deskphone-codec-bench [--seconds N] [--codec NAME]")
                exit(2)
            }
            i += 1
        }
        exit(run(seconds: seconds, only: only) ? 0 : 1)
    }
}
