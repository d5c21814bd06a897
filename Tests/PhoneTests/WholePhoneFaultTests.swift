// Faults injected into the whole phone on the virtual clock (the reliability issue, deliver 2):
// the recording server answering late, twice, or after the call ended; the far end vanishing
// (ICMP port unreachable on loopback) in a call. The phone keeps its state, says what happened
// and ends up idle with nothing left behind.

import Foundation
import Indicators
import Keys
@testable import Phone
import Recording
import Reactor
import SIP
import Testing

@Suite("Whole phone: faults", .serialized)
struct WholePhoneFaultTests {
    /// Nothing of the call is left: no tracked call, no recording timer, the screen idle.
    static func leftNothing(_ phone: WholePhone) {
        #expect(phone.machine.screen == .idle)
        #expect(phone.assembly.softphone.calls.isEmpty)
        #expect(phone.assembly.recording.trackedCallCount == 0)
        #expect(phone.assembly.recording.pendingTimerCount == 0)
        #expect(phone.led(.record) == .off)
        #expect(!phone.lcd.icons.contains(.recording) && !phone.lcd.icons.contains(.recordingPending))
    }

    @Test("the INFO's 200 comes after the call ended: ignored, nothing left behind")
    func answerAfterCallEnded() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try WholePhoneTests.talking(phone)
        phone.farEnd.infoScript = [.late(200, seconds: 3)]
        phone.press(.record)
        try phone.run(seconds: 0.5)
        #expect(phone.assembly.recording.phase(ofCall: 1) == .starting)
        #expect(phone.lcd.icons.contains(.recordingPending))
        // The far end hangs up while the INFO is unanswered; its 200 comes 2.5 s later.
        phone.farEnd.hangUp()
        try phone.run(seconds: 0.5)
        #expect(phone.log.contains("call 1: ended (remote hang-up)"))
        Self.leftNothing(phone)
        try phone.run(seconds: 5)
        Self.leftNothing(phone)
        #expect(phone.farEnd.infoCount == 1)
        // The late 200 reached the phone and was recognised as late.
        #expect(phone.log.contains { $0.contains("answer to Record: on (200 OK) after the call's recording state was dropped") },
            "\(phone.log.filter { $0.hasPrefix("recording:") })")
        // The recording state went with the call; no state came back with the late answer.
        #expect(!phone.recordingLines.contains { $0.contains("\"state\":\"on\"") })
        #expect(phone.recordingLines.last?.contains("\"state\":\"off\"") == true)
        // The phone still works: a new call records.
        try WholePhoneTests.talking(phone)
        phone.press(.record)
        try phone.run(seconds: 0.2)
        #expect(phone.led(.record) == .recordOn)
    }

    @Test("the INFO is answered late but within its transaction: the late 200 turns recording on")
    func lateAnswerInTime() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try WholePhoneTests.talking(phone)
        phone.farEnd.infoScript = [.late(200, seconds: 10)]
        phone.press(.record)
        try phone.run(seconds: 5)
        #expect(phone.assembly.recording.phase(ofCall: 1) == .starting)
        // A press while the request is in flight sends nothing.
        phone.press(.record)
        try phone.run(seconds: 6)
        #expect(phone.farEnd.infoCount == 1)
        #expect(phone.assembly.recording.phase(ofCall: 1) == .on)
        #expect(phone.led(.record) == .recordOn)
    }

    @Test(
        "the INFO is answered twice: the first final answer decides, the second is absorbed",
        arguments: [(200, 500, RecordingPhaseCase.on), (403, 200, .off)])
    func answeredTwice(first: Int, second: Int, expected: RecordingPhaseCase) throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try WholePhoneTests.talking(phone)
        phone.farEnd.infoScript = [.twice(first, second)]
        phone.press(.record)
        try phone.run(seconds: 0.5)
        #expect(phone.farEnd.infoCount == 1)
        #expect(expected.matches(phone.assembly.recording.phase(ofCall: 1)))
        #expect(phone.led(.record) == (expected == .on ? .recordOn : .off))
        let decided = phone.log.filter { $0.hasPrefix("recording: call 1: recording ") && $0.contains(" after ") }
        // One decision: pending, then the first answer's outcome (no second outcome line).
        #expect(decided.count == 2, "\(decided)")
        #expect(phone.machine.screen == .talking)
    }

    @Test("the far end vanishes in a call: the record key says it cannot start, hang-up still ends the call")
    func farEndVanishes() throws {
        let phone = try WholePhone()
        defer { phone.close() }
        try WholePhoneTests.talking(phone)
        phone.farEnd.vanish()
        try phone.run(seconds: 1)
        // RTP to a closed port: ICMP errors are drained, the call goes on.
        #expect(phone.machine.screen == .talking)
        phone.press(.record)
        try phone.run(seconds: 1)
        #expect(phone.assembly.recording.phase(ofCall: 1) == .off)
        #expect(phone.led(.record) == .off)
        #expect(phone.lcd.lines.contains("cannot start recording"))
        #expect(phone.recordingLines.last?.contains("transport error") == true)
        // The user gives up and hangs up: the BYE cannot be delivered either, the call still ends.
        phone.hookDown()
        try phone.run(seconds: 40)
        #expect(phone.log.contains { $0.hasPrefix("call 1: ended") })
        Self.leftNothing(phone)
        #expect(phone.reactor.timerCount <= 1, "timers left: \(phone.reactor.timerCount)")
    }

    @Test("the status log's disk is full (/dev/full): said once in the log, calls and recording go on")
    func statusLogDiskFull() throws {
        let phone = try WholePhone(statusLogAt: "/dev/full")
        defer { phone.close() }
        try WholePhoneTests.talking(phone)
        phone.press(.record)
        try phone.run(seconds: 0.2)
        #expect(phone.led(.record) == .recordOn)
        phone.press(.record)
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.infos.map(\.record) == ["on", "off"])
        phone.hookDown()
        try phone.run(seconds: 0.5)
        Self.leftNothing(phone)
        // Each writer says it once (the screen's and the recording's lines), not once per line.
        let complaints = phone.log.filter { $0.contains("status log") }
        #expect(complaints.count == 2, "\(complaints)")
        #expect(complaints.allSatisfy { $0.contains("No space left on device") }, "\(complaints)")
        #expect(complaints.contains { $0.hasPrefix("recording: status log: write failed") }, "\(complaints)")
    }
}

/// The recording phase a parameterized test expects (RecordingPhase is not Sendable-declared
/// for test arguments).
enum RecordingPhaseCase: Sendable, Equatable, CustomStringConvertible {
    case on, off
    func matches(_ phase: RecordingPhase) -> Bool { self == .on ? phase == .on : phase == .off }
    var description: String { self == .on ? "on" : "off" }
}
