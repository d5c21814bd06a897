import Audio
import Config
import Foundation
import Indicators
import Keys
import Media
import Reactor
import Recording
import SIP
import TestSupport
import Testing

@testable import Phone

/// Phones on one reactor on loopback: `keyed` runs the state machine (keys in, LCD out), the
/// others are bare `Softphone`s playing the far ends.
final class KeyedPhoneRig {
    let reactor: Reactor
    let keyed: PhoneStateMachine
    let indicators: IndicatorModel
    var peers: [Softphone] = []
    var log: [String] = []
    var peerLogs: [[String]] = []

    /// `virtualClock`: the reactor's time moves only when it is idle (timers in tests of timing).
    init(peers count: Int = 1, extraConfig: String = "", virtualClock: Bool = false) throws {
        reactor = try virtualClock ? Reactor(clock: .virtual(startNanoseconds: 0)) : Reactor()
        let route = AudioRoute(capture: .null, playback: .null)
        for i in 0..<count {
            let text = "#!version:1.0.0.1\naccount.1.user_name = 200\(i + 1)\nsip.listen_address = 127.0.0.1\n"
                + "sip.listen_port = 0\naccount.1.display_name = Peer \(i + 1)\n"
            let peer = try Softphone(
                reactor: reactor, configuration: SoftphoneConfiguration(ConfigFile(text: text, path: "peer.cfg")),
                handset: route, headset: route, speaker: route)
            peerLogs.append([])
            peer.start()
            peers.append(peer)
        }
        var text = "#!version:1.0.0.1\naccount.1.user_name = 1001\nsip.listen_address = 127.0.0.1\nsip.listen_port = 0\n"
        for (i, peer) in peers.enumerated() {
            text += "dialplan.\(i + 1).number = 200\(i + 1)\n"
            text += "dialplan.\(i + 1).uri = sip:200\(i + 1)@127.0.0.1:\(peer.transport.sentByPort(for: .udp))\n"
        }
        text += extraConfig
        let file = try ConfigFile(text: text, path: "phone.cfg")
        let softphone = try Softphone(
            reactor: reactor, configuration: SoftphoneConfiguration(file), handset: route, headset: route,
            speaker: route)
        softphone.start()
        indicators = IndicatorModel(leds: [.line(1), .line(2), .mute, .record])
        let tones = LocalTonePlayer(
            reactor: reactor, handset: route, headset: route, speaker: route, tones: ToneTable.standard)
        keyed = PhoneStateMachine(
            reactor: reactor, softphone: softphone, indicators: indicators, settings: try PhoneSettings(file),
            tones: tones, accountLabel: "1001")
        keyed.onLog = { [unowned self] line in log.append(line) }
        for (i, peer) in peers.enumerated() { peer.onLog = { [unowned self] line in peerLogs[i].append(line) } }
    }

    var port: UInt16 { keyed.softphone.transport.sentByPort(for: .udp) }

    func press(_ key: PhoneKey) { keyed.handle(KeyEvent(key: key, kind: .press, time: reactor.now)) }
    func release(_ key: PhoneKey) { keyed.handle(KeyEvent(key: key, kind: .release, time: reactor.now)) }
    func type(_ digits: String) {
        for c in digits {
            switch c {
            case "*": press(.star)
            case "#": press(.pound)
            default: press(.digit(Int(String(c))!))
            }
        }
    }

    /// Presses the softkey labelled `label`; false when no softkey says it.
    @discardableResult
    func softkey(_ label: String) -> Bool {
        guard let index = indicators.lcd.softkeys.firstIndex(of: label) else { return false }
        press(.softkey(index + 1))
        return true
    }

    @discardableResult
    func run(seconds: Double = 10, until condition: () -> Bool) throws -> Bool {
        try runUntil(reactor, seconds: seconds, condition)
        return condition()
    }

    func close() {
        keyed.close()
        keyed.softphone.close()
        indicators.close()
        for peer in peers { peer.close() }
        reactor.close()
    }
}

