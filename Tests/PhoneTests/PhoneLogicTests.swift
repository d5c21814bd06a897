import Audio
import Keys
import SIP
import Testing

@testable import Phone

/// `PhoneLogic` alone: inputs in, the exact action lists out; no softphone, no reactor, no
/// indicators.
@Suite("Phone logic (pure)")
struct PhoneLogicTests {
    static let uri2001 = "sip:2001@127.0.0.1:5062"
    static let second: Int64 = 1_000_000_000

    /// The logic with a one-entry dial plan (2001) and a 4 s inter-digit timeout.
    struct Rig {
        var logic: PhoneLogic

        init(_ configure: (inout PhoneSettings) -> Void = { _ in }) {
            var settings = PhoneSettings()
            settings.dialPlan = [PhoneSettings.DialPlanEntry(number: "2001", uri: PhoneLogicTests.uri2001)]
            configure(&settings)
            logic = PhoneLogic(settings: settings, accountLabel: "1001")
        }

        mutating func input(_ input: PhoneInput) -> [PhoneAction] {
            var actions: [PhoneAction] = []
            logic.handle(input, into: &actions)
            return actions
        }

        mutating func press(_ key: PhoneKey) -> [PhoneAction] {
            input(.key(KeyEvent(key: key, kind: .press, time: 0)))
        }

        mutating func release(_ key: PhoneKey) -> [PhoneAction] {
            input(.key(KeyEvent(key: key, kind: .release, time: 0)))
        }

        mutating func call(_ id: Int, _ state: SIPCallState, party: String = "Peer") -> [PhoneAction] {
            input(.callState(call: id, state: state, party: party))
        }

        /// Presses the softkey labelled `label` (it must be shown).
        mutating func softkey(_ label: String) -> [PhoneAction] {
            guard let index = logic.shown.softkeys.firstIndex(of: label) else {
                Issue.record("no softkey '\(label)' in \(logic.shown.softkeys)")
                return []
            }
            return press(.softkey(index + 1))
        }

        mutating func type(_ digits: String) {
            for c in digits { _ = press(c == "#" ? .pound : .digit(Int(String(c))!)) }
        }

        /// Call `id` placed by the keys (dialled 2001 on the speaker) and connected.
        mutating func connectedCall(_ id: Int) {
            _ = press(.speaker)
            type("2001#")
            _ = call(id, .calling)
            _ = input(.placed(call: id))
            _ = call(id, .connected)
        }
    }

    @Test("off hook: the handset, its volume, the dial tone, the dialling screen")
    func offHook() {
        var rig = Rig()
        #expect(rig.press(.hook) == [.moveAudio(.handset), .volume(8), .playDialTone(.handset), .screenChanged])
        #expect(rig.logic.screen == .dialing)
        #expect(rig.logic.offHook)
        #expect(rig.logic.shown.title == "Dial")
        #expect(rig.logic.shown.lines == ["_"])
        #expect(rig.logic.shown.softkeys == ["", "", "", "Cancel"])
    }

