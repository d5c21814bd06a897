import Foundation
import Indicators
import Keys
import SIP
import Testing

@testable import Recording

/// The record key against SIPp as the server (Fixtures/sipp/*.xml): every answer to
/// `INFO Record: on|off`, what the LED, icon, LCD line and status log show, and that nothing
/// stays behind when the call ends. SIPp fails its scenario on any INFO it did not expect, so
/// "a press sends nothing" is checked by SIPp's exit status.
@Suite("Recording controller: INFO Record against SIPp", .serialized)
struct RecordingControllerSIPpTests {
    static let pendingLED = LEDState(.fastFlash, .red)

    /// Checks that nothing is left of the calls: no state, no timers, indication off.
    static func expectCleared(_ phone: RecordingTestPhone, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(phone.controller.trackedCallCount == 0, sourceLocation: sourceLocation)
        #expect(phone.controller.pendingTimerCount == 0, sourceLocation: sourceLocation)
        #expect(phone.recordLED == .off, sourceLocation: sourceLocation)
        #expect(phone.recordingIcons.isEmpty, sourceLocation: sourceLocation)
        #expect(phone.messageLine == "", sourceLocation: sourceLocation)
    }

    @Test("on, off, on with 200; presses in flight and without a call send nothing; BYE from the server clears it")
    func onOffAndServerHangUp() throws {
        let phone = try RecordingTestPhone(port: 26400)
        defer { phone.close() }
        // No call: nothing sent, a brief message.
        phone.press()
        #expect(phone.messageLine == "no call to record")
        #expect(phone.recordLED == .off && phone.recordingIcons.isEmpty)
        #expect(try phone.run(seconds: 4) { phone.messageLine == "" })

        let sipp = try RecordingSIPp(scenario: "record-on-off", port: 26450, mediaPort: 33000, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })
        #expect(phone.controller.activeCallID == call.id)

