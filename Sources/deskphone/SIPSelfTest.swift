import Digest
import Net
import Reactor
import SIP
import Voice

/// The SIP checks of `deskphone --self-test`: the stack as this very build runs it (so the
/// Embedded ARM builds prove it under qemu): parse and re-serialize an INVITE, reject a
/// malformed request with its 400, the RFC 2617 digest example, SDP offer/answer, and an
/// OPTIONS transaction over real UDP sockets on loopback between two transport layers.
struct SIPSelfTest {
    private(set) var tally: SelfTestTally
    var passed: Int { tally.passed }
    var failed: Int { tally.failed }

    init(report: @escaping (String) -> Void) {
        tally = SelfTestTally(report: report)
    }

    static let sdp =
        "v=0\r\no=1001 3342 3342 IN IP4 192.168.1.20\r\ns=deskphone\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\n"
        + "m=audio 11780 RTP/AVP 9 0 8 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
        + "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
        + "a=sendrecv\r\n"

    static let invite =
        "INVITE sip:1002@pbx.example.com SIP/2.0\r\n"
        + "v: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK776asdhds;rport\r\n"
        + "Max-Forwards: 70\r\nf: \"Alice Desk\" <sip:1001@pbx.example.com>;tag=1928301774\r\n"
        + "t: <sip:1002@pbx.example.com>\r\ni: a84b4c76e66710@192.168.1.20\r\nCSeq: 314159 INVITE\r\n"
        + "m: <sip:1001@192.168.1.20:5060>\r\nc: application/sdp\r\nl: " + String(sdp.utf8.count) + "\r\n\r\n"
        + sdp

    mutating func run() {
        check("SIP INVITE parses, serializes canonically and re-parses the same", message())
        check("SIP malformed request is rejected with the 400 a UA sends", malformed())
        check("SIP digest: RFC 2617 example response and SHA-256 of \"abc\"", digest())
        check("SDP answer to a G.722/PCMU offer negotiates G.722 and telephone-event", offerAnswer())
        check("SIP OPTIONS transaction over UDP loopback between two transport layers", loopback())
    }

    private mutating func check(_ name: String, _ problem: String?) { tally.check(name, problem) }

    private func message() -> String? {
        do throws(SIPError) {
            let parsed = try SIPMessage.parse(Array(SIPSelfTest.invite.utf8))
            let once = parsed.serialized()
            let again = try SIPMessage.parse(once)
            if again.serialized() != once { return "serialization is not stable" }
            if parsed.method != .invite || parsed.cseq.number != 314159 { return "wrong method or CSeq" }
            if parsed.via.first?.branch != "z9hG4bK776asdhds" { return "wrong Via branch" }
            if parsed.from.tag != "1928301774" || parsed.callID != "a84b4c76e66710@192.168.1.20" {
                return "wrong From tag or Call-ID"
            }
            if parsed.body.count != SIPSelfTest.sdp.utf8.count { return "wrong body length" }
            let text = String(decoding: once, as: UTF8.self)
            if text.replacingFirst("\r\nCall-ID: a84b4c76e66710@192.168.1.20\r\n", "") == text {
                return "compact form not expanded"
            }
            return nil
        } catch {
            return error.description
        }
    }

    private func malformed() -> String? {
        let bad = Array(SIPSelfTest.invite.replacingFirst("Max-Forwards: 70", "Max-Forwards: seventy").utf8)
        do throws(SIPError) {
            _ = try SIPMessage.parse(bad)
            return "a Max-Forwards of \"seventy\" was accepted"
        } catch {
            if error.status != 400 { return "status " + String(error.status ?? 0) + ", not 400" }
            guard let response = SIPMessage.rejection(of: bad, error: error) else { return "no 400 could be built" }
            if response.status != 400 || response.callID != "a84b4c76e66710@192.168.1.20" {
                return "the 400 does not answer the request"
            }
            return nil
        }
    }

    private func digest() -> String? {
        do throws(DigestError) {
            let challenge = try DigestChallenge.parse(
                "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                    + "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"")
            let credentials = DigestCredentials(
                answering: challenge, username: "Mufasa", password: "Circle Of Life", method: "GET",
                uri: "/dir/index.html", cnonce: "0a4f113b", nonceCount: 1)
            if credentials.response != "6629fae49393a05397450978507c4ef1" {
                return "response " + credentials.response
            }
        } catch {
            return error.description
        }
        let abc = SHA256.hexDigest("abc")
        if abc != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" { return "SHA-256 " + abc }
        return nil
    }

