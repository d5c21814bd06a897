import Audio
import Config
import Foundation
import Media
import Reactor
import SIP
import TestSupport
import Testing

@testable import Phone

/// Two phones on one reactor, on loopback, with their audio through ALSA's file plugin.
final class PhonePair {
    let reactor: Reactor
    let a: Softphone
    let b: Softphone
    var logA: [String] = []
    var logB: [String] = []
    let directory: URL

    /// `extraB`: more provisioning lines for B.
    init(
        codecs: String = "pcmu", toneA: Double = 1000, toneB: Double = 600, rate: Int = 8000, extraB: String = ""
    ) throws {
        reactor = try Reactor()
        directory = try makeTemporaryDirectory("softphone")
        let reactor = self.reactor
        let directory = self.directory
        func phone(_ user: String, tone: Double, extra: String = "") throws -> Softphone {
            let text = """
                #!version:1.0.0.1
                account.1.user_name = \(user)
                sip.listen_address = 127.0.0.1
                sip.listen_port = 0
                account.1.codecs = \(codecs)

                """ + extra
            let settings = try SoftphoneConfiguration(ConfigFile(text: text, path: user + ".cfg"))
            let input = directory.appendingPathComponent(user + "-in.raw").path
            let samples = (0..<(rate * 10)).map { Int16(8000 * sin(2 * Double.pi * tone * Double($0) / Double(rate))) }
            try samples.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: input))
            let route = AudioRoute(
                capture: .rawFile(reading: input),
                playback: .rawFile(writing: directory.appendingPathComponent(user + "-out.raw").path))
            return try Softphone(
                reactor: reactor, configuration: settings, handset: route, headset: route, speaker: route)
        }
        a = try phone("1001", tone: toneA)
        b = try phone("1002", tone: toneB, extra: extraB)
        a.onLog = { [unowned self] line in logA.append(line) }
        b.onLog = { [unowned self] line in logB.append(line) }
        a.start()
        b.start()
    }

    var uriOfB: String { "sip:1002@127.0.0.1:" + String(b.transport.sentByPort(for: .udp)) }

    func output(of user: String) -> [Int16] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(user + "-out.raw")) else { return [] }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
    }

    /// Runs the loop until `condition` or `seconds` of real time.
    @discardableResult
    func run(seconds: Double = 10, until condition: () -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline {
            _ = try reactor.runOnce(block: false)
            try reactor.run(for: 5_000_000)
        }
        return condition()
    }

    func close() {
        a.close()
        b.close()
        reactor.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Goertzel power of `frequency` relative to the block's energy (1 = a pure tone).
func toneShare(_ samples: ArraySlice<Int16>, frequency: Double, rate: Int) -> Double {
    let c = 2 * cos(2 * Double.pi * frequency / Double(rate))
    var s1 = 0.0
    var s2 = 0.0
    var energy = 0.0
    for x in samples {
        let v = Double(x)
        energy += v * v
        let s0 = v + c * s1 - s2
        s2 = s1
        s1 = s0
    }
    guard energy > 0 else { return 0 }
    let power = s1 * s1 + s2 * s2 - c * s1 * s2
    return power / (energy * Double(samples.count) / 2)
}

@Suite("Softphone: two phones on loopback")
struct SoftphoneCallTests {
    @Test("a call with two-way audio, DTMF, hold and resume, hang-up; media released")
    func callBothWays() throws {
        let pair = try PhonePair()
        defer { pair.close() }
        pair.b.autoAnswerDelay = 0
        let call = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { call.state == .connected && pair.b.currentCall?.state == .connected })
        #expect(pair.logA.contains { $0.hasPrefix("call 1: media PCMU/8000 pt 0 ptime 20") && $0.hasSuffix("telephone-event 101") })
        #expect(pair.logB.contains { $0.hasPrefix("call 1: incoming from ") && $0.contains("sip:1001@127.0.0.1") })
        #expect(pair.a.media.count == 1 && pair.b.media.count == 1)

        // Two seconds of audio: each side plays the other's tone (1000 Hz from A, 600 Hz from B).
        // (Read now: holding closes A's devices and reopening them starts the file again.)
        try pair.run(seconds: 2) { false }
        let atB = pair.output(of: "1002")
        let atA = pair.output(of: "1001")
        #expect(atB.count > 8000 && atA.count > 8000)
        if atB.count > 8000 && atA.count > 8000 {
            let middleB = atB[(atB.count - 1600)..<(atB.count - 800)]
            let middleA = atA[(atA.count - 1600)..<(atA.count - 800)]
            #expect(toneShare(middleB, frequency: 1000, rate: 8000) > 0.8)
            #expect(toneShare(middleA, frequency: 600, rate: 8000) > 0.8)
        }
        #expect(pair.a.sendDigits("5#x", on: call) == 2)
        #expect(try pair.run { pair.logB.filter { $0.hasPrefix("call 1: dtmf received") }.count == 2 })
        #expect(pair.logB.contains("call 1: dtmf received 5") && pair.logB.contains("call 1: dtmf received #"))

        #expect(pair.a.perform(command: "hold") == nil)
        #expect(try pair.run { call.state == .held && pair.b.currentCall?.state == .remoteHeld })
        #expect(pair.a.perform(command: "hold") != nil)  // already held: refused with a reason
        #expect(pair.a.perform(command: "resume") == nil)
        #expect(try pair.run { call.state == .connected && pair.b.currentCall?.state == .connected })

        #expect(pair.a.perform(command: "hangup") == nil)
        #expect(try pair.run { pair.b.calls.isEmpty && pair.a.calls.isEmpty })
        #expect(pair.a.media.isEmpty && pair.b.media.isEmpty)
        let stats = try #require(pair.logA.first { $0.hasPrefix("call 1: stats ") })
        #expect(stats.contains("dtmf_sent=2") && stats.contains("lost=0"))
        #expect(pair.logB.contains("call 1: ended (remote hang-up)"))

    }

    @Test("G.722 runs the devices at 16 kHz")
    func wideband() throws {
        let pair = try PhonePair(codecs: "g722", rate: 16000)
        defer { pair.close() }
        pair.b.autoAnswerDelay = 0
        let call = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { call.state == .connected })
        #expect(pair.logA.contains { $0.hasPrefix("call 1: media G722/8000 pt 9") })
        try pair.run(seconds: 1.5) { false }
        #expect(pair.a.media[call.id]?.audio.sampleRate == 16000)
        call.hangUp()
        #expect(try pair.run { pair.b.calls.isEmpty })
        let atB = pair.output(of: "1002")
        #expect(atB.count > 16000)
        let middle = atB[(atB.count / 2 - 1600)..<(atB.count / 2)]
        #expect(toneShare(middle, frequency: 1000, rate: 16000) > 0.8)
    }

    @Test("an incoming call rings until answered or rejected; CANCEL ends it")
    func ringingAndReject() throws {
        let pair = try PhonePair()
        defer { pair.close() }
        let first = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { pair.b.currentCall?.state == .incoming })
        #expect(pair.b.media.count == 1)  // the ring tone plays through the call's device
        #expect(pair.b.perform(command: "reject 480") == nil)
        #expect(try pair.run { first.state.isEnded })
        #expect(first.state == .ended(.rejected(status: 480, reason: "Temporarily Unavailable")))
        #expect(pair.b.media.isEmpty)

        let second = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { pair.b.currentCall?.state == .incoming })
        second.hangUp()  // CANCEL
        #expect(try pair.run { pair.b.calls.isEmpty && second.state.isEnded })
        #expect(pair.logB.contains("call 2: ended (cancelled by caller)"))
        #expect(pair.a.media.isEmpty && pair.b.media.isEmpty)
    }

    @Test("a phone whose RTP range is taken answers 503 before ringing; the freed pair serves the next call")
    func refusedBeforeRinging() throws {
        // A free even port pair from the kernel becomes B's whole RTP range.
        let probeReactor = try Reactor()
        let probe = try RTPSession(
            reactor: probeReactor, configuration: RTPSessionConfiguration(bindAddress: "127.0.0.1"))
        let port = Int(probe.localAddress.port)
        probe.close()
        probeReactor.close()
        let pair = try PhonePair(extraB: "rtp.port_min = \(port)\nrtp.port_max = \(port + 1)\n")
        defer { pair.close() }
        let first = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { pair.b.currentCall?.state == .incoming })
        #expect(pair.b.media.first?.value.session.localAddress.port == UInt16(port))
        // The pair is held by the ringing call: the next INVITE is refused, not rung.
        let second = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { second.state.isEnded })
        #expect(second.state == .ended(.rejected(status: 503, reason: "Service Unavailable")))
        #expect(pair.b.calls.count == 1 && pair.b.media.count == 1)
        #expect(pair.logB.contains { $0.contains("cannot open RTP: no free RTP port pair") })
        #expect(pair.logB.contains { $0.contains("no free RTP port: refused with 503") })
        // The first call ends and frees the pair: the next call rings.
        #expect(!first.state.isEnded)
        pair.b.calls[0].reject(status: 603)
        #expect(try pair.run { first.state.isEnded && pair.b.media.isEmpty })
        let third = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { pair.b.currentCall?.state == .incoming })
        #expect(!third.state.isEnded)
    }

    @Test("beyond account.1.max_calls an INVITE is refused with 486 before it rings")
    func callLimit() throws {
        let pair = try PhonePair(extraB: "account.1.max_calls = 1\n")
        defer { pair.close() }
        _ = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { pair.b.currentCall?.state == .incoming })
        let second = try pair.a.dial(pair.uriOfB)
        #expect(try pair.run { second.state.isEnded })
        #expect(second.state == .ended(.rejected(status: 486, reason: "Busy Here")))
        #expect(pair.b.calls.count == 1)
        #expect(pair.logB.contains { $0.contains("refused: 486 (call limit 1 reached)") })
    }

    @Test("control commands refuse what cannot be done, with a reason")
    func controlErrors() throws {
        let pair = try PhonePair()
        defer { pair.close() }
        #expect(pair.a.perform(command: "hangup") == "control: hangup: no call")
        #expect(pair.a.perform(command: "dial") == "control: dial needs a URI")
        #expect(pair.a.perform(command: "dial 1002")?.contains("needs a host in direct-IP mode") == true)
        #expect(pair.a.perform(command: "dial sip:1002@example.com")?.contains("not an IP address") == true)
        #expect(pair.a.perform(command: "   ") == nil)
        _ = try pair.a.dial(pair.uriOfB)
        #expect(pair.a.perform(command: "reject 200") == "control: reject takes a status 400...699")
        #expect(pair.a.perform(command: "fly away") == "control: unknown command 'fly away'")
        #expect(pair.a.perform(command: "dtmf") == "control: dtmf needs digits")
    }
}