@Suite("Phone state machine: keys, calls and the screen", .serialized)
struct PhoneStateMachineTests {
    @Test("off hook, dial 2001 #, talking with a call timer, hang up by hook")
    func dialByKeys() throws {
        let rig = try KeyedPhoneRig()
        defer { rig.close() }
        rig.peers[0].autoAnswerDelay = 0
        #expect(rig.keyed.screen == .idle && rig.indicators.lcd.softkeys == ["", "DND", "", "Dial"])
        rig.press(.hook)
        #expect(rig.keyed.screen == .dialing && rig.keyed.path == .handset)
        #expect(rig.indicators.lcd.title == "Dial" && rig.indicators.lcd.softkeys == ["", "", "", "Cancel"])
        rig.type("2001")
        #expect(rig.indicators.lcd.lines.first == "2001_")
        #expect(rig.indicators.lcd.softkeys == ["Send", "Delete", "", "Cancel"])
        rig.type("#")
        #expect(try rig.run { rig.keyed.screen == .talking })
        #expect(rig.indicators.lcd.title == "Talking")
        #expect(rig.indicators.lcd.lines.first == "2001@127.0.0.1")
        #expect(rig.indicators.lcd.softkeys == ["Hold", "Mute", "", "End"])
        #expect(rig.indicators.lcd.callTimerSeconds == 0)
        #expect(rig.indicators.led(.line(1)) == .lineTalking)
        #expect(rig.keyed.softphone.focusedCallID == rig.keyed.activeCallID)
        #expect(rig.keyed.softphone.media.values.first?.audio.path == .handset)
        rig.release(.hook)
        #expect(try rig.run { rig.keyed.screen == .idle && rig.peers[0].calls.isEmpty })
        #expect(rig.indicators.lcd.lines.contains("Call ended"))
        #expect(rig.indicators.led(.line(1)) == .off && rig.indicators.lcd.callTimerSeconds == nil)
        #expect(rig.indicators.lcd.softkeys.first == "Redial")
        #expect(rig.log.contains("screen: talking call 1") && rig.log.contains("screen: idle"))
    }

    @Test("Delete, Cancel, the inter-digit timeout and Redial")
    func dialEditing() throws {
        let rig = try KeyedPhoneRig(extraConfig: "phone_setting.inter_digit_time = 1\n")
        defer { rig.close() }
        rig.peers[0].autoAnswerDelay = 0
        rig.type("20019")
        #expect(rig.keyed.screen == .dialing && rig.keyed.dialed == "20019")
        #expect(rig.softkey("Delete"))
        #expect(rig.keyed.dialed == "2001")
        // No key for a second: the phone dials what it has.
        #expect(try rig.run { rig.keyed.screen == .talking })
        #expect(rig.softkey("End"))
        #expect(try rig.run { rig.keyed.screen == .idle && rig.peers[0].calls.isEmpty })
        #expect(rig.softkey("Redial"))
        #expect(try rig.run { rig.keyed.screen == .talking })
        #expect(rig.keyed.lastDialed == "2001")
        rig.press(.speaker)  // on the speaker and on hook: the speaker key ends the call
        #expect(try rig.run { rig.keyed.screen == .idle })
        rig.type("55")
        rig.press(.cancel)
        #expect(rig.keyed.screen == .idle && rig.keyed.dialed.isEmpty)
    }

    @Test("an incoming call rings (LED fast flash), is answered by the hook and ended by the far end")
    func incomingByHook() throws {
        let rig = try KeyedPhoneRig()
        defer { rig.close() }
        let call = try rig.peers[0].dial("sip:1001@127.0.0.1:\(rig.port)")
        #expect(try rig.run { rig.keyed.screen == .incoming })
        #expect(rig.indicators.lcd.title == "Incoming call" && rig.indicators.lcd.lines.first == "Peer 1")
        #expect(rig.indicators.lcd.softkeys == ["Answer", "", "", "Reject"])
        #expect(rig.indicators.led(.line(1)) == .lineIncoming)
        rig.press(.volumeUp)  // while it rings: the ringer
        #expect(rig.keyed.settings.ringerVolume == 9)
        rig.press(.hook)
        #expect(try rig.run { rig.keyed.screen == .talking && call.state == .connected })
        #expect(rig.keyed.path == .handset)
        rig.press(.volumeDown)
        #expect(rig.keyed.settings.handsetVolume == 7 && rig.keyed.softphone.volume == 7)
        rig.press(.mute)
        #expect(rig.indicators.lcd.icons.contains(.mute) && rig.indicators.led(.mute) == .on)
        #expect(rig.indicators.lcd.softkeys[1] == "Unmute")
        rig.press(.digit(7))
        #expect(try rig.run { rig.peerLogs[0].contains("call 1: dtmf received 7") })
        call.hangUp()
        #expect(try rig.run { rig.keyed.screen == .idle })
        #expect(!rig.indicators.lcd.icons.contains(.mute))
    }