    private func offerAnswer() -> String? {
        do throws(SDPError) {
            let offer = try SDPSession.parse(SIPSelfTest.sdp)
            let config = SDPAudioConfiguration(address: "192.168.1.30", rtpPort: 40000, sessionID: "77")
            let answer = SDPOfferAnswer.answer(to: offer, config)
            let reparsed = try SDPSession.parse(answer.serialized())
            if reparsed != answer { return "the answer does not round-trip" }
            let result = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
            if result.sendCodec.encodingName != "G722" || result.sendPayloadType != 9 {
                return "negotiated " + result.sendCodec.encodingName
            }
            if result.sendTelephoneEventPayloadType != 101 || result.remotePort != 11780 {
                return "wrong telephone-event payload type or remote port"
            }
            return nil
        } catch {
            return error.description
        }
    }

    /// Two transport + transaction stacks on 127.0.0.1: one sends OPTIONS, the other answers 200.
    private func loopback() -> String? {
        let reactor: Reactor
        do throws(ReactorError) {
            reactor = try Reactor()
        } catch {
            return error.description
        }
        defer { reactor.close() }
        var configuration = SIPTransportConfiguration(address: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: 0))
        configuration.tcp = false
        let server = SIPTransportLayer(reactor: reactor, configuration: configuration)
        let client = SIPTransportLayer(reactor: reactor, configuration: configuration)
        defer {
            server.close()
            client.close()
        }
        do throws(SIPTransportError) {
            try server.start()
            try client.start()
        } catch {
            return "transport: " + error.description
        }
        let serverTransactions = SIPTransactionLayer(reactor: reactor) { message, peer in
            server.send(message, to: peer)
            return true
        }
        let clientTransactions = SIPTransactionLayer(reactor: reactor) { message, peer in
            client.send(message, to: peer)
            return true
        }
        defer {
            serverTransactions.close()
            clientTransactions.close()
        }
        server.onMessage = { message, peer in serverTransactions.receive(message, from: peer) }
        client.onMessage = { message, peer in clientTransactions.receive(message, from: peer) }
        serverTransactions.onRequest = { transaction in
            transaction.respond(SIPMessage.response(to: transaction.request, status: 200, toTag: "selftest"))
        }
        guard let serverAddress = server.localAddress(for: .udp) else { return "no server address" }
        var outcome = "no response within 2 s"
        do throws(SIPError) {
            let target = try SIPURI(parsing: "sip:selftest@127.0.0.1:" + String(serverAddress.port))
            let from = SIPNameAddress(
                uri: try SIPURI(parsing: "sip:deskphone@127.0.0.1"), parameters: [SIPParameter(name: "tag", value: "a1")])
            let options = SIPMessage.request(
                method: .options, uri: target, from: from, to: SIPNameAddress(uri: target),
                callID: SIPTransactionLayer.randomToken() + "@127.0.0.1", cseq: 1,
                via: client.via(for: .udp, branch: clientTransactions.newBranch()))
            try clientTransactions.start(options, to: SIPPeer(transport: .udp, remote: serverAddress)) { event in
                switch event {
                case .final(let response):
                    outcome = response.status == 200 && response.to.tag == "selftest" ? "" : "wrong response"
                case .timeout: outcome = "timeout"
                case .transportError: outcome = "transport error"
                default: return
                }
                reactor.stop()
            }
        } catch {
            return error.description
        }
        _ = reactor.after(2_000_000_000) { reactor.stop() }
        do throws(ReactorError) {
            try reactor.run()
        } catch {
            return error.description
        }
        return outcome.isEmpty ? nil : outcome
    }
}

extension String {
    /// `self` with the first occurrence of `target` replaced (no Foundation in the firmware).
    fileprivate func replacingFirst(_ target: String, _ replacement: String) -> String {
        let bytes = Array(utf8)
        let needle = Array(target.utf8)
        guard needle.count <= bytes.count else { return self }
        for start in 0...(bytes.count - needle.count) where Array(bytes[start..<start + needle.count]) == needle {
            let out = Array(bytes[..<start]) + Array(replacement.utf8) + Array(bytes[(start + needle.count)...])
            return String(decoding: out, as: UTF8.self)
        }
        return self
    }
}
