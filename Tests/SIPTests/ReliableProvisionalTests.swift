import Reactor
import Testing

@testable import SIP

/// RFC 3262 (100rel) on the virtual clock: the phone's reliable 180 and its PRACK, both ways.
@Suite("Reliable provisional responses and PRACK (RFC 3262)")
struct ReliableProvisionalTests {
    static let ms: Int64 = 1_000_000

    static func invite(_ extra: [String], callID: String = "rel-1") -> String {
        ([
            "INVITE sip:1001@192.0.2.10:5060 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-rel-inv",
            "Max-Forwards: 70",
            "From: <sip:peer@192.0.2.1>;tag=p1",
            "To: <sip:1001@192.0.2.10>",
            "Call-ID: " + callID,
            "CSeq: 7 INVITE",
            "Contact: <sip:peer@192.0.2.1:5060>",
        ] + extra + ["Content-Length: 0", "", ""]).joined(separator: "\n")
    }

    static func prack(rack: String, toTag: String, cseq: Int, branch: String) -> String {
        [
            "PRACK sip:1001@192.0.2.10:5060 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch,
            "Max-Forwards: 70",
            "From: <sip:peer@192.0.2.1>;tag=p1",
            "To: <sip:1001@192.0.2.10>;tag=" + toTag,
            "Call-ID: rel-1",
            "CSeq: " + String(cseq) + " PRACK",
            "RAck: " + rack,
            "Content-Length: 0", "", "",
        ].joined(separator: "\n")
    }

    static func account(reliable: Bool) -> SIPAccountConfiguration {
        var account = SIPAccountConfiguration(userName: "1001")
        account.reliableProvisional = reliable
        return account
    }

    @Test("a caller that requires 100rel: the 180 has RSeq and Require, goes again until the PRACK, which gets 200")
    func uasRetransmitsUntilPRACK() throws {
        let scripted = try ScriptedPeerUA(account: Self.account(reliable: false))
        defer { scripted.close() }
        try scripted.receive(Self.invite(["Require: 100rel"]))
        let ringing = try #require(scripted.responses.first { $0.status == 180 })
        let rseq = try #require(ringing.header("RSeq").flatMap { UInt32($0) })
        #expect(rseq >= 1 && rseq <= 0x7FFF_FFFF)
        #expect(SIPSessionTimerNegotiation.lists(ringing, "Require", "100rel"))
        // T1 and 2·T1 later it goes again; a wrong RAck is 481 and stops nothing.
        try scripted.reactor.run(for: 1600 * Self.ms)
        #expect(scripted.responses.filter { $0.status == 180 }.count == 3)
        let tag = try #require(ringing.to.tag)
        try scripted.receive(Self.prack(rack: String(rseq &+ 1) + " 7 INVITE", toTag: tag, cseq: 8, branch: "z9hG4bK-p1"))
        #expect(scripted.responses.last?.status == 481)
        try scripted.receive(Self.prack(rack: String(rseq) + " 7 INVITE", toTag: tag, cseq: 9, branch: "z9hG4bK-p2"))
        let answer = try #require(scripted.responses.last)
        #expect(answer.status == 200 && answer.cseq.method == .prack)
        try scripted.reactor.run(for: 10 * SIPTimerValues.second)
        #expect(scripted.responses.filter { $0.status == 180 }.count == 3)
        let call = try #require(scripted.ua.calls.first)
        #expect(call.state == .incoming)
        #expect(call.answer())
    }

    @Test("no PRACK within 64·T1: the call is refused with 500")
    func uasGivesUp() throws {
        let scripted = try ScriptedPeerUA(account: Self.account(reliable: false))
        defer { scripted.close() }
        var ended: SIPCallState? = nil
        scripted.ua.onCallState = { _, state in if state.isEnded { ended = state } }
        try scripted.receive(Self.invite(["Require: 100rel"]))
        try scripted.reactor.run(for: 40 * SIPTimerValues.second)
        // At 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s; at 32 s (64·T1 after the first) the 500.
        #expect(scripted.responses.filter { $0.status == 180 }.count == 7)
        #expect(scripted.responses.contains { $0.status == 500 && $0.cseq.method == .invite })
        #expect(ended == .ended(.failed("no PRACK")))
    }