    @Test("two calls: answer the second while holding the first, swap, the far end of one hangs up")
    func twoCalls() throws {
        let rig = try KeyedPhoneRig(peers: 2)
        defer { rig.close() }
        let first = try rig.peers[0].dial("sip:1001@127.0.0.1:\(rig.port)")
        #expect(try rig.run { rig.keyed.screen == .incoming })
        rig.press(.speaker)
        #expect(try rig.run { first.state == .connected && rig.keyed.screen == .talking })
        let second = try rig.peers[1].dial("sip:1001@127.0.0.1:\(rig.port)")
        #expect(try rig.run { rig.keyed.screen == .incoming })
        #expect(rig.indicators.lcd.lines == ["Peer 2", "With: Peer 1"])
        #expect(rig.indicators.led(.line(2)) == .lineIncoming)
        #expect(rig.softkey("Answer"))
        #expect(try rig.run { second.state == .connected && first.state == .remoteHeld })
        #expect(rig.keyed.screen == .talking && rig.indicators.lcd.softkeys.first == "Swap")
        #expect(rig.indicators.lcd.lines == ["Peer 2", "On hold: Peer 1"])
        #expect(rig.indicators.led(.line(1)) == .lineHeld && rig.indicators.led(.line(2)) == .lineTalking)
        // One device pair at a time: the held call's is closed.
        let firstID = try #require(rig.keyed.calls.first?.id)
        #expect(rig.keyed.softphone.media[firstID]?.audio.device == nil)
        #expect(rig.softkey("Swap"))
        #expect(try rig.run { first.state == .connected && second.state == .remoteHeld })
        #expect(rig.indicators.lcd.lines.first == "Peer 1")
        // Peer 1 hangs up: the held call (peer 2) is what the keys act on, still on hold.
        first.hangUp()
        #expect(try rig.run { rig.keyed.calls.count == 1 && rig.keyed.screen == .held })
        #expect(rig.indicators.lcd.softkeys.first == "Resume")
        #expect(rig.softkey("Resume"))
        #expect(try rig.run { second.state == .connected && rig.keyed.screen == .talking })
        #expect(rig.softkey("End"))
        #expect(try rig.run { rig.keyed.calls.isEmpty && rig.keyed.screen == .idle })
    }

    @Test("hold and resume by the hold key; DND rejects calls with 480")
    func holdAndDND() throws {
        let rig = try KeyedPhoneRig()
        defer { rig.close() }
        rig.peers[0].autoAnswerDelay = 0
        rig.type("2001#")
        #expect(try rig.run { rig.keyed.screen == .talking })
        rig.press(.hold)
        #expect(try rig.run { rig.keyed.screen == .held && rig.peers[0].currentCall?.state == .remoteHeld })
        #expect(rig.indicators.led(.line(1)) == .lineHeld && rig.indicators.lcd.title == "On hold")
        rig.press(.hold)
        #expect(try rig.run { rig.keyed.screen == .talking && rig.peers[0].currentCall?.state == .connected })
        rig.press(.cancel)  // not a way to end a connected call
        #expect(rig.keyed.screen == .talking)
        #expect(rig.softkey("End"))
        #expect(try rig.run { rig.keyed.screen == .idle && rig.peers[0].calls.isEmpty })

        #expect(rig.softkey("DND"))
        #expect(rig.indicators.lcd.icons.contains(.dnd) && rig.indicators.lcd.softkeys[1] == "DND off")
        let call = try rig.peers[0].dial("sip:1001@127.0.0.1:\(rig.port)")
        #expect(try rig.run { call.state.isEnded })
        #expect(call.state == .ended(.rejected(status: 480, reason: "Temporarily Unavailable")))
        #expect(rig.keyed.screen == .idle)
    }

    @Test("a number the dial plan cannot place is refused on the screen; the record key without recording says so")
    func refusals() throws {
        let rig = try KeyedPhoneRig()
        defer { rig.close() }
        rig.type("777#")
        #expect(rig.keyed.screen == .idle)
        #expect(rig.indicators.lcd.lines.contains { $0.hasPrefix("Cannot call 777") })
        rig.press(.record)
        #expect(rig.indicators.lcd.lines.contains("Recording is not configured"))
        rig.press(.transfer)
        #expect(rig.indicators.lcd.lines.contains("Transfer: no call to transfer"))
    }

