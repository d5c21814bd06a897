import CLinux
import Foundation
import Reactor
import Testing

@testable import Audio

/// ALSA through its own plugins (no sound card here): `file` for playback into a raw file and
/// capture from one (`infile`), `null` for silence. These have no clock, so the streams pace
/// themselves with a reactor timer; on the virtual clock that takes no real time.
@Suite("PCM streams on the reactor", .serialized)
struct PCMStreamTests {
    /// Plays `periods` periods of a tone into a raw file and returns what the file holds.
    private func playTone(
        _ pattern: TonePattern, periods: Int, rate: Int, reactor: Reactor
    ) throws -> (samples: [Int16], stream: PCMStream) {
        let path = Scratch.path("tone")
        var generator = ToneGenerator(sampleRate: rate)
        generator.start(pattern)
        let stream = try PCMStream(
            playingTo: .rawFile(writing: path), on: reactor, configuration: PCMConfiguration(sampleRate: rate)
        ) { frame in generator.fill(frame) }
        try stream.start()
        #expect(stream.clock == .timer)
        let period = stream.configuration.periodNanoseconds
        let start = reactor.now
        // Run until `periods` periods went out (a real clock may wake late; the timer never bursts).
        while stream.periods < UInt64(periods) {
            try reactor.run(until: start + Int64(stream.periods + 1) * period)
        }
        stream.close()
        return (Scratch.readSamples(path), stream)
    }

