// PENDING: compiles once rec-http (HTTPClient, RecordURLTemplate, PhoneTextXML) is merged; the lead moves
// this file to Tests/RecordingTests/ then (it passed with rec-http b037ed3 and its tests in a trial merge).
import Foundation
import HTTP
import Indicators
import Keys
import SIP
import TestSupport
import Testing

@testable import Recording

/// URL record end to end: the controller, the HTTP client and the URL template against a real
/// HTTP server (Python's http.server on loopback serving a YealinkIPPhoneText file).
@Suite("Recording controller: URL record over real HTTP", .serialized)
struct RecordingControllerHTTPTests {
    @Test("a press GETs the expanded URL from a real server; the XML text shows; 404 cannot stop")
    func realServer() throws {
        let root = try makeTemporaryDirectory("rec-http")
        defer { try? FileManager.default.removeItem(at: root) }
        let xml = "<YealinkIPPhoneText><Title>PBX</Title><Text>Recording started</Text></YealinkIPPhoneText>"
        try xml.write(to: root.appendingPathComponent("start.xml"), atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-m", "http.server", "--bind", "127.0.0.1", "--directory", root.path, "26592"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            // SIGKILL: the test process may block SIGTERM (signalfd), and children inherit the mask.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        // Wait for the server's listening socket: a line of /proc/net/tcp with this local port in
        // state 0A (LISTEN); a TIME_WAIT line of an earlier run is not the server.
        let needle = ":" + String(format: "%04X", 26592) + " "
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
            let listening = table.split(separator: "\n").contains { line in
                let fields = line.split(separator: " ")
                return fields.count > 3 && (fields[1] + " ").hasSuffix(needle) && fields[3] == "0A"
            }
            if listening { break }
            usleep(20_000)
        }

        var client: HTTPClient? = nil
        let phone = try RecordingTestPhone(
            port: 26412,
            config: """
                features.record_key.type = 35
                features.record_key.record_on_url = http://127.0.0.1:26592/start.xml?call=$call_id
                features.record_key.record_off_url = http://127.0.0.1:26592/missing?call=$call_id
                """,
            expandURL: { template, call in
                RecordURLTemplate.expand(template, RecordURLVariables(callID: call.callID))
            },
            performGET: { url, done in client?.get(url, completion: done) },
            serverText: { PhoneTextXML.text(in: $0) })
        client = HTTPClient(reactor: phone.reactor, userAgent: "deskphone/test")
        defer { client?.close() }
        let sipp = try RecordingSIPp(scenario: "record-url", port: 26462, mediaPort: 33120, uaURI: phone.uri)
        defer { sipp.cleanUp() }
        let call = try phone.dial(sipp.uri)
        #expect(try phone.run { call.state == .connected })

        phone.press()
        #expect(try phone.run { !phone.controller.phase(ofCall: call.id).isPending })
        #expect(phone.controller.phase(ofCall: call.id) == .on, "\(phone.log)")
        #expect(phone.messageLine == "Recording started" && phone.recordLED == .recordOn)

        phone.press()
        #expect(try phone.run { !phone.controller.phase(ofCall: call.id).isPending })
        #expect(phone.controller.phase(ofCall: call.id) == .on)
        #expect(phone.recordingIcons == [.recordingCannotStop], "\(phone.log)")
        #expect(phone.events.last?.cause.hasPrefix("404") == true)
        #expect(phone.log.contains("call \(call.id): GET http://127.0.0.1:26592/start.xml?call=" + call.callID))

        call.hangUp()
        #expect(try sipp.wait(running: phone.reactor) == 0, "sipp: \(sipp.errors)")
    }
}
