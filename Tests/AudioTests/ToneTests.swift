import Testing

@testable import Audio

@Suite("Tones")
struct ToneTests {
    @Test("indications.conf text parses and prints back")
    func parseRoundTrip() throws {
        for text in ["425", "440+480/2000,0/4000", "!425/200,!0/200,425/200,0/4400", "350+440+480+620/100,0/100"] {
            let pattern = try TonePattern(parsing: text)
            #expect(pattern.description == text)
        }
        let p = try TonePattern(parsing: " 440 + 480 / 2000 , 0 / 4000 ")
        #expect(p.segments.count == 2)
        #expect(p.segments[0].frequencies == [440, 480])
        #expect(p.segments[0].milliseconds == 2000)
        #expect(p.segments[1].frequencies.isEmpty)
        #expect(p.segments[1].milliseconds == 4000)
    }

    @Test("malformed tones are refused with the segment and the reason")
    func parseErrors() {
        let cases: [(String, String)] = [
            ("425*50", "segment 1 has an unexpected '*'"),
            ("425,0/4000", "segment 1 has no duration but is not the last"),
            ("425/0", "lasts 0 ms"),
            ("1+2+3+4+5", "frequency of 1 Hz"),
            ("300+400+500+600+700/100", "more than 4 sines"),
            ("425/500,/500", "segment 2 is missing a number"),
        ]
        for (text, reason) in cases {
            do {
                _ = try TonePattern(parsing: text)
                Issue.record("'\(text)' was accepted")
            } catch {
                #expect(error.description.contains(reason), "\(text): \(error)")
            }
        }
    }

