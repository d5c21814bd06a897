import ArgumentParser
import CLinux
import COpus
import CSpanDSP
import Foundation
import Voice

/// `deskphone-tool bench codecs`: our codecs (host build and Embedded x86_64 build of
/// `deskphone-codec-bench`) against spandsp (G.711, G.722, PLC) and libopus called directly,
/// on the same synthetic speech, as times real time (xRT) with ratios.
struct CodecsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codecs",
        abstract: "Codec speed (times real time): host and Embedded builds against spandsp and raw libopus."
    )

    @Option(help: "Seconds of audio per measurement.")
    var seconds = 20

    @Option(help: "The Embedded x86_64 build of deskphone-codec-bench.")
    var embedded = ".build-firmware/x86_64/deskphone-codec-bench"

    @Option(help: "The host build of deskphone-codec-bench (default: beside this tool).")
    var host: String?

    /// ns per second of audio, keyed by "codec op".
    typealias Timings = [String: Int64]

    func run() throws {
        let toolDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let hostPath = host ?? toolDirectory.appendingPathComponent("deskphone-codec-bench").path
        print("codec benchmark: \(seconds) s of synthetic speech per measurement, best of 3")
        let hostTimings = try runBench(hostPath, label: "host")
        let embeddedTimings =
            FileManager.default.isExecutableFile(atPath: embedded)
            ? try runBench(embedded, label: "embedded") : [:]
        if embeddedTimings.isEmpty {
            print("(no Embedded build at \(embedded): make firmware builds it with --product=deskphone-codec-bench)")
        }
        let reference = referenceTimings()

        print("")
        print(
            pad("codec op", 16) + pad("host xRT", 11) + pad("emb xRT", 11) + pad("reference", 26)
                + pad("ref xRT", 11) + pad("host/ref", 10) + "emb/ref")
        let rows: [(String, String)] = [
            ("pcmu encode", "spandsp g711_encode"), ("pcmu decode", "spandsp g711_decode"),
            ("pcma encode", "spandsp g711_encode"), ("pcma decode", "spandsp g711_decode"),
            ("g722 encode", "spandsp g722_encode"), ("g722 decode", "spandsp g722_decode"),
            ("pcmu decode+plc", "-"), ("g722 decode+plc", "-"),
            ("l16 encode", "-"), ("l16 decode", "-"),
            ("opus16k encode", "libopus opus_encode"), ("opus16k decode", "libopus opus_decode"),
            ("opus48k encode", "libopus opus_encode"), ("opus48k decode", "libopus opus_decode"),
        ]
        for (key, what) in rows {
            let h = hostTimings[key].map(xRT)
            let e = embeddedTimings[key].map(xRT)
            let r = reference[key].map(xRT)
            print(
                pad(key, 16) + pad(fmt(h), 11) + pad(fmt(e), 11) + pad(r == nil ? "-" : what, 26)
                    + pad(fmt(r), 11) + pad(ratio(h, r), 10) + ratio(e, r))
        }
        print("")
        print("concealment of one lost frame (a fresh loss each time: pitch search included):")
        for name in ["pcmu", "g722", "l16", "opus16k", "opus48k"] {
            let key = name + " conceal"
            var line = "  " + pad(name, 10) + "host " + pad(us(hostTimings[key]), 10)
            line += "emb " + pad(us(embeddedTimings[key]), 10)
            if let r = reference[key] { line += "spandsp plc_fillin " + us(r) }
            print(line)
        }
    }

    func xRT(_ nsPerAudioSecond: Int64) -> Double { 1e9 / Double(max(1, nsPerAudioSecond)) }
    func fmt(_ v: Double?) -> String { v.map { String(format: "%.0f", $0) } ?? "-" }
    func ratio(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b else { return "-" }
        return String(format: "%.2f", a / b)
    }
    func us(_ ns: Int64?) -> String { ns.map { String(format: "%.1f us", Double($0) / 1000) } ?? "-" }
    func pad(_ s: String, _ width: Int) -> String {
        s.padding(toLength: max(width, s.count + 1), withPad: " ", startingAt: 0)
    }

    func runBench(_ path: String, label: String) throws -> Timings {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--seconds", String(seconds)]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { throw ToolError("\(label) bench \(path): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolError("\(label) bench \(path) exited \(process.terminationStatus)")
        }
        var timings: Timings = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 4, let ns = Int64(f[3]) { timings[f[0] + " " + f[1]] = ns }
        }
        return timings
    }

    // MARK: references

    func signal(rate: Int) -> [Int16] {
        var pcm = [Int16](repeating: 0, count: rate * seconds)
        var generator = SyntheticSpeech(sampleRate: rate, seed: 7)
        pcm.withUnsafeMutableBufferPointer { generator.fill($0) }
        return pcm
    }

    func best(_ body: () -> Void) -> Int64 {
        var result = Int64.max
        for _ in 0..<3 {
            let start = cl_monotonic_ns()
            body()
            result = min(result, cl_monotonic_ns() - start)
        }
        return result
    }

    func referenceTimings() -> Timings {
        var t: Timings = [:]
        let secs = Int64(seconds)
        // G.711, 20 ms frames of 160 samples.
        let pcm8 = signal(rate: 8000)
        var codes = [UInt8](repeating: 0, count: pcm8.count)
        var out = [Int16](repeating: 0, count: pcm8.count)
        for (name, law) in [("pcmu", Int32(G711_ULAW)), ("pcma", Int32(G711_ALAW))] {
            let state = g711_init(nil, law)
            defer { g711_free(state) }
            t[name + " encode"] =
                best {
                    pcm8.withUnsafeBufferPointer { src in
                        codes.withUnsafeMutableBufferPointer { dst in
                            for f in stride(from: 0, to: src.count, by: 160) {
                                _ = g711_encode(state, dst.baseAddress! + f, src.baseAddress! + f, 160)
                            }
                        }
                    }
                } / secs
            t[name + " decode"] =
                best {
                    codes.withUnsafeBufferPointer { src in
                        out.withUnsafeMutableBufferPointer { dst in
                            for f in stride(from: 0, to: src.count, by: 160) {
                                _ = g711_decode(state, dst.baseAddress! + f, src.baseAddress! + f, 160)
                            }
                        }
                    }
                } / secs
        }
        // spandsp PLC at 8 kHz: alternate a received frame and a filled-in one.
        let plc = plc_init(nil)
        defer { plc_free(plc) }
        var frame = [Int16](repeating: 0, count: 160)
        let pairs = pcm8.count / 320
        let rxOnly = best {
            for p in 0..<pairs {
                for i in 0..<160 { frame[i] = pcm8[p * 320 + i] }
                _ = plc_rx(plc, &frame, 160)
            }
        }
        let mixed = best {
            for p in 0..<pairs {
                for i in 0..<160 { frame[i] = pcm8[p * 320 + i] }
                _ = plc_rx(plc, &frame, 160)
                _ = plc_fillin(plc, &frame, 160)
            }
        }
        t["pcmu conceal"] = max(0, mixed - rxOnly) / Int64(pairs)
        // G.722 at 64 kbit/s, 20 ms frames of 320 samples.
        let pcm16 = signal(rate: 16000)
        var g722codes = [UInt8](repeating: 0, count: pcm16.count / 2)
        var out16 = [Int16](repeating: 0, count: pcm16.count)
        let encoder = g722_encode_init(nil, 64000, 0)
        let decoder = g722_decode_init(nil, 64000, 0)
        defer {
            g722_encode_free(encoder)
            g722_decode_free(decoder)
        }
        t["g722 encode"] =
            best {
                pcm16.withUnsafeBufferPointer { src in
                    g722codes.withUnsafeMutableBufferPointer { dst in
                        for f in stride(from: 0, to: src.count, by: 320) {
                            _ = g722_encode(encoder, dst.baseAddress! + f / 2, src.baseAddress! + f, 320)
                        }
                    }
                }
            } / secs
        t["g722 decode"] =
            best {
                g722codes.withUnsafeBufferPointer { src in
                    out16.withUnsafeMutableBufferPointer { dst in
                        for f in stride(from: 0, to: src.count, by: 160) {
                            _ = g722_decode(decoder, dst.baseAddress! + 2 * f, src.baseAddress! + f, 160)
                        }
                    }
                }
            } / secs
        // libopus directly, with the settings deskphone-codec-bench uses.
        for (name, rate, bitrate) in [("opus16k", 16000, 24000), ("opus48k", 48000, 32000)] {
            let pcm = signal(rate: rate)
            let frameSamples = rate / 50
            var error: Int32 = 0
            guard let enc = opus_encoder_create(Int32(rate), 1, OPUS_APPLICATION_VOIP, &error),
                let dec = opus_decoder_create(Int32(rate), 1, &error)
            else { continue }
            defer {
                opus_encoder_destroy(enc)
                opus_decoder_destroy(dec)
            }
            _ = deskphone_opus_enc_set_bitrate(enc, Int32(bitrate))
            _ = deskphone_opus_enc_set_complexity(enc, 5)
            let frames = pcm.count / frameSamples
            var packets = [UInt8](repeating: 0, count: frames * 1500)
            var lengths = [Int32](repeating: 0, count: frames)
            var decoded = [Int16](repeating: 0, count: frameSamples * 6)
            t[name + " encode"] =
                best {
                    pcm.withUnsafeBufferPointer { src in
                        packets.withUnsafeMutableBufferPointer { dst in
                            for f in 0..<frames {
                                lengths[f] = opus_encode(
                                    enc, src.baseAddress! + f * frameSamples, Int32(frameSamples),
                                    dst.baseAddress! + f * 1500, 1500)
                            }
                        }
                    }
                } / secs
            t[name + " decode"] =
                best {
                    packets.withUnsafeBufferPointer { src in
                        decoded.withUnsafeMutableBufferPointer { dst in
                            for f in 0..<frames {
                                _ = opus_decode(
                                    dec, src.baseAddress! + f * 1500, lengths[f], dst.baseAddress!,
                                    Int32(dst.count), 0)
                            }
                        }
                    }
                } / secs
        }
        return t
    }
}
