import Audio
import Foundation
import Reactor
import Testing

@testable import Media
@testable import SIP
@testable import Voice

private func scratchPath(_ tag: String) -> String {
    let path = NSTemporaryDirectory() + "deskphone-media-" + String(getpid()) + "-" + tag + ".raw"
    try? FileManager.default.removeItem(atPath: path)
    return path
}

private func readSamples(_ path: String) -> [Int16] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return data.withUnsafeBytes { raw in
        (0..<(data.count / 2)).map { Int16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)) }
    }
}

private func writeSamples(_ samples: [Int16], to path: String) {
    let data = samples.withUnsafeBufferPointer { Data(buffer: $0) }
    _ = FileManager.default.createFile(atPath: path, contents: data)
}

/// Two calls' audio through ALSA's card-less plugins: A captures a tone from a file (`file`
/// plugin `infile`), B plays into a file; both paced by reactor timers on the virtual clock.
@Suite("Call audio through ALSA file plugins", .serialized)
struct CallAudioTests {
    @Test("capture file -> RTP -> jitter buffer -> playback file, at the codec's rate", arguments: ["PCMU", "G722"])
    func fileToFile(codecName: String) throws {
        let codec = codecName == "PCMU" ? CodecRegistry.pcmu : CodecRegistry.g722
        let rate = codec.sampleRate
        let pair = try CallPair()
        defer { pair.close() }
        try pair.start(codecs: [codec])
        let input = scratchPath("in-" + codecName)
        let output = scratchPath("out-" + codecName)
        let silentOut = scratchPath("outA-" + codecName)
        writeSamples(Signal.sine(1000, amplitude: 8000, count: 3 * rate, sampleRate: rate), to: input)
        let captureRoute = AudioRoute(capture: .rawFile(reading: input), playback: .rawFile(writing: silentOut))
        let playRoute = AudioRoute(capture: .null, playback: .rawFile(writing: output))
        let audioA = CallAudio(
            reactor: pair.reactor, session: pair.a, handset: captureRoute, headset: captureRoute,
            speaker: captureRoute, clock: .timer)
        let audioB = CallAudio(
            reactor: pair.reactor, session: pair.b, handset: playRoute, headset: playRoute, speaker: playRoute,
            clock: .timer)
        defer {
            audioA.close()
            audioB.close()
        }
        try audioA.start()
        try audioB.start()
        #expect(audioA.sampleRate == rate && audioB.device?.configuration.sampleRate == rate)
        try pair.run(seconds: 2)
        audioA.stop()
        audioB.stop()
        let played = readSamples(output)
        #expect(played.count >= 2 * rate - rate / 50)
        let tail = played[(played.count - rate / 2)...]
        let tone = Signal.goertzel(tail, frequency: 1000, sampleRate: rate)
        #expect(tone > 100 * Signal.goertzel(tail, frequency: 1370, sampleRate: rate))
        let level = Signal.rms(tail)
        #expect(abs(level - 8000 / 2.0.squareRoot()) < 600, "rms \(level)")
        let stats = pair.b.statistics
        #expect(stats.receiveToPlayback.count > 50)
        #expect(pair.a.statistics.captureToSend.p50Nanoseconds == 10_000_000)
        #expect(stats.xruns == 0)
    }

    @Test("mute sends silence; a ringback tone is mixed into the playback")
    func muteAndTone() throws {
        let pair = try CallPair()
        defer { pair.close() }
        try pair.start(codecs: [CodecRegistry.pcmu])
        let input = scratchPath("in-mute")
        let output = scratchPath("out-mute")
        let silentOut = scratchPath("outA-mute")
        writeSamples(Signal.sine(1000, amplitude: 8000, count: 3 * 8000, sampleRate: 8000), to: input)
        let routeA = AudioRoute(capture: .rawFile(reading: input), playback: .rawFile(writing: silentOut))
        let routeB = AudioRoute(capture: .null, playback: .rawFile(writing: output))
        let audioA = CallAudio(
            reactor: pair.reactor, session: pair.a, handset: routeA, headset: routeA, speaker: routeA, clock: .timer)
        let audioB = CallAudio(
            reactor: pair.reactor, session: pair.b, handset: routeB, headset: routeB, speaker: routeB, clock: .timer)
        defer {
            audioA.close()
            audioB.close()
        }
        audioA.isMuted = true
        try audioA.start()
        try audioB.start()
        try pair.run(seconds: 1)
        let muted = readSamples(output)
        #expect(muted.count > 7000)
        #expect(Signal.rms(muted[...]) < 10)
        #expect(pair.a.statistics.packetsSent >= 45)
        // Ringback (425 Hz in the ITU table) at B, over the silent call.
        audioB.playTone(.ringback)
        try pair.run(seconds: 0.8)
        audioB.stop()
        let withTone = readSamples(output)
        let toneRegion = withTone[(muted.count + 400)..<(muted.count + 4000)]
        let frequency = Double(audioB.tones.ringback.segments[0].frequencies[0])
        #expect(Signal.goertzel(toneRegion, frequency: frequency, sampleRate: 8000) > 0.001)
    }
}
