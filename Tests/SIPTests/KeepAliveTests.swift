import Config
import Reactor
import Testing

@testable import SIP

/// NAT keep-alives while registered (SIPKeepAlive.swift) on the virtual clock: the interval, no
/// keep-alives before the binding or when off, an ICMP error for one makes the account register
/// again at once (and so fail over), a TCP ping without its pong does the same.
@Suite("SIP keep-alives while registered")
struct KeepAliveTests {
    /// The two-server rig with keep-alives recorded: time and destination of each.
    final class Rig {
        let rig: TwoServerUA
        var keepAlives: [(time: Int64, to: SIPPeer)] = []
        var pongs = 0
        /// Answer each keep-alive with an ICMP error (the server's host is up, its SIP is gone).
        var refuse: Set<SIPSocketAddress> = []
        /// TCP: the server answers pings with pongs.
        var answersPings = true

        init(interval: Int, enabled: Bool = true, transport: SIPTransportProtocol = .udp, expires: Int = 600) throws {
            rig = try TwoServerUA(expires: expires) { account in
                account.keepAlive = SIPKeepAliveSettings(enabled: enabled, interval: interval)
                for index in account.servers.indices { account.servers[index].transport = transport }
            }
            rig.ua.sendKeepAlive = { [unowned self] peer in
                keepAlives.append((rig.reactor.now, peer))
                if refuse.contains(peer.remote) {
                    // What the transport's onError does with an ICMP error.
                    rig.reactor.runSoon {
                        self.rig.ua.transactions.transportFailed(peer: peer)
                        self.rig.ua.registration?.transportFailed(peer)
                    }
                } else if peer.transport == .tcp && answersPings {
                    pongs += 1
                }
            }
            rig.ua.keepAlivePongs = { [unowned self] in pongs }
        }
    }

    static let second = SIPTimerValues.second

    @Test("every interval while registered, to the bound server; none before the 200 or when off")
    func interval() throws {
        let r = try Rig(interval: 30)
        defer { r.rig.close() }
        r.rig.behaviour[TwoServerUA.primary] = .answer(200)
        r.rig.ua.start()
        try r.rig.reactor.run(for: 125 * Self.second)
        #expect(r.keepAlives.map { $0.time / Self.second } == [30, 60, 90, 120])
        #expect(r.keepAlives.allSatisfy { $0.to.remote == TwoServerUA.primary })
        #expect(r.rig.ua.registration?.keepAlivesSent == 4)

        let off = try Rig(interval: 30, enabled: false)
        defer { off.rig.close() }
        off.rig.behaviour[TwoServerUA.primary] = .answer(200)
        off.rig.ua.start()
        try off.rig.reactor.run(for: 125 * Self.second)
        #expect(off.keepAlives.isEmpty)

        let silent = try Rig(interval: 30)
        defer { silent.rig.close() }
        silent.rig.ua.start()
        try silent.rig.reactor.run(for: 125 * Self.second)
        #expect(silent.keepAlives.isEmpty)
    }

    @Test("an ICMP error for a keep-alive: the account registers again at once and fails over to the backup")
    func icmpFailover() throws {
        let r = try Rig(interval: 15)
        defer { r.rig.close() }
        r.rig.behaviour[TwoServerUA.primary] = .answer(200)
        r.rig.behaviour[TwoServerUA.backup] = .answer(200)
        r.rig.ua.start()
        try r.rig.reactor.run(for: 20 * Self.second)
        #expect(r.rig.ua.registration?.boundTarget?.peer.remote == TwoServerUA.primary)
        // The primary dies at 20 s: its port answers ICMP unreachable from now on.
        r.rig.behaviour[TwoServerUA.primary] = .transportError
        r.refuse.insert(TwoServerUA.primary)
        try r.rig.reactor.run(for: 12 * Self.second)
        // The keep-alive at 30 s finds it: REGISTER again at once, the primary fails, the backup binds.
        let after = r.rig.registers(since: 30 * Self.second)
        #expect(after.map { $0.to } == [TwoServerUA.primary, TwoServerUA.backup])
        #expect(after.first?.time == 30 * Self.second)
        #expect(r.rig.ua.registration?.boundTarget?.peer.remote == TwoServerUA.backup)
        if case .registered = r.rig.ua.registration?.state {} else {
            Issue.record("not registered: \(String(describing: r.rig.ua.registration?.state))")
        }
        // Keep-alives go on, to the backup.
        try r.rig.reactor.run(for: 20 * Self.second)
        #expect(r.keepAlives.last?.to.remote == TwoServerUA.backup)
    }

