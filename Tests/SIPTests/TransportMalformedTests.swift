import Testing

@testable import SIP

@Suite("SIP transport: answers to malformed requests (RFC 3261 §8.2.6)")
struct TransportMalformedTests {
    @Test("a 400 copies Via, From, To, Call-ID and CSeq, adds a To tag, and carries the detail")
    func badRequest() throws {
        let request =
            "INVITE sip:bob@example.com SIP/2.0\r\n"
            + "v: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK1;rport\r\n"
            + "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK0\r\n"
            + "f: <sip:alice@example.com>;tag=99\r\n"
            + "t: <sip:bob@example.com>\r\n"
            + "i: abc@192.0.2.9\r\n"
            + "CSeq:\r\n 7 INVITE\r\n"
            + "Content-Length: 200\r\n\r\nv=0\r\n"
        let response = try #require(
            SIPTransportLayer.malformedResponse(
                to: Array(request.utf8), status: 400,
                detail: "Content-Length 200 exceeds the 5 body bytes"))
        let text = String(decoding: response, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "SIP/2.0 400 Bad Request (Content-Length 200 exceeds the 5 body bytes)")
        #expect(lines[1] == "Via: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK1;rport")
        #expect(lines[2] == "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK0")
        #expect(lines[3] == "From: <sip:alice@example.com>;tag=99")
        #expect(lines[4].hasPrefix("To: <sip:bob@example.com>;tag="))
        #expect(lines[5] == "Call-ID: abc@192.0.2.9")
        #expect(lines[6] == "CSeq: 7 INVITE")
        #expect(lines[7] == "Content-Length: 0")
        #expect(text.hasSuffix("\r\n\r\n"))
    }

    @Test("505 for a bad version keeps an existing To tag")
    func version() throws {
        let request =
            "OPTIONS sip:bob@example.com SIP/7.0\r\nVia: SIP/7.0/UDP h;branch=z9hG4bK1\r\n"
            + "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;TAG=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
        let response = try #require(
            SIPTransportLayer.malformedResponse(to: Array(request.utf8), status: 505, detail: ""))
        let text = String(decoding: response, as: UTF8.self)
        #expect(text.hasPrefix("SIP/2.0 505 Version Not Supported\r\n"))
        #expect(text.contains("\r\nTo: <sip:b@h>;TAG=2\r\n"))
    }

    @Test("no answer to responses, ACKs, garbage, missing headers or control bytes")
    func unanswerable() {
        let headers =
            "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
            + "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
        let inputs = [
            "SIP/2.0 200 OK\r\n" + headers,
            "ACK sip:bob@h SIP/2.0\r\n" + headers,
            "\u{1}\u{2}garbage",
            "",
            // No Call-ID.
            "OPTIONS sip:bob@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@h>\r\nTo: <sip:b@h>\r\n"
                + "CSeq: 1 OPTIONS\r\n\r\n",
            "OPTIONS sip:bob@h SIP/2.0\r\n" + headers.replacingOccurrences("Call-ID: x", "Call-ID: x\u{0}y"),
        ]
        for input in inputs {
            #expect(
                SIPTransportLayer.malformedResponse(to: Array(input.utf8), status: 400, detail: "d") == nil,
                "\(input)")
        }
    }
}

extension String {
    /// Test helper (no Foundation): replaces the first occurrence of `target`.
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        let s = Array(utf8)
        let t = Array(target.utf8)
        guard t.count <= s.count else { return self }
        for i in 0...(s.count - t.count) where Array(s[i..<i + t.count]) == t {
            return String(
                decoding: Array(s[0..<i]) + Array(replacement.utf8) + Array(s[(i + t.count)...]), as: UTF8.self)
        }
        return self
    }
}
