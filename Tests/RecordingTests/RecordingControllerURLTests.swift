import Foundation
import HTTP
import Indicators
import Keys
import SIP
import Testing

@testable import Recording

/// A stand-in for the HTTP client's `get`: remembers each URL and its completion, which the
/// test calls later (as the client does, on a later loop pass).
final class RecordedGETs {
    var urls: [String] = []
    var completions: [(HTTPGetResult) -> Void] = []

    func get(_ url: String, _ completion: @escaping (HTTPGetResult) -> Void) {
        urls.append(url)
        completions.append(completion)
    }

    func answer(_ result: HTTPGetResult) {
        completions.removeFirst()(result)
    }
}

/// The `<Text>` of a body, standing in for `PhoneTextXML.text(in:)`.
func textElement(_ body: [UInt8]) -> String? {
    let text = String(decoding: body, as: UTF8.self)
    guard let start = text.range(of: "<Text>"), let end = text.range(of: "</Text>") else { return nil }
    return String(text[start.upperBound..<end.lowerBound])
}

func phoneText(_ text: String) -> [UInt8] {
    Array(("<YealinkIPPhoneText><Title>Recording</Title><Text>" + text + "</Text></YealinkIPPhoneText>").utf8)
}

/// URL record (line key type 35) with the GET injected: the URL asked for, what each answer
/// shows, and that the call itself carries no INFO (SIPp's scenario fails on one).
@Suite("Recording controller: URL record", .serialized)
struct RecordingControllerURLTests {
    @Test("one URL toggles: 2xx flips the state and shows the server's text; 404, errors and no answer keep it")
    func toggleURL() throws {
        let gets = RecordedGETs()
        let phone = try RecordingTestPhone(
            port: 26410,
            config: """
                linekey.3.type = 35
                linekey.3.value = http://127.0.0.1:26590/record?call=$call_id
                features.record.request_timeout = 1
                """,
            hasRecordKey: false,
            expandURL: { template, call in template.replacingOccurrences(of: "$call_id", with: call.callID) },
            performGET: gets.get, serverText: textElement)
        defer { phone.close() }
        let sipp = try RecordingSIPp(scenario: "record-url", port: 26460, mediaPort: 33100, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })
        #expect(!phone.controller.handle(KeyEvent(key: .record, kind: .press, time: 0)))  // no record key here
        let url = "http://127.0.0.1:26590/record?call=" + call.callID

        phone.press(.line(3))
        #expect(gets.urls == [url])
        #expect(phone.controller.phase(ofCall: call.id) == .starting)
        #expect(phone.indicators.led(.line(3)) == LEDState(.fastFlash, .red))
        phone.press(.line(3))  // in flight: nothing more
        #expect(gets.urls.count == 1)
        gets.answer(.response(HTTPResponse(status: 200, reason: "OK", body: phoneText("Recording started"))))
        #expect(phone.controller.phase(ofCall: call.id) == .on)
        #expect(phone.indicators.led(.line(3)) == .recordOn && phone.recordingIcons == [.recording])
        #expect(phone.messageLine == "Recording started")
        #expect(try phone.run(seconds: 4) { phone.messageLine == "recording" })

        phone.press(.line(3))
        #expect(gets.urls == [url, url])  // the same URL: the server toggles
        gets.answer(.response(HTTPResponse(status: 404, reason: "Not Found")))
        #expect(phone.controller.phase(ofCall: call.id) == .on)
        #expect(phone.recordingIcons == [.recordingCannotStop] && phone.messageLine == "cannot stop recording")
        #expect(phone.events.last?.cause == "404 Not Found")

        phone.press(.line(3))
        gets.answer(.failed("connection refused"))
        #expect(phone.controller.phase(ofCall: call.id) == .on && phone.recordingIcons == [.recordingCannotStop])
        #expect(phone.events.last?.cause == "connection refused")

