import Config
import Reactor
import Testing

@testable import SIP

/// RFC 3842 message waiting: the `simple-message-summary` parser (good, odd, malformed, huge
/// and absurd bodies), the account's keys, and the SUBSCRIBE / NOTIFY exchange of one user agent
/// on the virtual clock against a scripted server at 192.0.2.1:5060.
@Suite("MWI: message-summary parser, settings, SUBSCRIBE and NOTIFY")
struct MessageSummaryTests {
    static func parse(_ text: String) throws(SIPError) -> SIPMessageSummary {
        try SIPMessageSummary.parse(Array(text.utf8))
    }

    @Test("RFC 3842 §5.2's example: waiting, account, voice counts with urgent ones")
    func rfcExample() throws {
        let s = try Self.parse(
            "Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 4/8 (1/2)\r\n")
        #expect(s.waiting)
        #expect(s.account == "sip:alice@vmail.example.com")
        #expect(s.counts("voice-message") == SIPMessageCounts(new: 4, old: 8, urgentNew: 1, urgentOld: 2))
        #expect(s.newVoiceMessages == 4)
        #expect(s.description == "yes for sip:alice@vmail.example.com, voice-message 4/8 (1/2)")
        // The written form parses back to the same summary.
        #expect(try Self.parse(s.body) == s)
    }

    @Test("case-insensitive names and yes/no, LF lines, spaces, other classes, unknown headers skipped")
    func lenient() throws {
        let s = try Self.parse(
            "\nmessages-waiting:   NO \nFAX-MESSAGE: 0 / 3\nX-Vendor: whatever\nvoice-message:2/0\nUnknown-Message: 9/9\n"
        )
        #expect(!s.waiting)
        #expect(s.counts("fax-message") == SIPMessageCounts(new: 0, old: 3))
        #expect(s.counts("voice-message") == SIPMessageCounts(new: 2, old: 0))
        #expect(s.classes.count == 2)
        #expect(s.account == nil)
        // Waiting without counts: no count known.
        let bare = try Self.parse("Messages-Waiting: yes\r\n")
        #expect(bare.waiting && bare.newVoiceMessages == nil)
        // The optional message headers after an empty line are not read.
        let withHeaders = try Self.parse(
            "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n\r\nTo: <sip:alice@example.com>\r\nSubject: hi\r\n")
        #expect(withHeaders.newVoiceMessages == 1)
    }

    @Test("huge and absurd counts clamp at the maximum; a repeated class takes the last line")
    func absurdCounts() throws {
        let s = try Self.parse(
            "Messages-Waiting: yes\nVoice-Message: 99999999999999999999999999999999/18446744073709551617 (7/0)\n")
        let voice = try #require(s.counts("voice-message"))
        #expect(voice.new == SIPMessageSummary.maximumCount)
        #expect(voice.old == SIPMessageSummary.maximumCount)
        #expect(voice.urgentNew == 7)
        let twice = try Self.parse("Messages-Waiting: yes\nVoice-Message: 1/1\nVoice-Message: 3/0\n")
        #expect(twice.newVoiceMessages == 3 && twice.classes.count == 1)
    }

    @Test(
        "malformed bodies are errors (400), never a trap",
        arguments: [
            "",
            "\r\n\r\n",
            "Voice-Message: 1/0\r\n",
            "Messages-Waiting: maybe\r\n",
            "Messages-Waiting yes\r\n",
            ": yes\r\n",
            "Messages-Waiting: yes\r\nVoice-Message: -1/0\r\n",
            "Messages-Waiting: yes\r\nVoice-Message: 1\r\n",
            "Messages-Waiting: yes\r\nVoice-Message: 1/2 (3/4\r\n",
            "Messages-Waiting: yes\r\nVoice-Message: 1/2 (3/4) 5\r\n",
            "Messages-Waiting: yes\r\nVoice-Message: a/b\r\n",
            "Messages-Waiting: yes\r\nMessage-Account:\r\n",
            "\u{0}\u{1}\u{ff}garbage",
        ])
    func malformed(_ text: String) {
        #expect(throws: SIPError.self) { try Self.parse(text) }
        do {
            _ = try Self.parse(text)
        } catch {
            #expect(error.status == 400)
            #expect(error.message.contains("message-summary"))
        }
    }

