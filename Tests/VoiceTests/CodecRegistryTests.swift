import Testing

@testable import Voice

@Suite("CodecRegistry")
struct CodecRegistryTests {
    @Test("static payload types 0, 8 and 9")
    func staticTypes() {
        #expect(CodecRegistry.find(staticPayloadType: 0)?.kind == .pcmu)
        #expect(CodecRegistry.find(staticPayloadType: 8)?.kind == .pcma)
        #expect(CodecRegistry.find(staticPayloadType: 9)?.kind == .g722)
        #expect(CodecRegistry.find(staticPayloadType: 10) == nil, "L16/44100 stereo is not supported")
        #expect(CodecRegistry.find(staticPayloadType: 11) == nil, "L16/44100 mono is not supported")
        #expect(CodecRegistry.find(staticPayloadType: 18) == nil)
        #expect(CodecRegistry.find(staticPayloadType: 96) == nil)
        let statics = CodecRegistry.all.compactMap(\.staticPayloadType).sorted()
        #expect(statics == [0, 8, 9])
    }

    @Test("G.722: RTP clock 8000, audio 16000, 20 ms is 320 samples and 160 timestamp ticks")
    func g722() throws {
        let g722 = try #require(CodecRegistry.find(encodingName: "G722", clockRate: 8000))
        #expect(g722 == CodecRegistry.g722)
        #expect(g722.staticPayloadType == 9)
        #expect(g722.rtpClockRate == 8000 && g722.sampleRate == 16000 && g722.channels == 1)
        #expect(g722.samplesPerFrame(ptime: 20) == 320)
        #expect(g722.rtpTimestampIncrement(ptime: 20) == 160)
        #expect(g722.rtpmap == "G722/8000")
        #expect(CodecRegistry.find(encodingName: "G722", clockRate: 16000) == nil)
    }

    @Test("G.711 lookups, case-insensitive")
    func g711() throws {
        let pcmu = try #require(CodecRegistry.find(encodingName: "PCMU", clockRate: 8000))
        #expect(pcmu.kind == .pcmu && pcmu.staticPayloadType == 0)
        #expect(CodecRegistry.find(encodingName: "pcmu", clockRate: 8000) == pcmu)
        #expect(CodecRegistry.find(encodingName: "PcMa", clockRate: 8000)?.kind == .pcma)
        #expect(pcmu.samplesPerFrame(ptime: 20) == 160 && pcmu.rtpTimestampIncrement(ptime: 20) == 160)
        #expect(CodecRegistry.find(encodingName: "PCMU", clockRate: 8000, channels: 2) == nil)
        #expect(CodecRegistry.find(encodingName: "PCMU", clockRate: 16000) == nil)
    }

    @Test("opus is opus/48000/2 whatever rate it codes at")
    func opus() throws {
        let opus = try #require(CodecRegistry.find(encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(opus.kind == .opus && opus.staticPayloadType == nil)
        #expect(opus.rtpmap == "opus/48000/2")
        #expect(CodecRegistry.find(encodingName: "OPUS", clockRate: 48000, channels: 2) == opus)
        #expect(CodecRegistry.find(encodingName: "opus", clockRate: 48000) == opus, "lenient: channels omitted")
        #expect(CodecRegistry.find(encodingName: "opus", clockRate: 16000, channels: 2) == nil)
        #expect(opus.rtpTimestampIncrement(ptime: 20) == 960)
        #expect(opus.frameDurations == [10, 20, 40, 60] && opus.defaultPtime == 20 && opus.maxPtime == 60)
    }

    @Test("L16 at 8, 16 and 48 kHz, dynamic payload types")
    func l16() throws {
        for rate in [8000, 16000, 48000] {
            let l16 = try #require(CodecRegistry.find(encodingName: "l16", clockRate: rate))
            #expect(l16.kind == .l16 && l16.sampleRate == rate && l16.staticPayloadType == nil)
            #expect(l16.rtpmap == "L16/\(rate)")
            #expect(l16.samplesPerFrame(ptime: 10) == rate / 100)
        }
        #expect(CodecRegistry.find(encodingName: "L16", clockRate: 44100) == nil)
        #expect(CodecRegistry.find(encodingName: "L16", clockRate: 8000, channels: 2) == nil)
    }

