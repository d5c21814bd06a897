import Testing

@testable import SIP

@Suite("RFC 5118 IPv6 torture messages")
struct TortureRFC5118Tests {
    @Test("4.1 ipv6-good: IPv6 references in Request-URI, Via and Contact")
    func good() throws {
        let m = try parseValid("rfc5118", "ipv6-good")
        #expect(m.requestURI?.host == .ipv6("2001:db8::10"))
        #expect(m.requestURI?.port == nil)
        #expect(m.via.first?.host == .ipv6("2001:db8::9:1"))
        #expect(m.contacts.first?.address?.uri.host == .ipv6("2001:db8::1"))
        #expect(m.contacts.first?.address?.displayName == "Caller")
    }

    @Test("4.2 ipv6-bad: an IPv6 Request-URI host without brackets is a 400")
    func bad() throws {
        let bytes = fixture("rfc5118", "ipv6-bad")
        let error = try #require(parseResult(bytes).error)
        #expect(
            error.message == "invalid Request-URI: IPv6 address '2001:db8::10' in a URI must be enclosed in '[' ']'")
        #expect(error.status == 400)
        let response = try #require(SIPMessage.rejection(of: bytes, error: error))
        #expect(response.status == 400)
        #expect(response.cseq == SIPCSeq(number: 98176, method: .register))
    }

    @Test("4.3 port-ambiguous: [2001:db8::10:5070] is an address without a port")
    func portAmbiguous() throws {
        let m = try parseValid("rfc5118", "port-ambiguous")
        #expect(m.requestURI?.host == .ipv6("2001:db8::10:5070"))
        #expect(m.requestURI?.port == nil)
    }

    @Test("4.4 port-unambiguous: [2001:db8::10]:5070 has port 5070")
    func portUnambiguous() throws {
        let m = try parseValid("rfc5118", "port-unambiguous")
        #expect(m.requestURI?.host == .ipv6("2001:db8::10"))
        #expect(m.requestURI?.port == 5070)
    }

    @Test("4.5 received with and without IPv6 brackets")
    func received() throws {
        let with = try parseValid("rfc5118", "via-received-param-with-delim")
        #expect(with.via.first?.received == "[2001:db8::9:255]")
        #expect(with.via.first?.branch == "z9hG4bKas3-111")
        let without = try parseValid("rfc5118", "via-received-param-no-delim")
        #expect(without.via.first?.received == "2001:db8::9:255")
        #expect(without.via.first?.branch == "z9hG4bKas3")
    }

    @Test("4.6 ipv6-in-sdp: as printed, Content-Length exceeds the body, so a datagram is refused")
    func ipv6InSDP() throws {
        let error = try #require(parseResult(fixture("rfc5118", "ipv6-in-sdp")).error)
        #expect(error == SIPError("Content-Length 268 exceeds the 251 body bytes"))
    }

    @Test("4.7 mult-ip-in-header: IPv4 and IPv6 Via values")
    func multipleInHeader() throws {
        let m = try parseValid("rfc5118", "mult-ip-in-header")
        #expect(m.via.map(\.host) == [.ipv6("2001:db8::9:1"), .ipv4("192.0.2.1"), .ipv6("2001:db8::9:255")])
        #expect(m.via[0].port == 6050)
        #expect(m.via[2].transport == "TCP")
        #expect(m.via[2].received == "192.0.2.200")
    }

    @Test("4.8 mult-ip-in-sdp and 4.9 ipv4-mapped-ipv6: the body is cut at Content-Length")
    func sdpBodies() throws {
        let multi = try parseValid("rfc5118", "mult-ip-in-sdp")
        #expect(multi.body.count == 181)
        let mapped = try parseValid("rfc5118", "ipv4-mapped-ipv6")
        #expect(mapped.body.count == 236)
        #expect(mapped.via.map(\.host) == [.ipv6("::ffff:192.0.2.10"), .ipv6("::ffff:192.0.2.2")])
        #expect(mapped.via[0].port == 19823)
        #expect(mapped.contacts.first?.address?.uri.host == .ipv6("::ffff:192.0.2.2"))
        #expect(mapped.contacts.first?.address?.displayName == "T. desk phone")
    }

    @Test("4.10 both the RFC 3261 three-colon and the RFC 4291 two-colon IPv4-in-IPv6 forms")
    func abnf() throws {
        let three = try parseValid("rfc5118", "ipv6-bug-abnf-3-colons")
        #expect(three.requestURI?.host == .ipv6("2001:db8:::192.0.2.1"))
        #expect(three.to.uri.host == .ipv6("2001:db8:::192.0.2.1"))
        let two = try parseValid("rfc5118", "ipv6-correct-abnf-2-colons")
        #expect(two.requestURI?.host == .ipv6("2001:db8::192.0.2.1"))
    }

    @Test("every fixture of the suite is covered")
    func coverage() {
        #expect(
            fixtureNames("rfc5118") == [
                "ipv4-mapped-ipv6", "ipv6-bad", "ipv6-bug-abnf-3-colons", "ipv6-correct-abnf-2-colons", "ipv6-good",
                "ipv6-in-sdp", "mult-ip-in-header", "mult-ip-in-sdp", "port-ambiguous", "port-unambiguous",
                "via-received-param-no-delim", "via-received-param-with-delim",
            ])
    }
}