    @Test("every built-in country table parses, unknown countries are refused")
    func tables() throws {
        for country in ToneTable.countries {
            let table = try ToneTable(country: country)
            for kind in ToneKind.allCases { #expect(!table[kind].segments.isEmpty) }
        }
        #expect(try ToneTable(country: "us").dial.description == "350+440")
        #expect(ToneTable.standard.busy.description == "425/500,0/500")
        #expect(throws: ToneError.self) { try ToneTable(country: "zz") }
        var table = ToneTable.standard
        try table.set(.busy, "425/480,0/480")
        #expect(table.busy.segments[0].milliseconds == 480)
        for kind in ToneKind.allCases { #expect(ToneKind(parsing: kind.description) == kind) }
    }

    private func render(_ pattern: TonePattern, rate: Int, samples: Int, frame: Int? = nil) -> [Int16] {
        var generator = ToneGenerator(sampleRate: rate)
        generator.start(pattern)
        var out = [Int16](repeating: 0, count: samples)
        let step = frame ?? rate / 100
        out.withUnsafeMutableBufferPointer { all in
            var i = 0
            while i < samples {
                let n = min(step, samples - i)
                generator.fill(UnsafeMutableBufferPointer(rebasing: all[i..<(i + n)]))
                i += n
            }
        }
        return out
    }

    @Test("cadence edges are sample-exact at 8, 16 and 48 kHz", arguments: [8000, 16000, 48000])
    func cadence(rate: Int) throws {
        let busy = try TonePattern(parsing: "425/500,0/500")
        let half = rate / 2
        let out = render(busy, rate: rate, samples: 4 * half)
        for cycle in 0..<2 {
            let on = (2 * cycle) * half
            let off = on + half
            // Silence exactly on the off half-second.
            #expect(out[off..<(off + half)].allSatisfy { $0 == 0 }, "cycle \(cycle) at \(rate) Hz")
            // Sound from the first samples to the last samples of the on half-second.
            let firstSound = out[on..<off].firstIndex { $0 != 0 }!
            let lastSound = out[on..<off].lastIndex { $0 != 0 }!
            // (the ramp starts near 0, so the first and last few samples may round to 0)
            let slack = 2 * rate / 8000
            #expect(firstSound - on <= slack)
            #expect(off - 1 - lastSound <= slack)
        }
    }

    @Test("frequencies and level match the pattern", arguments: [8000, 16000, 48000])
    func frequencyAndLevel(rate: Int) throws {
        let dial = try TonePattern(parsing: "350+440", levelDBm0: -13)
        let out = render(dial, rate: rate, samples: rate)
        let steady = out[(rate / 10)..<rate]
        let p350 = Signal.goertzel(steady, frequency: 350, sampleRate: rate)
        let p440 = Signal.goertzel(steady, frequency: 440, sampleRate: rate)
        let p400 = Signal.goertzel(steady, frequency: 400, sampleRate: rate)
        let p1000 = Signal.goertzel(steady, frequency: 1000, sampleRate: rate)
        #expect(p350 > 1000 * p400 && p440 > 1000 * p1000)
        #expect(abs(p350 / p440 - 1) < 0.05)
        // -13 dBm0 per sine = 32767 * 10^(-16.14/20) = 5110 peak; two sines: RMS 5110.
        let rms = Signal.rms(steady)
        #expect(abs(rms - 5110) < 60, "rms \(rms)")
    }

    @Test("start and stop ramp, no click")
    func ramps() throws {
        let rate = 8000
        var generator = ToneGenerator(sampleRate: rate)
        generator.start(try TonePattern(parsing: "1000"))
        var out = [Int16](repeating: 0, count: 800)
        out.withUnsafeMutableBufferPointer { generator.fill($0) }
        // The first samples rise smoothly: nothing near full level before the ramp ends.
        #expect(out[0..<10].allSatisfy { abs(Int($0)) < 600 })
        #expect(out[200..<800].contains { abs(Int($0)) > 5000 })
        generator.stop()
        #expect(generator.isActive)
        var tail = [Int16](repeating: 0, count: 400)
        tail.withUnsafeMutableBufferPointer { generator.fill($0) }
        #expect(!generator.isActive)
        let ramp = generator.rampSamples
        // Fading over `ramp` samples, then silence.
        #expect(tail[ramp...].allSatisfy { $0 == 0 })
        #expect(tail[(ramp - 8)..<ramp].allSatisfy { abs(Int($0)) < 300 })
        // The largest sample-to-sample step never exceeds that of the steady sine (no click).
        let steadyStep = zip(out[400..<799], out[401..<800]).map { abs(Int($0) - Int($1)) }.max()!
        let joined = Array(out) + tail
        let maxStep = zip(joined.dropLast(), joined.dropFirst()).map { abs(Int($0) - Int($1)) }.max()!
        #expect(maxStep <= steadyStep)
    }

    @Test("starting another tone fades the first out, then plays the second from its start")
    func switchTone() throws {
        var generator = ToneGenerator(sampleRate: 8000)
        generator.start(try TonePattern(parsing: "425"))
        var out = [Int16](repeating: 0, count: 800)
        out.withUnsafeMutableBufferPointer { generator.fill($0) }
        let busy = try TonePattern(parsing: "480+620/500,0/500")
        generator.start(busy)
        out.withUnsafeMutableBufferPointer { generator.fill($0) }
        #expect(generator.current == busy)
        let tail = out[200..<800]
        #expect(
            Signal.goertzel(tail, frequency: 480, sampleRate: 8000) > 100
                * Signal.goertzel(tail, frequency: 425, sampleRate: 8000))
    }

    @Test("segments marked ! play once; a pattern of only such segments ends")
    func once() throws {
        let pattern = try TonePattern(parsing: "!425/100,!0/100,440/100,0/100")
        let out = render(pattern, rate: 8000, samples: 8000)
        // First pass: 425 Hz for 800 samples; afterwards only 440 Hz.
        #expect(Signal.goertzel(out[40..<760], frequency: 425, sampleRate: 8000) > 0.001)
        #expect(out[800..<1600].allSatisfy { $0 == 0 })
        #expect(Signal.goertzel(out[1640..<2360], frequency: 440, sampleRate: 8000) > 0.001)
        #expect(out[2400..<3200].allSatisfy { $0 == 0 })
        #expect(Signal.goertzel(out[3240..<3960], frequency: 440, sampleRate: 8000) > 0.001)

        var generator = ToneGenerator(sampleRate: 8000)
        generator.start(try TonePattern(parsing: "!425/100,!0/100"))
        var buffer = [Int16](repeating: 0, count: 1700)
        buffer.withUnsafeMutableBufferPointer { generator.fill($0) }
        #expect(!generator.isActive)
        #expect(buffer[1600...].allSatisfy { $0 == 0 })
    }

    @Test("mixing adds the tone to the frame, saturating, and leaves the frame alone when idle")
    func mixing() throws {
        let pattern = try TonePattern(parsing: "440/300,0/9700", levelDBm0: -20)
        var alone = ToneGenerator(sampleRate: 8000)
        var mixer = ToneGenerator(sampleRate: 8000)
        alone.start(pattern)
        mixer.start(pattern)
        var tone = [Int16](repeating: 0, count: 160)
        var frame = [Int16](repeating: 1000, count: 160)
        tone.withUnsafeMutableBufferPointer { alone.fill($0) }
        frame.withUnsafeMutableBufferPointer { mixer.mix(into: $0) }
        #expect(frame == tone.map { $0 + 1000 })
        var loud = [Int16](repeating: 32000, count: 160)
        loud.withUnsafeMutableBufferPointer { mixer.mix(into: $0) }
        #expect(loud.max() == 32767)
        var idle = ToneGenerator(sampleRate: 8000)
        var speech = [Int16](repeating: -5, count: 80)
        speech.withUnsafeMutableBufferPointer { idle.mix(into: $0) }
        #expect(speech.allSatisfy { $0 == -5 })
    }

    @Test(.enabled(if: audioOptimized, "allocation counts are meaningful in optimized builds only"))
    func noAllocationPerFrame() throws {
        var generator = ToneGenerator(sampleRate: 48000)
        let table = ToneTable.standard
        var out = [Int16](repeating: 0, count: 480)
        generator.start(table.ringback)
        let allocations = out.withUnsafeMutableBufferPointer { frame in
            generator.fill(frame)
            let before = mc_thread_allocations()
            for k in 0..<2_000 {
                if k == 500 { generator.start(table.busy) }
                if k == 1500 { generator.stop() }
                generator.fill(frame)
            }
            return mc_thread_allocations() - before
        }
        #expect(allocations == 0)
    }
}
