import ArgumentParser
import Foundation
import Voice

/// `deskphone-tool codec encode|decode`: raw 16-bit little-endian PCM to payload streams
/// and back, through the firmware's own codec classes.
struct CodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Encode raw PCM to a codec payload stream, or decode one (with loss concealment).",
        subcommands: [Encode.self, Decode.self]
    )
}

/// Options shared by encode and decode.
struct CodecOptions: ParsableArguments {
    @Option(help: "pcmu, pcma, g722, opus or l16.")
    var codec: String

    @Option(help: "PCM sample rate in Hz (l16: 8000/16000/48000; opus: 8000/12000/16000/24000/48000).")
    var rate: Int?

    @Option(help: "Opus bit rate in bit/s.")
    var bitrate: Int?

    @Option(help: "G.722 mode: 1 (64 kbit/s), 2 (56), 3 (48).")
    var mode: Int = 1

    @Option(name: .customLong("frame-ms"), help: "Frame duration in ms (10, 20, 40, 60 ...).")
    var frameMilliseconds: Int = 20

    @Option(help: "Opus complexity 0-10.")
    var complexity: Int = 5

    @Flag(help: "Opus: in-band FEC (encode), recovery from the next packet's FEC (decode).")
    var fec = false

    @Option(name: .customLong("loss-percent"), help: "Opus: expected packet loss percent the FEC is tuned for.")
    var lossPercent: Int = 10

    @Flag(help: "Opus: discontinuous transmission.")
    var dtx = false

    func makeConfiguration() throws -> CodecConfiguration {
        guard let kind = CodecKind(commandLineName: codec) else {
            throw ValidationError("unknown codec '\(codec)' (pcmu, pcma, g722, opus, l16)")
        }
        var configuration = CodecConfiguration(kind: kind, sampleRate: rate, frameMilliseconds: frameMilliseconds)
        guard let g722Mode = G722Mode(rawValue: mode) else {
            throw ValidationError("--mode must be 1, 2 or 3, not \(mode)")
        }
        configuration.g722Mode = g722Mode
        configuration.bitrate = bitrate
        configuration.complexity = complexity
        configuration.inbandFEC = fec
        configuration.expectedLossPercent = fec ? lossPercent : 0
        configuration.dtx = dtx
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.message)
        }
        return configuration
    }
}

/// A CLI failure: printed as `deskphone-tool: message` with exit status 1.
struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

func readFile(_ path: String) throws -> Data {
    guard FileManager.default.fileExists(atPath: path) else { throw ToolError("\(path): no such file") }
    guard let data = FileManager.default.contents(atPath: path) else { throw ToolError("\(path): cannot read") }
    return data
}

func writeFile(_ path: String, _ data: Data) throws {
    guard FileManager.default.createFile(atPath: path, contents: data) else {
        throw ToolError("\(path): cannot write")
    }
}

extension CodecCommand {
    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Raw 16-bit LE PCM -> payload stream (G.711: a byte per sample; G.722: a byte per code; "
                + "L16: big-endian samples; Opus: each packet after a 16-bit big-endian length)."
        )
        @OptionGroup var options: CodecOptions
        @Argument(help: "Input PCM file.") var input: String
        @Argument(help: "Output payload file.") var output: String

        func run() throws {
            let configuration = try options.makeConfiguration()
            let data = try readFile(input)
            guard data.count % 2 == 0 else {
                throw ToolError("\(input): odd length \(data.count): 16-bit PCM has an even number of bytes")
            }
            var pcm = [Int16](repeating: 0, count: data.count / 2)
            _ = pcm.withUnsafeMutableBytes { data.copyBytes(to: $0) }
            for i in pcm.indices { pcm[i] = Int16(littleEndian: pcm[i]) }
            let encoder = try VoiceEncoder(configuration)
            let frame = encoder.frameSamples
            var payload = [UInt8](repeating: 0, count: configuration.maxPayloadBytes)
            var out = Data()
            var frameBuffer = [Int16](repeating: 0, count: frame)
            var start = 0
            while start < pcm.count {
                let n = min(frame, pcm.count - start)
                var count = n
                if configuration.kind == .opus || (configuration.kind == .g722 && n % 2 == 1) {
                    // Opus takes whole frames only: the last one is padded with silence.
                    for i in 0..<frame { frameBuffer[i] = i < n ? pcm[start + i] : 0 }
                    count = configuration.kind == .opus ? frame : n + 1
                } else {
                    for i in 0..<n { frameBuffer[i] = pcm[start + i] }
                }
                let written = try frameBuffer.withUnsafeBufferPointer { src in
                    try payload.withUnsafeMutableBytes { dst in
                        try encoder.encode(UnsafeBufferPointer(rebasing: src[0..<count]), into: dst)
                    }
                }
                if configuration.kind == .opus {
                    out.append(UInt8(written >> 8))
                    out.append(UInt8(written & 0xFF))
                }
                out.append(contentsOf: payload[0..<written])
                start += n
            }
            try writeFile(output, out)
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Payload stream -> raw 16-bit LE PCM, optionally losing frames to exercise concealment."
        )
        @OptionGroup var options: CodecOptions