    @Test("bodies over the bounds are refused: too many bytes, too many lines")
    func bounds() throws {
        let long =
            "Messages-Waiting: yes\r\nX: " + String(repeating: "a", count: SIPMessageSummary.maximumBodySize) + "\r\n"
        #expect(throws: SIPError.self) { try Self.parse(long) }
        let many = "Messages-Waiting: yes\n" + String(repeating: "X-Pad: 1\n", count: SIPMessageSummary.maximumLines)
        #expect(throws: SIPError.self) { try Self.parse(many) }
        // The fuzz entry takes anything; an account of invalid UTF-8 (the fuzzer's find: 100 bytes
        // that decode to 300) is measured as decoded, so its written form parses again.
        let invalid = Array("Messages-Waiting: yes\r\nMessage-Account: ".utf8) + [UInt8](repeating: 0xFF, count: 100)
        #expect(throws: SIPError.self) { try SIPMessageSummary.parse(invalid) }
        let short = Array("Messages-Waiting: yes\r\nMessage-Account: ".utf8) + [UInt8](repeating: 0xFF, count: 50)
        #expect(try SIPMessageSummary.parse(short).account?.utf8.count == 150)
        let good = Array("Messages-Waiting: yes\nVoice-Message: 3/4 (1/0)\n".utf8)
        for bytes in [Array(long.utf8), Array(many.utf8), good, invalid, short] {
            bytes.withUnsafeBytes { messageSummaryFuzzEntry($0) }
        }
    }

    @Test("account.N.subscribe_mwi*, display_mwi.enable and voice_mail.number.N")
    func settings() throws {
        let file = try ConfigFile(
            text: """
                #!version:1.0.0.1
                account.2.subscribe_mwi = 1
                account.2.subscribe_mwi_expires = 600
                account.2.subscribe_mwi_to_vm = 1
                account.2.display_mwi.enable = 0
                voice_mail.number.2 = *97
                """, path: "mwi.cfg")
        let two = try SIPMWISettings(file, account: 2)
        #expect(two.subscribe && two.toVoicemail && !two.display)
        #expect(two.expires == 600)
        #expect(two.voicemailNumber == "*97")
        let one = try SIPMWISettings(file, account: 1)
        #expect(!one.subscribe && one.display && one.expires == 3600 && one.voicemailNumber == nil)
        let bad = try ConfigFile(text: "#!version:1.0.0.1\nvoice_mail.number.1 = 12;drop\n", path: "bad.cfg")
        #expect(throws: ConfigError.self) { try SIPMWISettings(bad, account: 1) }
        let noNumber = try ConfigFile(
            text: "#!version:1.0.0.1\naccount.1.subscribe_mwi = 1\naccount.1.subscribe_mwi_to_vm = 1\n", path: "x.cfg")
        #expect(throws: ConfigError.self) { try SIPMWISettings(noNumber, account: 1) }
    }

    // MARK: the user agent

    static func account(subscribe: Bool = true, display: Bool = true) -> SIPAccountConfiguration {
        var account = SIPAccountConfiguration(userName: "1001", serverAddress: "192.0.2.1")
        account.mwi.subscribe = subscribe
        account.mwi.display = display
        account.mwi.expires = 600
        return account
    }

