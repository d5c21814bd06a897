import Indicators
import Keys
import Testing

@testable import Recording

/// `RecordingLogic` alone: inputs in, the exact actions out, no reactor, no sockets.
@Suite("Recording logic (sans-IO)")
struct RecordingLogicTests {
    static let second: Int64 = 1_000_000_000
    static let info = RecordKeyBinding(key: .record, mode: .info, label: "Record")
    static let toggleURL = RecordKeyBinding(
        key: .line(3), mode: .url(RecordURLs(toggle: "http://192.0.2.1/rec?c=$call_id")), label: "Rec")
    static let onOffURLs = RecordKeyBinding(
        key: .line(4), mode: .url(RecordURLs(toggle: "", start: "http://192.0.2.1/on", stop: "http://192.0.2.1/off")),
        label: "Rec")

    /// Logic with call 1 established and active (the actions of that set-up dropped).
    static func withCall(_ binding: RecordKeyBinding = info, timeout: Int = 5, message: Int = 3) -> RecordingLogic {
        let logic = RecordingLogic(
            configuration: RecordingConfiguration(keys: [binding], requestTimeoutSeconds: timeout, messageSeconds: message))
        _ = logic.handle(.callChanged(call: 1, established: true))
        return logic
    }

    static func event(
        _ phase: RecordingPhase, _ indication: RecordingIndication, _ text: String, _ cause: String, call: Int = 1,
        active: Bool = true
    ) -> RecordingAction {
        .event(RecordingEvent(call: call, phase: phase, indication: indication, text: text, cause: cause, isActive: active))
    }

    /// A press of the INFO key on call 1 (off -> starting): its actions.
    static let pressOn: [RecordingAction] = [
        .log("call 1: recording starting (recording_pending) after key record: starting recording..."),
        event(.starting, .pending, "starting recording...", "key record"),
        .indication(.pending, text: "starting recording..."),
        .log("call 1: INFO Record: on"),
        .sendINFO(call: 1, request: 1, on: true),
        .requestSent(pressTime: 7),
    ]

    @Test func establishedCallBecomesActiveWithoutShowingAnything() {
        let logic = RecordingLogic(configuration: RecordingConfiguration(keys: [Self.info]))
        #expect(logic.handle(.callChanged(call: 1, established: false)) == [])
        #expect(logic.activeCallID == nil)
        #expect(logic.handle(.callChanged(call: 1, established: true)) == [])
        #expect(logic.activeCallID == 1)
        #expect(logic.trackedCallCount == 1)
    }

