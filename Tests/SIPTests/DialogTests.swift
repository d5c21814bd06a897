import Reactor
import Testing

@testable import SIP

/// Dialog rules on the virtual clock with a scripted peer (RFC 3261 §12.2.2, §13.3.1.4, §14).
@Suite("SIP dialogs: CSeq order, 2xx retransmission, unknown requests")
struct DialogTests {
    static let offer = """
        v=0
        o=peer 1 1 IN IP4 192.0.2.1
        s=-
        c=IN IP4 192.0.2.1
        t=0 0
        m=audio 30000 RTP/AVP 0
        a=rtpmap:0 PCMU/8000

        """

    static func request(
        _ method: String, cseq: Int, toTag: String? = nil, body: String = "", branch: String
    ) -> String {
        let to = "<sip:1001@192.0.2.10>" + (toTag.map { ";tag=" + $0 } ?? "")
        var lines = [
            "\(method) sip:1001@192.0.2.10:5060 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK\(branch)",
            "From: <sip:peer@192.0.2.1>;tag=peer1",
            "To: \(to)",
            "Call-ID: dialog-test-1",
            "CSeq: \(cseq) \(method)",
            "Contact: <sip:peer@192.0.2.1:5060>",
            "Max-Forwards: 70",
        ]
        if !body.isEmpty { lines.append("Content-Type: application/sdp") }
        let text = lines.joined(separator: "\n") + "\n\n" + body
        return text
    }

    /// An answered incoming call; returns the UA and the call.
    static func connected() throws -> (ScriptedPeerUA, SIPCall) {
        let scripted = try ScriptedPeerUA(account: SIPAccountConfiguration(userName: "1001"))
        var incoming: SIPCall? = nil
        scripted.ua.onCallState = { call, state in if state == .incoming { incoming = call } }
        try scripted.receive(request("INVITE", cseq: 10, body: offer, branch: "inv1"))
        let call = try #require(incoming)
        #expect(call.answer())
        try scripted.reactor.runUntilIdle()
        return (scripted, call)
    }

    @Test("the 2xx is retransmitted until the ACK, then no more")
    func successRetransmission() throws {
        let (scripted, call) = try Self.connected()
        defer { scripted.close() }
        let localTag = try #require(call.dialog?.localTag)
        try scripted.reactor.run(for: 1_600_000_000)
        let okCount = scripted.responses.filter { $0.status == 200 }.count
        #expect(okCount == 3)  // at 0, T1 (0.5 s), 1.5 s
        try scripted.receive(Self.request("ACK", cseq: 10, toTag: localTag, branch: "ack1"))
        try scripted.reactor.run(for: 10 * SIPTimerValues.second)
        #expect(scripted.responses.filter { $0.status == 200 }.count == okCount)
        #expect(call.state == .connected)
    }

    @Test("no ACK within 64·T1: BYE and the call ends")
    func missingACK() throws {
        let (scripted, call) = try Self.connected()
        defer { scripted.close() }
        try scripted.reactor.run(for: 40 * SIPTimerValues.second)
        #expect(call.state == .ended(.timeout))
        #expect(scripted.requests.contains { $0.message.method == .bye })
    }

    @Test("a lower CSeq gets 500, an unknown method 405 with Allow, a BYE 200")
    func inDialogRequests() throws {
        let (scripted, call) = try Self.connected()
        defer { scripted.close() }
        let tag = try #require(call.dialog?.localTag)
        try scripted.receive(Self.request("ACK", cseq: 10, toTag: tag, branch: "ack1"))
        try scripted.receive(Self.request("INFO", cseq: 12, toTag: tag, branch: "info1"))
        #expect(scripted.responses.last?.status == 200)
        try scripted.receive(Self.request("INFO", cseq: 11, toTag: tag, branch: "info2"))
        #expect(scripted.responses.last?.status == 500)
        try scripted.receive(Self.request("SUBSCRIBE", cseq: 13, toTag: tag, branch: "sub1"))
        #expect(scripted.responses.last?.status == 405)
        #expect(scripted.responses.last?.headers("Allow").contains("INFO") == true)
        try scripted.receive(Self.request("BYE", cseq: 14, toTag: "other", branch: "bye0"))
        #expect(scripted.responses.last?.status == 481)
        #expect(call.state == .connected)
        try scripted.receive(Self.request("BYE", cseq: 14, toTag: tag, branch: "bye1"))
        #expect(scripted.responses.last?.status == 200)
        #expect(call.state == .ended(.remoteHangUp))
    }

    @Test("OPTIONS outside a dialog: 200 with Allow (PRACK and UPDATE too), Accept and Supported: 100rel")
    func options() throws {
        let scripted = try ScriptedPeerUA(account: SIPAccountConfiguration(userName: "1001"))
        defer { scripted.close() }
        try scripted.receive(Self.request("OPTIONS", cseq: 1, branch: "opt1"))
        let ok = try #require(scripted.responses.last)
        #expect(ok.status == 200)
        #expect(ok.headers("Allow") == ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "PRACK", "UPDATE", "REFER", "NOTIFY"])
        #expect(ok.header("Accept") == "application/sdp")
        #expect(ok.headers("Supported") == ["100rel"])
    }

    @Test("an INVITE without SDP: we offer in the 200, the answer comes in the ACK")
    func offerInSuccess() throws {
        let scripted = try ScriptedPeerUA(account: SIPAccountConfiguration(userName: "1001"))
        defer { scripted.close() }
        var incoming: SIPCall? = nil
        var negotiated: [SDPNegotiatedAudio] = []
        scripted.ua.onCallState = { call, state in if state == .incoming { incoming = call } }
        scripted.ua.onMediaNegotiated = { _, audio in negotiated.append(audio) }
        try scripted.receive(Self.request("INVITE", cseq: 1, branch: "inv2"))
        let call = try #require(incoming)
        #expect(call.answer())
        let ok = try #require(scripted.responses.last)
        #expect(ok.status == 200 && ok.contentType == "application/sdp")
        #expect(negotiated.isEmpty)
        let tag = try #require(call.dialog?.localTag)
        try scripted.receive(Self.request("ACK", cseq: 1, toTag: tag, body: Self.offer, branch: "ack2"))
        #expect(negotiated.count == 1)
        #expect(negotiated.first?.remotePort == 30000)
        #expect(call.state == .connected)
    }
}
