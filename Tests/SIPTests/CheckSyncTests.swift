import Reactor
import Testing

@testable import Digest
@testable import SIP

/// check-sync NOTIFY (SIPCheckSync.swift) on the virtual clock against a scripted registrar at
/// 192.0.2.1:5060: only the registrar is heard, a password means a digest challenge first, and
/// `sip.notify_reboot_enable` decides about the restart.
@Suite("SIP check-sync NOTIFY: registrar only, digest challenge, reboot policy")
struct CheckSyncTests {
    static let registrar = SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 1, port: 5060))

    static func notify(
        _ n: Int, event: String = "check-sync", authorization: String? = nil, from: SIPPeer = registrar
    ) throws -> SIPMessage {
        var lines = [
            "NOTIFY sip:1001@192.0.2.10:5060 SIP/2.0",
            "Via: SIP/2.0/UDP \(from.remote.description);branch=z9hG4bK-sync-\(n)",
            "Max-Forwards: 70",
            "From: <sip:pbx@192.0.2.1>;tag=p\(n)",
            "To: <sip:1001@192.0.2.10>",
            "Call-ID: sync-\(n)@192.0.2.1",
            "CSeq: \(n) NOTIFY",
            "Event: \(event)",
        ]
        if let authorization { lines.append("Authorization: " + authorization) }
        lines.append("Content-Length: 0")
        return try SIPMessage.parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8))
    }

    final class Harness {
        let scripted: ScriptedPeerUA
        var syncs: [Bool] = []
        init(password: String = "", settings: SIPCheckSyncSettings = SIPCheckSyncSettings()) throws {
            var account = SIPAccountConfiguration(
                userName: "1001", password: password, serverAddress: "192.0.2.1", enabled: false)
            account.checkSync = settings
            scripted = try ScriptedPeerUA(account: account)
            scripted.ua.onCheckSync = { [unowned self] reboot in syncs.append(reboot) }
        }
        /// Sends `message` from `peer`; the status of the UA's answer to it.
        func send(_ message: SIPMessage, from peer: SIPPeer = CheckSyncTests.registrar) throws -> SIPMessage? {
            scripted.ua.receive(message, from: peer)
            try scripted.reactor.runUntilIdle()
            return scripted.responses.last { $0.callID == message.callID && $0.cseq.description == message.cseq.description }
        }
    }

    @Test("the registrar's check-sync is answered 200 and asks for a fetch; reboot=true asks for a restart")
    func accepted() throws {
        let h = try Harness()
        defer { h.scripted.close() }
        #expect(try h.send(Self.notify(1))?.status == 200)
        #expect(try h.send(Self.notify(2, event: "check-sync;reboot=true"))?.status == 200)
        #expect(try h.send(Self.notify(3, event: "Check-Sync ; reboot=false"))?.status == 200)
        #expect(h.syncs == [false, true, false])
        // Another event is not check-sync: out of dialog, an unknown event gets 489 Bad Event.
        #expect(try h.send(Self.notify(4, event: "presence"))?.status == 489)
        #expect(h.syncs.count == 3)
    }

    @Test("a stranger, or the registrar's host from another port, gets 403 and nothing happens")
    func strangerRefused() throws {
        let h = try Harness()
        defer { h.scripted.close() }
        var log: [String] = []
        h.scripted.ua.onLog = { log.append($0) }
        let stranger = SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 99, port: 5060))
        #expect(try h.send(Self.notify(1, from: stranger), from: stranger)?.status == 403)
        let otherPort = SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 1, port: 5070))
        #expect(try h.send(Self.notify(2, from: otherPort), from: otherPort)?.status == 403)
        #expect(h.syncs.isEmpty)
        #expect(
            log.contains("check-sync NOTIFY from 192.0.2.99:5060 refused: not from the account's registrar (403)"))
    }

    @Test("with a password: 401 first, then only an Authorization that verifies, once per nonce")
    func digest() throws {
        let h = try Harness(password: "s3cret")
        defer { h.scripted.close() }
        let first = try #require(try h.send(Self.notify(1)))
        #expect(first.status == 401)
        #expect(h.syncs.isEmpty)
        let challenge = try DigestChallenge.parse(try #require(first.header("WWW-Authenticate")))
        #expect(challenge.realm == "192.0.2.1")
        #expect(challenge.nonce.utf8.count == 32)
        func answer(_ password: String, _ challenge: DigestChallenge) -> String {
            DigestCredentials(
                answering: challenge, username: "1001", password: password, method: "NOTIFY",
                uri: "sip:1001@192.0.2.10:5060", cnonce: "c0ffee", nonceCount: 1
            ).headerValue
        }
        // The wrong password: 403, and the nonce is spent.
        #expect(try h.send(Self.notify(2, authorization: answer("wrong", challenge)))?.status == 403)
        #expect(try h.send(Self.notify(3, authorization: answer("s3cret", challenge)))?.status == 401)
        // A fresh challenge answered right: 200 and a fetch.
        let second = try DigestChallenge.parse(try #require(try h.send(Self.notify(4))?.header("WWW-Authenticate")))
        #expect(second.nonce != challenge.nonce)
        let good = answer("s3cret", second)
        #expect(try h.send(Self.notify(5, event: "check-sync;reboot=true", authorization: good))?.status == 200)
        #expect(h.syncs == [true])
        // The same Authorization again (a replay): challenged, not obeyed.
        #expect(try h.send(Self.notify(6, authorization: good))?.status == 401)
        #expect(h.syncs == [true])
        // A nonce older than 30 s on the loop's clock is no longer good.
        let third = try DigestChallenge.parse(try #require(try h.send(Self.notify(7))?.header("WWW-Authenticate")))
        try h.scripted.reactor.run(for: 31 * SIPTimerValues.second)
        #expect(try h.send(Self.notify(8, authorization: answer("s3cret", third)))?.status == 401)
        #expect(h.syncs == [true])
    }

    @Test("sip.check_sync.challenge = 0 and sip.notify_reboot_enable = 1 / 2")
    func settings() throws {
        var noChallenge = SIPCheckSyncSettings()
        noChallenge.challenge = false
        noChallenge.reboot = .always
        let h = try Harness(password: "s3cret", settings: noChallenge)
        defer { h.scripted.close() }
        #expect(try h.send(Self.notify(1))?.status == 200)
        #expect(h.syncs == [true])
        var ignore = SIPCheckSyncSettings()
        ignore.reboot = .ignore
        let quiet = try Harness(settings: ignore)
        defer { quiet.scripted.close() }
        #expect(try quiet.send(Self.notify(1, event: "check-sync;reboot=true"))?.status == 200)
        #expect(quiet.syncs.isEmpty)
    }

    @Test("the keys: defaults, values, a value out of range refused with its line")
    func configuration() throws {
        let defaults = try UserAgentConfigurationTests.parse("account.1.user_name = 1001\n").checkSync
        #expect(defaults == SIPCheckSyncSettings())
        #expect(defaults.reboot == .whenAsked && defaults.challenge)
        let set = try UserAgentConfigurationTests.parse("sip.notify_reboot_enable = 2\nsip.check_sync.challenge = 0\n")
        #expect(set.checkSync.reboot == .ignore && !set.checkSync.challenge)
        let error = UserAgentConfigurationTests.error("sip.notify_reboot_enable = 3\n")
        #expect(error?.contains("phone.cfg:2: sip.notify_reboot_enable") == true)
    }
}
