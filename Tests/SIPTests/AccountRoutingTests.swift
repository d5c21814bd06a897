import Reactor
import Testing

@testable import SIP

/// Two accounts (`account.1`, `account.2`) as two user agents on one transport, with
/// `SIPAccountRouting` in front of them: each registers at its own server, messages from the
/// network reach the account they belong to.
final class TwoAccountRig {
    enum Behaviour {
        case silent
        case answer(Int)
        /// 401 with a digest challenge, then 200 to the retry carrying credentials.
        case challenge
    }

    let reactor: Reactor
    var agents: [SIPUserAgent] = []
    var behaviour: [SIPSocketAddress: Behaviour] = [:]
    /// Every request the phone sent, with where it went and when.
    var requests: [(message: SIPMessage, to: SIPSocketAddress, time: Int64)] = []

    static let server1Address = SIPSocketAddress(ipv4: 192, 0, 2, 1, port: 5060)
    static let server2Address = SIPSocketAddress(ipv4: 192, 0, 2, 2, port: 5060)
    static let caller = SIPPeer(transport: .udp, remote: SIPSocketAddress(ipv4: 192, 0, 2, 2, port: 5060))

    init(expires: Int = 60) throws {
        reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        var one = SIPAccountConfiguration(userName: "1001", password: "one", serverAddress: "192.0.2.1", expires: expires)
        one.servers[0].retryCounts = 1
        var two = SIPAccountConfiguration(
            userName: "1002", authName: "auth1002", password: "two", displayName: "Line Two", serverAddress: "192.0.2.2",
            expires: expires)
        two.number = 2
        for account in [one, two] {
            let ua = SIPUserAgent(
                reactor: reactor, account: account, localHost: "192.0.2.10", localPort: 5060,
                mediaAddress: { _ in ("192.0.2.10", 40000) },
                send: { [unowned self] message, peer in
                    serve(message, peer)
                    return true
                })
            ua.accountNumber = account.number
            agents.append(ua)
        }
        var next = 1
        for ua in agents {
            ua.callNumbers = {
                defer { next += 1 }
                return next
            }
        }
    }

    /// A message from the network, routed as the phone routes it.
    func deliver(_ message: SIPMessage, from peer: SIPPeer) {
        agents[SIPAccountRouting.index(for: message, among: agents)].receive(message, from: peer)
    }

    private func serve(_ message: SIPMessage, _ peer: SIPPeer) {
        guard message.isRequest else {
            responses.append(message)
            return
        }
        requests.append((message, peer.remote, reactor.now))
        guard message.method == .register || message.method == .invite else { return }
        var status: Int
        switch behaviour[peer.remote] ?? .silent {
        case .silent: return
        case .answer(let code): status = code
        case .challenge:
            status = message.header("Authorization") == nil && message.header("Proxy-Authorization") == nil ? 401 : 200
        }
        if message.method == .invite && status == 200 { status = 180 }
        var response = SIPMessage.response(to: message, status: status, toTag: "srv")
        if status == 401 {
            try? response.addHeader("WWW-Authenticate", "Digest realm=\"pbx\", nonce=\"abc123\", algorithm=MD5")
        }
        if status == 200 && message.method == .register {
            try? response.addHeader(
                "Contact", "<sip:" + (message.from.uri.user ?? "") + "@192.0.2.10:5060>;expires=60")
        }
        reactor.runSoon { [unowned self] in deliver(response, from: peer) }
    }

    /// Responses the phone sent (to requests from the network).
    var responses: [SIPMessage] = []

    func registers(to server: SIPSocketAddress) -> [SIPMessage] {
        requests.filter { $0.message.method == .register && $0.to == server }.map { $0.message }
    }

    func close() { for ua in agents { ua.close() } }

    /// A rig whose servers behave as told, both accounts started.
    static func started(server1: Behaviour, server2: Behaviour) throws -> TwoAccountRig {
        let rig = try TwoAccountRig()
        rig.behaviour[server1Address] = server1
        rig.behaviour[server2Address] = server2
        for ua in rig.agents { ua.start() }
        return rig
    }

    /// An INVITE from the network to `user` at the phone.
    static func invite(to user: String, callID: String) throws -> SIPMessage {
        let text =
            "INVITE sip:" + user + "@192.0.2.10:5060 SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK" + callID + "\r\n"
            + "From: <sip:3001@192.0.2.2>;tag=caller\r\n" + "To: <sip:" + user + "@192.0.2.2>\r\n"
            + "Call-ID: " + callID + "\r\n" + "CSeq: 1 INVITE\r\n"
            + "Contact: <sip:3001@192.0.2.2:5060>\r\n" + "Max-Forwards: 70\r\n" + "Content-Length: 0\r\n\r\n"
        return try SIPMessage.parse(Array(text.utf8))
    }
}

@Suite("Several accounts on one transport: registration, routing, calls (issue 16 item 2)")
struct AccountRoutingTests {
    static let ms: Int64 = 1_000_000