        phone.press()
        // In flight: the LED fast-flashes, the icon says pending; a second press sends nothing.
        #expect(phone.controller.phase(ofCall: call.id) == .starting)
        #expect(phone.recordLED == Self.pendingLED && phone.recordingIcons == [.recordingPending])
        #expect(phone.messageLine == "starting recording...")
        phone.press()
        #expect(phone.log.contains("call \(call.id): record key ignored: a request is in flight"))
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) == .on })
        #expect(phone.recordLED == .recordOn && phone.recordingIcons == [.recording])
        #expect(phone.messageLine == "recording")

        phone.press()
        #expect(phone.controller.phase(ofCall: call.id) == .stopping && phone.recordLED == Self.pendingLED)
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) == .off })
        #expect(phone.recordLED == .off && phone.recordingIcons.isEmpty && phone.messageLine == "")

        phone.press()
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) == .on }, "\(phone.log)")
        // SIPp hangs up while recording: everything off, nothing kept.
        #expect(try phone.run { call.state.isEnded })
        #expect(call.state == .ended(.remoteHangUp))
        Self.expectCleared(phone)
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")

        // One press -> one request, each handed to the transport in the press's loop pass.
        #expect(phone.sentTimes.count == 3)
        // The status log follows every change: LED, LCD and recording lines in order.
        let lines = phone.statusLines
        let led = lines.filter { $0.contains("\"led\":\"record\"") }.map { line -> String in
            line.contains("\"state\":\"fast_flash\"") ? "flash" : line.contains("\"state\":\"on\"") ? "on" : "off"
        }
        #expect(led == ["off", "flash", "on", "flash", "off", "flash", "on", "off"], "\(lines)")
        let recording = lines.filter { $0.contains("\"recording\":{") }
        #expect(
            recording.first?.contains(#""call":0,"state":"off","indication":"idle","text":"no call to record""#) == true
        )
        #expect(
            recording.contains {
                $0.contains(#""state":"on","indication":"recording","text":"recording","cause":"200 OK""#)
            })
        #expect(
            recording.last?.contains(
                #""state":"off","indication":"idle","text":"","cause":"call ended (remote hang-up)""#) == true)
        #expect(lines.contains { $0.contains("\"lcd\":{") && $0.contains("\"icons\":[\"recording_pending\"]") })
    }

    @Test("403: recording not allowed, state stays off, the message goes after a while")
    func forbidden() throws {
        let phone = try RecordingTestPhone(port: 26401)
        defer { phone.close() }
        let sipp = try RecordingSIPp(scenario: "record-forbidden", port: 26451, mediaPort: 33010, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })
        phone.press()
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) == .off })
        #expect(phone.recordingIcons == [.recordingNotAllowed] && phone.recordLED == .off)
        #expect(phone.messageLine == "recording not allowed")
        #expect(phone.events.last?.cause == "403 Forbidden")
        #expect(phone.statusLines.contains { $0.contains("\"icons\":[\"recording_not_allowed\"]") })
        #expect(try phone.run(seconds: 4) { phone.recordingIcons.isEmpty })
        #expect(phone.messageLine == "" && call.state == .connected)
        call.hangUp()
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")
        Self.expectCleared(phone)
    }

    @Test("481: the call is gone, its state cleared and the indication off")
    func callGone() throws {
        let phone = try RecordingTestPhone(port: 26402)
        defer { phone.close() }
        let sipp = try RecordingSIPp(scenario: "record-gone", port: 26452, mediaPort: 33020, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })
        phone.press()
        #expect(phone.recordLED == Self.pendingLED)
        #expect(try phone.run { call.state.isEnded })
        #expect(call.state == .ended(.dialogGone))
        try phone.run(seconds: 0.2) { false }
        Self.expectCleared(phone)
        #expect(phone.controller.activeCallID == nil)
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")
        // A press now has no call to act on.
        phone.press()
        #expect(phone.messageLine == "no call to record")
    }

    @Test("500 and 603: cannot start / cannot stop, the state stays what it was; the next press asks again")
    func errors() throws {
        let phone = try RecordingTestPhone(port: 26403)
        defer { phone.close() }
        let sipp = try RecordingSIPp(scenario: "record-errors", port: 26453, mediaPort: 33030, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })

        phone.press()
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) == .off })
        #expect(phone.recordingIcons == [.recordingCannotStart] && phone.recordLED == .off)
        #expect(phone.messageLine == "cannot start recording")
        #expect(phone.events.last?.cause == "500 Server Internal Error")

        phone.press()  // still off: asks "on" again
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) == .on })
        #expect(phone.recordingIcons == [.recording] && phone.messageLine == "recording")

        phone.press()
        #expect(try phone.run { !phone.controller.phase(ofCall: call.id).isPending })
        #expect(phone.controller.phase(ofCall: call.id) == .on)
        #expect(phone.recordingIcons == [.recordingCannotStop] && phone.recordLED == .recordOn)
        #expect(phone.messageLine == "cannot stop recording")
        #expect(phone.events.last?.cause == "603 Decline")

        phone.press()  // still on: asks "off" again
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) == .off })
        #expect(phone.recordingIcons.isEmpty && phone.recordLED == .off && phone.messageLine == "")
        call.hangUp()
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")
        Self.expectCleared(phone)
    }

    @Test("401: answered once with credentials, then recording; the key comes in as a raw input_event")
    func challenge() throws {
        let phone = try RecordingTestPhone(port: 26404)
        defer { phone.close() }
        // The key path of the phone: input_event records on a FIFO -> keymap -> resolver -> controller.
        let keys = try KeyFIFOPath(phone)
        defer { keys.close() }
        let fifo = keys.fifo
        let sipp = try RecordingSIPp(scenario: "record-challenge", port: 26454, mediaPort: 33040, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })
        let code = try #require(KeyMap.code(named: "KEY_RECORD"))
        var bytes: [UInt8] = []
        for value: Int32 in [1, 0] {
            bytes += InputEventLayout.native.encode(InputEvent(type: InputEvent.typeKey, code: code, value: value))
            bytes += InputEventLayout.native.encode(InputEvent(type: InputEvent.typeSyn, code: 0, value: 0))
        }
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: fifo))
        writer.write(Data(bytes))
        try writer.close()
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) != .off })
        #expect(try phone.run { phone.controller.phase(ofCall: call.id) == .on })
        #expect(phone.recordLED == .recordOn && phone.recordingIcons == [.recording])
        call.hangUp()
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")
        Self.expectCleared(phone)
    }

    @Test("no answer: pending until the transaction times out (T1 50 ms), then cannot start")
    func noAnswer() throws {
        let phone = try RecordingTestPhone(port: 26405, t1Milliseconds: 50)
        defer { phone.close() }
        let sipp = try RecordingSIPp(scenario: "record-silent", port: 26455, mediaPort: 33050, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })
        phone.press()
        try phone.run(seconds: 1) { false }
        #expect(phone.controller.phase(ofCall: call.id) == .starting && phone.recordLED == Self.pendingLED)
        // Timer F = 64·T1 = 3.2 s.
        #expect(try phone.run(seconds: 6) { phone.controller.phase(ofCall: call.id) == .off })
        #expect(phone.recordingIcons == [.recordingCannotStart] && phone.recordLED == .off)
        #expect(phone.messageLine == "cannot start recording")
        #expect(phone.events.last?.cause == "timeout (no answer)")
        #expect(call.state == .connected)
        try phone.run(seconds: 1.5) { false }  // SIPp's pause ends before it expects the BYE
        call.hangUp()
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")
        Self.expectCleared(phone)
    }

    @Test("two calls: each its own state, the screen shows the active one's; hold keeps it")
    func twoCallsAndHold() throws {
        let phone = try RecordingTestPhone(port: 26406, config: "linekey.2.type = 25\n")
        defer { phone.close() }
        let first = try RecordingSIPp(scenario: "record-hold", port: 26456, mediaPort: 33060, uaURI: phone.uri)
        defer { first.cleanUp() }
        let second = try RecordingSIPp(scenario: "record-forbidden", port: 26457, mediaPort: 33070, uaURI: phone.uri)
        defer { second.cleanUp() }

        let a = try phone.dial(first.uri)
        #expect(try phone.run { a.state == .connected })
        phone.press(.line(2))  // the line key of type 25 records too, and its LED shows it
        #expect(try phone.run { phone.controller.phase(ofCall: a.id) == .on })
        #expect(phone.indicators.led(.line(2)) == .recordOn && phone.recordLED == .recordOn)

        #expect(a.hold())
        #expect(try phone.run { a.state == .held })
        #expect(phone.controller.phase(ofCall: a.id) == .on && phone.recordLED == .recordOn)

        let b = try phone.dial(second.uri)
        #expect(try phone.run { b.state == .connected })
        #expect(phone.controller.activeCallID == a.id)  // the phone decides what is on screen
        phone.controller.setActiveCall(b)
        #expect(phone.recordLED == .off && phone.recordingIcons.isEmpty && phone.messageLine == "")
        phone.press()
        #expect(try phone.run { !phone.controller.phase(ofCall: b.id).isPending })
        #expect(phone.recordingIcons == [.recordingNotAllowed])
        #expect(phone.controller.phase(ofCall: a.id) == .on)

        phone.controller.setActiveCall(a)
        #expect(phone.recordLED == .recordOn && phone.recordingIcons == [.recording])
        #expect(phone.messageLine == "recording")
        phone.controller.setActiveCall(b)
        #expect(phone.recordingIcons == [.recordingNotAllowed] && phone.recordLED == .off)
        b.hangUp()
        #expect(try second.wait(running: phone.reactor) == 0, "sipp: \(second.errors)")
        // The ended call leaves the screen to the one still up.
        #expect(phone.controller.activeCallID == a.id && phone.recordLED == .recordOn)
        #expect(phone.controller.trackedCallCount == 1)

        #expect(a.resume())
        #expect(try phone.run { a.state == .connected })
        #expect(phone.controller.phase(ofCall: a.id) == .on)
        phone.press()
        #expect(try phone.run { phone.controller.phase(ofCall: a.id) == .off })
        #expect(phone.indicators.led(.line(2)) == .off)
        a.hangUp()
        #expect(try first.wait(running: phone.reactor) == 0, "sipp: \(first.errors)")
        Self.expectCleared(phone)
    }
}
