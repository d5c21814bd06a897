import Testing
import Voice

@testable import SIP

/// The account's provisioning keys (see SIPAccountConfiguration.swift for the list).
@Suite("SIP account configuration from provisioning files")
struct UserAgentConfigurationTests {
    static func parse(_ lines: String) throws(ConfigErrorBox) -> SIPAccountConfiguration {
        do {
            return try SIPAccountConfiguration.parse(text: "#!version:1.0.0.1\n" + lines, path: "phone.cfg")
        } catch {
            throw ConfigErrorBox(text: error.description)
        }
    }

    struct ConfigErrorBox: Error { let text: String }

    static func error(_ lines: String) -> String? {
        do {
            _ = try parse(lines)
            return nil
        } catch {
            return error.text
        }
    }

    @Test("a full account: server, transport, expires, codecs, ptime, listen port")
    func fullAccount() throws {
        let account = try Self.parse(
            """
            account.1.enable = 1
            account.1.user_name = 1001
            account.1.auth_name = auth1001
            account.1.password = "s3cret"
            account.1.display_name = Front Desk
            account.1.sip_server.1.address = 192.0.2.5
            account.1.sip_server.1.port = 5080
            account.1.sip_server.1.transport = tcp
            account.1.sip_server.1.expires = 600
            account.1.codecs = pcma, G722 ,opus
            account.1.ptime = 30
            sip.listen_port = 5062
            """)
        #expect(account.enabled)
        #expect(account.userName == "1001" && account.authName == "auth1001" && account.password == "s3cret")
        #expect(account.displayName == "Front Desk")
        let server = SIPSocketAddress(ipv4: 192, 0, 2, 5, port: 5080)
        #expect(account.serverPeer == SIPPeer(transport: .tcp, remote: server))
        #expect(account.expires == 600 && account.ptime == 30 && account.listenPort == 5062)
        #expect(account.codecs == [CodecRegistry.pcma, CodecRegistry.g722, CodecRegistry.opus])
        #expect(!account.isDirectIP)
    }

    @Test("defaults: direct-IP mode without a server, auth name = user name, Yealink transport numbers")
    func defaults() throws {
        let direct = try Self.parse("account.1.user_name = 1002\n")
        #expect(direct.isDirectIP && !direct.enabled && direct.serverPeer == nil)
        #expect(direct.authName == "1002" && direct.expires == 3600 && direct.listenPort == 5060)
        #expect(direct.codecs == [CodecRegistry.g722, CodecRegistry.pcmu, CodecRegistry.pcma])
        let udp = try Self.parse("account.1.sip_server.1.address = 10.0.0.1\naccount.1.sip_server.1.transport = 0\n")
        #expect(udp.transport == .udp && !udp.enabled)
        let tcp = try Self.parse("account.1.sip_server.1.address = 10.0.0.1\naccount.1.sip_server.1.transport = 1\n")
        #expect(tcp.transport == .tcp)
    }

    @Test("Yealink codec table: enabled known codecs by priority, unknown names skipped")
    func yealinkCodecs() throws {
        let account = try Self.parse(
            """
            account.1.codec.1.enable = 1
            account.1.codec.1.payload_type = PCMU
            account.1.codec.1.priority = 3
            account.1.codec.2.enable = 1
            account.1.codec.2.payload_type = G729
            account.1.codec.2.priority = 1
            account.1.codec.3.enable = 1
            account.1.codec.3.payload_type = G722
            account.1.codec.3.priority = 2
            account.1.codec.4.enable = 0
            account.1.codec.4.payload_type = PCMA
            account.1.codec.4.priority = 1
            """)
        #expect(account.codecs == [CodecRegistry.g722, CodecRegistry.pcmu])
        #expect(Self.error("account.1.codec.1.enable = 1\naccount.1.codec.1.payload_type = G729\n") != nil)
        #expect(Self.error("account.1.codec.1.priority = high\n")?.hasPrefix("phone.cfg:2: ") == true)
    }

