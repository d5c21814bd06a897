import Net
import Reactor
import Testing

@testable import SIP

/// SIP over TLS without a socket: the transport number, the default port, `sips:` Contact and
/// Request-URIs (RFC 5630), `SIP/2.0/TLS` Via, `_sips._tcp` SRV and NAPTR `SIPS+D2T` (RFC 3263).
@Suite("SIP over TLS: configuration, sips: URIs, Via, server location")
struct SIPOverTLSTests {
    static let first: @Sendable (UInt32) -> UInt32 = { _ in 0 }

    @Test("transport 2 (Yealink numbering) or 'tls' is TLS; a literal's default port is then 5061")
    func configuration() throws {
        let account = try SIPAccountConfiguration.parse(
            text: "#!version:1.0.0.1\naccount.1.enable = 1\naccount.1.sip_server.1.address = 192.0.2.1\n"
                + "account.1.sip_server.1.transport = 2\naccount.1.sip_server.2.address = pbx.test\n"
                + "account.1.sip_server.2.transport = TLS\n",
            path: "phone.cfg")
        #expect(account.transport == .tls)
        #expect(account.serverPort == 5061)
        #expect(account.serverPeer == SIPPeer(transport: .tls, remote: SIPSocketAddress(ipv4: 192, 0, 2, 1, port: 5061)))
        #expect(account.servers[1].transport == .tls && account.servers[1].port == nil)
        #expect(account.servers[0].description == "192.0.2.1:5061 TLS, expires 3600, retry counts 3")
        let explicit = try SIPAccountConfiguration.parse(
            text: "#!version:1.0.0.1\naccount.1.sip_server.1.address = 192.0.2.1\n"
                + "account.1.sip_server.1.transport = 2\naccount.1.sip_server.1.port = 5071\n",
            path: "phone.cfg")
        #expect(explicit.serverPeer?.remote.port == 5071)
        #expect(SIPTransportProtocol(parameterValue: "TLS") == .tls)
        #expect(SIPTransportProtocol(parameterValue: "sctp") == nil)
        #expect(SIPTransportProtocol.tls.isReliable && SIPTransportProtocol.tls.isStream)
        #expect(SIPTransportProtocol.tls.name == "TLS" && SIPTransportProtocol.tls.parameterValue == "tls")
    }

