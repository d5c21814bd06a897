import Reactor
import Testing

@testable import SIP

/// A user agent on the virtual clock with two servers; each server's behaviour is scripted by
/// its address.
final class TwoServerUA {
    enum Behaviour {
        case silent
        case answer(Int)
        case transportError
    }

    let reactor: Reactor
    let ua: SIPUserAgent
    var behaviour: [SIPSocketAddress: Behaviour] = [:]
    /// Every request sent (retransmissions included): time, method, destination, Expires.
    var sent: [(time: Int64, method: String, to: SIPSocketAddress, expires: String?)] = []
    /// A Retry-After a server puts in its answers.
    var retryAfter: [SIPSocketAddress: String] = [:]
    /// Headers a server adds to its 200 to REGISTER (Service-Route, ...).
    var registerHeaders: [SIPSocketAddress: [(String, String)]] = [:]
    /// Changes a server makes to its 200 to INVITE (the callee's Contact, an SDP answer).
    var inviteAnswer: ((inout SIPMessage) -> Void)?
    /// The same requests whole, with where they went.
    var requests: [(message: SIPMessage, to: SIPSocketAddress)] = []

    static let primary = SIPSocketAddress(ipv4: 192, 0, 2, 1, port: 5060)
    static let backup = SIPSocketAddress(ipv4: 192, 0, 2, 2, port: 5070)

    /// `configure`: changes to the account (keep-alives, ...).
    init(expires: Int = 60, configure: (inout SIPAccountConfiguration) -> Void = { _ in }) throws {
        var account = SIPAccountConfiguration(userName: "1001", serverAddress: "192.0.2.1", expires: expires)
        account.servers[0].retryCounts = 1
        account.servers.append(
            SIPServerConfiguration(address: "192.0.2.2", port: 5070, transport: .udp, expires: 90, retryCounts: 1))
        configure(&account)
        reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        let reactor = self.reactor
        var deliver: ((SIPMessage, SIPPeer) -> Void)? = nil
        ua = SIPUserAgent(
            reactor: reactor, account: account, localHost: "192.0.2.10", localPort: 5060,
            mediaAddress: { _ in ("192.0.2.10", 40000) },
            send: { message, peer in
                deliver?(message, peer)
                return true
            })
        deliver = { [unowned self] message, peer in
            guard message.isRequest else { return }
            sent.append((reactor.now, message.method?.name ?? "?", peer.remote, message.header("Expires")))
            requests.append((message, peer.remote))
            switch behaviour[peer.remote] ?? .silent {
            case .silent:
                break
            case .answer(let status):
                var response = SIPMessage.response(to: message, status: status, toTag: "srv")
                if let value = retryAfter[peer.remote] { try? response.addHeader("Retry-After", value) }
                if status == 200 && message.method == .register {
                    try? response.addHeader("Contact", "<sip:1001@192.0.2.10:5060>;expires=" + String(expires))
                    for (name, value) in registerHeaders[peer.remote] ?? [] { try? response.addHeader(name, value) }
                }
                if status == 200 && message.method == .invite { inviteAnswer?(&response) }
                reactor.runSoon { self.ua.transactions.receive(response, from: peer) }
            case .transportError:
                reactor.runSoon { self.ua.transactions.transportFailed(peer: peer) }
            }
        }
    }

    func registers(since time: Int64) -> [(time: Int64, to: SIPSocketAddress)] {
        sent.filter { $0.method == "REGISTER" && $0.time >= time }.map { ($0.time, $0.to) }
    }

    func close() { ua.close() }
}

@Suite("Registration failover between servers and targets (RFC 3263 §4.3) on the virtual clock")
struct RegistrationFailoverTests {
    static let ms: Int64 = 1_000_000

    @Test("a silent primary: the backup after the retry time; the refresh fails back to the primary")
    func silentPrimaryThenFailback() throws {
        let rig = try TwoServerUA(expires: 60)
        defer { rig.close() }
        rig.behaviour[TwoServerUA.backup] = .answer(200)
        rig.ua.start()
        try rig.reactor.run(for: 5 * SIPTimerValues.second)
        // retry_counts 1: the REGISTER and one retransmission (T1) to the primary, then after
        // T1 + 2·T1 = 1.5 s the backup.
        let first = rig.registers(since: 0)
        #expect(first.map { $0.to } == [TwoServerUA.primary, TwoServerUA.primary, TwoServerUA.backup])
        #expect(first.last?.time == 1500 * Self.ms)
        // Each server is asked for its own lifetime (server 2: 90 s); the grant (60 s) rules.
        #expect(rig.sent.filter { $0.method == "REGISTER" }.map { $0.expires } == ["60", "60", "90"])
        #expect(rig.ua.registration?.state == .registered(expires: 60))
        #expect(rig.ua.serverTarget?.peer.remote == TwoServerUA.backup)
        // A call by number goes to the server the account is registered with.
        _ = try rig.ua.call("1002")
        try rig.reactor.run(for: 10 * Self.ms)
        #expect(rig.sent.first { $0.method == "INVITE" }?.to == TwoServerUA.backup)
        // The primary is back; the refresh (at 1.5 + 30 s) goes to it first.
        rig.behaviour[TwoServerUA.primary] = .answer(200)
        try rig.reactor.run(for: 30 * SIPTimerValues.second)
        let refresh = rig.registers(since: 31 * SIPTimerValues.second)
        #expect(refresh.map { $0.to } == [TwoServerUA.primary])
        #expect(rig.ua.serverTarget?.peer.remote == TwoServerUA.primary)
        #expect(rig.ua.registration?.state == .registered(expires: 60))
    }

