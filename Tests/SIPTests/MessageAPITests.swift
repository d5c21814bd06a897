import Testing

@testable import SIP

/// A minimal valid request with `extra` header lines inserted before Content-Length.
func request(
    _ startLine: String = "OPTIONS sip:bob@example.com SIP/2.0", extra: [String] = [],
    callID: String = "Call-ID: c1", body: String = ""
) -> [UInt8] {
    var lines = [
        startLine, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1", "From: <sip:a@example.com>;tag=f1",
        "To: <sip:bob@example.com>", callID,
        "CSeq: 1 " + (startLine.split(separator: " ").first.map(String.init) ?? ""),
    ]
    if callID.isEmpty { lines.remove(at: 4) }
    lines += extra
    return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
}

func parseError(_ bytes: [UInt8]) -> SIPError? { parseResult(bytes).error }

@Suite("SIP URIs (RFC 3261 §19.1, RFC 3966)")
struct URITests {
    @Test("sip, sips and tel URIs with their parts")
    func parts() throws {
        let u = try SIPURI(
            parsing: "SIPS:alice:secret@Atlanta.example.com:5061;transport=tls;lr?subject=hi%20there&x=1")
        #expect(u.scheme == "sips")
        #expect(u.isSecure)
        #expect(u.user == "alice" && u.password == "secret")
        #expect(u.host == .name("Atlanta.example.com") && u.port == 5061)
        #expect(u.parameter("TRANSPORT") == .some("tls"))
        #expect(u.parameter("lr") == .some(nil))
        #expect(u.headers == [SIPParameter(name: "subject", value: "hi there"), SIPParameter(name: "x", value: "1")])
        #expect(u.description == "sips:alice:secret@Atlanta.example.com:5061;transport=tls;lr?subject=hi%20there&x=1")
        #expect(try SIPURI(parsing: u.description) == u)

        let tel = try SIPURI(parsing: "tel:+1-201-555-0123;phone-context=example.com")
        #expect(tel.scheme == "tel" && tel.user == "+1-201-555-0123")
        #expect(tel.parameter("phone-context") == .some("example.com"))
        #expect(tel.description == "tel:+1-201-555-0123;phone-context=example.com")

        let v4 = try SIPURI(parsing: "sip:192.0.2.4")
        #expect(v4.host == .ipv4("192.0.2.4") && v4.user == nil)
        let v6 = try SIPURI(parsing: "sip:[::1]:5070")
        #expect(v6.host == .ipv6("::1") && v6.port == 5070 && v6.description == "sip:[::1]:5070")
    }

    @Test("invalid URIs name their defect; an unknown scheme is 416")
    func invalid() {
        #expect(throws: SIPError("invalid port in URI 'a@example.com:65536'")) {
            try SIPURI(parsing: "sip:a@example.com:65536")
        }
        #expect(throws: SIPError("invalid host '999.1.1.1'")) { try SIPURI(parsing: "sip:999.1.1.1") }
        #expect(throws: SIPError("invalid %-escape in URI user")) { try SIPURI(parsing: "sip:a%4@example.com") }
        #expect(throws: SIPError("unsupported URI scheme 'http'", status: 416)) {
            try SIPURI(parsing: "http://example.com/")
        }
        #expect(throws: SIPError("invalid IPv6 address '1::2::3'")) { try SIPURI(parsing: "sip:[1::2::3]") }
        #expect(throws: SIPError("empty user part in URI")) { try SIPURI(parsing: "sip:@example.com") }
        #expect(throws: SIPError.self) { try SIPURI(parsing: "sip:a b@example.com") }
    }

    @Test("IPv6 text forms")
    func ipv6() {
        for good in [
            "::", "::1", "2001:db8::", "2001:db8:0:0:0:0:0:1", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8",
            "2001:db8:::192.0.2.1",
        ] {
            #expect(SIPBytes.withBytesNoThrow(good) { SIPHost.isIPv6($0) }, "\(good)")
        }
        for bad in ["1:2:3:4:5:6:7:8:9", ":1", "1:", "12345::", "1::2::3", "::g", "1:2:3:4:5:6:7::8:9", ""] {
            #expect(!SIPBytes.withBytesNoThrow(bad) { SIPHost.isIPv6($0) }, "\(bad)")
        }
    }
}