        phone.press(.line(3))
        gets.answer(.response(HTTPResponse(status: 204, reason: "No Content")))
        #expect(phone.controller.phase(ofCall: call.id) == .off)
        #expect(phone.recordingIcons.isEmpty && phone.indicators.led(.line(3)) == .off && phone.messageLine == "")

        // A refusal with the server's text: the failed icon and the text.
        phone.press(.line(3))
        gets.answer(.response(HTTPResponse(status: 507, reason: "Insufficient Storage", body: phoneText("Box full"))))
        #expect(phone.controller.phase(ofCall: call.id) == .off)
        #expect(phone.recordingIcons == [.recordingFailed] && phone.messageLine == "Box full")

        // No answer at all: the controller gives up after the timeout (+1 s) and ignores a late one.
        phone.press(.line(3))
        #expect(gets.completions.count == 1)
        #expect(try phone.run(seconds: 4) { !phone.controller.phase(ofCall: call.id).isPending })
        #expect(phone.recordingIcons == [.recordingCannotStart] && phone.events.last?.cause == "timeout after 1 s")
        gets.answer(.response(HTTPResponse(status: 200, reason: "OK")))
        #expect(phone.controller.phase(ofCall: call.id) == .off)
        #expect(phone.log.last == "call \(call.id): late URL record answer (200 OK) ignored")

        call.hangUp()
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")
        #expect(phone.controller.trackedCallCount == 0 && phone.controller.pendingTimerCount == 0)
        #expect(phone.indicators.led(.line(3)) == .off && phone.recordingIcons.isEmpty)
    }

    @Test("separate on/off URLs on the board's record key; messages to the phone; the call ending mid-request")
    func onOffURLs() throws {
        let gets = RecordedGETs()
        // The phone shows messages itself (PhoneStateMachine.flash): no LCD line for the controller.
        let phone = try RecordingTestPhone(
            port: 26411,
            config: """
                features.record_key.type = 35
                features.record_key.record_on_url = http://127.0.0.1:26591/start
                features.record_key.record_off_url = http://127.0.0.1:26591/stop
                linekey.2.type = 25
                """,
            messageLine: nil, performGET: gets.get, serverText: textElement)
        #expect(phone.controller.recordLineKeys == [2])
        defer { phone.close() }
        let sipp = try RecordingSIPp(scenario: "record-url", port: 26461, mediaPort: 33110, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })
        #expect(phone.controller.recordKeyPressed(line: nil))
        gets.answer(.response(HTTPResponse(status: 200, reason: "OK", body: phoneText("Recording started"))))
        #expect(phone.controller.phase(ofCall: call.id) == .on && phone.recordLED == .recordOn)
        #expect(phone.controller.recordKeyPressed(line: nil))
        gets.answer(.response(HTTPResponse(status: 500, reason: "Server Error")))
        #expect(phone.controller.phase(ofCall: call.id) == .on && phone.recordingIcons == [.recordingCannotStop])
        #expect(phone.controller.recordKeyPressed(line: nil))
        gets.answer(.response(HTTPResponse(status: 200, reason: "OK")))
        #expect(phone.controller.phase(ofCall: call.id) == .off && phone.recordLED == .off)
        #expect(
            gets.urls == [
                "http://127.0.0.1:26591/start", "http://127.0.0.1:26591/stop", "http://127.0.0.1:26591/stop",
            ])
        #expect(phone.messages == ["Recording started", "cannot stop recording"])
        #expect(phone.indicators.lcd.lines.isEmpty)
        #expect(!phone.controller.recordKeyPressed(line: 3))  // not a record key

        phone.press()
        #expect(phone.recordLED == LEDState(.fastFlash, .red))
        call.hangUp()
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")
        #expect(phone.controller.trackedCallCount == 0 && phone.controller.pendingTimerCount == 0)
        #expect(phone.recordLED == .off && phone.recordingIcons.isEmpty)
        gets.answer(.response(HTTPResponse(status: 200, reason: "OK")))
        #expect(phone.recordLED == .off && phone.controller.phase(ofCall: call.id) == .off)
    }
}
