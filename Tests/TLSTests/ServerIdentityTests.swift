import Testing

@testable import TLS

@Suite("RFC 5922 server identity (pure): DNS-ID, wildcards, IP literals, URI SANs, CN")
struct ServerIdentityTests {
    @Test("a dNSName matches case-insensitively, with or without a trailing dot")
    func dnsName() {
        let names = CertificateNames(dnsNames: ["PBX.Example.com"])
        #expect(ServerIdentity.matches(names, wanted: "pbx.example.com"))
        #expect(ServerIdentity.matches(names, wanted: "pbx.EXAMPLE.com."))
        #expect(!ServerIdentity.matches(names, wanted: "pbx.example.co"))
        #expect(!ServerIdentity.matches(names, wanted: "xpbx.example.com"))
        #expect(!ServerIdentity.matches(names, wanted: ""))
    }

    @Test("a wildcard counts only as the whole left-most label over two or more labels")
    func wildcard() {
        let names = CertificateNames(dnsNames: ["*.example.com"])
        #expect(ServerIdentity.matches(names, wanted: "a.example.com"))
        #expect(ServerIdentity.matches(names, wanted: "A.Example.COM"))
        #expect(!ServerIdentity.matches(names, wanted: "example.com"))
        #expect(!ServerIdentity.matches(names, wanted: "a.b.example.com"))
        #expect(!ServerIdentity.matches(names, wanted: ".example.com"))
        #expect(!ServerIdentity.matches(CertificateNames(dnsNames: ["f*.example.com"]), wanted: "foo.example.com"))
        #expect(!ServerIdentity.matches(CertificateNames(dnsNames: ["*oo.example.com"]), wanted: "foo.example.com"))
        #expect(!ServerIdentity.matches(CertificateNames(dnsNames: ["a.*.example.com"]), wanted: "a.b.example.com"))
        #expect(!ServerIdentity.matches(CertificateNames(dnsNames: ["*.com"]), wanted: "example.com"))
        #expect(!ServerIdentity.matches(CertificateNames(dnsNames: ["*"]), wanted: "example"))
        #expect(!ServerIdentity.matches(CertificateNames(dnsNames: ["*.*.example.com"]), wanted: "a.b.example.com"))
    }

    @Test("an IP literal matches only an iPAddress entry, never a dNSName or the CN")
    func ipLiteral() {
        let v4 = CertificateNames(dnsNames: ["192.0.2.10"], ipAddresses: [[192, 0, 2, 10]], commonName: "192.0.2.10")
        #expect(ServerIdentity.matches(v4, wanted: "192.0.2.10"))
        #expect(!ServerIdentity.matches(v4, wanted: "192.0.2.11"))
        let textOnly = CertificateNames(dnsNames: ["192.0.2.10"], commonName: "192.0.2.10")
        #expect(!ServerIdentity.matches(textOnly, wanted: "192.0.2.10"))
        let cnOnly = CertificateNames(commonName: "192.0.2.10")
        #expect(!ServerIdentity.matches(cnOnly, wanted: "192.0.2.10"))
        var v6Bytes = [UInt8](repeating: 0, count: 16)
        v6Bytes[0] = 0x20
        v6Bytes[1] = 0x01
        v6Bytes[2] = 0x0d
        v6Bytes[3] = 0xb8
        v6Bytes[15] = 1
        let v6 = CertificateNames(ipAddresses: [v6Bytes])
        #expect(ServerIdentity.matches(v6, wanted: "2001:db8::1"))
        #expect(ServerIdentity.matches(v6, wanted: "[2001:DB8:0::1]"))
        #expect(!ServerIdentity.matches(v6, wanted: "2001:db8::2"))
        #expect(ServerIdentity.isIPLiteral("10.0.0.1") && ServerIdentity.isIPLiteral("[::1]"))
        #expect(!ServerIdentity.isIPLiteral("pbx.test") && !ServerIdentity.isIPLiteral("10.0.0"))
    }

    @Test("a sip: URI SAN names its domain exactly: no user part, no wildcard, other schemes ignored")
    func sipURI() {
        let names = CertificateNames(uris: [
            "sip:Example.com", "sips:other.test", "sip:alice@user.test", "sip:*.wild.test",
        ])
        #expect(ServerIdentity.matches(names, wanted: "example.com"))
        #expect(!ServerIdentity.matches(names, wanted: "other.test"))
        #expect(!ServerIdentity.matches(names, wanted: "user.test"))
        #expect(!ServerIdentity.matches(names, wanted: "a.wild.test"))
        #expect(ServerIdentity.matches(CertificateNames(uris: ["SIP:pbx.test;transport=tls"]), wanted: "pbx.test"))
        #expect(ServerIdentity.matches(CertificateNames(uris: ["sip:pbx.test:5061"]), wanted: "pbx.test"))
    }

    @Test("the CN is used only when there is no dNSName and no URI entry")
    func commonName() {
        #expect(ServerIdentity.matches(CertificateNames(commonName: "pbx.test"), wanted: "pbx.test"))
        #expect(ServerIdentity.matches(CertificateNames(commonName: "*.test.org"), wanted: "pbx.test.org"))
        #expect(
            !ServerIdentity.matches(
                CertificateNames(dnsNames: ["other.test"], commonName: "pbx.test"), wanted: "pbx.test"))
        #expect(
            !ServerIdentity.matches(
                CertificateNames(uris: ["sip:other.test"], commonName: "pbx.test"), wanted: "pbx.test"))
        // An iPAddress SAN alone does not hide the CN for a host name.
        #expect(
            ServerIdentity.matches(
                CertificateNames(ipAddresses: [[10, 0, 0, 1]], commonName: "pbx.test"), wanted: "pbx.test"))
    }
}
