import Reactor
import Testing

@testable import SIP

/// Call transfer (RFC 3515 REFER, RFC 3892 Referred-By) in both roles against a scripted peer on
/// the virtual clock, and the sipfrag and Refer-To checks.
@Suite("SIP calls: transfer (REFER, NOTIFY sipfrag)")
struct TransferTests {
    // MARK: values

    @Test("sipfrag status lines: good ones parse, junk does not")
    func sipfrag() {
        #expect(SIPFragStatus.parse(Array("SIP/2.0 100 Trying\r\n".utf8)) == SIPFragStatus(code: 100, reason: "Trying"))
        #expect(SIPFragStatus.parse(Array("SIP/2.0 200 OK".utf8)) == SIPFragStatus(code: 200, reason: "OK"))
        #expect(
            SIPFragStatus.parse(Array("SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n".utf8))
                == SIPFragStatus(code: 486, reason: "Busy Here"))
        #expect(SIPFragStatus.parse(Array("SIP/2.0 180".utf8)) == SIPFragStatus(code: 180, reason: ""))
        for junk in [
            "", "hello", "SIP/2.0", "SIP/2.0 99 Low", "SIP/2.0 700 High", "SIP/2.0 2x0 OK", "SIP/1.0 200 OK",
            "sip/2.0 200 OK", "SIP/2.0 2000 OK", "INVITE sip:a@b SIP/2.0", "SIP/2.0 200 O\u{01}K",
            "SIP/2.0 200 " + String(repeating: "x", count: 600),
        ] {
            #expect(SIPFragStatus.parse(Array(junk.utf8)) == nil, "\(junk.prefix(40))")
        }
        #expect(SIPFragStatus.body(code: 503, reason: "Service Unavailable") == Array("SIP/2.0 503 Service Unavailable\r\n".utf8))
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bytes = Array("SIP/2.0 ".utf8)
            for _ in 0..<Int.random(in: 0..<24, using: &random) { bytes.append(UInt8.random(in: 0...255, using: &random)) }
            bytes.withUnsafeBytes { sipfragFuzzEntry($0) }
        }
    }

    static func refer(_ headers: [(String, String)]) throws -> SIPMessage {
        let party = SIPNameAddress(uri: try SIPURI(parsing: "sip:1001@192.0.2.10"))
        var request = SIPMessage.request(
            method: .refer, uri: party.uri, from: party, to: party, callID: "c1", cseq: 1,
            via: SIPVia(transport: "UDP", host: .ipv4("192.0.2.1"), branch: "z9hG4bKt"))
        for (name, value) in headers { try request.addHeader(name, value) }
        return request
    }

    @Test("Refer-To: one SIP URI passes (Replaces kept for the INVITE); none, tel:, http: and junk are refused")
    func referTo() throws {
        let good = try SIPReferral.check(
            Self.refer([
                ("Refer-To", "<sip:carol@192.0.2.2:5070?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>"),
                ("Referred-By", "<sip:bob@192.0.2.1>"),
            ]))
        #expect(good.target.description == "sip:carol@192.0.2.2:5070")
        #expect(good.inviteHeaders == [SIPParameter(name: "Replaces", value: "abc@h;to-tag=1;from-tag=2")])
        #expect(good.referredBy == "<sip:bob@192.0.2.1>")
        let compact = try SIPReferral.check(Self.refer([("r", "sip:dave@example.com")]))
        #expect(compact.target.description == "sip:dave@example.com")
        #expect(compact.referredBy == nil)
        for (headers, why) in [
            ([], "no Refer-To"),
            ([("Refer-To", "<tel:+15551234>")], "not a SIP URI"),
            ([("Refer-To", "<http://example.com/>")], "Refer-To"),
            ([("Refer-To", "<<<junk")], "Refer-To"),
        ] as [([(String, String)], String)] {
            let request = try Self.refer(headers)
            do throws(SIPError) {
                _ = try SIPReferral.check(request)
                Issue.record("accepted \(headers)")
            } catch {
                #expect(error.status == 400)
                #expect(error.description.contains(why), "\(error.description)")
            }
        }
        // Several Refer-To: the message itself does not parse (a single-value header twice).
        let text = "REFER sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@h>;tag=1\r\n"
            + "To: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REFER\r\nRefer-To: <sip:c@d>\r\nRefer-To: <sip:e@f>\r\n"
            + "Content-Length: 0\r\n\r\n"
        #expect(throws: SIPError.self) { _ = try SIPMessage.parse(Array(text.utf8)) }
        #expect(SIPReferral.referTo(try SIPURI(parsing: "sip:carol@h"), replaces: "id@h;to-tag=a;from-tag=b")
            == "<sip:carol@h?Replaces=id%40h%3Bto-tag%3Da%3Bfrom-tag%3Db>")
    }

    // MARK: scripted calls

    static let answerSDP = CallInDialogRequestTests.answerSDP

    /// A UA with a connected call to bob (192.0.2.1); carol (`carolStatus`) answers the transfer's INVITE.
    static func connected(carolStatus: Int = 200) throws -> (ScriptedPeerUA, SIPCall) {
        let scripted = try ScriptedPeerUA(account: SIPAccountConfiguration(userName: "1001", password: "secret"))
        scripted.answer = { request in
            switch request.method {
            case .invite?:
                let carol = request.requestURI?.user == "carol"
                let status = carol ? carolStatus : 200
                var response = SIPMessage.response(to: request, status: status, toTag: carol ? "carol" : "peer")
                if status == 200 {
                    try? response.addHeader("Contact", carol ? "<sip:carol@192.0.2.2>" : "<sip:peer@192.0.2.1:5060>")
                    response.body = answerSDP
                    response.contentType = "application/sdp"
                }
                return response
            case .bye?, .notify?, .refer?:
                return SIPMessage.response(to: request, status: request.method == .refer ? 202 : 200)
            default:
                return nil
            }
        }
        let call = try scripted.connectedCall()
        return (scripted, call)
    }

    /// A request from bob in `call`'s dialog.
    static func fromPeer(
        _ method: String, _ call: SIPCall, cseq: Int, headers: [String], body: String = ""
    ) -> String {
        let local = call.dialog?.localTag ?? ""
        var text = method + " sip:1001@192.0.2.10:5060 SIP/2.0\n"
            + "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK" + method + String(cseq) + "\n"
            + "From: <sip:peer@192.0.2.1>;tag=peer\nTo: <sip:1001@192.0.2.10>;tag=" + local + "\n"
            + "Call-ID: " + call.callID + "\nCSeq: " + String(cseq) + " " + method + "\n"
            + "Contact: <sip:peer@192.0.2.1:5060>\nMax-Forwards: 70\n"
        for header in headers { text += header + "\n" }
        text += "Content-Length: " + String(body.utf8.count + body.filter { $0 == "\n" }.count) + "\n\n" + body
        return text
    }

    func notifies(_ scripted: ScriptedPeerUA) -> [String] {
        scripted.requests.map { $0.message }.filter { $0.method == .notify }.map {
            String(decoding: $0.body, as: UTF8.self) + "|" + ($0.header("Subscription-State") ?? "")
        }
    }

    @Test("transferee: REFER -> 202, NOTIFY 100, INVITE to the target with Referred-By, NOTIFY 200, BYE")
    func transferee() throws {
        let (scripted, call) = try Self.connected()
        defer { scripted.close() }
        try scripted.receive(
            Self.fromPeer(
                "REFER", call, cseq: 5,
                headers: ["Refer-To: <sip:carol@192.0.2.2>", "Referred-By: <sip:peer@192.0.2.1>"]))
        try scripted.reactor.run(for: SIPTimerValues.second)
        #expect(scripted.responses.contains { $0.status == 202 && $0.cseq.method == .refer })
        let invites = scripted.requests.map { $0.message }.filter { $0.method == .invite && $0.cseq.number > 0 }
        let carol = invites.first { $0.requestURI?.user == "carol" }
        #expect(carol?.header("Referred-By") == "<sip:peer@192.0.2.1>")
        #expect(notifies(scripted) == [
            "SIP/2.0 100 Trying\r\n|active;expires=60", "SIP/2.0 200 OK\r\n|terminated;reason=noresource",
        ])
        let notify = scripted.requests.map { $0.message }.first { $0.method == .notify }
        #expect(notify?.header("Event") == "refer")
        #expect(notify?.contentType == "message/sipfrag;version=2.0")
        #expect(scripted.ua.calls.count == 2)
        // Bob does not hang up: the phone does, 2 s after the NOTIFY.
        try scripted.reactor.run(for: 2 * SIPTimerValues.second)
        #expect(call.state == .ended(.localHangUp))
        #expect(scripted.ua.calls.count == 1)
        #expect(scripted.ua.calls.first?.state == .connected)
    }

    @Test("transferee: a target that refuses is reported (NOTIFY 486) and the call stays")
    func transfereeFailure() throws {
        let (scripted, call) = try Self.connected(carolStatus: 486)
        defer { scripted.close() }
        try scripted.receive(Self.fromPeer("REFER", call, cseq: 5, headers: ["Refer-To: sip:carol@192.0.2.2"]))
        try scripted.reactor.run(for: 5 * SIPTimerValues.second)
        #expect(notifies(scripted).last == "SIP/2.0 486 Busy Here\r\n|terminated;reason=noresource")
        #expect(call.state == .connected)
        #expect(scripted.ua.calls.count == 1)
    }

    @Test("transferee: REFER without Refer-To or to tel: gets 400, nothing is called, the call stays")
    func badRefer() throws {
        let (scripted, call) = try Self.connected()
        defer { scripted.close() }
        var lines: [String] = []
        scripted.ua.onLog = { lines.append($0) }
        try scripted.receive(Self.fromPeer("REFER", call, cseq: 5, headers: []))
        try scripted.receive(Self.fromPeer("REFER", call, cseq: 6, headers: ["Refer-To: <tel:+1555>"]))
        let refused = scripted.responses.filter { $0.cseq.method == .refer }
        #expect(refused.map { $0.status } == [400, 400])
        #expect(lines.contains { $0.contains("REFER refused (400): no Refer-To") })
        #expect(lines.contains { $0.contains("not a SIP URI") })
        #expect(scripted.requests.filter { $0.message.method == .invite }.count == 1)
        #expect(call.state == .connected)
    }

    @Test("transferor: REFER with Refer-To and Referred-By; NOTIFY progress, junk (400, call stays), 200")
    func transferor() throws {
        let (scripted, call) = try Self.connected()
        defer { scripted.close() }
        var events: [SIPTransferEvent] = []
        scripted.ua.onTransfer = { _, event in events.append(event) }
        #expect(call.refer(to: try SIPURI(parsing: "sip:carol@192.0.2.2")))
        #expect(!call.refer(to: try SIPURI(parsing: "sip:carol@192.0.2.2")))
        try scripted.reactor.runUntilIdle()
        let refer = scripted.requests.map { $0.message }.first { $0.method == .refer }
        #expect(refer?.header("Refer-To") == "<sip:carol@192.0.2.2>")
        #expect(refer?.header("Referred-By") == "<sip:1001@192.0.2.10>")
        #expect(events == [.accepted])
        let frag = "Content-Type: message/sipfrag"
        try scripted.receive(
            Self.fromPeer(
                "NOTIFY", call, cseq: 7, headers: ["Event: refer", "Subscription-State: active", frag],
                body: "SIP/2.0 180 Ringing\n"))
        try scripted.receive(
            Self.fromPeer(
                "NOTIFY", call, cseq: 8, headers: ["Event: refer", "Subscription-State: active", frag],
                body: "garbage"))
        try scripted.receive(
            Self.fromPeer("NOTIFY", call, cseq: 9, headers: ["Event: dialog", frag], body: "SIP/2.0 200 OK\n"))
        #expect(call.state == .connected)
        try scripted.receive(
            Self.fromPeer(
                "NOTIFY", call, cseq: 10, headers: ["Event: refer;id=5", "Subscription-State: terminated", frag],
                body: "SIP/2.0 200 OK\n"))
        let answers = scripted.responses.filter { $0.cseq.method == .notify }.map { $0.status ?? 0 }
        #expect(answers == [200, 400, 489, 200])
        #expect(events == [.accepted, .progress(SIPFragStatus(code: 180, reason: "Ringing")), .succeeded])
        // No transfer under way now: another NOTIFY is for no subscription.
        try scripted.receive(
            Self.fromPeer("NOTIFY", call, cseq: 11, headers: ["Event: refer", frag], body: "SIP/2.0 200 OK\n"))
        #expect(scripted.responses.last?.status == 481)
    }

    @Test("transferor: a refused REFER and a failed target are reported as failures")
    func transferorFailure() throws {
        let (scripted, call) = try Self.connected()
        defer { scripted.close() }
        var events: [SIPTransferEvent] = []
        scripted.ua.onTransfer = { _, event in events.append(event) }
        let answer = scripted.answer
        scripted.answer = { $0.method == .refer ? SIPMessage.response(to: $0, status: 603) : answer?($0) }
        #expect(call.refer(to: try SIPURI(parsing: "sip:carol@192.0.2.2")))
        try scripted.reactor.runUntilIdle()
        #expect(events == [.failed("REFER refused: 603 Decline")])
        scripted.answer = answer
        #expect(call.refer(to: try SIPURI(parsing: "sip:carol@192.0.2.2")))
        try scripted.reactor.runUntilIdle()
        try scripted.receive(
            Self.fromPeer(
                "NOTIFY", call, cseq: 7, headers: ["Event: refer", "Subscription-State: terminated"],
                body: "SIP/2.0 486 Busy Here\n"))
        #expect(events.last == .failed("486 Busy Here"))
        #expect(call.state == .connected)
    }
}