    @Test("servers by name (RFC 3263): port 0 or absent = SRV, transport 3 = DNS-NAPTR, a backup server")
    func serversByName() throws {
        let account = try Self.parse(
            """
            account.1.enable = 1
            account.1.sip_server.1.address = PBX.example.com.
            account.1.sip_server.1.transport = 3
            account.1.sip_server.1.expires = 60
            account.1.sip_server.1.retry_counts = 1
            account.1.sip_server.2.address = backup.example.com
            account.1.sip_server.2.port = 5080
            account.1.sip_server.2.transport = tcp

            """)
        #expect(account.enabled && account.serverAddress == "PBX.example.com" && account.serverPeer == nil)
        #expect(
            account.servers == [
                SIPServerConfiguration(address: "PBX.example.com", port: nil, transport: nil, expires: 60, retryCounts: 1),
                SIPServerConfiguration(address: "backup.example.com", port: 5080, transport: .tcp),
            ])
        // retry counts 1: T1 + 2·T1; 3: 7.5 s; 20: capped at Timer F.
        #expect(account.servers[0].attemptNanoseconds(t1: 500_000_000) == 1_500_000_000)
        #expect(account.servers[1].attemptNanoseconds(t1: 500_000_000) == 7_500_000_000)
        var patient = account.servers[1]
        patient.retryCounts = 20
        #expect(patient.attemptNanoseconds(t1: 500_000_000) == 32_000_000_000)
        // A literal without a port is 5060; port 0 too.
        let literal = try Self.parse("account.1.sip_server.1.address = 10.0.0.1\naccount.1.sip_server.1.port = 0\n")
        #expect(literal.servers.first?.port == 5060 && literal.serverPeer?.remote.port == 5060)
        #expect(account.description.contains("at PBX.example.com NAPTR, expires 60, retry counts 1, backup"))
    }

    @Test("invalid values are rejected with file:line")
    func invalid() {
        #expect(Self.error("account.1.sip_server.1.transport = 4\n")?.hasPrefix("phone.cfg:2: ") == true)
        #expect(Self.error("\naccount.1.sip_server.1.port = 70000\n")?.hasPrefix("phone.cfg:3: ") == true)
        #expect(Self.error("account.1.sip_server.1.expires = 5\n")?.hasPrefix("phone.cfg:2: ") == true)
        #expect(Self.error("account.1.codecs = pcmu, g729\n")?.contains("unknown codec 'g729'") == true)
        #expect(Self.error("account.1.ptime = 25\n")?.hasPrefix("phone.cfg:2: ") == true)
        #expect(Self.error("account.1.enable = maybe\n")?.hasPrefix("phone.cfg:2: ") == true)
        #expect(Self.error("account.1.user_name = a b\n")?.hasPrefix("phone.cfg:2: ") == true)
        #expect(
            Self.error("account.1.sip_server.1.address = pbx_example!\n")
                == "phone.cfg:2: account.1.sip_server.1.address = 'pbx_example!': expected an IP address or a host name")
        #expect(Self.error("account.1.sip_server.1.address = 10.0.0.1\naccount.1.sip_server.2.transport = sctp\n")?
            .hasPrefix("phone.cfg:3: ") == true)
        #expect(Self.error("account.1.sip_server.2.retry_counts = 21\n")?.hasPrefix("phone.cfg:2: ") == true)
        #expect(Self.error("sip.listen_port = -1\n")?.hasPrefix("phone.cfg:2: ") == true)
    }

    @Test("the UA in direct-IP mode places calls only to URIs with an IP host")
    func directIPTargets() throws {
        let scripted = try ScriptedPeerUA(account: SIPAccountConfiguration(userName: "1001"))
        defer { scripted.close() }
        #expect(scripted.ua.registration == nil)
        #expect(throws: SIPError.self) { _ = try scripted.ua.call("1002") }
        #expect(throws: SIPError.self) { _ = try scripted.ua.call("sip:1002@pbx.example.com") }
        let call = try scripted.ua.call("sip:1002@127.0.0.1:5062")
        #expect(call.state == .calling)
        let invite = try #require(scripted.requests.first?.message)
        #expect(invite.requestURI?.description == "sip:1002@127.0.0.1:5062")
        #expect(invite.contentType == "application/sdp")
        #expect(invite.header("Contact") == "<sip:1001@192.0.2.10:5060>")
    }
}
