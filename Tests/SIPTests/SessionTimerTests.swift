import Config
import Reactor
import Testing

@testable import SIP

/// Two user agents joined in memory on one virtual clock: A (192.0.2.10) and B (192.0.2.20).
/// `cut` drops what B sends once set (B's host gone silent).
final class UserAgentPair {
    let reactor: Reactor
    let a: SIPUserAgent
    let b: SIPUserAgent
    var cut = false
    var logA: [String] = []
    private let box = PairBox()

    static let addressA = SIPSocketAddress(ipv4: 192, 0, 2, 10, port: 5060)
    static let addressB = SIPSocketAddress(ipv4: 192, 0, 2, 20, port: 5060)

    init(_ accountA: SIPAccountConfiguration, _ accountB: SIPAccountConfiguration) throws {
        reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        let reactor = self.reactor
        let box = self.box
        a = SIPUserAgent(
            reactor: reactor, account: accountA, localHost: "192.0.2.10", localPort: 5060,
            mediaAddress: { _ in ("192.0.2.10", 40000) },
            send: { message, _ in
                box.sentByA.append(message)
                reactor.runSoon {
                    box.b?.transactions.receive(message, from: SIPPeer(transport: .udp, remote: UserAgentPair.addressA))
                }
                return true
            })
        b = SIPUserAgent(
            reactor: reactor, account: accountB, localHost: "192.0.2.20", localPort: 5060,
            mediaAddress: { _ in ("192.0.2.20", 41000) },
            send: { sent, _ in
                guard !box.cut else { return true }
                var message = sent
                if box.bRefusesUpdate, !message.headers("Allow").isEmpty {
                    try? message.setHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS")
                }
                box.sentByB.append(message)
                reactor.runSoon {
                    box.a?.transactions.receive(message, from: SIPPeer(transport: .udp, remote: UserAgentPair.addressB))
                }
                return true
            })
        box.a = a
        box.b = b
        b.onCallState = { call, state in if state == .incoming { _ = call.answer() } }
        a.onLog = { [unowned self] line in logA.append(line) }
    }

    /// B stops sending anything.
    func silenceB() { box.cut = true }

    /// B's Allow leaves UPDATE out from now on (a peer that only refreshes by re-INVITE).
    func bWithoutUpdate() { box.bRefusesUpdate = true }

    /// Requests A sent (no retransmissions), of `method`.
    func requestsByA(_ method: SIPMethod) -> [SIPMessage] { Self.unique(box.sentByA, method) }
    func requestsByB(_ method: SIPMethod) -> [SIPMessage] { Self.unique(box.sentByB, method) }
    var responsesByB: [SIPMessage] { box.sentByB.filter { !$0.isRequest } }

    private static func unique(_ messages: [SIPMessage], _ method: SIPMethod) -> [SIPMessage] {
        var seen: [String] = []
        var out: [SIPMessage] = []
        for m in messages where m.isRequest && m.method == method {
            let key = m.callID + " " + m.cseq.description
            if !seen.contains(key) {
                seen.append(key)
                out.append(m)
            }
        }
        return out
    }

    func run(seconds: Int) throws { try reactor.run(for: Int64(seconds) * SIPTimerValues.second) }

    func close() {
        a.close()
        b.close()
        box.a = nil
        box.b = nil
    }
}

final class PairBox {
    var a: SIPUserAgent?
    var b: SIPUserAgent?
    var cut = false
    var bRefusesUpdate = false
    var sentByA: [SIPMessage] = []
    var sentByB: [SIPMessage] = []
}

/// RFC 4028 session timers: the negotiation as values, then two user agents on the virtual
/// clock refreshing, expiring and retrying after 422; and 420 for extensions the phone lacks.
@Suite("SIP session timers (RFC 4028) and Require (420)")
struct SessionTimerTests {
    static func account(_ user: String, timer: SIPSessionTimerSettings) -> SIPAccountConfiguration {
        var account = SIPAccountConfiguration(userName: user)
        account.sessionTimer = timer
        return account
    }

