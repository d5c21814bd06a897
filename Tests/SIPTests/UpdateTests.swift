import Reactor
import Testing

@testable import SIP

/// UPDATE (RFC 3311): the phone's session refresh when the peer allows it, the fall-backs when it
/// does not, and UPDATEs from the peer (refresh, offer, offer during an offer).
@Suite("SIP UPDATE (RFC 3311) in calls")
struct UpdateTests {
    static let on = SIPSessionTimerSettings(enabled: true, expires: 90, refresher: .uac)

    @Test("two phones: A refreshes every interval/2 with an UPDATE without SDP; B's timer restarts and never fires")
    func refreshByUpdate() throws {
        let pair = try UserAgentPair(
            SessionTimerTests.account("1001", timer: Self.on), SessionTimerTests.account("2001", timer: Self.on))
        defer { pair.close() }
        let call = try pair.a.call("sip:2001@192.0.2.20:5060")
        try pair.run(seconds: 1)
        #expect(call.state == .connected && call.peerAllowsUpdate)
        try pair.run(seconds: 600)
        let updates = pair.requestsByA(.update)
        #expect(updates.count == 13, "\(updates.count) UPDATEs")
        #expect(pair.requestsByA(.invite).count == 1)
        for update in updates {
            #expect(update.body.isEmpty && update.header("Session-Expires") == "90;refresher=uac")
            #expect(update.header("Contact") != nil && update.header("Supported") == "timer")
        }
        let answers = pair.responsesByB.filter { $0.cseq.method == .update }
        #expect(!answers.isEmpty && answers.allSatisfy { $0.status == 200 && $0.header("Session-Expires") != nil })
        #expect(call.state == .connected && pair.b.calls.first?.state == .connected)
        #expect(pair.requestsByA(.bye).isEmpty && pair.requestsByB(.bye).isEmpty)
        #expect(pair.logA.contains("call 1: session refresh (UPDATE)"))
    }

    @Test("a far end that allows UPDATE but answers it 405, then 422, then never: re-INVITE, Min-SE, BYE")
    func refusals() throws {
        for (refusal, expected) in [(405, "re-INVITE"), (422, "UPDATE with Min-SE"), (0, "BYE")] {
            let scripted = try ScriptedPeerUA(account: SessionTimerTests.account("1001", timer: Self.on))
            defer { scripted.close() }
            scripted.answer = { request in
                switch request.method {
                case .invite?, .update?:
                    if request.method == .update {
                        if refusal == 0 { return nil }
                        if refusal == 405 || !(request.header("Session-Expires")?.hasPrefix("300") ?? false) {
                            var refused = SIPMessage.response(to: request, status: refusal, toTag: "peer")
                            if refusal == 422 { try? refused.addHeader("Min-SE", "300") }
                            return refused
                        }
                    }
                    var ok = SIPMessage.response(to: request, status: 200, toTag: "peer")
                    try? ok.addHeader("Contact", "<sip:peer@192.0.2.1:5060>")
                    try? ok.addHeader("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE")
                    try? ok.addHeader("Session-Expires", request.header("Session-Expires") ?? "90;refresher=uac")
                    if request.method == .invite {
                        ok.body = CallInDialogRequestTests.answerSDP
                        ok.contentType = "application/sdp"
                    }
                    return ok
                case .bye?:
                    return SIPMessage.response(to: request, status: 200, toTag: "peer")
                default:
                    return nil
                }
            }
            let call = try scripted.ua.call("sip:peer@192.0.2.1")
            try scripted.reactor.run(for: 100 * SIPTimerValues.second)
            let methods = scripted.requests.map { $0.message.method?.description ?? "?" }
            #expect(methods.first == "INVITE" && methods.dropFirst().first == "ACK", "\(expected): \(methods)")
            #expect(methods.dropFirst(2).first == "UPDATE", "\(expected): \(methods)")
            switch refusal {
            case 405:
                // The refresh goes again as a re-INVITE at once, and later refreshes stay re-INVITEs.
                #expect(Array(methods.dropFirst(3).prefix(2)) == ["INVITE", "ACK"], "\(methods)")
                #expect(!call.peerAllowsUpdate && call.state == .connected)
            case 422:
                let updates = scripted.requests.map(\.message).filter { $0.method == .update }
                #expect(updates.count >= 2 && updates[1].header("Session-Expires") == "300;refresher=uac")
                #expect(updates[1].header("Min-SE") == "300")
                #expect(call.sessionTimer == SIPSessionTimer(interval: 300, weRefresh: true) && call.state == .connected)
            default:
                #expect(methods.last == "BYE", "\(methods)")
                #expect(call.state == .ended(.timeout))
            }
        }
    }

    @Test("B holds by an UPDATE with an offer: A answers recvonly in the 200 and shows remote hold")
    func offerInUpdate() throws {
        let pair = try UserAgentPair(SessionTimerTests.account("1001", timer: .init()), SessionTimerTests.account("2001", timer: .init()))
        defer { pair.close() }
        let call = try pair.a.call("sip:2001@192.0.2.20:5060")
        try pair.run(seconds: 1)
        let callee = try #require(pair.b.calls.first)
        let previous = try #require(callee.localSDP)
        var offer = SDPOfferAnswer.reoffer(previous, direction: .sendonly, cryptos: nil)
        offer.origin.sessionVersion += 1
        var result: SIPInDialogResult?
        callee.sendRequest(method: .update, body: offer.serialized(), contentType: "application/sdp") { result = $0 }
        try pair.run(seconds: 1)
        guard case .response(let ok)? = result else {
            Issue.record("no answer to the UPDATE: \(String(describing: result))")
            return
        }
        #expect(ok.status == 200)
        let answer = try SDPSession.parse(ok.body)
        #expect(answer.media.first?.direction == .recvonly)
        #expect(call.state == .remoteHeld)
        #expect(pair.requestsByA(.invite).count == 1)  // no re-INVITE: the UPDATE did it
    }

    @Test("an UPDATE offer while our re-INVITE is out gets 491; one without SDP is still answered 200")
    func glare() throws {
        let pair = try UserAgentPair(SessionTimerTests.account("1001", timer: .init()), SessionTimerTests.account("2001", timer: .init()))
        defer { pair.close() }
        let call = try pair.a.call("sip:2001@192.0.2.20:5060")
        try pair.run(seconds: 1)
        let callee = try #require(pair.b.calls.first)
        let offer = SDPOfferAnswer.reoffer(try #require(callee.localSDP), direction: .sendonly, cryptos: nil)
        var withOffer: SIPInDialogResult?
        var without: SIPInDialogResult?
        #expect(call.hold())
        callee.sendRequest(method: .update, body: offer.serialized(), contentType: "application/sdp") { withOffer = $0 }
        try pair.run(seconds: 1)
        callee.sendRequest(method: .update) { without = $0 }
        try pair.run(seconds: 1)
        #expect(withOffer?.status == 491)
        #expect(without?.status == 200)
        #expect(call.state == .held && callee.state == .remoteHeld)
    }
}