    @Test("digits restart the inter-digit timer; its expiry dials; the placed call is focused")
    func interDigitDial() {
        var rig = Rig()
        _ = rig.press(.hook)
        #expect(
            rig.press(.digit(2)) == [.stopTone, .startTimer(.interDigit, nanoseconds: 4 * Self.second), .screenChanged])
        #expect(
            rig.press(.digit(0)) == [
                .cancelTimer(.interDigit), .startTimer(.interDigit, nanoseconds: 4 * Self.second), .screenChanged,
            ])
        rig.type("01")
        #expect(rig.logic.dialed == "2001")
        #expect(rig.logic.shown.softkeys == ["Send", "Delete", "", "Cancel"])
        #expect(rig.input(.timerExpired(.interDigit)) == [.dial(number: "2001", target: Self.uri2001), .screenChanged])
        #expect(rig.logic.dialed == "")
        #expect(rig.logic.lastDialed == "2001")
        // The softphone reports the new call's state while it places it (the runtime hands that
        // in first), then the runtime reports the placed call.
        #expect(rig.call(1, .calling) == [.activeCall(1), .screenChanged])
        #expect(rig.input(.placed(call: 1)) == [.focus(call: 1, path: .handset), .volume(8), .screenChanged])
        #expect(rig.logic.screen == .calling)
        #expect(rig.logic.shown.title == "Calling")
    }

    @Test("# sends what was typed and cancels the timer; # with nothing typed does nothing")
    func poundSends() {
        var rig = Rig()
        _ = rig.press(.speaker)
        #expect(rig.press(.pound) == [.screenChanged])
        rig.type("2001")
        #expect(
            rig.press(.pound) == [
                .cancelTimer(.interDigit), .dial(number: "2001", target: Self.uri2001), .screenChanged,
            ])
    }

    @Test("Delete takes the last digit; the last Delete cancels the timer")
    func deleteDigits() {
        var rig = Rig()
        _ = rig.press(.speaker)
        rig.type("20")
        #expect(
            rig.softkey("Delete") == [
                .cancelTimer(.interDigit), .startTimer(.interDigit, nanoseconds: 4 * Self.second), .screenChanged,
            ])
        #expect(rig.softkey("Delete") == [.cancelTimer(.interDigit), .screenChanged])
        #expect(rig.logic.dialed == "")
        #expect(rig.logic.screen == .dialing)
    }

    @Test("cancel while dialling: timer and tone stop, back to idle")
    func cancelWhileDialing() {
        var rig = Rig()
        _ = rig.press(.hook)
        #expect(rig.press(.cancel) == [.stopTone, .screenChanged])
        #expect(rig.logic.screen == .idle)
        _ = rig.press(.speaker)
        rig.type("20")
        #expect(rig.press(.cancel) == [.cancelTimer(.interDigit), .screenChanged])
        #expect(rig.logic.screen == .idle)
        #expect(rig.logic.dialed == "")
    }

    @Test("the speaker key starts dialling hands-free and, pressed again, stops it")
    func speakerToggles() {
        var rig = Rig()
        #expect(rig.press(.speaker) == [.moveAudio(.speaker), .volume(8), .playDialTone(.speaker), .screenChanged])
        #expect(rig.logic.shown.speaker)
        #expect(rig.press(.speaker) == [.stopTone, .screenChanged])
        #expect(rig.logic.screen == .idle)
        #expect(!rig.logic.shown.speaker)
    }

    @Test("an incoming call rings at the ringer volume; lifting the handset answers it there")
    func incomingAnsweredByHook() {
        var rig = Rig { $0.ringerVolume = 5 }
        #expect(rig.call(1, .incoming, party: "Alice") == [.volume(5), .screenChanged])
        #expect(rig.logic.screen == .incoming)
        #expect(rig.logic.shown.lines == ["Alice"])
        #expect(rig.logic.shown.lineKeys == [.incoming])
        #expect(
            rig.press(.hook) == [
                .activeCall(1), .focus(call: 1, path: .handset), .volume(8), .answer(call: 1), .screenChanged,
            ])
        #expect(rig.logic.path == .handset)
        #expect(
            rig.input(.failed(.answer)) == [
                .startTimer(.message, nanoseconds: 3 * Self.second), .log("phone: Cannot answer"), .screenChanged,
            ])
    }

    @Test("an incoming call while dialling ends the dialling; Reject answers 486")
    func incomingWhileDialing() {
        var rig = Rig()
        _ = rig.press(.speaker)
        rig.type("2")
        #expect(rig.call(4, .incoming) == [.volume(8), .cancelTimer(.interDigit), .screenChanged])
        #expect(rig.logic.dialed == "")
        #expect(rig.softkey("Reject") == [.reject(call: 4, status: 486), .screenChanged])
    }

    @Test("the far end ends the call: no active call, the reason under the screen; the call goes at the next input")
    func farEndHangsUp() {
        var rig = Rig()
        rig.connectedCall(1)
        #expect(rig.logic.screen == .talking)
        #expect(
            rig.call(1, .ended(.rejected(status: 486, reason: "Busy Here"))) == [
                .activeCall(nil), .startTimer(.message, nanoseconds: 3 * Self.second), .log("phone: Call ended: busy"),
                .screenChanged,
            ])
        #expect(rig.logic.activeCallID == nil)
        #expect(rig.logic.calls.count == 1)
        #expect(rig.input(.timerExpired(.message)) == [.screenChanged])
        #expect(rig.logic.calls.isEmpty)
        #expect(rig.logic.message == nil)
        #expect(rig.logic.screen == .idle)
        #expect(rig.logic.shown.softkeys == ["Redial", "DND", "", "Dial"])
    }

    @Test("call waiting: a second call rings over the first; OK holds the first and answers the second")
    func callWaiting() {
        var rig = Rig()
        rig.connectedCall(1)
        // No ringer volume: the first call's audio stays as it is.
        #expect(rig.call(2, .incoming, party: "Bob") == [.screenChanged])
        #expect(rig.logic.screen == .incoming)
        #expect(rig.logic.shown.lines == ["Bob", "With: Peer"])
        #expect(
            rig.press(.ok) == [
                .hold(call: 1, report: false), .activeCall(2), .focus(call: 2, path: .speaker), .volume(8),
                .answer(call: 2), .screenChanged,
            ])
    }

    @Test("hold and swap with two calls")
    func holdAndSwap() {
        var rig = Rig()
        rig.connectedCall(1)
        _ = rig.call(2, .incoming)
        _ = rig.press(.ok)
        _ = rig.call(1, .held)
        _ = rig.call(2, .connected)
        #expect(rig.logic.screen == .talking)
        #expect(rig.logic.shown.softkeys == ["Swap", "Mute", "", "End"])
        #expect(
            rig.softkey("Swap") == [
                .hold(call: 2, report: false), .activeCall(1), .focus(call: 1, path: .speaker),
                .resume(call: 1, report: false), .screenChanged,
            ])
        _ = rig.call(2, .held)
        _ = rig.call(1, .connected)
        // The hold key on the talking call asks the call and wants to hear a refusal.
        #expect(rig.press(.hold) == [.hold(call: 1, report: true), .screenChanged])
        #expect(rig.input(.failed(.hold)).contains(.log("phone: Cannot hold now")))
        _ = rig.call(1, .held)
        // Resume with the other call held too: focus and resume this one.
        #expect(rig.press(.hold) == [.focus(call: 1, path: .speaker), .resume(call: 1, report: true), .screenChanged])
        // Line key 2 is the other call: swap to it.
        _ = rig.call(1, .connected)
        #expect(
            rig.press(.line(2)) == [
                .hold(call: 1, report: false), .activeCall(2), .focus(call: 2, path: .speaker),
                .resume(call: 2, report: false), .screenChanged,
            ])
    }

    @Test("mute acts on a call with media only, and the screen follows")
    func mute() {
        var rig = Rig()
        rig.connectedCall(1)
        #expect(rig.press(.mute) == [.screenChanged])
        rig.logic.noteMedia(call: 1, open: true, muted: false)
        #expect(rig.press(.mute) == [.mute(call: 1, on: true), .screenChanged])
        #expect(rig.logic.shown.muted)
        #expect(rig.logic.shown.softkeys == ["Hold", "Unmute", "", "End"])
        #expect(rig.softkey("Unmute") == [.mute(call: 1, on: false), .screenChanged])
        #expect(!rig.logic.shown.muted)
    }

    @Test("volume keys step the path's volume within 0...15; the ringer's while a call rings")
    func volumeBounds() {
        var rig = Rig { $0.speakerVolume = 14 }
        _ = rig.press(.speaker)
        #expect(
            rig.press(.volumeUp) == [
                .volume(15), .startTimer(.message, nanoseconds: 3 * Self.second), .log("phone: Speaker volume 15"),
                .screenChanged,
            ])
        let again = rig.input(.key(KeyEvent(key: .volumeUp, kind: .repeat, time: 0)))
        #expect(again.first == .volume(15))
        #expect(again.contains(.cancelTimer(.message)))
        #expect(rig.logic.settings.speakerVolume == 15)
        _ = rig.press(.cancel)
        var quiet = Rig { $0.ringerVolume = 0 }
        _ = quiet.call(1, .incoming)
        #expect(
            quiet.press(.volumeDown).prefix(2) == [.volume(0), .startTimer(.message, nanoseconds: 3 * Self.second)])
        #expect(quiet.logic.message == "Ringer volume 0")
    }

    @Test("redial: nothing to redial says so; after a call it dials the last number")
    func redial() {
        var rig = Rig()
        #expect(rig.logic.shown.softkeys == ["", "DND", "", "Dial"])
        #expect(
            rig.press(.redial) == [
                .startTimer(.message, nanoseconds: 3 * Self.second), .log("phone: No number to redial"), .screenChanged,
            ])
        rig.connectedCall(1)
        // Not while a call is up.
        #expect(rig.press(.redial) == [.screenChanged])
        _ = rig.call(1, .ended(.remoteHangUp))
        #expect(rig.softkey("Redial") == [.dial(number: "2001", target: Self.uri2001), .screenChanged])
    }

    @Test("a refused dial: back to idle with the reason")
    func dialRefused() {
        var rig = Rig()
        _ = rig.press(.speaker)
        rig.type("2001#")
        #expect(
            rig.input(.failed(.dial(number: "2001", reason: "not registered"))) == [
                .startTimer(.message, nanoseconds: 3 * Self.second), .log("phone: Cannot call 2001: not registered"),
                .screenChanged,
            ])
        #expect(rig.logic.screen == .idle)
    }

    @Test("hook down ends the handset call; the audio goes back to the speaker")
    func hookDownHangsUp() {
        var rig = Rig()
        _ = rig.call(3, .incoming)
        _ = rig.press(.hook)
        _ = rig.call(3, .connected)
        #expect(rig.release(.hook) == [.hangUp(call: 3), .screenChanged])
        #expect(rig.logic.path == .speaker)
        #expect(!rig.logic.offHook)
    }

    @Test("record key and record line keys go to the recording; other line keys do not")
    func recordKeys() {
        var rig = Rig()
        rig.logic.recordLineKeys = [3]
        #expect(rig.press(.record) == [.recordKey(line: nil), .screenChanged])
        #expect(rig.press(.line(3)) == [.recordKey(line: 3), .screenChanged])
        #expect(rig.press(.line(1)) == [.moveAudio(.speaker), .volume(8), .playDialTone(.speaker), .screenChanged])
    }

    @Test("DND softkey toggles; a reload keeps it unless the provisioned value changed")
    func doNotDisturb() {
        var rig = Rig()
        #expect(rig.softkey("DND").contains(.log("phone: Do not disturb on")))
        #expect(rig.logic.doNotDisturb)
        #expect(rig.logic.shown.title == "Do not disturb")
        var settings = rig.logic.settings
        settings.speakerVolume = 3
        #expect(rig.input(.settings(settings)) == [.volume(3), .screenChanged])
        #expect(rig.logic.doNotDisturb)
        settings.doNotDisturb = true
        _ = rig.input(.settings(settings))
        #expect(rig.logic.doNotDisturb)
        settings.doNotDisturb = false
        _ = rig.input(.settings(settings))
        #expect(!rig.logic.doNotDisturb)
    }

    @Test("a call placed without the keys becomes the active call; connected, it is focused where the audio is")
    func callWithoutKeys() {
        var rig = Rig()
        #expect(rig.call(7, .calling) == [.activeCall(7), .screenChanged])
        #expect(rig.call(7, .connected) == [.screenChanged])
        var other = Rig()
        #expect(other.call(8, .connected) == [.activeCall(8), .focus(call: 8, path: nil), .screenChanged])
    }
}