@Suite("Softphone configuration")
struct SoftphoneConfigurationTests {
    func parse(_ body: String) throws(ConfigError) -> SoftphoneConfiguration {
        try SoftphoneConfiguration(try ConfigFile(text: "#!version:1.0.0.1\n" + body, path: "phone.cfg"))
    }

    @Test("defaults and the keys it reads")
    func keys() throws {
        let plain = try parse("account.1.user_name = 1001\n")
        #expect(plain.listenAddress == "0.0.0.0")
        #expect(plain.advertisedAddress == "127.0.0.1" && plain.advertisedAddressWarning != nil)
        #expect(plain.rtp.portMin == 0 && plain.audioPath == .handset)
        let set = try parse(
            "sip.listen_address = 192.0.2.7\nrtp.port_min = 11780\nrtp.port_max = 12780\nvoice.audio_path = speaker\n"
                + "voice.tone_country = us\n")
        #expect(set.advertisedAddress == "192.0.2.7" && set.advertisedAddressWarning == nil)
        #expect(set.rtp.bindAddress == "192.0.2.7" && set.rtp.portMin == 11780 && set.rtp.portMax == 12780)
        #expect(set.audioPath == .speaker && set.tones.country == "us")
        let advertised = try parse("sip.advertised_address = 198.51.100.4\n")
        #expect(advertised.listenAddress == "0.0.0.0" && advertised.advertisedAddress == "198.51.100.4")
    }

