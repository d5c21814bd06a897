import Reactor
import Testing

@testable import SIP

/// An outbound proxy (RFC 3261 §8.1.2; `account.N.outbound_proxy_enable`,
/// `account.N.outbound_proxy.M.*`): requests outside a dialog go to the proxy with its loose
/// route, the Request-URI stays the server's or the callee's.
@Suite("Outbound proxy: REGISTER and calls through a loose route")
struct OutboundProxyTests {
    static let ms: Int64 = 1_000_000
    static let proxy1 = SIPSocketAddress(ipv4: 192, 0, 2, 9, port: 5080)
    static let proxy2 = SIPSocketAddress(ipv4: 192, 0, 2, 19, port: 5060)

    /// A rig whose server is a name nobody resolves: only the proxies are located.
    static func rig(proxies: [SIPServerConfiguration]) throws -> TwoServerUA {
        try TwoServerUA(expires: 60) { account in
            account.servers = [SIPServerConfiguration(address: "pbx.example.com", port: nil, transport: .udp)]
            account.outboundProxies = proxies
        }
    }

    static func literal(_ text: String, _ port: UInt16) -> SIPServerConfiguration {
        SIPServerConfiguration(address: text, port: port, transport: .udp, retryCounts: 1)
    }

    @Test("REGISTER for the server's name goes to the proxy with its Route; so do calls, also to an IP")
    func registerAndCallThroughProxy() throws {
        let rig = try Self.rig(proxies: [Self.literal("192.0.2.9", 5080)])
        defer { rig.close() }
        rig.behaviour[Self.proxy1] = .answer(200)
        rig.ua.start()
        try rig.reactor.run(for: 100 * Self.ms)
        #expect(rig.ua.registration?.state == .registered(expires: 60))
        let register = try #require(rig.requests.first { $0.message.method == .register })
        #expect(register.to == Self.proxy1)
        #expect(register.message.requestURI?.description == "sip:pbx.example.com")
        #expect(register.message.headers("Route") == ["<sip:192.0.2.9:5080;lr>"])
        #expect(register.message.to.uri.description == "sip:1001@pbx.example.com")

        _ = try rig.ua.call("1002")
        _ = try rig.ua.call("sip:1003@198.51.100.7")
        try rig.reactor.run(for: 10 * Self.ms)
        let invites = rig.requests.filter { $0.message.method == .invite }
        #expect(invites.map { $0.to } == [Self.proxy1, Self.proxy1])
        #expect(invites.map { $0.message.requestURI?.description ?? "" } == ["sip:1002@pbx.example.com", "sip:1003@198.51.100.7"])
        #expect(invites.allSatisfy { $0.message.headers("Route") == ["<sip:192.0.2.9:5080;lr>"] })
    }

    @Test("a silent proxy 1: proxy 2 after its retry time, with proxy 2's Route, and calls follow it")
    func failoverToSecondProxy() throws {
        let rig = try Self.rig(proxies: [Self.literal("192.0.2.9", 5080), Self.literal("192.0.2.19", 5060)])
        defer { rig.close() }
        rig.behaviour[Self.proxy2] = .answer(200)
        rig.ua.start()
        try rig.reactor.run(for: 5 * SIPTimerValues.second)
        #expect(rig.registers(since: 0).map { $0.to } == [Self.proxy1, Self.proxy1, Self.proxy2])
        #expect(rig.ua.registration?.state == .registered(expires: 60))
        let last = try #require(rig.requests.last { $0.message.method == .register })
        #expect(last.message.headers("Route") == ["<sip:192.0.2.19:5060;lr>"])
        _ = try rig.ua.call("1002")
        try rig.reactor.run(for: 10 * Self.ms)
        let invite = try #require(rig.requests.first { $0.message.method == .invite })
        #expect(invite.to == Self.proxy2)
        #expect(invite.message.headers("Route") == ["<sip:192.0.2.19:5060;lr>"])
    }