@Suite("SIP header values")
struct HeaderValueTests {
    @Test("methods are case-sensitive validated tokens")
    func methods() throws {
        #expect(try SIPMethod("INVITE") == .invite)
        #expect(try SIPMethod("invite") == .other("invite"))
        #expect(try SIPMethod("FOO.BAR") == .other("FOO.BAR"))
        #expect(throws: SIPError("method 'IN VITE' is not a token")) { try SIPMethod("IN VITE") }
        #expect(throws: SIPError.self) { try SIPMethod("") }
    }

    @Test("Via parameters: branch, received, rport, maddr, ttl")
    func via() throws {
        var v = try SIPVia(
            parsing: "SIP/2.0/tcp [2001:db8::1]:5061;branch=z9hG4bK1;rport=4000;ttl=16;maddr=224.2.0.1;x")
        #expect(v.transport == "TCP")
        #expect(v.host == .ipv6("2001:db8::1") && v.port == 5061)
        #expect(v.branch == "z9hG4bK1")
        #expect(v.rport == .some(4000))
        #expect(v.ttl == 16 && v.maddr == "224.2.0.1")
        #expect(v.parameter("x") == .some(nil))
        v.received = "192.0.2.9"
        v.rport = .some(nil)
        v.branch = "z9hG4bK2"
        #expect(
            v.description
                == "SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2;rport;ttl=16;maddr=224.2.0.1;x;received=192.0.2.9")
        #expect(try SIPVia(parsing: v.description) == v)
        #expect(throws: SIPError("ttl must be 0-255")) { try SIPVia(parsing: "SIP/2.0/UDP h;ttl=256") }
        #expect(throws: SIPError("received 'nowhere' is not an IP address")) {
            try SIPVia(parsing: "SIP/2.0/UDP h;received=nowhere")
        }
        #expect(throws: SIPError("rport must be a port number")) { try SIPVia(parsing: "SIP/2.0/UDP h;rport=70000") }
        #expect(throws: SIPError("unsupported protocol 'SIP/3.0'")) { try SIPVia(parsing: "SIP/3.0/UDP h") }
    }

    @Test("name-addresses: quoted and token display names, addr-spec parameters, tags")
    func nameAddress() throws {
        var a = try SIPNameAddress(parsing: "\"A \\\"B\\\" \\\\ C\" <sip:a@example.com;transport=udp>;tag=1;x=\"y z\"")
        #expect(a.displayName == "A \"B\" \\ C")
        #expect(a.uri.parameter("transport") == .some("udp"))
        #expect(a.tag == "1")
        #expect(a.parameter("x") == .some("\"y z\""))
        a.tag = "2"
        #expect(try SIPNameAddress(parsing: a.description) == a)
        let bare = try SIPNameAddress(parsing: "sip:b@example.com;tag=9")
        #expect(bare.uri.parameters.isEmpty && bare.tag == "9")
        let words = try SIPNameAddress(parsing: "Bob   Smith <sip:b@example.com>")
        #expect(words.displayName == "Bob Smith")
        #expect(throws: SIPError("'<' without '>'")) { try SIPNameAddress(parsing: "<sip:a@example.com") }
        #expect(throws: SIPError("unexpected ',' where a ';' parameter was expected")) {
            try SIPNameAddress(parsing: "<sip:a@example.com>, <sip:b@example.com>")
        }
    }

    @Test("Contact: wildcard, expires and q")
    func contact() throws {
        #expect(try SIPContact(parsing: " * ").isWildcard)
        let c = try SIPContact(parsing: "<sip:a@192.0.2.1>;expires=3600;q=0.5")
        #expect(c.expires == 3600 && c.qThousandths == 500 && c.q == 0.5)
        #expect(try SIPContact(parsing: "<sip:a@h>;expires=99999999999999").expires == Int(UInt32.max))
        #expect(throws: SIPError("Contact q must be a qvalue 0-1")) { try SIPContact(parsing: "<sip:a@h>;q=1.5") }
        #expect(throws: SIPError("Contact expires must be delta-seconds")) {
            try SIPContact(parsing: "<sip:a@h>;expires=soon")
        }
    }

    @Test("CSeq: number below 2^31 and a method")
    func cseq() throws {
        #expect(try SIPCSeq(parsing: "2147483647 BYE") == SIPCSeq(number: 2_147_483_647, method: .bye))
        #expect(throws: SIPError("CSeq number 2147483648 exceeds 2^31-1")) { try SIPCSeq(parsing: "2147483648 BYE") }
        #expect(throws: SIPError("CSeq number not followed by a space and a method")) { try SIPCSeq(parsing: "1BYE") }
        #expect(throws: SIPError("trailing characters after the CSeq method")) { try SIPCSeq(parsing: "1 BYE x") }
    }
}