    static func invite(_ extra: [String]) throws -> SIPMessage {
        let lines =
            [
                "INVITE sip:1001@192.0.2.10:5060 SIP/2.0",
                "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-st-\(extra.count)",
                "Max-Forwards: 70",
                "From: <sip:peer@192.0.2.1>;tag=p1",
                "To: <sip:1001@192.0.2.10>",
                "Call-ID: st-\(extra.joined().count)@192.0.2.1",
                "CSeq: 1 INVITE",
                "Contact: <sip:peer@192.0.2.1:5060>",
            ] + extra + ["Content-Length: 0"]
        return try SIPMessage.parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8))
    }

    @Test("the keys: account.1.session_timer.enable/expires/refresher, with range checks")
    func keys() throws {
        let file = try ConfigFile(
            text: "account.1.session_timer.enable = 1\naccount.1.session_timer.expires = 600\n"
                + "account.1.session_timer.refresher = 1\n", path: "t.cfg", requireVersionLine: false)
        let account = try SIPAccountConfiguration(file, account: 1)
        #expect(account.sessionTimer == SIPSessionTimerSettings(enabled: true, expires: 600, refresher: .uas))
        let bad = try ConfigFile(text: "account.1.session_timer.expires = 60\n", path: "t.cfg", requireVersionLine: false)
        #expect(throws: ConfigError.self) { _ = try SIPAccountConfiguration(bad, account: 1) }
        let empty = try ConfigFile(text: "", path: "t.cfg", requireVersionLine: false)
        #expect(try SIPAccountConfiguration(empty, account: 1).sessionTimer.enabled == false)
    }

    @Test("the UAS side: 422 below 90 s, the interval shortened to ours, refresher chosen by support")
    func serve() throws {
        let on = SIPSessionTimerSettings(enabled: true, expires: 600, refresher: .uac)
        #expect(SIPSessionTimerNegotiation.serve(try Self.invite(["Session-Expires: 60"]), on) == .tooSmall(minSE: 90))
        guard
            case .accept(let timer, let headers) = SIPSessionTimerNegotiation.serve(
                try Self.invite(["Supported: timer", "Session-Expires: 1800"]), on)
        else {
            Issue.record("not accepted")
            return
        }
        #expect(timer == SIPSessionTimer(interval: 600, weRefresh: false))
        #expect(headers.map { $0.0 + ": " + $0.1 } == ["Session-Expires: 600;refresher=uac", "Require: timer"])
        // A UAC without the extension cannot refresh: we do.
        guard case .accept(let ours, let oursHeaders) = SIPSessionTimerNegotiation.serve(try Self.invite([]), on) else {
            Issue.record("not accepted")
            return
        }
        #expect(ours == SIPSessionTimer(interval: 600, weRefresh: true))
        #expect(oursHeaders.map { $0.0 + ": " + $0.1 } == ["Session-Expires: 600;refresher=uas"])
        // The caller's own refresher choice and Min-SE are kept.
        guard
            case .accept(let theirs, _) = SIPSessionTimerNegotiation.serve(
                try Self.invite(["Supported: timer", "x: 300;refresher=uas", "Min-SE: 400"]), on)
        else {
            Issue.record("not accepted")
            return
        }
        #expect(theirs == SIPSessionTimer(interval: 400, weRefresh: true))
        #expect(SIPSessionTimerNegotiation.serve(try Self.invite(["Session-Expires: 60"]), .init()) == .none)
        #expect(SIPSessionTimer(interval: 1800, weRefresh: false).expirySeconds == 1768)
        #expect(SIPSessionTimer(interval: 90, weRefresh: false).expirySeconds == 60)
        #expect(SIPSessionTimer(interval: 90, weRefresh: true).refreshSeconds == 45)
    }

    @Test("A refreshes every interval/2 with a re-INVITE of the same SDP version when B's Allow has no UPDATE")
    func refresh() throws {
        let on = SIPSessionTimerSettings(enabled: true, expires: 90, refresher: .uac)
        let pair = try UserAgentPair(Self.account("1001", timer: on), Self.account("2001", timer: on))
        defer { pair.close() }
        pair.bWithoutUpdate()
        let call = try pair.a.call("sip:2001@192.0.2.20:5060")
        try pair.run(seconds: 1)
        #expect(call.state == .connected)
        let invite = try #require(pair.requestsByA(.invite).first)
        #expect(invite.header("Session-Expires") == "90;refresher=uac")
        #expect(invite.header("Supported") == "timer" && invite.header("Min-SE") == "90")
        let ok = try #require(pair.responsesByB.first { $0.status == 200 && $0.cseq.method == .invite })
        #expect(ok.header("Session-Expires") == "90;refresher=uac" && ok.header("Require") == "timer")
        #expect(call.sessionTimer == SIPSessionTimer(interval: 90, weRefresh: true))
        #expect(pair.b.calls.first?.sessionTimer == SIPSessionTimer(interval: 90, weRefresh: false))
        try pair.run(seconds: 600)
        // 600 s at one refresh per 45 s.
        let invites = pair.requestsByA(.invite)
        #expect(invites.count == 1 + 13, "\(invites.count) INVITEs")
        let versions = invites.compactMap { try? SDPSession.parse($0.body).origin.sessionVersion }
        #expect(Set(versions).count == 1, "o= versions \(versions)")
        #expect(call.state == .connected && pair.b.calls.first?.state == .connected)
        #expect(pair.requestsByA(.bye).isEmpty && pair.requestsByB(.bye).isEmpty)
        #expect(pair.logA.contains("call 1: session refresh (re-INVITE)"))
        #expect(pair.requestsByA(.update).isEmpty)
    }

    @Test("the refresher falls silent: the other side sends BYE after interval - interval/3 (60 s of 90)")
    func expiry() throws {
        let a = SIPSessionTimerSettings(enabled: true, expires: 90, refresher: .uas)
        let b = SIPSessionTimerSettings(enabled: true, expires: 90, refresher: .uas)
        let pair = try UserAgentPair(Self.account("1001", timer: a), Self.account("2001", timer: b))
        defer { pair.close() }
        let call = try pair.a.call("sip:2001@192.0.2.20:5060")
        try pair.run(seconds: 1)
        #expect(call.state == .connected)
        #expect(call.sessionTimer == SIPSessionTimer(interval: 90, weRefresh: false))
        pair.silenceB()
        try pair.run(seconds: 58)
        #expect(call.state == .connected)
        try pair.run(seconds: 2)
        #expect(call.state == .ended(.failed("session expired")))
        #expect(pair.requestsByA(.bye).count == 1)
        #expect(pair.logA.contains { $0.contains("session expired: no refresh within 90 s") })
    }

    @Test("a far end without session timers: A asks, gets none back, and refreshes by itself (UPDATE, allowed)")
    func farEndWithout() throws {
        let on = SIPSessionTimerSettings(enabled: true, expires: 120, refresher: .uac)
        let pair = try UserAgentPair(Self.account("1001", timer: on), Self.account("2001", timer: .init()))
        defer { pair.close() }
        let call = try pair.a.call("sip:2001@192.0.2.20:5060")
        try pair.run(seconds: 1)
        #expect(pair.responsesByB.first { $0.status == 200 }?.header("Session-Expires") == nil)
        #expect(call.sessionTimer == SIPSessionTimer(interval: 120, weRefresh: true))
        try pair.run(seconds: 61)
        #expect(pair.requestsByA(.invite).count == 1 && pair.requestsByA(.update).count == 1)
        #expect(pair.responsesByB.contains { $0.cseq.method == .update && $0.status == 200 })
        #expect(call.state == .connected)
    }

    @Test("422 with Min-SE: the INVITE is sent again once, asking for the Min-SE; the call connects")
    func tooSmall() throws {
        let on = SIPSessionTimerSettings(enabled: true, expires: 90, refresher: .uac)
        let scripted = try ScriptedPeerUA(account: Self.account("1001", timer: on))
        defer { scripted.close() }
        scripted.answer = { request in
            switch request.method {
            case .invite?:
                guard request.header("Session-Expires")?.hasPrefix("1800") == true else {
                    var refused = SIPMessage.response(to: request, status: 422, toTag: "peer")
                    try? refused.addHeader("Min-SE", "1800")
                    return refused
                }
                var ok = SIPMessage.response(to: request, status: 200, toTag: "peer")
                try? ok.addHeader("Contact", "<sip:peer@192.0.2.1:5060>")
                try? ok.addHeader("Session-Expires", "1800;refresher=uas")
                ok.body = CallInDialogRequestTests.answerSDP
                ok.contentType = "application/sdp"
                return ok
            default:
                return nil
            }
        }
        let call = try scripted.ua.call("sip:peer@192.0.2.1")
        try scripted.reactor.runUntilIdle()
        let invites = scripted.requests.filter { $0.message.method == .invite }.map(\.message)
        #expect(invites.count == 2)
        #expect(invites.last?.header("Session-Expires") == "1800;refresher=uac")
        #expect(invites.last?.header("Min-SE") == "1800")
        #expect(invites.first?.cseq.number != invites.last?.cseq.number)
        #expect(call.state == .connected)
        #expect(call.sessionTimer == SIPSessionTimer(interval: 1800, weRefresh: false))
    }

    @Test("an incoming INVITE asking for 30 s gets 422 with Min-SE: 90 and does not ring")
    func incomingTooSmall() throws {
        let on = SIPSessionTimerSettings(enabled: true, expires: 1800, refresher: .uac)
        let scripted = try ScriptedPeerUA(account: Self.account("1001", timer: on))
        defer { scripted.close() }
        var rang = false
        scripted.ua.onCallState = { _, state in if state == .incoming { rang = true } }
        scripted.ua.transactions.receive(try Self.invite(["Session-Expires: 30"]), from: scripted.peer)
        try scripted.reactor.runUntilIdle()
        let response = try #require(scripted.responses.first)
        #expect(response.status == 422 && response.header("Min-SE") == "90")
        #expect(!rang && scripted.ua.calls.isEmpty)
    }

    @Test("Require: an extension the phone lacks gets 420 with Unsupported; timer is required only when on")
    func require() throws {
        for (enabled, extra, status, unsupported) in [
            (false, ["Require: foo"], 420, "foo"),
            (false, ["Require: timer", "Session-Expires: 1800"], 420, "timer"),
            (true, ["Require: timer", "Supported: timer", "Session-Expires: 1800"], 180, nil),
            (true, ["Require: timer, foo"], 420, "foo"),
        ] as [(Bool, [String], Int, String?)] {
            let scripted = try ScriptedPeerUA(
                account: Self.account("1001", timer: SIPSessionTimerSettings(enabled: enabled)))
            defer { scripted.close() }
            scripted.ua.transactions.receive(try Self.invite(extra), from: scripted.peer)
            try scripted.reactor.runUntilIdle()
            let response = try #require(scripted.responses.first)
            #expect(response.status == status, "\(extra)")
            #expect(response.header("Unsupported") == unsupported, "\(extra)")
        }
    }
}
