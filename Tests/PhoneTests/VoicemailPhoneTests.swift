import CLinux
import Indicators
import Keys
import Testing

@testable import Phone
@testable import SIP

extension FarEnd {
    /// Sends `text` (LF lines, written as CRLF) to the phone's SIP port as is.
    func sendRaw(_ text: String) {
        let bytes = Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let address: [UInt8] = [127, 0, 0, 1]
        _ = bytes.withUnsafeBytes { b in
            address.withUnsafeBufferPointer { a in
                cl_socket_send_to(fd, b.baseAddress, b.count, 4, a.baseAddress, phonePort)
            }
        }
    }

    /// A message-summary NOTIFY with `body`: in the dialog of `subscribe` (the phone's
    /// SUBSCRIBE), else unsolicited.
    func notifyMessages(_ n: Int, body: String, in subscribe: SIPMessage? = nil) {
        let crlfBody = body.replacingOccurrences(of: "\n", with: "\r\n")
        var lines = [
            "NOTIFY sip:1001@127.0.0.1:\(phonePort) SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:\(port);branch=z9hG4bK-vm-\(n)",
            "Max-Forwards: 70",
            "From: <sip:1001@127.0.0.1>;tag=" + (subscribe == nil ? "vm\(n)" : "mwi"),
            "To: <sip:1001@127.0.0.1>" + (subscribe?.from.tag.map { ";tag=" + $0 } ?? ""),
            "Call-ID: " + (subscribe?.callID ?? "vm-\(n)@127.0.0.1"),
            "CSeq: \(n) NOTIFY",
            "Event: message-summary",
            "Contact: <sip:vm@127.0.0.1:\(port)>",
        ]
        if subscribe != nil { lines.append("Subscription-State: active;expires=3600") }
        lines.append("Content-Type: application/simple-message-summary")
        lines.append("Content-Length: \(crlfBody.utf8.count)")
        sendRaw(lines.joined(separator: "\n") + "\n\n" + body)
    }
}

/// Message waiting on the whole phone (issue 19 item 4) on the virtual clock: the phone
/// subscribes, the far end's NOTIFYs light the message LED and put the count on the idle
/// screen, the Message key calls the voicemail number, a malformed NOTIFY changes nothing.
@Suite("MWI on the whole phone: SUBSCRIBE, NOTIFY, message LED, LCD count, Message key")
struct VoicemailPhoneTests {
    static let flashing = LEDState(.slowFlash, .red)

    @Test("NOTIFY yes -> LED slow flash and '2 new voicemails'; malformed kept; Message key dials; NOTIFY no -> off")
    func scenario() throws {
        let phone = try WholePhone(
            config: """
                account.1.enable = 1
                account.1.sip_server.1.address = 127.0.0.1
                account.1.sip_server.1.port = FAREND_PORT
                account.1.subscribe_mwi = 1
                account.1.subscribe_mwi_expires = 300
                voice_mail.number.1 = 2001
                """, registrar: true)
        defer { phone.close() }
        try phone.run(seconds: 1)
        let subscribe = try #require(phone.farEnd.subscribes.first)
        #expect(subscribe.header("Event") == "message-summary")
        #expect(subscribe.header("Accept") == "application/simple-message-summary")
        #expect(subscribe.header("Expires") == "300")
        #expect(phone.led(.message) == .off)
        #expect(phone.lcd.title == "Ready")

        phone.farEnd.notifyMessages(1, body: "Messages-Waiting: yes\nVoice-Message: 2/8 (0/0)\n", in: subscribe)
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.notifyAnswers == [200])
        #expect(phone.led(.message) == Self.flashing)
        #expect(phone.lcd.lines.contains("2 new voicemails"))
        #expect(phone.log.contains { $0.contains("mwi: message-summary yes, voice-message 2/8 (0/0)") })

        // A malformed body: 400, a log line, the LED and the count as they were.
        phone.farEnd.notifyMessages(2, body: "Messages-Waiting: yes\nVoice-Message: lots/none\n", in: subscribe)
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.notifyAnswers == [200, 400])
        #expect(
            phone.log.contains { $0.contains("refused (400)") && $0.contains("malformed counts for voice-message") })
        #expect(phone.led(.message) == Self.flashing)
        #expect(phone.lcd.lines.contains("2 new voicemails"))

        // The subscription is refreshed before it expires (300 - 32 s), in its dialog.
        try phone.run(seconds: 270)
        #expect(phone.farEnd.subscribes.count == 2)
        #expect(phone.farEnd.subscribes.last?.callID == subscribe.callID)
        #expect(phone.farEnd.subscribes.last?.to.tag == "mwi")

        // The Message key calls the voicemail number (dial plan: the far end, which answers).
        phone.press(.message)
        try phone.run(seconds: 1)
        #expect(phone.lcd.title == "Talking")
        #expect(phone.farEnd.calls.count == 1)
        #expect(phone.led(.message) == Self.flashing, "the LED keeps flashing during the call")
        phone.farEnd.hangUp()
        try phone.run(seconds: 1)
        #expect(phone.lcd.title == "Ready")

        // The messages were heard: an unsolicited NOTIFY (many servers send one) says no.
        phone.farEnd.notifyMessages(3, body: "Messages-Waiting: no\nVoice-Message: 0/10\n")
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.notifyAnswers == [200, 400, 200])
        #expect(phone.led(.message) == .off)
        #expect(!phone.lcd.lines.contains { $0.contains("voicemail") })
    }

    @Test("no voicemail number: the Message key says so; a NOTIFY without counts shows 'New voicemail'")
    func noNumber() throws {
        let phone = try WholePhone(config: "")
        defer { phone.close() }
        phone.press(.message)
        try phone.run(seconds: 0.1)
        #expect(phone.lcd.lines.contains("No voicemail number"))
        #expect(phone.farEnd.calls.isEmpty)
        phone.farEnd.notifyMessages(1, body: "Messages-Waiting: yes\n")
        try phone.run(seconds: 0.2)
        #expect(phone.farEnd.notifyAnswers == [200])
        #expect(phone.led(.message) == Self.flashing)
        #expect(phone.lcd.lines.contains("New voicemail"))
        #expect(phone.farEnd.subscribes.isEmpty)
    }

    @Test("the idle line and LED from several accounts' mailboxes; whom the Message key calls")
    func screenValues() {
        let boxes = [
            PhoneVoicemailView(account: 1, number: "*97", waiting: true, newMessages: 0),
            PhoneVoicemailView(account: 2, number: "*98", waiting: true, newMessages: 1),
            PhoneVoicemailView(account: 3, waiting: true, newMessages: 99_999),
        ]
        #expect(PhoneVoicemailView.line(boxes) == "99999 new voicemails")
        #expect(PhoneVoicemailView.line(Array(boxes.prefix(2))) == "1 new voicemail")
        #expect(PhoneVoicemailView.line(Array(boxes.prefix(1))) == nil)
        #expect(PhoneVoicemailView.led(Array(boxes.prefix(1))) == .off)
        #expect(PhoneVoicemailView.led(boxes) == Self.flashing)
        let first = PhoneVoicemailView.toDial(boxes)
        #expect(first?.account == 2 && first?.number == "*98")
        let own = PhoneVoicemailView.toDial(Array(boxes.prefix(1)))
        #expect(own?.account == 1 && own?.number == "*97")
        #expect(PhoneVoicemailView.toDial([PhoneVoicemailView(account: 3)]) == nil)
    }
}