    @Test("a tone played through the file plugin on the real clock lands in the file, sample for sample")
    func playbackRealClock() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let rate = 8000
        let pattern = try TonePattern(parsing: "425")
        let (samples, stream) = try playTone(pattern, periods: 20, rate: rate, reactor: reactor)
        // A loaded machine may let one more period out before the loop stops: what counts is that
        // every period that went out is in the file, sample for sample.
        #expect(stream.periods >= 20 && stream.periods <= 22)
        let played = Int(stream.periods) * 80
        #expect(samples.count == played)
        var reference = ToneGenerator(sampleRate: rate)
        reference.start(pattern)
        var expected = [Int16](repeating: 0, count: played)
        expected.withUnsafeMutableBufferPointer { reference.fill($0) }
        #expect(samples == expected)
        let steady = samples[400...]
        #expect(
            Signal.goertzel(steady, frequency: 425, sampleRate: rate) > 1000
                * Signal.goertzel(steady, frequency: 600, sampleRate: rate))
        #expect(abs(Signal.rms(steady) - 5110 / 2.0.squareRoot()) < 60)
    }

    @Test(
        "timer pacing on the virtual clock: one period per 10 ms, at 8, 16 and 48 kHz", arguments: [8000, 16000, 48000])
    func playbackVirtualClock(rate: Int) throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let path = Scratch.path("virtual")
        var generator = ToneGenerator(sampleRate: rate)
        generator.start(try TonePattern(parsing: "480+620/500,0/500"))
        let stream = try PCMStream(
            playingTo: .rawFile(writing: path), on: reactor, configuration: PCMConfiguration(sampleRate: rate)
        ) { frame in generator.fill(frame) }
        #expect(stream.periodFrames == rate / 100)
        try stream.start()
        try reactor.run(for: 2_000_000_000)  // 2 s of virtual time
        #expect(stream.periods == 200)
        stream.close()
        let samples = Scratch.readSamples(path)
        #expect(samples.count == 2 * rate)
        // The busy cadence: sound in the first half second, silence in the second.
        let half = rate / 2
        #expect(samples[half..<(2 * half)].allSatisfy { $0 == 0 })
        #expect(Signal.goertzel(samples[(half / 4)..<(3 * half / 4)], frequency: 480, sampleRate: rate) > 0.001)
        #expect(
            Signal.goertzel(
                samples[(2 * half + half / 4)..<(2 * half + 3 * half / 4)], frequency: 620, sampleRate: rate) > 0.001)
    }

    @Test("capture from a file (infile) delivers its content period by period")
    func captureFromFile() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let rate = 16000
        let path = Scratch.path("in")
        let source = Signal.sine(1000, amplitude: 8000, count: rate, sampleRate: rate)  // 1 s
        Scratch.write(source, to: path)
        var received: [Int16] = []
        var frames = 0
        let stream = try PCMStream(
            capturing: .rawFile(reading: path), on: reactor, configuration: PCMConfiguration(sampleRate: rate)
        ) { frame in
            frames += 1
            received.append(contentsOf: frame)
        }
        try stream.start()
        #expect(stream.clock == .timer)
        try reactor.run(for: 500_000_000)
        #expect(frames == 50)
        #expect(stream.periods == 50)
        #expect(received.count == 50 * 160)
        #expect(received == Array(source[0..<(50 * 160)]))
        stream.close()
    }

    @Test("capture from null gives silence at the period rate")
    func captureNull() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        var frames = 0
        var nonZero = 0
        let stream = try PCMStream(capturing: .null, on: reactor, configuration: PCMConfiguration(sampleRate: 48000)) {
            frame in
            frames += 1
            #expect(frame.count == 480)
            nonZero += frame.filter { $0 != 0 }.count
        }
        try stream.start()
        try reactor.run(for: 1_000_000_000)
        #expect(frames == 100)
        #expect(nonZero == 0)
        stream.stop()
        try reactor.run(for: 100_000_000)
        #expect(frames == 100)
        // Stopped, not closed: it starts again.
        try stream.start()
        try reactor.run(for: 100_000_000)
        #expect(frames == 110)
        stream.close()
    }

    @Test("a stalled loop is an xrun: counted, recovered, missed periods skipped, no growing delay")
    func xrunRecovery() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let path = Scratch.path("xrun")
        var pulls = 0
        let stream = try PCMStream(playingTo: .rawFile(writing: path), on: reactor) { frame in
            pulls += 1
            for i in 0..<frame.count { frame[i] = Int16(truncatingIfNeeded: pulls) }
        }
        var captured = 0
        let capture = try PCMStream(capturing: .null, on: reactor) { _ in captured += 1 }
        try stream.start()
        try capture.start()
        try reactor.run(for: 100_000_000)
        #expect(stream.periods == 10 && captured == 10)
        // The loop stalls for 50 ms (a callback blocking, a slow flash write...).
        reactor.advanceVirtualClock(by: 50_000_000)
        try reactor.run(for: 100_000_000)
        #expect(stream.xruns == 1)
        #expect(capture.xruns == 1)
        #expect(stream.isRunning && capture.isRunning)
        // 150 ms went by since: the five ticks due during the stall come as one late tick, then
        // ten on time: 11 periods, not 15 (no burst to catch up, no delay piling up), and the
        // stream keeps its pace afterwards.
        #expect(stream.periods == 21 && captured == 21)
        try reactor.run(for: 1_000_000_000)
        #expect(stream.periods == 121 && stream.xruns == 1)
        #expect(stream.delayFrames <= stream.bufferFrames)
        stream.close()
        capture.close()
        let samples = Scratch.readSamples(path)
        #expect(samples.count == 121 * 80)
        // Every pulled period was written once, in order.
        #expect(samples[(120 * 80)...].allSatisfy { $0 == 121 })
        #expect(samples[(20 * 80)..<(21 * 80)].allSatisfy { $0 == 21 })
    }

    @Test("a device that does not exist is a clear error")
    func badDevice() {
        let reactor = try! Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        do {
            _ = try PCMStream(playingTo: PCMDeviceName("nosuchdevice"), on: reactor) { _ in }
            Issue.record("opened a device that does not exist")
        } catch {
            #expect(error.call == "snd_pcm_open")
            #expect(error.code == -ENOENT)
            #expect(error.description.contains("playback \"nosuchdevice\""))
            #expect(error.description.contains("No such file or directory"))
        }
        do {
            _ = try PCMStream(capturing: PCMDeviceName("hw:7,0"), on: reactor) { _ in }
            Issue.record("opened hw:7,0")
        } catch {
            #expect(error.code < 0)
            #expect(error.description.hasPrefix("capture \"hw:7,0\": "))
        }
        do {
            _ = try PCMStream(capturing: PCMDeviceName("x", configuration: "pcm.x { type"), on: reactor) { _ in }
            Issue.record("opened from a broken configuration")
        } catch {
            #expect(error.call == "snd_config_load")
        }
    }

    @Test("a device error mid-stream is reported once, closes that stream, and the loop goes on")
    func errorMidStream() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        // The file plugin writing to /dev/full fails with -EIO after its first buffer.
        let broken = try PCMStream(playingTo: .rawFile(writing: "/dev/full"), on: reactor) { frame in
            for i in 0..<frame.count { frame[i] = 1 }
        }
        var errors: [AudioError] = []
        broken.onError = { errors.append($0) }
        var captured = 0
        let capture = try PCMStream(capturing: .null, on: reactor) { _ in captured += 1 }
        try broken.start()
        try capture.start()
        try reactor.run(for: 1_000_000_000)
        #expect(errors.count == 1)
        #expect(errors.first?.code == -EIO)
        #expect(errors.first?.call == "snd_pcm_writei")
        #expect(errors.first?.description.hasPrefix("playback \"file:FILE=/dev/full,FORMAT=raw\": ") == true)
        #expect(broken.lastError == errors.first)
        #expect(!broken.isRunning && !broken.isOpen)
        #expect(captured == 100 && capture.isRunning)
        #expect(throws: AudioError.self) { try broken.start() }
        capture.close()
        broken.close()
        #expect(reactor.watchCount == 0 && reactor.timerCount == 0)
    }

    @Test("configurations the firmware does not use are refused")
    func badConfiguration() {
        let reactor = try! Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        for configuration in [
            PCMConfiguration(sampleRate: 44100), PCMConfiguration(periodMilliseconds: 100),
            PCMConfiguration(bufferPeriods: 8),
        ] {
            #expect(throws: AudioError.self) {
                _ = try PCMStream(playingTo: .null, on: reactor, configuration: configuration) { _ in }
            }
        }
    }

    @Test("clock = device on a plugin without a clock says so; clock = timer is honoured")
    func clockChoice() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let stream = try PCMStream(
            playingTo: .rawFile(writing: Scratch.path("clock")), on: reactor,
            configuration: PCMConfiguration(clock: .device)
        ) { _ in }
        do {
            try stream.start()
            Issue.record("a clockless plugin was accepted as a clock")
        } catch {
            #expect(error.description.contains("audio.clock = timer"))
        }
        #expect(!stream.isRunning)
        #expect(reactor.watchCount == 0)
        let timed = try PCMStream(capturing: .null, on: reactor, configuration: PCMConfiguration(clock: .timer)) { _ in
        }
        try timed.start()
        #expect(timed.clock == .timer)
        #expect(reactor.timerCount == 1)
        #expect(AudioClock(parsing: "timer") == .timer && AudioClock(parsing: "auto") == .automatic)
        #expect(AudioClock(parsing: "sometimes") == nil)
        stream.close()
        timed.close()
    }

    @Test("the device opens the pair of a path and switches paths mid-call, keeping the callbacks")
    func routing() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let handsetOut = Scratch.path("handset")
        let speakerOut = Scratch.path("speaker")
        let speakerIn = Scratch.path("speaker-in")
        Scratch.write([Int16](repeating: 1234, count: 8000), to: speakerIn)
        var captured: [Int16] = []
        var pulled = 0
        let device = AudioDevice(
            reactor: reactor,
            handset: AudioRoute(capture: .null, playback: .rawFile(writing: handsetOut)),
            headset: AudioRoute(capture: "nosuchdevice", playback: "nosuchdevice"),
            speaker: AudioRoute(capture: .rawFile(reading: speakerIn), playback: .rawFile(writing: speakerOut)),
            onFrame: { frame in captured.append(frame[0]) },
            pull: { frame in
                pulled += 1
                for i in 0..<frame.count { frame[i] = 7 }
            })
        try device.open(.handset)
        #expect(device.path == .handset)
        try reactor.run(for: 100_000_000)
        try device.switchPath(to: .speaker)
        #expect(device.path == .speaker)
        try reactor.run(for: 100_000_000)
        // A path whose devices are missing: the error names it, the previous path comes back.
        #expect(throws: AudioError.self) { try device.switchPath(to: .headset) }
        #expect(device.path == .speaker)
        try reactor.run(for: 50_000_000)
        device.close()
        #expect(device.path == nil)
        #expect(captured.count == 25 && pulled == 25)
        #expect(captured[0..<10].allSatisfy { $0 == 0 })
        #expect(captured[10...].allSatisfy { $0 == 1234 })
        #expect(Scratch.readSamples(handsetOut) == [Int16](repeating: 7, count: 800))
        // The speaker's file holds the periods after each of its two opens (truncated on reopen).
        #expect(Scratch.readSamples(speakerOut) == [Int16](repeating: 7, count: 400))
        #expect(reactor.watchCount == 0 && reactor.timerCount == 0)
    }

    @Test(.enabled(if: audioOptimized, "allocation counts are meaningful in optimized builds only"))
    func noAllocationPerPeriod() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        var generator = ToneGenerator(sampleRate: 8000)
        generator.start(ToneTable.standard.ringback)
        var sum = 0
        let playback = try PCMStream(playingTo: .rawFile(writing: Scratch.path("alloc")), on: reactor) { frame in
            generator.fill(frame)
        }
        let capture = try PCMStream(capturing: .null, on: reactor) { frame in sum &+= Int(frame[0]) }
        try playback.start()
        try capture.start()
        try reactor.run(for: 200_000_000)
        let before = mc_thread_allocations()
        try reactor.run(for: 2_000_000_000)
        let allocations = mc_thread_allocations() - before
        #expect(playback.periods == 220 && capture.periods == 220)
        // run(for:) itself inserts one sentinel timer; nothing per period.
        #expect(allocations <= 2, "\(allocations) allocations in 200 periods")
        playback.close()
        capture.close()
    }
}