        @Option(help: "Frames to lose: a file of 0/1 per frame (1 = lost; whitespace ignored), or random:PCT:SEED.")
        var loss: String?

        @Argument(help: "Input payload file.") var input: String
        @Argument(help: "Output PCM file.") var output: String

        func run() throws {
            let configuration = try options.makeConfiguration()
            let data = [UInt8](try readFile(input))
            let frames = try splitFrames(data, configuration)
            let lost = try LossPattern(loss).losses(count: frames.count)
            let decoder = try VoiceDecoder(configuration)
            var pcm = [Int16](repeating: 0, count: max(configuration.frameSamples, 8) * 8)
            var out = Data()
            out.reserveCapacity(frames.count * configuration.frameSamples * 2)
            for (index, frame) in frames.enumerated() {
                let n: Int
                if lost[index] {
                    if options.fec, index + 1 < frames.count, !lost[index + 1] {
                        n = frames[index + 1].withUnsafeBytes { next in
                            pcm.withUnsafeMutableBufferPointer { decoder.recover(lostFrameFrom: next, into: $0) }
                        }
                    } else {
                        n = pcm.withUnsafeMutableBufferPointer { decoder.conceal(into: $0) }
                    }
                } else {
                    do {
                        n = try frame.withUnsafeBytes { payload in
                            try pcm.withUnsafeMutableBufferPointer { try decoder.decode(payload, into: $0) }
                        }
                    } catch {
                        throw ToolError("\(input): frame \(index): \(error)")
                    }
                }
                for i in 0..<n {
                    let v = UInt16(bitPattern: pcm[i])
                    out.append(UInt8(v & 0xFF))
                    out.append(UInt8(v >> 8))
                }
            }
            try writeFile(output, out)
        }

        /// Cuts the stream into one payload per frame.
        func splitFrames(_ data: [UInt8], _ configuration: CodecConfiguration) throws -> [[UInt8]] {
            var frames: [[UInt8]] = []
            switch configuration.kind {
            case .opus:
                var i = 0
                while i < data.count {
                    guard i + 2 <= data.count else { throw ToolError("\(input): truncated length at byte \(i)") }
                    let length = Int(data[i]) << 8 | Int(data[i + 1])
                    i += 2
                    guard i + length <= data.count else {
                        throw ToolError("\(input): packet of \(length) bytes at byte \(i - 2) runs past the end")
                    }
                    frames.append(Array(data[i..<i + length]))
                    i += length
                }
            default:
                if configuration.kind == .l16 && data.count % 2 != 0 {
                    throw ToolError("\(input): odd length \(data.count): L16 has two bytes per sample")
                }
                let step: Int
                switch configuration.kind {
                case .pcmu, .pcma: step = configuration.frameSamples
                case .g722: step = configuration.frameSamples / 2
                default: step = configuration.frameSamples * 2
                }
                var i = 0
                while i < data.count {
                    frames.append(Array(data[i..<min(i + step, data.count)]))
                    i += step
                }
            }
            return frames
        }
    }
}

/// Which frames a decode run loses: none, a 0/1 file, or `random:PCT:SEED`.
struct LossPattern {
    let spec: String?
    init(_ spec: String?) { self.spec = spec }

    func losses(count: Int) throws -> [Bool] {
        guard let spec else { return [Bool](repeating: false, count: count) }
        if spec.hasPrefix("random:") {
            let parts = spec.split(separator: ":")
            guard parts.count == 3, let percent = Double(parts[1]), (0...100).contains(percent),
                let seed = UInt64(parts[2])
            else { throw ToolError("--loss \(spec): expected random:PCT:SEED, e.g. random:10:42") }
            var state = seed &+ 0x9E37_79B9_7F4A_7C15
            return (0..<count).map { _ in
                // splitmix64: the same seed gives the same pattern everywhere.
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                return Double(z >> 11) / Double(1 << 53) * 100 < percent
            }
        }
        let text = String(decoding: try readFile(spec), as: UTF8.self)
        var pattern: [Bool] = []
        for (offset, c) in text.enumerated() {
            switch c {
            case "0": pattern.append(false)
            case "1": pattern.append(true)
            case " ", "\n", "\t", "\r", ",": continue
            default: throw ToolError("\(spec): character \(offset + 1) is '\(c)'; a loss file holds 0 and 1 only")
            }
        }
        guard !pattern.isEmpty else { throw ToolError("\(spec): empty loss pattern") }
        // A pattern shorter than the stream repeats.
        return (0..<count).map { pattern[$0 % pattern.count] }
    }
}

extension CodecKind {
    /// The codec a command line names (pcmu, pcma, g722, opus, l16; any case), nil for another name.
    init?(commandLineName name: String) {
        switch name.lowercased() {
        case "pcmu": self = .pcmu
        case "pcma": self = .pcma
        case "g722": self = .g722
        case "opus": self = .opus
        case "l16": self = .l16
        default: return nil
        }
    }
}