    @Test("telephone-event at 8000 and 48000, paired with the audio codec's clock")
    func telephoneEvent() throws {
        let te8 = try #require(CodecRegistry.find(encodingName: "telephone-event", clockRate: 8000))
        let te48 = try #require(CodecRegistry.find(encodingName: "Telephone-Event", clockRate: 48000))
        #expect(te8.kind == .telephoneEvent && te48.kind == .telephoneEvent)
        #expect(te8.rtpmap == "telephone-event/8000" && te48.rtpClockRate == 48000)
        #expect(CodecRegistry.telephoneEvent(for: CodecRegistry.g722) == te8)
        #expect(CodecRegistry.telephoneEvent(for: CodecRegistry.pcmu) == te8)
        #expect(CodecRegistry.telephoneEvent(for: CodecRegistry.opus) == te48)
        #expect(CodecRegistry.telephoneEvent(for: CodecRegistry.l16At16000)?.rtpClockRate == 16000)
    }

    @Test("unknown names give nil")
    func unknown() {
        #expect(CodecRegistry.find(encodingName: "G729", clockRate: 8000) == nil)
        #expect(CodecRegistry.find(encodingName: "", clockRate: 8000) == nil)
        #expect(CodecRegistry.find(encodingName: "PCM", clockRate: 8000) == nil)
        #expect(CodecRegistry.find(encodingName: "PCMUX", clockRate: 8000) == nil)
        #expect(CodecRegistry.find(encodingName: "PCMÜ", clockRate: 8000) == nil)
    }

    @Test("ptime validity and choice")
    func ptime() {
        let pcmu = CodecRegistry.pcmu, opus = CodecRegistry.opus
        #expect(CodecRegistry.isValidPtime(20, for: pcmu) && CodecRegistry.isValidPtime(30, for: pcmu))
        #expect(!CodecRegistry.isValidPtime(25, for: pcmu) && !CodecRegistry.isValidPtime(60, for: pcmu))
        #expect(!CodecRegistry.isValidPtime(30, for: opus) && CodecRegistry.isValidPtime(60, for: opus))

        #expect(CodecRegistry.choosePtime(offered: nil, for: pcmu) == 20)
        #expect(CodecRegistry.choosePtime(offered: 30, for: pcmu) == 30)
        #expect(CodecRegistry.choosePtime(offered: 25, for: pcmu) == 20)
        #expect(CodecRegistry.choosePtime(offered: 5, for: pcmu) == 10)
        #expect(CodecRegistry.choosePtime(offered: 100, for: pcmu) == 40)
        #expect(CodecRegistry.choosePtime(offered: 40, maxptime: 20, for: pcmu) == 20)
        #expect(CodecRegistry.choosePtime(offered: nil, maxptime: 10, for: pcmu) == 10)
        #expect(CodecRegistry.choosePtime(offered: 30, for: opus) == 20)
        #expect(CodecRegistry.choosePtime(offered: 60, for: opus) == 60)
        #expect(CodecRegistry.choosePtime(offered: 120, maxptime: 120, for: opus) == 60)
        #expect(CodecRegistry.choosePtime(offered: 20, for: CodecRegistry.l16At48000) == 10)
        for codec in CodecRegistry.all {
            #expect(codec.isValidPtime(codec.defaultPtime), "\(codec.rtpmap) default ptime")
            #expect(codec.frameDurations == codec.frameDurations.sorted())
            for offered in [nil, 1, 10, 15, 20, 30, 50, 200] as [Int?] {
                #expect(codec.isValidPtime(codec.choosePtime(offered: offered)))
            }
        }
    }

    @Test("every entry is findable by its own rtpmap")
    func selfConsistent() {
        for codec in CodecRegistry.all {
            let found = CodecRegistry.find(
                encodingName: codec.encodingName, clockRate: codec.rtpClockRate, channels: codec.channels)
            #expect(found == codec, "\(codec.rtpmap)")
        }
    }
}