@Suite("SIP message rules and API")
struct MessageAPITests {
    @Test("core header errors name the header")
    func coreErrors() {
        #expect(parseError(request(callID: "")) == SIPError("missing Call-ID header"))
        #expect(
            parseError(request(extra: ["From: <sip:x@example.com>;tag=2"])) == SIPError("more than one From header"))
        #expect(
            parseError(request(extra: ["Max-Forwards: 256"]))
                == SIPError("malformed Max-Forwards header: Max-Forwards '256' is not a number 0-255"))
        #expect(
            parseError(request(extra: ["Content-Length: 99999999999999999999999"]))
                == SIPError("malformed Content-Length header: invalid Content-Length '99999999999999999999999'"))
        #expect(
            parseError(request(extra: ["Contact: *, <sip:a@b.example.com>"]))
                == SIPError("malformed Contact header: '*' must be the only Contact"))
        #expect(parseError(request(extra: ["Bad Name: x"])) == SIPError("malformed header line 7 'Bad Name: x'"))
        #expect(parseError(request(extra: ["X-A: \u{1}"])) == SIPError("control character 0x01 in header X-A"))
        #expect(
            parseError(request("OPTIONS http://example.com/ SIP/2.0"))
                == SIPError("invalid Request-URI: unsupported URI scheme 'http'", status: 416))
    }

    @Test("an unknown Request-URI scheme gets a 416 built from the request")
    func unsupportedScheme() throws {
        let bytes = request("OPTIONS nobody:opaque SIP/2.0")
        let error = try #require(parseError(bytes))
        #expect(error.status == 416)
        let response = try #require(SIPMessage.rejection(of: bytes, error: error, toTag: "t9"))
        #expect(response.status == 416 && response.reason == "Unsupported URI Scheme")
        #expect(response.to.tag == "t9" && response.cseq.method == .options)
        #expect(SIPMessage.rejection(of: request("ACK nobody:opaque SIP/2.0"), error: error) == nil)
    }

    @Test("bare LF line ends and leading CRLFs are accepted")
    func lenientFraming() throws {
        var text = String(decoding: request(), as: UTF8.self).replacingCRLF()
        text = "\r\n\r\n" + text
        let m = try SIPMessage.parse(Array(text.utf8))
        #expect(m.method == .options && m.callID == "c1")
    }

    @Test("header access by full and compact names, lists split outside quotes and <>")
    func headerAccess() throws {
        let m = try SIPMessage.parse(
            request(extra: [
                "m: <sip:a@h1.example.com>, \"x, y\" <sip:b@h2.example.com;p=1>",
                "Supported: 100rel, timer", "k: path", "X-List: a, b",
            ]))
        #expect(m.headers("Contact").count == 2)
        #expect(m.contacts.count == 2)
        #expect(m.contacts[1].address?.displayName == "x, y")
        #expect(m.headers("supported") == ["100rel", "timer", "path"])
        #expect(m.header("K") == "100rel")
        #expect(m.headers("x-list") == ["a, b"])
        #expect(m.headerFields.map(\.name).contains("Supported"))
    }

    @Test("typed setters and header editing keep the message valid")
    func editing() throws {
        var m = try SIPMessage.parse(request())
        #expect(throws: SIPError("header name 'Bad Name' is not a token")) { try m.addHeader("Bad Name", "x") }
        #expect(throws: SIPError("control character or line break in the Subject value")) {
            try m.addHeader("Subject", "a\r\nInjected: yes")
        }
        #expect(throws: SIPError("Content-Length is computed from the body")) { try m.setHeader("l", "5") }
        #expect(throws: SIPError("malformed Via header: missing sent-by")) { try m.addHeader("v", "SIP/2.0/UDP") }
        try m.addHeader("Via", "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp")
        #expect(m.via.count == 2)
        m.via.removeFirst()
        #expect(m.via.count == 1 && m.via[0].host == .name("proxy.example.com"))
        try m.setHeader("To", "<sip:carol@example.com>;tag=t2")
        #expect(m.to.tag == "t2")
        m.maxForwards = 300
        #expect(m.maxForwards == 255)
        m.contentType = "not a type"
        #expect(m.contentType == nil)
        m.contentType = "text/plain;charset=utf-8"
        m.body = Array("hi".utf8)
        m.callID = "bad id with spaces"
        #expect(m.callID == "c1")
        m.cseq = SIPCSeq(number: 2, method: .options)
        m.removeHeader("From")
        try m.setHeader("X-Custom", "1")
        try m.setHeader("x-custom", "2")
        #expect(m.headers("X-Custom") == ["2"])
        m.removeHeader("X-CUSTOM")
        #expect(m.header("x-custom") == nil)
        let back = try SIPMessage.parse(m.serialized())
        #expect(back == m)
        #expect(back.header("Content-Length") == "2")
        #expect(back.from.tag == "f1")
    }

    @Test("every prefix of the torture messages and odd start lines parse or fail cleanly")
    func prefixes() {
        for name in ["wsinv", "intmeth", "noreason", "esc01", "mpart01"] {
            let bytes = fixture("rfc4475", name)
            for cut in 0..<bytes.count {
                _ = parseResult(Array(bytes[0..<cut]))
            }
        }
        let odd = [
            "SIP/2.0", "SIP/2.0\r\n\r\n", "SIP/2.0 \r\n\r\n", "SIP/2.0 1\r\n\r\n", "SIP/2.0 100", "SIP/",
            "sip/2.0 200 OK\r\n",
            "INVITE", "INVITE ", "INVITE \r\n", "INVITE sip:a SIP/2.0", "A B C\r\n\r\n", "\r\n\r\n\r\n", ":\r\n",
            "INVITE sip:[ SIP/2.0\r\n\r\n", "INVITE sip:a@[::1 SIP/2.0\r\n\r\n", "INVITE sip:%\r\n\r\n",
            "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP [\r\n\r\n", "INVITE sip:a@b SIP/2.0\r\nf: \"\r\n\r\n",
            "INVITE sip:a@b SIP/2.0\r\nt: <\r\n\r\n", "INVITE sip:a@b SIP/2.0\r\ni:\r\n \r\n\r\n",
        ]
        for text in odd {
            let error = parseResult(Array(text.utf8)).error
            #expect(error != nil, "\(text) parsed")
            if let error { _ = SIPMessage.rejection(of: Array(text.utf8), error: error) }
        }
    }

    @Test("a message never traps on mutated input")
    func mutations() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: seed >> 33)
        }
        let specials: [UInt8] = [
            0, 0x0D, 0x0A, 0x20, 0x22, 0x3C, 0x3E, 0x3B, 0x2C, 0x3A, 0x40, 0x5B, 0x5D, 0x25, 0x5C, 0xFF,
        ]
        var parsed = 0
        for _ in 0..<3000 {
            var bytes = typicalInvite
            for _ in 0..<(1 + next() % 4) {
                let at = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[at] = specials[next() % specials.count]
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
                }
            }
            if let m = try? SIPMessage.parse(bytes) {
                parsed += 1
                // Whatever parses re-parses to the same message.
                #expect((try? SIPMessage.parse(m.serialized())) == m)
            }
        }
        #expect(parsed > 0)
    }
}