    @Test("the Contact is sips: on TLS, transport=tcp on TCP, plain on UDP; Via says SIP/2.0/TLS")
    func contactAndVia() throws {
        let secure = SIPUserAgent.contactURI(user: "1001", host: "127.0.0.1", port: 5070, transport: .tls)
        #expect(secure.description == "sips:1001@127.0.0.1:5070")
        #expect(secure.isSecure)
        let stream = SIPUserAgent.contactURI(user: "1001", host: "::1", port: 5070, transport: .tcp)
        #expect(stream.description == "sip:1001@[::1]:5070;transport=tcp")
        #expect(SIPUserAgent.contactURI(user: "1001", host: "10.0.0.2", port: 5060, transport: .udp).description
            == "sip:1001@10.0.0.2:5060")
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let account = SIPAccountConfiguration(
            userName: "1001", serverAddress: "127.0.0.1", serverPort: 5061, transport: .tls)
        let ua = SIPUserAgent(
            reactor: reactor, account: account, localHost: "127.0.0.1", localPort: 5070,
            mediaAddress: { _ in ("127.0.0.1", 0) }, send: { _, _ in true })
        defer { ua.close() }
        let via = ua.newVia(.tls)
        #expect(via.description.hasPrefix("SIP/2.0/TLS 127.0.0.1:5070;branch=z9hG4bK"))
        #expect(via.description.hasSuffix(";alias"))
        #expect(!ua.newVia(.udp).description.contains("alias") && ua.newVia(.udp).description.hasSuffix(";rport"))
        #expect(ua.contact(transport: .tls).description == "<sips:1001@127.0.0.1:5070>")
    }

    @Test("sips: and transport=tls URIs go over TLS on 5061 by default; a sips: URI never over UDP/TCP")
    func requestTargets() throws {
        let direct = SIPAccountConfiguration()
        let sips = try SIPURI(parsing: "sips:1002@192.0.2.9")
        #expect(SIPUserAgent.peer(for: sips, account: direct, serverPeer: nil)
            == SIPPeer(transport: .tls, remote: SIPSocketAddress(ipv4: 192, 0, 2, 9, port: 5061)))
        let param = try SIPURI(parsing: "sip:192.0.2.9:5081;transport=TLS;lr")
        #expect(SIPUserAgent.peer(for: param, account: direct, serverPeer: nil)
            == SIPPeer(transport: .tls, remote: SIPSocketAddress(ipv4: 192, 0, 2, 9, port: 5081)))
        // The account's TLS server (as a Record-Route names it) is the registered target.
        let account = SIPAccountConfiguration(userName: "1001", serverAddress: "127.0.0.1", serverPort: 5061, transport: .tls)
        let server = SIPPeer(transport: .tls, remote: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: 5061), connection: 4)
        let route = try SIPURI(parsing: "sip:127.0.0.1:5061;transport=tls;lr")
        #expect(SIPUserAgent.peer(for: route, account: account, serverPeer: server) == server)
        let number = try SIPURI(parsing: "sip:1002@pbx.test")
        #expect(SIPUserAgent.peer(for: number, account: account, serverPeer: server) == server)
        // A sips: URI for a name while the server is plain TCP: unreachable, not downgraded.
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let plain = SIPAccountConfiguration(userName: "1001", serverAddress: "127.0.0.1", transport: .tcp)
        let ua = SIPUserAgent(
            reactor: reactor, account: plain, localHost: "127.0.0.1", localPort: 5070,
            mediaAddress: { _ in ("127.0.0.1", 0) }, send: { _, _ in true })
        defer { ua.close() }
        #expect(ua.peer(for: try SIPURI(parsing: "sips:1002@pbx.test")) == nil)
        #expect(ua.peer(for: try SIPURI(parsing: "sip:1002@pbx.test"))?.transport == .tcp)
    }

    @Test("a literal TLS server is 5061; a TLS name asks _sips._tcp SRV, then its A records on 5061")
    func locateTLS() {
        let zone = LocatorZone()
        let literal = zone.run(SIPServerLocator(host: "192.0.2.5", transport: .tls, random: Self.first))
        #expect(literal.questions.isEmpty && literal.targets == [tls(192, 0, 2, 5, 5061, "192.0.2.5")])
        var named = LocatorZone()
        named.add("_sips._tcp.pbx.test", .srv, [.service(priority: 1, weight: 0, port: 5071, target: "sip1.pbx.test")])
        named.add("sip1.pbx.test", .a, [.address([127, 0, 0, 2])])
        let srv = named.run(SIPServerLocator(host: "pbx.test", transport: .tls, random: Self.first))
        #expect(srv.questions == ["_sips._tcp.pbx.test SRV", "sip1.pbx.test A"])
        #expect(srv.targets == [tls(127, 0, 0, 2, 5071, "sip1.pbx.test")])
        var bare = LocatorZone()
        bare.add("pbx.test", .a, [.address([127, 0, 0, 3])])
        let fallback = bare.run(SIPServerLocator(host: "pbx.test", transport: .tls, random: Self.first))
        #expect(fallback.questions == ["_sips._tcp.pbx.test SRV", "pbx.test A"])
        #expect(fallback.targets == [tls(127, 0, 0, 3, 5061, "pbx.test")])
    }

    @Test("NAPTR SIPS+D2T leads to TLS targets; secure-only drops the plain services")
    func naptrSIPS() {
        var zone = LocatorZone()
        zone.add(
            "pbx.test", .naptr,
            [
                .naming(order: 10, preference: 1, flags: "s", service: "SIP+D2U", regexp: "", replacement: "_sip._udp.pbx.test"),
                .naming(order: 20, preference: 1, flags: "s", service: "SIPS+D2T", regexp: "", replacement: "_sips._tcp.pbx.test"),
            ])
        zone.add("_sip._udp.pbx.test", .srv, [.service(priority: 1, weight: 0, port: 5060, target: "sip1.pbx.test")])
        zone.add("_sips._tcp.pbx.test", .srv, [.service(priority: 1, weight: 0, port: 5061, target: "sip1.pbx.test")])
        zone.add("sip1.pbx.test", .a, [.address([127, 0, 0, 2])])
        let any = zone.run(SIPServerLocator(host: "pbx.test", random: Self.first))
        #expect(any.targets == [udp(127, 0, 0, 2, 5060, "sip1.pbx.test"), tls(127, 0, 0, 2, 5061, "sip1.pbx.test")])
        // A sips: server (RFC 3263 §4.1): NAPTR still chooses, but only among SIPS+D2T.
        let secure = zone.run(SIPServerLocator(host: "pbx.test", secureOnly: true, random: Self.first))
        #expect(secure.questions == ["pbx.test NAPTR", "_sips._tcp.pbx.test SRV", "sip1.pbx.test A"])
        #expect(secure.targets == [tls(127, 0, 0, 2, 5061, "sip1.pbx.test")])
        // Without NAPTR records: `_sips._tcp` only, then the name's addresses on 5061.
        var bare = LocatorZone()
        bare.add("pbx.test", .a, [.address([127, 0, 0, 4])])
        let noNAPTR = bare.run(SIPServerLocator(host: "pbx.test", secureOnly: true, random: Self.first))
        #expect(noNAPTR.questions == ["pbx.test NAPTR", "_sips._tcp.pbx.test SRV", "pbx.test A"])
        #expect(noNAPTR.targets == [tls(127, 0, 0, 4, 5061, "pbx.test")])
        let literal = bare.run(SIPServerLocator(host: "192.0.2.5", secureOnly: true, random: Self.first))
        #expect(literal.targets == [tls(192, 0, 2, 5, 5061, "192.0.2.5")])
    }
}