    @Test("bad values are refused with file:line")
    func errors() {
        let cases: [(String, Int, String)] = [
            ("sip.listen_address = phone.local\n", 2, "expected an IP address"),
            ("\nsip.advertised_address = 0.0.0.0\n", 3, "unicast"),
            ("rtp.port_min = 11781\n", 2, "even"),
            ("rtp.port_min = 20000\nrtp.port_max = 100\n", 3, "above"),
            ("voice.audio_path = earpiece\n", 2, "handset, headset or speaker"),
            ("voice.tone_country = xx\n", 2, "voice.tone_country"),
            ("account.1.sip_server.1.port = 99999\n", 2, "port"),
        ]
        for (body, line, words) in cases {
            do {
                _ = try parse(body)
                Issue.record("accepted: \(body)")
            } catch {
                #expect(error.line == line, "\(body)")
                #expect(error.description.contains("phone.cfg:\(line)"), "\(error)")
                #expect(error.description.contains(words), "\(error)")
            }
        }
    }

    @Test("later files override earlier ones; errors name the file that set the value")
    func merging() throws {
        let common = try ConfigFile(text: "#!version:1.0.0.1\naccount.1.user_name = 1001\nrtp.port_min = 12000\n", path: "common.cfg")
        let local = try ConfigFile(text: "#!version:1.0.0.1\naccount.1.user_name = 1002\n", path: "local.cfg")
        let merged = try SoftphoneConfiguration(ConfigFile(merging: [common, local]))
        #expect(merged.account.userName == "1002" && merged.rtp.portMin == 12000)
        let bad = try ConfigFile(text: "#!version:1.0.0.1\nrtp.port_min = 7\n", path: "bad.cfg")
        #expect(throws: ConfigError.self) { try SoftphoneConfiguration(ConfigFile(merging: [common, bad])) }
        do {
            _ = try SoftphoneConfiguration(ConfigFile(merging: [common, bad]))
        } catch {
            #expect(error.file == "bad.cfg" && error.line == 2)
        }
    }
}