extension String {
    func replacingCRLF() -> String {
        var out = ""
        var previousCR = false
        for scalar in unicodeScalars {
            if previousCR && scalar != "\n" { out.unicodeScalars.append("\r") }
            previousCR = scalar == "\r"
            if !previousCR { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}

@Suite("SIP stream framing (RFC 3261 §18.3)")
struct StreamFramingTests {
    @Test("the first message's length, incomplete input, keep-alives and bad lengths")
    func framing() throws {
        let one = request(extra: ["l: 5"], body: "hello")
        let two = Array("\r\n\r\n".utf8) + one + one
        #expect(try SIPMessage.streamFrameLength(in: one) == one.count)
        #expect(try SIPMessage.streamFrameLength(in: two) == one.count + 4)
        for cut in 0..<one.count {
            #expect(try SIPMessage.streamFrameLength(in: Array(one[0..<cut])) == nil)
        }
        let first = try #require(try SIPMessage.streamFrameLength(in: two))
        let m = try SIPMessage.parse(Array(two[0..<first]))
        #expect(m.body == Array("hello".utf8))
        #expect(try SIPMessage.streamFrameLength(in: request()) == request().count)
        #expect(throws: SIPError("invalid Content-Length 'x' on a stream")) {
            try SIPMessage.streamFrameLength(in: request(extra: ["Content-Length: x"]))
        }
        #expect(throws: SIPError("more than one Content-Length header")) {
            try SIPMessage.streamFrameLength(in: request(extra: ["l: 0", "Content-Length: 0"]))
        }
        #expect(throws: SIPError("SIP headers exceed 100 bytes")) {
            try SIPMessage.streamFrameLength(in: [UInt8](repeating: 0x41, count: 200), maxHeaderBytes: 100)
        }
    }
}