    @Test("a recording message stays on the LCD for features.record.message_time, as long as in the status log")
    func recordingMessageTime() throws {
        let rig = try KeyedPhoneRig(peers: 0, virtualClock: true)
        defer { rig.close() }
        let file = try ConfigFile(text: "#!version:1.0.0.1\nfeatures.record.message_time = 2\n", path: "rec.cfg")
        let configuration = try RecordingConfiguration(file, hasRecordKey: true, lineKeyCount: nil)
        let recording = RecordingController(
            reactor: rig.reactor, configuration: configuration, expandURL: { _, _ in "" },
            performGET: { _, _ in })
        defer { recording.close() }
        var statusLog: [(time: Int64, event: RecordingEvent)] = []
        recording.onEvent = { [reactor = rig.reactor] event in statusLog.append((reactor.now, event)) }
        rig.keyed.showMessages(of: recording)
        rig.keyed.onRecordKey = { line in _ = recording.recordKeyPressed(line: line) }
        let pressed = rig.reactor.now
        rig.press(.record)
        #expect(rig.keyed.message == "no call to record")
        #expect(rig.indicators.lcd.lines.contains("no call to record"))
        try rig.reactor.run(for: 1_900_000_000)
        #expect(rig.indicators.lcd.lines.contains("no call to record"))
        try rig.reactor.run(for: 200_000_000)
        #expect(rig.keyed.message == nil)
        #expect(!rig.indicators.lcd.lines.contains("no call to record"))
        // The status log's message expired at the same time: 2 s after the press.
        let expired = try #require(statusLog.first { $0.event.cause == "message expired" })
        #expect(expired.time - pressed == 2_000_000_000)
    }
}

@Suite("Phone settings and the dial plan")
struct PhoneSettingsTests {
    func parse(_ body: String) throws(ConfigError) -> PhoneSettings {
        try PhoneSettings(try ConfigFile(text: "#!version:1.0.0.1\n" + body, path: "p.cfg"))
    }

    @Test("dial plan, IP dialling with *, the default host, the number itself")
    func targets() throws {
        let settings = try parse(
            "dialplan.1.number = 1002\ndialplan.1.uri = sip:1002@127.0.0.1:5062\ndialplan.3.number = *97\n"
                + "dialplan.3.uri = sip:voicemail@192.0.2.1\n")
        #expect(settings.target(for: "1002") == "sip:1002@127.0.0.1:5062")
        #expect(settings.target(for: "*97") == "sip:voicemail@192.0.2.1")
        #expect(settings.target(for: "192*168*1*20") == "sip:192.168.1.20")
        #expect(settings.target(for: "127*0*0*1*5062") == "sip:127.0.0.1:5062")
        #expect(settings.target(for: "300*0*0*1") == "300*0*0*1")
        #expect(settings.target(for: "555") == "555")
        #expect(settings.target(for: "") == nil)
        let withHost = try parse("dialplan.default_host = 127.0.0.1:5062\n")
        #expect(withHost.target(for: "1002") == "sip:1002@127.0.0.1:5062")
    }

    @Test("values and their errors with file:line")
    func values() throws {
        let s = try parse("phone_setting.inter_digit_time = 2\nfeatures.dnd.enable = 1\nvoice.volume.speaker = 12\n")
        #expect(s.interDigitTimeout == 2_000_000_000 && s.doNotDisturb && s.speakerVolume == 12)
        let cases: [(String, Int)] = [
            ("phone_setting.inter_digit_time = 0\n", 2), ("voice.volume.handset = 16\n", 2),
            ("dialplan.1.number = 12a\ndialplan.1.uri = sip:x@1.2.3.4\n", 2),
            ("dialplan.1.number = 12\ndialplan.1.uri = tel:12\n", 3), ("dialplan.default_host = a b\n", 2),
            ("features.dnd.status = 200\n", 2),
        ]
        for (body, line) in cases {
            #expect(throws: ConfigError.self, "\(body)") { try parse(body) }
            do { _ = try parse(body) } catch { #expect(error.line == line, "\(body): \(error)") }
        }
    }
}