@Suite("Control channel")
struct ControlChannelTests {
    @Test("lines from a FIFO, CR/LF and blanks trimmed, an overlong line refused as empty")
    func fifoLines() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("control-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var lines: [String] = []
        let channel = try ControlChannel(reactor: reactor, path: path, onLine: { lines.append($0) })
        defer { channel.close() }
        let writer = try #require(FileHandle(forWritingAtPath: path))
        writer.write("dial sip:1002@127.0.0.1:5062\r\nhold  \n".data(using: .utf8)!)
        writer.write(Data(repeating: 65, count: 3000) + "\nquit".data(using: .utf8)!)
        writer.write("\n".data(using: .utf8)!)
        try writer.close()
        let deadline = Date().addingTimeInterval(5)
        while lines.count < 4 && Date() < deadline { _ = try reactor.runOnce(block: false) }
        #expect(lines == ["dial sip:1002@127.0.0.1:5062", "hold", "", "quit"])
    }

    @Test("a regular file is read at once and ends")
    func regularFile() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("control-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "answer\ndtmf 12".write(toFile: path, atomically: true, encoding: .utf8)
        var lines: [String] = []
        var ended = false
        let channel = try ControlChannel(reactor: reactor, path: path, onLine: { lines.append($0) }, onEnd: { ended = true })
        defer { channel.close() }
        let deadline = Date().addingTimeInterval(5)
        while !ended && Date() < deadline { _ = try reactor.runOnce(block: false) }
        #expect(ended && lines == ["answer", "dtmf 12"])
    }

    @Test("a path that cannot be opened is a clear error")
    func missingDirectory() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        #expect(throws: SoftphoneError.self) {
            _ = try ControlChannel(reactor: reactor, path: "/nonexistent-dir/ctl", onLine: { _ in })
        }
    }
}
