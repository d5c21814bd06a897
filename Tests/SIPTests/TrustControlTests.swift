import Reactor
import Testing

@testable import SIP

/// `sip.trust_ctrl`: requests only from the account's SIP server (vendor phones' "accept SIP
/// trust server only"), against a real UDP transport on loopback.
@Suite("sip.trust_ctrl: requests only from the SIP server")
struct TrustControlTests {
    @Test("the key: off by default, on needs a server, the server's address is trusted on any port")
    func configuration() throws {
        #expect(try UserAgentConfigurationTests.parse("account.1.user_name = 1001\n").trustServerOnly == false)
        let on = try UserAgentConfigurationTests.parse(
            "account.1.sip_server.1.address = 192.0.2.7\nsip.trust_ctrl = 1\n")
        #expect(on.trustServerOnly)
        #expect(on.accepts(requestFrom: SIPSocketAddress(ipv4: 192, 0, 2, 7, port: 5090)))
        #expect(!on.accepts(requestFrom: SIPSocketAddress(ipv4: 192, 0, 2, 8, port: 5060)))
        let error = UserAgentConfigurationTests.error("sip.trust_ctrl = 1\n")
        #expect(error?.contains("phone.cfg:2: sip.trust_ctrl = 1 needs a server") == true)
    }

    /// An OPTIONS from 127.0.0.1 to a user agent whose server is `server`; what came back.
    static func ping(server: String, port: UInt16) throws -> (answer: String, dropped: Int, log: [String]) {
        var account = SIPAccountConfiguration(userName: "1001", serverAddress: server, enabled: false)
        account.trustServerOnly = true
        let h = try UserAgentHarness(port: port, account: account)
        defer { h.close() }
        let stranger = TransportTestPeer()
        let via = "SIP/2.0/UDP 127.0.0.1:" + String(stranger.localAddress.port) + ";branch=z9hG4bKtrust1"
        stranger.sendTo(sampleRequest("OPTIONS", via: via), h.transport.localAddress(for: .udp)!)
        stranger.sendTo(sampleRequest("INVITE", via: via + "2", callID: "trust-invite"), h.transport.localAddress(for: .udp)!)
        try h.run(until: { h.ua.untrustedRequestsDropped == 2 || stranger.poll() > 0 }, seconds: 1)
        try h.reactor.run(for: 100_000_000)
        stranger.poll()
        return (stranger.receivedText, h.ua.untrustedRequestsDropped, h.log)
    }

    @Test("a stranger's OPTIONS and INVITE get no answer at all, and no call starts")
    func strangerDropped() throws {
        let result = try Self.ping(server: "127.0.0.2", port: 25095)
        #expect(result.answer.isEmpty)
        #expect(result.dropped == 2)
        #expect(result.log.contains { $0.contains("OPTIONS from 127.0.0.1:") && $0.contains("(sip.trust_ctrl)") })
    }

    @Test("the server's own requests are answered")
    func serverAnswered() throws {
        let result = try Self.ping(server: "127.0.0.1", port: 25096)
        #expect(result.answer.hasPrefix("SIP/2.0 200 OK"))
        #expect(result.dropped == 0)
    }
}