    @Test("Service-Route (RFC 3608): calls carry it after the proxy's route, REGISTER never; each 2xx replaces it")
    func serviceRoute() throws {
        let rig = try Self.rig(proxies: [Self.literal("192.0.2.9", 5080)])
        defer { rig.close() }
        rig.behaviour[Self.proxy1] = .answer(200)
        rig.registerHeaders[Self.proxy1] = [("Service-Route", "<sip:orig@scscf.example.com;lr>, <sip:192.0.2.77;lr>")]
        var log: [String] = []
        rig.ua.onLog = { log.append($0) }
        rig.ua.start()
        try rig.reactor.run(for: 100 * Self.ms)
        #expect(rig.ua.serviceRoute.map(\.description) == ["<sip:orig@scscf.example.com;lr>", "<sip:192.0.2.77;lr>"])
        #expect(log.contains("registration: Service-Route <sip:orig@scscf.example.com;lr>, <sip:192.0.2.77;lr>"))
        _ = try rig.ua.call("1002")
        try rig.reactor.run(for: 10 * Self.ms)
        let invite = try #require(rig.requests.first { $0.message.method == .invite })
        #expect(invite.to == Self.proxy1)
        #expect(invite.message.requestURI?.description == "sip:1002@pbx.example.com")
        #expect(
            invite.message.headers("Route")
                == ["<sip:192.0.2.9:5080;lr>", "<sip:orig@scscf.example.com;lr>", "<sip:192.0.2.77;lr>"])
        // The refresh: REGISTER keeps only the proxy's route; a 2xx without Service-Route clears it,
        // a malformed one is ignored whole.
        rig.registerHeaders[Self.proxy1] = [("Service-Route", "<sip:ok@192.0.2.78;lr>, <not a uri")]
        try rig.reactor.run(for: 60 * SIPTimerValues.second)
        let refresh = try #require(rig.requests.last { $0.message.method == .register })
        #expect(refresh.message.headers("Route") == ["<sip:192.0.2.9:5080;lr>"])
        #expect(rig.ua.serviceRoute.isEmpty)
        #expect(log.contains { $0.hasPrefix("registration: Service-Route ignored: ") })
        #expect(log.contains("registration: Service-Route none"))
    }

    @Test("loose routes: a TCP proxy names its transport, a TLS proxy is sips:, a name keeps its SRV (no port)")
    func looseRouteForms() {
        #expect(SIPServerConfiguration(address: "192.0.2.9", port: 5080, transport: .tcp).looseRoute.description
            == "<sip:192.0.2.9:5080;transport=tcp;lr>")
        #expect(SIPServerConfiguration(address: "proxy.example.com", port: nil, transport: .tls).looseRoute.description
            == "<sips:proxy.example.com;lr>")
        #expect(SIPServerConfiguration(address: "proxy.example.com", port: nil, transport: nil).looseRoute.description
            == "<sip:proxy.example.com;lr>")
    }

    @Test("provisioning: enable, addresses, the account's transport by default, and the errors")
    func provisioning() throws {
        let account = try UserAgentConfigurationTests.parse(
            """
            account.1.enable = 1
            account.1.user_name = 1001
            account.1.sip_server.1.address = pbx.example.com
            account.1.sip_server.1.transport = 1
            account.1.outbound_proxy_enable = 1
            account.1.outbound_proxy.1.address = 192.0.2.9
            account.1.outbound_proxy.2.address = proxy2.example.com
            account.1.outbound_proxy.2.port = 5090
            account.1.outbound_proxy.2.transport = 0
            """)
        #expect(account.outboundProxies.count == 2)
        #expect(account.outboundProxies[0].address == "192.0.2.9")
        #expect(account.outboundProxies[0].port == 5060)
        #expect(account.outboundProxies[0].transport == .tcp)
        #expect(account.outboundProxies[1].port == 5090)
        #expect(account.outboundProxies[1].transport == .udp)
        #expect(account.description.contains("via outbound proxy 192.0.2.9:5060 TCP"))

        let off = try UserAgentConfigurationTests.parse(
            """
            account.1.sip_server.1.address = pbx.example.com
            account.1.outbound_proxy_enable = 0
            account.1.outbound_proxy.1.address = 192.0.2.9
            """)
        #expect(off.outboundProxies.isEmpty)
        #expect(
            UserAgentConfigurationTests.error(
                """
                account.1.sip_server.1.address = pbx.example.com
                account.1.outbound_proxy_enable = 1
                """)?.contains("outbound_proxy_enable = 1 needs account.1.outbound_proxy.1.address") == true)
        #expect(
            UserAgentConfigurationTests.error(
                """
                account.1.outbound_proxy_enable = 1
                account.1.outbound_proxy.1.address = 192.0.2.9
                """)?.contains("needs a server (account.1.sip_server.1.address)") == true)
        #expect(
            UserAgentConfigurationTests.error(
                """
                account.1.sip_server.1.address = pbx.example.com
                account.1.outbound_proxy_enable = 1
                account.1.outbound_proxy.1.address = not a host
                """)?.contains("outbound_proxy.1.address = 'not a host'") == true)
    }
}