    @Test("TCP: a ping without its pong within 10 s means the flow failed: register again")
    func tcpPong() throws {
        let r = try Rig(interval: 30, transport: .tcp)
        defer { r.rig.close() }
        r.rig.behaviour[TwoServerUA.primary] = .answer(200)
        r.rig.ua.start()
        try r.rig.reactor.run(for: 65 * Self.second)
        #expect(r.keepAlives.count == 2)  // at 30 s and 60 s, both answered
        #expect(r.keepAlives.allSatisfy { $0.to.transport == .tcp })
        #expect(r.rig.registers(since: 1 * Self.second).isEmpty)
        r.answersPings = false
        try r.rig.reactor.run(for: 40 * Self.second)
        // The ping at 90 s gets no pong: at 100 s the account registers again.
        let again = r.rig.registers(since: 66 * Self.second)
        #expect(again.first?.time == 100 * Self.second, "\(again)")
    }

    @Test("the keys: account.1.nat.udp_update_enable and udp_update_time (5..3600 s)")
    func keys() throws {
        func account(_ text: String) throws -> SIPAccountConfiguration {
            try SIPAccountConfiguration(ConfigFile(text: text, path: "t.cfg", requireVersionLine: false), account: 1)
        }
        #expect(try account("").keepAlive == SIPKeepAliveSettings(enabled: true, interval: 30))
        #expect(
            try account("account.1.nat.udp_update_enable = 0\naccount.1.nat.udp_update_time = 20\n").keepAlive
                == SIPKeepAliveSettings(enabled: false, interval: 20))
        #expect(throws: ConfigError.self) { _ = try account("account.1.nat.udp_update_time = 2\n") }
    }

    @Test("received/rport in the REGISTER's 200: the phone registers again with that Contact, once; nat.rport = 0 keeps its own")
    func publicAddress() throws {
        for learns in [true, false] {
            var account = SIPAccountConfiguration(userName: "1001", serverAddress: "192.0.2.1", expires: 600)
            account.keepAlive.learnsPublicAddress = learns
            let scripted = try ScriptedPeerUA(account: account)
            defer { scripted.close() }
            scripted.answer = { request in
                guard request.method == .register else { return nil }
                var ok = SIPMessage.response(to: request, status: 200, toTag: "reg")
                var via = ok.via
                via[0].received = "203.0.113.7"
                via[0].rport = .some(40123)
                ok.via = via
                if let contact = request.header("Contact") { try? ok.addHeader("Contact", contact + ";expires=600") }
                return ok
            }
            scripted.ua.start()
            try scripted.reactor.run(for: 5 * SIPTimerValues.second)
            let registers = scripted.requests.filter { $0.message.method == .register }.map(\.message)
            if learns {
                #expect(registers.count == 2)
                #expect(registers.first?.header("Contact")?.contains("192.0.2.10:5060") == true)
                #expect(registers.last?.header("Contact")?.contains("sip:1001@203.0.113.7:40123") == true)
                #expect(scripted.ua.publicAddress?.host == "203.0.113.7" && scripted.ua.publicAddress?.port == 40123)
                // Calls use it too.
                #expect(scripted.ua.contact(transport: .udp).uri.description == "sip:1001@203.0.113.7:40123")
                if case .registered = scripted.ua.registration?.state {} else { Issue.record("not registered") }
                // The refresh's 200 says the same: no third REGISTER.
                try scripted.reactor.run(for: 600 * SIPTimerValues.second)
                let refreshes = scripted.requests.filter { $0.message.method == .register }.count
                #expect(refreshes == 3, "\(refreshes) REGISTERs")
            } else {
                #expect(registers.count == 1)
                #expect(scripted.ua.publicAddress == nil)
            }
        }
    }
}
