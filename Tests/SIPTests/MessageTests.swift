import Testing

@testable import SIP

/// A typical INVITE with SDP (also the benchmark message).
let typicalInvite: [UInt8] = Array(
    ("INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        + "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
        + "Max-Forwards: 70\r\n"
        + "To: Bob <sip:bob@biloxi.example.com>\r\n"
        + "From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        + "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
        + "CSeq: 314159 INVITE\r\n"
        + "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
        + "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n"
        + "Content-Type: application/sdp\r\n"
        + "Content-Length: 149\r\n"
        + "\r\n"
        + "v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\ns=-\r\n"
        + "c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n").utf8)

func text(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("SIP message parsing and serialization")
struct MessageTests {
    @Test("a typical INVITE parses into its typed core headers")
    func typicalInviteParses() throws {
        let m = try SIPMessage.parse(typicalInvite)
        #expect(m.isRequest)
        #expect(m.method == .invite)
        #expect(m.requestURI?.user == "bob")
        #expect(m.requestURI?.host == .name("biloxi.example.com"))
        #expect(m.via.count == 1)
        #expect(m.via[0].transport == "UDP")
        #expect(m.via[0].host == .name("pc33.atlanta.example.com"))
        #expect(m.via[0].port == 5060)
        #expect(m.via[0].branch == "z9hG4bK776asdhds")
        #expect(m.via[0].rport == .some(nil))
        #expect(m.maxForwards == 70)
        #expect(m.to.displayName == "Bob")
        #expect(m.to.tag == nil)
        #expect(m.from.displayName == "Alice")
        #expect(m.from.tag == "1928301774")
        #expect(m.callID == "a84b4c76e66710@pc33.atlanta.example.com")
        #expect(m.cseq == SIPCSeq(number: 314159, method: .invite))
        #expect(m.contacts.count == 1)
        #expect(m.contacts[0].address?.uri.host == .name("pc33.atlanta.example.com"))
        #expect(m.contentType == "application/sdp")
        #expect(m.headers("Allow") == ["INVITE", "ACK", "CANCEL", "OPTIONS", "BYE"])
        #expect(m.body.count == 149)
        #expect(m.header("l") == "149")
    }

    @Test("serialization is canonical and re-parses to an equal message")
    func roundTrip() throws {
        let m = try SIPMessage.parse(typicalInvite)
        let out = m.serialized()
        #expect(String(decoding: out, as: UTF8.self) == String(decoding: typicalInvite, as: UTF8.self))
        #expect(try SIPMessage.parse(out) == m)
    }

    @Test("compact names, folding and case-insensitive names are canonicalized")
    func compactAndFolded() throws {
        let raw = text(
            "OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
                + "v: SIP/2.0/TCP host.example.com;branch=z9hG4bKx\r\n"
                + "f: <sip:a@b.example.com>;tag=1\r\n"
                + "t: sip:carol@chicago.example.com\r\n"
                + "i: abc\r\n"
                + "cseq: 2\r\n  OPTIONS\r\n"
                + "subject: hello\r\n\tworld\r\n"
                + "X-Custom:  kept as is \r\n"
                + "k: 100rel\r\n"
                + "l: 0\r\n\r\n")
        let m = try SIPMessage.parse(raw)
        #expect(m.cseq.number == 2)
        #expect(m.header("Subject") == "hello world")
        #expect(m.header("x-custom") == "kept as is")
        #expect(m.header("Supported") == "100rel")
        let s = String(decoding: m.serialized(), as: UTF8.self)
        #expect(s.contains("\r\nVia: SIP/2.0/TCP host.example.com;branch=z9hG4bKx\r\n"))
        #expect(s.contains("\r\nCSeq: 2 OPTIONS\r\n"))
        #expect(s.contains("\r\nCall-ID: abc\r\n"))
        #expect(s.contains("\r\nSubject: hello world\r\n"))
        #expect(s.hasSuffix("Content-Length: 0\r\n\r\n"))
        #expect(try SIPMessage.parse(m.serialized()) == m)
    }

    @Test("datagram Content-Length rules of RFC 3261 §18.3")
    func contentLength() throws {
        let head =
            "MESSAGE sip:a@b.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
            + "From: <sip:c@d.example.com>;tag=9\r\nTo: <sip:a@b.example.com>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\n"
        let shorter = try SIPMessage.parse(text(head + "Content-Length: 3\r\n\r\nhello"))
        #expect(shorter.body == text("hel"))
        let absent = try SIPMessage.parse(text(head + "\r\nhello"))
        #expect(absent.body == text("hello"))
        #expect(throws: SIPError("Content-Length 200 exceeds the 5 body bytes")) {
            try SIPMessage.parse(text(head + "Content-Length: 200\r\n\r\nhello"))
        }
    }

    @Test("responses copy the request's dialog headers and add the To tag")
    func responseToRequest() throws {
        let invite = try SIPMessage.parse(typicalInvite)
        let ringing = SIPMessage.response(to: invite, status: 180, toTag: "abc")
        #expect(ringing.status == 180)
        #expect(ringing.reason == "Ringing")
        #expect(ringing.to.tag == "abc")
        #expect(ringing.via == invite.via)
        #expect(ringing.cseq == invite.cseq)
        let reparsed = try SIPMessage.parse(ringing.serialized())
        #expect(reparsed == ringing)
        #expect(reparsed.to.tag == "abc")
        let trying = SIPMessage.response(to: invite, status: 100, toTag: "abc")
        #expect(trying.to.tag == nil)
    }

    @Test("a built request serializes and re-parses equal")
    func buildRequest() throws {
        let uri = try SIPURI(parsing: "sip:bob@[2001:db8::1]:5070;transport=tcp")
        #expect(uri.host == .ipv6("2001:db8::1"))
        #expect(uri.port == 5070)
        #expect(uri.parameter("transport") == .some("tcp"))
        #expect(uri.parameter("lr") == nil)
        var from = SIPNameAddress(displayName: "A \"quoted\" name", uri: try SIPURI(parsing: "sip:alice@example.com"))
        from.tag = "t1"
        let to = SIPNameAddress(uri: uri)
        var via = SIPVia(transport: "udp", host: .ipv4("192.0.2.1"), port: 5060, branch: "z9hG4bKabc")
        via.rport = .some(nil)
        var m = SIPMessage.request(
            method: .register, uri: uri, from: from, to: to, callID: "c1@example.com", cseq: 7, via: via)
        try m.addHeader("Expires", "3600")
        m.body = text("x")
        let back = try SIPMessage.parse(m.serialized())
        #expect(back == m)
        #expect(back.from.displayName == "A \"quoted\" name")
        #expect(back.via[0].transport == "UDP")
        #expect(back.expires == 3600)
        #expect(throws: SIPError("Expires allows only one value")) { try m.addHeader("expires", "1") }
        #expect(throws: SIPError.self) { try m.addHeader("Max-Forwards", "256") }
        m.removeHeader("Via")
        #expect(m.via.isEmpty && m.header("Via") == nil)
    }
}