    @Test("Supported: 100rel gets a reliable 180 only with account.N.100rel_enable; without it a plain one")
    func uasSupportedOnly() throws {
        for reliable in [false, true] {
            let scripted = try ScriptedPeerUA(account: Self.account(reliable: reliable))
            defer { scripted.close() }
            try scripted.receive(Self.invite(["Supported: 100rel, timer"]))
            let ringing = try #require(scripted.responses.first { $0.status == 180 })
            #expect((ringing.header("RSeq") != nil) == reliable)
        }
    }

    @Test("the caller: Supported: 100rel with the key on; each reliable 1xx PRACKed once, in RSeq order")
    func uacSendsPRACK() throws {
        let pair = try UserAgentPair(Self.account(reliable: true), Self.account(reliable: true))
        defer { pair.close() }
        var incoming: SIPCall? = nil
        pair.b.onCallState = { call, state in if state == .incoming { incoming = call } }
        _ = try pair.a.call("sip:1001@192.0.2.20")
        try pair.run(seconds: 2)
        let invite = try #require(pair.requestsByA(.invite).first)
        #expect(SIPSessionTimerNegotiation.lists(invite, "Supported", "100rel"))
        let pracks = pair.requestsByA(.prack)
        #expect(pracks.count == 1)
        let ringing = try #require(pair.responsesByB.first { $0.status == 180 })
        #expect(pracks.first?.header("RAck") == (ringing.header("RSeq") ?? "?") + " " + String(invite.cseq.number) + " INVITE")
        #expect(pracks.first?.to.tag == ringing.to.tag)
        // The PRACK stopped the 180's retransmissions; B answers, the call connects.
        #expect(pair.responsesByB.filter { $0.status == 180 }.count == 1)
        #expect(pair.responsesByB.contains { $0.status == 200 && $0.cseq.method == .prack })
        #expect(try #require(incoming).answer())
        try pair.run(seconds: 1)
        #expect(pair.a.calls.first?.state == .connected)
    }

    @Test("early media: the answer in a reliable 183 (RFC 3262 §5); a 200 without SDP, or with the same, connects on it")
    func earlyAnswer() throws {
        for repeatInSuccess in [false, true] {
            let scripted = try ScriptedPeerUA(account: Self.account(reliable: true))
            defer { scripted.close() }
            var invite: SIPMessage? = nil
            scripted.answer = { request in
                switch request.method {
                case .invite?:
                    invite = request
                    var progress = SIPMessage.response(to: request, status: 183, toTag: "peer")
                    try? progress.addHeader("Contact", "<sip:peer@192.0.2.1:5060>")
                    try? progress.addHeader("Require", "100rel")
                    try? progress.addHeader("RSeq", "7")
                    progress.body = CallInDialogRequestTests.answerSDP
                    progress.contentType = "application/sdp"
                    return progress
                case .prack?:
                    return SIPMessage.response(to: request, status: 200, toTag: "peer")
                default:
                    return nil
                }
            }
            var negotiations = 0
            scripted.ua.onMediaNegotiated = { _, _ in negotiations += 1 }
            let call = try scripted.ua.call("sip:peer@192.0.2.1")
            try scripted.reactor.run(for: 100 * 1_000_000)
            #expect(negotiations == 1 && call.state == .ringing(early: true))
            #expect(scripted.requests.contains { $0.message.method == .prack })
            var ok = SIPMessage.response(to: try #require(invite), status: 200, toTag: "peer")
            try ok.addHeader("Contact", "<sip:peer@192.0.2.1:5060>")
            if repeatInSuccess {
                ok.body = CallInDialogRequestTests.answerSDP
                ok.contentType = "application/sdp"
            }
            scripted.ua.transactions.receive(ok, from: scripted.peer)
            try scripted.reactor.run(for: 100 * 1_000_000)
            #expect(call.state == .connected, "SDP again in the 200: \(repeatInSuccess)")
            #expect(negotiations == 1, "SDP again in the 200: \(repeatInSuccess)")
            #expect(scripted.requests.contains { $0.message.method == .ack })
            #expect(scripted.requests.allSatisfy { $0.message.method != .bye })
        }
    }

    @Test("RAck parsing: three parts, numbers first")
    func rackParsing() {
        #expect(SIPCall.rack("776656 1 INVITE")! == (776656, 1, "INVITE"))
        #expect(SIPCall.rack("1  2\tINVITE")! == (1, 2, "INVITE"))
        #expect(SIPCall.rack("x 1 INVITE") == nil)
        #expect(SIPCall.rack("1 1") == nil)
        #expect(SIPCall.rack(nil) == nil)
    }
}