    @Test func pressSendsINFOAndA2xxTurnsRecordingOn() {
        let logic = Self.withCall()
        #expect(logic.handle(.press(Self.info, time: 7)) == Self.pressOn)
        #expect(logic.phase(ofCall: 1) == .starting)
        let answer = logic.handle(.infoAnswer(call: 1, request: 1, on: true, .response(status: 200, reason: "OK")))
        #expect(
            answer == [
                .log("call 1: recording on (recording) after 200 OK: recording"),
                Self.event(.on, .recording, "recording", "200 OK"),
                .indication(.recording, text: "recording"),
            ])
        #expect(logic.phase(ofCall: 1) == .on)
        // The next press asks to stop.
        let stop = logic.handle(.press(Self.info, time: 9))
        #expect(stop.contains(.sendINFO(call: 1, request: 2, on: false)))
        #expect(stop.contains(.indication(.pending, text: "stopping recording...")))
        #expect(logic.phase(ofCall: 1) == .stopping)
        _ = logic.handle(.infoAnswer(call: 1, request: 2, on: false, .response(status: 202, reason: "Accepted")))
        #expect(logic.phase(ofCall: 1) == .off)
        #expect(logic.indication == .idle && logic.shownText == "")
    }

    @Test func forbiddenShowsNotAllowedAndKeepsTheState() {
        let logic = Self.withCall()
        _ = logic.handle(.press(Self.info, time: 7))
        let answer = logic.handle(.infoAnswer(call: 1, request: 1, on: true, .response(status: 403, reason: "Forbidden")))
        #expect(
            answer == [
                .message("recording not allowed", nanoseconds: 3 * Self.second),
                .startTimer(.message(call: 1), nanoseconds: 3 * Self.second),
                .log("call 1: recording off (recording_not_allowed) after 403 Forbidden: recording not allowed"),
                Self.event(.off, .notAllowed, "recording not allowed", "403 Forbidden"),
                .indication(.notAllowed, text: "recording not allowed"),
            ])
        #expect(logic.phase(ofCall: 1) == .off)
        // The message expires: the alert goes, the state stays off.
        let expiry = logic.handle(.timerExpired(.message(call: 1)))
        #expect(
            expiry == [
                .log("call 1: recording off (idle) after message expired"),
                Self.event(.off, .idle, "", "message expired"),
                .indication(.idle, text: ""),
            ])
        // A stale expiry does nothing.
        #expect(logic.handle(.timerExpired(.message(call: 1))) == [])
    }

    @Test func callGone481DropsTheCall() {
        let logic = Self.withCall()
        _ = logic.handle(.press(Self.info, time: 7))
        let answer = logic.handle(
            .infoAnswer(call: 1, request: 1, on: true, .response(status: 481, reason: "Call Does Not Exist")))
        #expect(
            answer == [
                .forgetCall(1),
                .log("call 1: recording state cleared (481 Call Does Not Exist: call gone)"),
                Self.event(.off, .idle, "", "481 Call Does Not Exist: call gone"),
                .indication(.idle, text: ""),
            ])
        #expect(logic.trackedCallCount == 0)
        #expect(logic.activeCallID == nil)
    }

    @Test func serverErrorTimeoutAndTransportErrorKeepTheState() {
        let cases: [(RecordingINFOOutcome, String)] = [
            (.response(status: 500, reason: "Server Internal Error"), "500 Server Internal Error"),
            (.timeout, "timeout (no answer)"),
            (.transportError, "transport error"),
        ]
        for (outcome, cause) in cases {
            let logic = Self.withCall()
            _ = logic.handle(.press(Self.info, time: 7))
            let answer = logic.handle(.infoAnswer(call: 1, request: 1, on: true, outcome))
            #expect(
                answer == [
                    .message("cannot start recording", nanoseconds: 3 * Self.second),
                    .startTimer(.message(call: 1), nanoseconds: 3 * Self.second),
                    .log("call 1: recording off (recording_cannot_start) after " + cause + ": cannot start recording"),
                    Self.event(.off, .cannotStart, "cannot start recording", cause),
                    .indication(.cannotStart, text: "cannot start recording"),
                ])
            #expect(logic.phase(ofCall: 1) == .off)
        }
        // A failed stop keeps recording on.
        let logic = Self.withCall()
        _ = logic.handle(.press(Self.info, time: 7))
        _ = logic.handle(.infoAnswer(call: 1, request: 1, on: true, .response(status: 200, reason: "OK")))
        _ = logic.handle(.press(Self.info, time: 8))
        let answer = logic.handle(.infoAnswer(call: 1, request: 2, on: false, .timeout))
        #expect(answer.contains(.indication(.cannotStop, text: "cannot stop recording")))
        #expect(logic.phase(ofCall: 1) == .on)
    }

    @Test func pressWhileInFlightSendsNothing() {
        let logic = Self.withCall()
        _ = logic.handle(.press(Self.info, time: 7))
        #expect(logic.handle(.press(Self.info, time: 8)) == [.log("call 1: record key ignored: a request is in flight")])
        #expect(logic.phase(ofCall: 1) == .starting)
    }

    @Test func noCallToRecord() {
        let logic = RecordingLogic(configuration: RecordingConfiguration(keys: [Self.info]))
        let press = logic.handle(.press(Self.info, time: 7))
        #expect(
            press == [
                .message("no call to record", nanoseconds: 3 * Self.second),
                .log("no call to record (key record without an established call)"),
                .event(
                    RecordingEvent(
                        call: 0, phase: .off, indication: .idle, text: "no call to record",
                        cause: "key record without an established call", isActive: true)),
                .indication(.idle, text: "no call to record"),
                .startTimer(.notice, nanoseconds: 3 * Self.second),
            ])
        // A second press restarts the notice's timer.
        #expect(logic.handle(.press(Self.info, time: 8)).first == .cancelTimer(.notice))
        #expect(
            logic.handle(.timerExpired(.notice)) == [
                .event(
                    RecordingEvent(
                        call: 0, phase: .off, indication: .idle, text: "", cause: "message expired", isActive: true)),
                .indication(.idle, text: ""),
            ])
        // A call that is not established yet is no call to record either.
        _ = logic.handle(.callChanged(call: 2, established: false))
        _ = logic.handle(.activeCall(2, established: false))
        #expect(logic.handle(.press(Self.info, time: 9)).contains(.startTimer(.notice, nanoseconds: 3 * Self.second)))
    }

    @Test func urlToggleFlipsOnEach2xxAndShowsTheServersText() {
        let logic = Self.withCall(Self.toggleURL)
        let press = logic.handle(.press(Self.toggleURL, time: 7))
        #expect(
            Array(press.suffix(3)) == [
                .startTimer(.requestGuard(call: 1), nanoseconds: 6 * Self.second),
                .get(call: 1, request: 1, on: true, url: "http://192.0.2.1/rec?c=$call_id"),
                .requestSent(pressTime: 7),
            ])
        let answer = logic.handle(
            .urlAnswer(call: 1, request: 1, on: true, .response(status: 200, reason: "OK", text: "Recording started")))
        #expect(
            answer == [
                .cancelTimer(.requestGuard(call: 1)),
                .message("Recording started", nanoseconds: 3 * Self.second),
                .startTimer(.message(call: 1), nanoseconds: 3 * Self.second),
                .log("call 1: recording on (recording) after 200 OK: Recording started"),
                Self.event(.on, .recording, "Recording started", "200 OK"),
                .indication(.recording, text: "Recording started"),
            ])
        // The same URL again stops; an error with text shows it as a failure.
        let stop = logic.handle(.press(Self.toggleURL, time: 8))
        #expect(stop.contains(.cancelTimer(.message(call: 1))))
        #expect(stop.contains(.get(call: 1, request: 2, on: false, url: "http://192.0.2.1/rec?c=$call_id")))
        let refused = logic.handle(
            .urlAnswer(call: 1, request: 2, on: false, .response(status: 409, reason: "", text: "busy")))
        #expect(refused.contains(Self.event(.on, .failed, "busy", "409")))
        #expect(logic.phase(ofCall: 1) == .on)
    }

    @Test func urlOnOffAsksExplicitlyAndTheGuardTimesOut() {
        let logic = Self.withCall(Self.onOffURLs, timeout: 2)
        #expect(
            logic.handle(.press(Self.onOffURLs, time: 7)).contains(
                .get(call: 1, request: 1, on: true, url: "http://192.0.2.1/on")))
        let timeout = logic.handle(.timerExpired(.requestGuard(call: 1)))
        #expect(timeout.first == .message("cannot start recording", nanoseconds: 3 * Self.second))
        #expect(timeout.contains(Self.event(.off, .cannotStart, "cannot start recording", "timeout after 2 s")))
        #expect(!timeout.contains(.cancelTimer(.requestGuard(call: 1))))
        // The client's own answer after the guard is late.
        #expect(
            logic.handle(.urlAnswer(call: 1, request: 1, on: true, .failed("timeout after 2 s"))) == [
                .log("call 1: late URL record answer (timeout after 2 s) ignored")
            ])
        _ = logic.handle(.press(Self.onOffURLs, time: 8))
        _ = logic.handle(.urlAnswer(call: 1, request: 2, on: true, .response(status: 204, reason: "", text: nil)))
        #expect(
            logic.handle(.press(Self.onOffURLs, time: 9)).contains(
                .get(call: 1, request: 3, on: false, url: "http://192.0.2.1/off")))
    }

    @Test func callEndClearsAndALateAnswerIsLoggedAndIgnored() {
        let logic = Self.withCall()
        _ = logic.handle(.callChanged(call: 2, established: true))
        _ = logic.handle(.press(Self.info, time: 7))
        _ = logic.handle(.infoAnswer(call: 1, request: 1, on: true, .response(status: 403, reason: "Forbidden")))
        let end = logic.handle(.callEnded(call: 1, cause: "call ended (remote hang-up)"))
        #expect(
            end == [
                .cancelTimer(.message(call: 1)),
                .forgetCall(1),
                .log("call 1: recording state cleared (call ended (remote hang-up))"),
                Self.event(.off, .idle, "", "call ended (remote hang-up)"),
                .indication(.idle, text: ""),
            ])
        // The other established call takes the screen.
        #expect(logic.activeCallID == 2)
        #expect(logic.trackedCallCount == 1)

        let dropped = Self.withCall()
        _ = dropped.handle(.press(Self.info, time: 7))
        _ = dropped.handle(.callEnded(call: 1, cause: "call ended (local hang-up)"))
        #expect(
            dropped.handle(.infoAnswer(call: 1, request: 1, on: true, .response(status: 200, reason: "OK"))) == [
                .log("call 1: answer to Record: on (200 OK) after the call's recording state was dropped")
            ])
        #expect(dropped.phase(ofCall: 1) == .off)
    }

    @Test func closeCancelsEverythingAndTakesNoMoreInput() {
        let logic = Self.withCall(Self.toggleURL)
        _ = logic.handle(.press(Self.toggleURL, time: 7))
        #expect(
            logic.handle(.close) == [
                .cancelTimer(.requestGuard(call: 1)),
                .forgetCall(1),
                .indication(.idle, text: ""),
            ])
        #expect(logic.handle(.press(Self.toggleURL, time: 8)) == [])
        #expect(logic.handle(.callChanged(call: 3, established: true)) == [])
        #expect(logic.trackedCallCount == 0)
    }
}