    @Test("a call in progress is untouched when its server dies and the registration fails over")
    func callSurvivesFailover() throws {
        let rig = try TwoServerUA(expires: 60)
        defer { rig.close() }
        let callee = SIPSocketAddress(ipv4: 192, 0, 2, 30, port: 5060)
        rig.behaviour[TwoServerUA.primary] = .answer(200)
        rig.behaviour[TwoServerUA.backup] = .answer(200)
        rig.behaviour[callee] = .answer(200)
        rig.inviteAnswer = { ok in
            try? ok.addHeader("Contact", "<sip:1002@192.0.2.30:5060>")
            ok.body = CallInDialogRequestTests.answerSDP
            ok.contentType = "application/sdp"
        }
        rig.ua.start()
        try rig.reactor.run(for: 100 * Self.ms)
        #expect(rig.ua.serverTarget?.peer.remote == TwoServerUA.primary)
        let call = try rig.ua.call("1002")
        try rig.reactor.run(for: 100 * Self.ms)
        #expect(call.state == .connected)
        #expect(rig.sent.first { $0.method == "INVITE" }?.to == TwoServerUA.primary)
        // The primary dies; the refresh at 30 s fails over to the backup.
        rig.behaviour[TwoServerUA.primary] = .transportError
        try rig.reactor.run(for: 32 * SIPTimerValues.second)
        #expect(rig.ua.serverTarget?.peer.remote == TwoServerUA.backup)
        #expect(rig.ua.registration?.state == .registered(expires: 60))
        #expect(call.state == .connected)
        // The dialog talks to the callee's Contact: hold and BYE reach it, not a server.
        #expect(call.hold())
        try rig.reactor.run(for: 100 * Self.ms)
        #expect(call.state == .held)
        call.hangUp()
        try rig.reactor.run(for: 100 * Self.ms)
        let inDialog = rig.sent.filter { $0.method == "BYE" || ($0.method == "INVITE" && $0.to != TwoServerUA.primary) }
        #expect(inDialog.map { $0.to } == [callee, callee])
        #expect(call.state == .ended(.localHangUp))
    }

    @Test("a 503 with Retry-After: that server is not asked again before the time (RFC 3263 §4.3)")
    func retryAfterRemembered() throws {
        let rig = try TwoServerUA(expires: 60)
        defer { rig.close() }
        rig.behaviour[TwoServerUA.primary] = .answer(503)
        rig.retryAfter[TwoServerUA.primary] = "50 (maintenance)"
        rig.behaviour[TwoServerUA.backup] = .answer(200)
        rig.ua.start()
        try rig.reactor.run(for: 100 * Self.ms)
        #expect(rig.registers(since: 0).map { $0.to } == [TwoServerUA.primary, TwoServerUA.backup])
        // The refresh at 30 s goes straight to the backup: the primary asked for 50 s.
        rig.behaviour[TwoServerUA.primary] = .answer(200)
        try rig.reactor.run(for: 31 * SIPTimerValues.second)
        #expect(rig.registers(since: SIPTimerValues.second).map { $0.to } == [TwoServerUA.backup])
        // The next refresh (60 s) is past the 50 s: the primary again (failback).
        try rig.reactor.run(for: 30 * SIPTimerValues.second)
        #expect(rig.registers(since: 50 * SIPTimerValues.second).map { $0.to } == [TwoServerUA.primary])
        #expect(rig.ua.serverTarget?.peer.remote == TwoServerUA.primary)
        // Retry-After forms: digits first, comment and parameters ignored, at most an hour.
        func parsed(_ value: String?) -> Int? {
            var response = SIPMessage.response(to: rig.requests[0].message, status: 503, toTag: "x")
            if let value { try? response.addHeader("Retry-After", value) }
            return SIPRegistration.retryAfterSeconds(response)
        }
        #expect(parsed("120") == 120)
        #expect(parsed("18000;duration=3600") == 3600)
        #expect(parsed("5 (back soon)") == 5)
        #expect(parsed("soon") == nil)
        #expect(parsed(nil) == nil)
    }

    @Test("a 503 or a transport error moves on at once; every target failing is one failure with backoff")
    func immediateFailover() throws {
        let rig = try TwoServerUA()
        defer { rig.close() }
        rig.behaviour[TwoServerUA.primary] = .answer(503)
        rig.behaviour[TwoServerUA.backup] = .answer(200)
        rig.ua.start()
        try rig.reactor.run(for: 100 * Self.ms)
        #expect(rig.registers(since: 0).map { $0.to } == [TwoServerUA.primary, TwoServerUA.backup])
        #expect(rig.ua.registration?.state == .registered(expires: 60))

        let broken = try TwoServerUA()
        defer { broken.close() }
        broken.behaviour[TwoServerUA.primary] = .transportError
        broken.behaviour[TwoServerUA.backup] = .answer(503)
        broken.ua.start()
        try broken.reactor.run(for: 100 * Self.ms)
        #expect(broken.registers(since: 0).map { $0.to } == [TwoServerUA.primary, TwoServerUA.backup])
        #expect(broken.ua.registration?.state == .failed(reason: "503 Service Unavailable", retrying: true))
        #expect(broken.ua.registration?.failureCount == 1)
        // The retry (30 s later) starts from the primary again.
        broken.behaviour[TwoServerUA.primary] = .answer(200)
        try broken.reactor.run(for: 31 * SIPTimerValues.second)
        #expect(broken.registers(since: SIPTimerValues.second).map { $0.to } == [TwoServerUA.primary])
        #expect(broken.ua.registration?.state == .registered(expires: 60))
    }
}
