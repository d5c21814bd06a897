import ArgumentParser
import Foundation
import Reactor
import Voice

/// `deskphone-tool jbsim`: plays a packet-delay trace through the real `JitterBuffer` on the
/// reactor's virtual clock, with real codec payloads of synthetic speech, and writes the playout
/// log the referee (Tools/jbeval/referee.py, `make jbscore`) scores.
struct JBSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jbsim",
        abstract: "Play a packet-delay trace through the jitter buffer and write the playout log."
    )

    @Option(help: "Trace CSV (seq,send_ms,arrival_ms), e.g. from Tools/jbeval/gentraces.py.")
    var trace: String

    @Option(help: "Playout log to write (play_ms,kind,seq).")
    var out: String

    @Option(name: .customLong("period-ms"), help: "Device period in ms.")
    var periodMilliseconds: Int = 10

    @Option(help: "pcmu, g722 or opus.")
    var codec: String = "pcmu"

    @Flag(help: "Print the jitter buffer's counters.")
    var verbose = false

    struct Packet {
        var seq: Int
        var sendMs: Double
        var arrivalMs: Double
    }

    func run() throws {
        let (meta, packets) = try loadTrace(trace)
        let ptime = Int(meta["ptime_ms"] ?? "20") ?? 20
        guard let kind = CodecKind(commandLineName: codec), kind != .l16 else {
            throw ToolError("unknown codec '\(codec)' (pcmu, pcma, g722, opus)")
        }
        guard periodMilliseconds >= 5, periodMilliseconds <= 60, periodMilliseconds % 5 == 0 else {
            throw ToolError("--period-ms must be 5...60 in steps of 5, not \(periodMilliseconds)")
        }
        var codecConfiguration = CodecConfiguration(kind: kind, frameMilliseconds: ptime)
        if kind == .opus {
            codecConfiguration.inbandFEC = true
            codecConfiguration.expectedLossPercent = 5
        }
        let jbConfiguration = JitterBufferConfiguration(
            codec: codecConfiguration, periodMilliseconds: periodMilliseconds)
        let clockRate = jbConfiguration.clockRate

        // Payloads: synthetic speech at each packet's media time, encoded in send order.
        let encoder = try VoiceEncoder(codecConfiguration)
        let frame = codecConfiguration.frameSamples
        var speech = SyntheticSpeech(sampleRate: codecConfiguration.sampleRate, seed: 7)
        var pcm = [Int16](repeating: 0, count: frame)
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(packets.count)
        var buffer = [UInt8](repeating: 0, count: codecConfiguration.maxPayloadBytes)
        var generatedUntil = 0.0
        let bySend = packets.indices.sorted { packets[$0].sendMs < packets[$1].sendMs }
        var payloadOf = [Int: [UInt8]]()
        for i in bySend {
            let p = packets[i]
            // Skip the signal over DTX silences so the speech keeps its timing.
            var skip = Int(((p.sendMs - generatedUntil) * Double(codecConfiguration.sampleRate) / 1000).rounded())
            while skip > 0 {
                let n = min(skip, frame)
                pcm.withUnsafeMutableBufferPointer { speech.fill(UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
                skip -= n
            }
            pcm.withUnsafeMutableBufferPointer { speech.fill($0) }
            generatedUntil = p.sendMs + Double(ptime)
            let n = try pcm.withUnsafeBufferPointer { src in
                try buffer.withUnsafeMutableBytes { try encoder.encode(src, into: $0) }
            }
            payloadOf[i] = Array(buffer[0..<n])
        }
        for i in packets.indices { payloads.append(payloadOf[i] ?? []) }

        // Arrivals in time order; a packet is handed to the buffer at the first tick at or after
        // its arrival, with its true arrival time (as a kernel receive timestamp would give it).
        let arrivals = packets.indices.filter { !packets[$0].arrivalMs.isNaN }
            .sorted { (packets[$0].arrivalMs, $0) < (packets[$1].arrivalMs, $1) }
        guard let firstIndex = arrivals.first else { throw ToolError("\(trace): no packet arrives") }
        func nanoseconds(_ ms: Double) -> Int64 { Int64((ms * 1_000_000).rounded()) }
        let t0 = nanoseconds(packets[firstIndex].arrivalMs)
        let lastArrival = nanoseconds(packets[arrivals.last!].arrivalMs)
        let periodNs = Int64(periodMilliseconds) * 1_000_000
        let endNs = lastArrival + 2_000_000_000

        let jb = try JitterBuffer(jbConfiguration)
        let reactor = try Reactor(clock: .virtual(startNanoseconds: t0))
        var output = [Int16](repeating: 0, count: codecConfiguration.sampleRate * periodMilliseconds / 1000)
        var log = "# deskphone-tool jbsim: trace \(trace), codec \(codec), period \(periodMilliseconds) ms\n"
        log += "play_ms,kind,seq\n"
        var cursor = 0
        var tick: Int64 = 0
        var cpu: Double = 0
        var lastPlayed = -1
        let ssrc: UInt32 = 0x1234_5678
        _ = reactor.every(periodNs, firstAfter: 0) {
            let now = reactor.now
            let started = processCPUSeconds()
            while cursor < arrivals.count && nanoseconds(packets[arrivals[cursor]].arrivalMs) <= now {
                let i = arrivals[cursor]
                let p = packets[i]
                let ts = UInt32(truncatingIfNeeded: Int64((p.sendMs * Double(clockRate) / 1000).rounded()))
                let marker = i == 0 || (i > 0 && p.sendMs - packets[i - 1].sendMs > Double(ptime) + 0.5)
                payloads[i].withUnsafeBytes {
                    jb.insert(
                        sequence: UInt16(truncatingIfNeeded: p.seq), timestamp: ts, ssrc: ssrc, marker: marker,
                        payload: $0, arrivalNanoseconds: nanoseconds(p.arrivalMs))
                }
                cursor += 1
            }
            let frame = output.withUnsafeMutableBufferPointer { jb.pull(nowNanoseconds: now, into: $0) }
            cpu += processCPUSeconds() - started
            let playMs = Double(t0 + tick * periodNs) / 1_000_000
            tick += 1
            if let s = frame.sequence {
                // Map the 16-bit sequence number back to the trace's (unwrapped) one.
                let seq = unwrap(s, near: lastPlayed)
                lastPlayed = seq
                log += String(format: "%.3f", playMs) + "," + frame.kind.description + "," + String(seq) + "\n"
            } else {
                log += String(format: "%.3f", playMs) + "," + frame.kind.description + ",\n"
            }
            if now >= endNs { reactor.stop() }
        }
        try reactor.run(until: endNs + periodNs)
        reactor.close()
        try log.write(toFile: out, atomically: true, encoding: .utf8)
        let s = jb.statistics
        let perFrame = cpu / Double(max(1, tick)) * Double(10) / Double(periodMilliseconds) * 1e6
        FileHandle.standardError.write(
            Data(
                (String(format: "jbsim: %@: %d periods, CPU %.2f us per 10 ms frame", trace, Int(tick), perFrame)
                    + "\n").utf8))
        if verbose {
            FileHandle.standardError.write(
                Data(
                    ("jbsim: received \(s.received) duplicates \(s.duplicates) late \(s.late) "
                        + "overflow \(s.overflow) decoded \(s.decoded) concealed \(s.concealed) "
                        + "fec \(s.recoveredFEC) resyncs \(s.resyncs) accelerate \(s.accelerated) "
                        + "preemptive \(s.preemptive)\n").utf8))
        }
    }

    private func unwrap(_ s: UInt16, near last: Int) -> Int {
        if last < 0 { return Int(s) }
        let delta = Int(Int16(bitPattern: s &- UInt16(truncatingIfNeeded: last)))
        return last + delta
    }

    private func loadTrace(_ path: String) throws -> ([String: String], [Packet]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ToolError("cannot read trace '\(path)'")
        }
        var meta = [String: String]()
        var packets = [Packet]()
        var header = false
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if let eq = body.firstIndex(of: "=") {
                    meta[String(body[..<eq]).trimmingCharacters(in: .whitespaces)] =
                        String(body[body.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
                }
                continue
            }
            if !header {
                guard line == "seq,send_ms,arrival_ms" else {
                    throw ToolError("\(path) line \(lineNumber): expected header 'seq,send_ms,arrival_ms'")
                }
                header = true
                continue
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == 3, let seq = Int(fields[0]), let send = Double(fields[1]) else {
                throw ToolError("\(path) line \(lineNumber): cannot parse '\(line)'")
            }
            let arrivalField = fields[2].trimmingCharacters(in: .whitespaces)
            let arrival: Double
            if arrivalField.isEmpty {
                arrival = .nan
            } else if let a = Double(arrivalField) {
                arrival = a
            } else {
                throw ToolError("\(path) line \(lineNumber): bad arrival_ms '\(arrivalField)'")
            }
            packets.append(Packet(seq: seq, sendMs: send, arrivalMs: arrival))
        }
        guard header, !packets.isEmpty else { throw ToolError("\(path): no packets") }
        return (meta, packets)
    }
}

/// CPU time of this process in seconds.
private func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