    @Test("two accounts register independently: one server refuses, the other account stays registered")
    func independentRegistrations() throws {
        let rig = try TwoAccountRig.started(server1: .answer(403), server2: .challenge)
        defer { rig.close() }
        try rig.reactor.run(for: 2 * SIPTimerValues.second)
        guard case .failed = rig.agents[0].registration?.state else {
            Issue.record("account 1: \(rig.agents[0].registration?.state.description ?? "none")")
            return
        }
        #expect(rig.agents[1].registration?.state == .registered(expires: 60))
        // Each account's REGISTER went to its own server with its own AOR and credentials.
        let one = rig.registers(to: TwoAccountRig.server1Address)
        let two = rig.registers(to: TwoAccountRig.server2Address)
        #expect(one.first?.to.uri.description == "sip:1001@192.0.2.1")
        #expect(two.map { $0.to.uri.description } == ["sip:1002@192.0.2.2", "sip:1002@192.0.2.2"])
        #expect(two.last?.header("Authorization")?.contains("username=\"auth1002\"") == true)
        #expect(two.last?.header("Authorization")?.contains("realm=\"pbx\"") == true)
        // The refresh of account 2 (half of 60 s) while account 1 keeps failing.
        try rig.reactor.run(for: 40 * SIPTimerValues.second)
        #expect(rig.registers(to: TwoAccountRig.server2Address).count >= 3)
        #expect(rig.agents[1].registration?.state == .registered(expires: 60))
        #expect(rig.registers(to: TwoAccountRig.server2Address).allSatisfy { $0.from.uri.user == "1002" })
    }

    @Test("an INVITE for account 2's user rings on account 2; an unknown user on account 1 (the default)")
    func incomingCallsByUser() throws {
        let rig = try TwoAccountRig()
        defer { rig.close() }
        rig.deliver(try TwoAccountRig.invite(to: "1002", callID: "in2"), from: TwoAccountRig.caller)
        try rig.reactor.run(for: 10 * Self.ms)
        #expect(rig.agents[1].calls.map { $0.callID } == ["in2"])
        #expect(rig.agents[1].calls.first?.accountNumber == 2)
        #expect(rig.agents[0].calls.isEmpty)
        rig.deliver(try TwoAccountRig.invite(to: "7777", callID: "in1"), from: TwoAccountRig.caller)
        try rig.reactor.run(for: 10 * Self.ms)
        #expect(rig.agents[0].calls.map { $0.callID } == ["in1"])
        #expect(rig.agents[0].calls.first?.accountNumber == 1)
        // Call numbers are the phone's, unique over both accounts.
        #expect(rig.agents[1].calls[0].id != rig.agents[0].calls[0].id)
        // The retransmitted INVITE is absorbed by account 2's server transaction (no second call).
        rig.deliver(try TwoAccountRig.invite(to: "1002", callID: "in2"), from: TwoAccountRig.caller)
        try rig.reactor.run(for: 10 * Self.ms)
        #expect(rig.agents[1].calls.count == 1)
        // Answered on account 2: the 200 names account 2's user in its Contact, the caller's BYE
        // (To tag = the dialog's) reaches account 2's call.
        let call = try #require(rig.agents[1].calls.first)
        #expect(call.answer())
        try rig.reactor.run(for: 10 * Self.ms)
        let ok = try #require(rig.responses.last { $0.status == 200 && $0.callID == "in2" })
        #expect(ok.header("Contact")?.contains("sip:1002@") == true)
        let tag = try #require(ok.to.tag)
        let bye =
            "BYE sip:1002@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKbye2\r\n"
            + "From: <sip:3001@192.0.2.2>;tag=caller\r\nTo: <sip:1002@192.0.2.2>;tag=" + tag + "\r\n"
            + "Call-ID: in2\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        rig.deliver(try SIPMessage.parse(Array(bye.utf8)), from: TwoAccountRig.caller)
        try rig.reactor.run(for: 10 * Self.ms)
        #expect(rig.agents[1].calls.isEmpty)
        #expect(rig.responses.last?.cseq.method == .bye && rig.responses.last?.status == 200)
        #expect(rig.agents[0].calls.count == 1)
    }

    @Test("a call on account 2 uses its From, server and credentials while account 1 refreshes")
    func outgoingOnAccountTwoDuringRefresh() throws {
        let rig = try TwoAccountRig.started(server1: .answer(200), server2: .challenge)
        defer { rig.close() }
        try rig.reactor.run(for: 100 * Self.ms)
        #expect(rig.agents.allSatisfy { $0.registration?.state == .registered(expires: 60) })
        // Just before account 1's refresh (30 s): the call on account 2 starts.
        try rig.reactor.run(for: 29_950 * Self.ms)
        let call = try rig.agents[1].call("3001")
        try rig.reactor.run(for: 1 * SIPTimerValues.second)
        let invites = rig.requests.filter { $0.message.method == .invite }
        #expect(invites.map { $0.to } == [TwoAccountRig.server2Address, TwoAccountRig.server2Address])
        #expect(invites.allSatisfy { $0.message.from.uri.description == "sip:1002@192.0.2.2" })
        #expect(invites.first?.message.from.displayName == "Line Two")
        #expect(invites.last?.message.header("Authorization")?.contains("username=\"auth1002\"") == true)
        #expect(call.state == .ringing(early: false) || call.state == .ringing(early: true))
        // Account 1 refreshed meanwhile, at its own server, and stays registered.
        #expect(rig.registers(to: TwoAccountRig.server1Address).count == 2)
        #expect(rig.registers(to: TwoAccountRig.server1Address).allSatisfy { $0.from.uri.user == "1001" })
        #expect(rig.agents[0].registration?.state == .registered(expires: 60))
        #expect(rig.agents[0].calls.isEmpty)
    }

    @Test("one account: every message goes to it")
    func singleAccount() throws {
        let rig = try TwoAccountRig()
        defer { rig.close() }
        let message = try TwoAccountRig.invite(to: "1002", callID: "x")
        #expect(SIPAccountRouting.index(for: message, among: [rig.agents[0]]) == 0)
        #expect(SIPAccountRouting.index(for: message, among: rig.agents) == 1)
    }
}