    static func notify(
        _ n: Int, body: String, toTag: String? = nil, callID: String? = nil, event: String = "message-summary",
        state: String? = nil, type: String = "application/simple-message-summary"
    ) -> String {
        var text = """
            NOTIFY sip:1001@192.0.2.10:5060 SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-mwi-\(n)
            Max-Forwards: 70
            From: <sip:1001@192.0.2.1>;tag=vm\(n)
            To: <sip:1001@192.0.2.1>\(toTag.map { ";tag=" + $0 } ?? "")
            Call-ID: \(callID ?? "mwi-\(n)@192.0.2.1")
            CSeq: \(n) NOTIFY
            Event: \(event)

            """
        if let state { text += "Subscription-State: " + state + "\n" }
        if !body.isEmpty { text += "Content-Type: " + type + "\n" }
        text += "Content-Length: \(body.utf8.count + body.filter { $0 == "\n" }.count)\n\n" + body
        return text
    }

    final class Harness {
        let scripted: ScriptedPeerUA
        var summaries: [SIPMessageSummary] = []
        /// Status for each SUBSCRIBE (nil: 200 with Expires as asked, To tag `srv`).
        var subscribeStatus: [Int?] = []
        init(account: SIPAccountConfiguration) throws {
            scripted = try ScriptedPeerUA(account: account)
            scripted.answer = { [unowned self] request in
                switch request.method {
                case .register:
                    var ok = SIPMessage.response(to: request, status: 200, toTag: "reg")
                    try? ok.addHeader("Expires", "3600")
                    return ok
                case .subscribe:
                    let status = subscribeStatus.isEmpty ? nil : subscribeStatus.removeFirst()
                    var answer = SIPMessage.response(to: request, status: status ?? 200, toTag: request.to.tag ?? "srv")
                    if status == nil { try? answer.addHeader("Expires", request.header("Expires") ?? "600") }
                    return answer
                default: return nil
                }
            }
            scripted.ua.onMessageSummary = { [unowned self] summary in summaries.append(summary) }
        }
        var subscribes: [(time: Int64, message: SIPMessage)] {
            scripted.requests.filter { $0.message.method == .subscribe }
        }
        /// The UA's answer to the NOTIFY `text`.
        func send(_ text: String) throws -> Int? {
            try scripted.receive(text)
            let callID = try SIPMessage.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)).callID
            return scripted.responses.last { $0.callID == callID }?.status
        }
    }

    @Test("SUBSCRIBE with Event/Accept/Expires, refreshed in the dialog before expiry, NOTIFY in it taken")
    func subscription() throws {
        let h = try Harness(account: Self.account())
        defer { h.scripted.close() }
        h.scripted.ua.start()
        try h.scripted.reactor.runUntilIdle()
        let first = try #require(h.subscribes.first?.message)
        #expect(first.requestURI?.description == "sip:1001@192.0.2.1")
        #expect(first.header("Event") == "message-summary")
        #expect(first.header("Accept") == "application/simple-message-summary")
        #expect(first.header("Expires") == "600")
        #expect(first.to.tag == nil)
        #expect(h.scripted.ua.mwiSubscription?.state == .active(expires: 600))
        // The notifier's NOTIFY in the dialog.
        let body = "Messages-Waiting: yes\nVoice-Message: 2/5\n"
        #expect(
            try h.send(
                Self.notify(1, body: body, toTag: first.from.tag, callID: first.callID, state: "active;expires=600"))
                == 200)
        #expect(h.summaries.last?.newVoiceMessages == 2)
        // Refresh at 600 - 32 s, in the dialog (its To tag), same Call-ID.
        try h.scripted.reactor.run(for: 570 * 1_000_000_000)
        #expect(h.subscribes.count == 2)
        let refresh = try #require(h.subscribes.last)
        #expect(refresh.time == 568 * 1_000_000_000)
        #expect(refresh.message.callID == first.callID)
        #expect(refresh.message.to.tag == "srv")
        // Shutdown un-subscribes (Expires: 0).
        h.scripted.ua.mwiSubscription?.unsubscribe()
        try h.scripted.reactor.runUntilIdle()
        #expect(h.subscribes.last?.message.header("Expires") == "0")
    }

    @Test("a refused SUBSCRIBE is retried with backoff (30 s, 60 s); terminated;reason=deactivated subscribes again")
    func backoff() throws {
        let h = try Harness(account: Self.account())
        defer { h.scripted.close() }
        h.subscribeStatus = [503, 500, nil]
        h.scripted.ua.start()
        try h.scripted.reactor.run(for: 1_000_000_000)
        #expect(h.subscribes.count == 1)
        #expect(h.scripted.ua.mwiSubscription?.state == .failed(reason: "503 Service Unavailable", retrying: true))
        try h.scripted.reactor.run(for: 30 * 1_000_000_000)
        #expect(h.subscribes.count == 2)
        #expect(h.subscribes[1].time == 30 * 1_000_000_000)
        try h.scripted.reactor.run(for: 60 * 1_000_000_000)
        #expect(h.subscribes.count == 3)
        #expect(h.subscribes[2].time == 90 * 1_000_000_000)
        #expect(h.scripted.ua.mwiSubscription?.state == .active(expires: 600))
        let dialog = h.subscribes[2].message
        #expect(
            try h.send(
                Self.notify(
                    2, body: "", toTag: dialog.from.tag, callID: dialog.callID, state: "terminated;reason=deactivated"))
                == 200)
        try h.scripted.reactor.run(for: 1_000_000_000)
        #expect(h.subscribes.count == 4)
        #expect(h.subscribes[3].message.to.tag == nil)
        // terminated;reason=rejected: no new subscription.
        let again = h.subscribes[3].message
        #expect(
            try h.send(
                Self.notify(
                    3, body: "", toTag: again.from.tag, callID: again.callID, state: "terminated;reason=rejected"))
                == 200)
        try h.scripted.reactor.run(for: 3600 * 1_000_000_000)
        #expect(h.subscribes.count == 4)
    }

    @Test("unsolicited NOTIFYs: good ones 200 and reported; malformed 400 with state kept; unknown events 489")
    func unsolicited() throws {
        let h = try Harness(account: Self.account(subscribe: false))
        defer { h.scripted.close() }
        #expect(try h.send(Self.notify(1, body: "Messages-Waiting: yes\nVoice-Message: 3/0 (1/0)\n")) == 200)
        #expect(h.summaries.count == 1 && h.summaries[0].newVoiceMessages == 3)
        #expect(try h.send(Self.notify(2, body: "Messages-Waiting: perhaps\n")) == 400)
        #expect(try h.send(Self.notify(3, body: "Messages-Waiting: yes\nVoice-Message: x/y\n")) == 400)
        #expect(h.summaries.count == 1)
        #expect(try h.send(Self.notify(4, body: "<xml/>", type: "application/xml")) == 415)
        #expect(try h.send(Self.notify(5, body: "", event: "presence")) == 489)
        #expect(try h.send(Self.notify(6, body: "", event: "")) == 489)
        // A NOTIFY in a dialog the phone does not have: 481.
        #expect(try h.send(Self.notify(7, body: "Messages-Waiting: no\n", toTag: "nope")) == 481)
        #expect(try h.send(Self.notify(8, body: "Messages-Waiting: no\n")) == 200)
        #expect(h.summaries.count == 2 && !h.summaries[1].waiting)
        #expect(h.subscribes.isEmpty)
    }

    @Test("display_mwi.enable = 0: message-summary NOTIFYs are refused with 489, no SUBSCRIBE")
    func disabled() throws {
        let h = try Harness(account: Self.account(subscribe: true, display: false))
        defer { h.scripted.close() }
        h.scripted.ua.start()
        try h.scripted.reactor.run(for: 1_000_000_000)
        #expect(try h.send(Self.notify(1, body: "Messages-Waiting: yes\n")) == 489)
        #expect(h.summaries.isEmpty)
        #expect(h.subscribes.isEmpty)
    }
}
