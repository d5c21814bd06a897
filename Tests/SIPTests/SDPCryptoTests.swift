import Net
import Testing
import Voice

@testable import SIP

@Suite("SDES a=crypto (RFC 4568) and the SRTP offer/answer policy")
struct SDPCryptoTests {
    static let key30 = [UInt8](0..<30)
    static let key28 = [UInt8](0..<28)
    static var b30: String { Base64.encode(key30) }
    static var b28: String { Base64.encode(key28) }

    @Test("base64 decodes what it encodes, with or without padding; junk is nil")
    func base64() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base64.encode(bytes)
            #expect(Base64.decode(text) == bytes)
            var unpadded = text
            while unpadded.hasSuffix("=") { unpadded.removeLast() }
            #expect(Base64.decode(unpadded) == bytes)
        }
        #expect(Base64.decode("Zm9v") == Array("foo".utf8))
        for bad in ["Zm9v!", "Z", "Zm=v", "Zm9v===", "Zg===", "Zm9vY"] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }

    @Test("the three suites parse with their exact key lengths, lifetimes and accepted session parameters")
    func parsesSuites() throws {
        let a = try SDESCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30)
        #expect(a == SDESCrypto(tag: 1, suite: .aesCM128HMACSHA1_80, keySalt: Self.key30))
        let b = try SDESCrypto.parse("2 AES_CM_128_HMAC_SHA1_32 inline:" + Self.b30 + "|2^31")
        #expect(b.suite == .aesCM128HMACSHA1_32 && b.lifetime == 1 << 31 && b.tag == 2)
        let c = try SDESCrypto.parse("3 AEAD_AES_128_GCM inline:" + Self.b28 + "|1099511627776 KDR=0 WSH=64")
        #expect(c.suite == .aeadAES128GCM && c.keySalt == Self.key28 && c.lifetime == 1 << 40)
        // The written form parses back to the same value.
        for crypto in [a, b, c] { #expect(try SDESCrypto.parse(crypto.value) == crypto) }
        #expect(b.value == "2 AES_CM_128_HMAC_SHA1_32 inline:" + Self.b30 + "|2^31")
    }

    @Test("bad key lengths, unknown suites, lifetimes, MKI and session parameters are refused with their reason")
    func refusals() {
        let cases: [(String, String)] = [
            ("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b28, "is 28 bytes, not 30"),
            ("1 AES_CM_128_HMAC_SHA1_32 inline:" + Base64.encode([UInt8](0..<31)), "is 31 bytes, not 30"),
            ("1 AEAD_AES_128_GCM inline:" + Self.b30, "is 30 bytes, not 28"),
            ("1 F8_128_HMAC_SHA1_80 inline:" + Self.b30, "suite 'F8_128_HMAC_SHA1_80' is not supported"),
            ("1 AES_256_CM_HMAC_SHA1_80 inline:" + Self.b30, "is not supported"),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + "|2^20", "lifetime 2^20 is outside"),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + "|2^60", "lifetime 2^60 is outside"),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + "|2^x", "lifetime '2^x' is not valid"),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + "|2^31|1:4", "MKI is not supported"),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + "|1:4", "MKI is not supported"),
            (
                "1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + "|2^31|1:4;inline:" + Self.b30 + "|2^31|2:4",
                "several keys"
            ),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + " UNENCRYPTED_SRTP", "'UNENCRYPTED_SRTP' is not supported"),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + " KDR=24", "'KDR=24' is not supported"),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:****", "not base64"),
            ("1 AES_CM_128_HMAC_SHA1_80 uri:http://example.com/key", "not 'inline:'"),
            ("x AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30, "tag 'x'"),
            ("1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30, "not 1 to 9 digits"),
            ("1 AES_CM_128_HMAC_SHA1_80", "needs a tag, a suite and a key"),
            ("", "needs a tag"),
        ]
        for (text, reason) in cases {
            do throws(SDESCryptoRefusal) {
                let crypto = try SDESCrypto.parse(text)
                Issue.record("accepted \(text): \(crypto)")
            } catch {
                #expect(error.reason.contains(reason), "\(text): \(error.reason)")
                #expect(!error.reason.contains(Self.b30), "the refusal must not echo a key")
            }
        }
    }

    @Test("redaction hides every inline key and keeps the rest")
    func redaction() {
        let text = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Self.b30 + "|2^31\r\na=crypto:2 X inline:" + Self.b28
        let redacted = SDESCrypto.redacted(text)
        #expect(
            redacted
                == "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<redacted>|2^31\r\na=crypto:2 X inline:<redacted>")
    }

    @Test("fresh keys are random, of the suite's length, different each time")
    func freshKeys() throws {
        let one = try #require(SDESCrypto.fresh(tag: 1, suite: .aesCM128HMACSHA1_80))
        let two = try #require(SDESCrypto.fresh(tag: 1, suite: .aesCM128HMACSHA1_80))
        let gcm = try #require(SDESCrypto.fresh(tag: 3, suite: .aeadAES128GCM))
        #expect(one.keySalt.count == 30 && gcm.keySalt.count == 28)
        #expect(one.keySalt != two.keySalt)
        let keys = try #require(SIPCall.freshCryptos())
        #expect(keys.map(\.suite) == [.aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM])
        #expect(keys.map(\.tag) == [1, 2, 3])
    }

    // MARK: policy

    static func phone(_ policy: SRTPPolicy, port: Int = 40000) -> SDPAudioConfiguration {
        var config = SDPAudioConfiguration(address: "192.0.2.10", rtpPort: port, sessionID: "1")
        config.srtp = policy
        if policy != .off { config.cryptos = SIPCall.freshCryptos()! }
        return config
    }

    enum OfferKind: CaseIterable, CustomStringConvertible {
        case plain, plainWithCrypto, savpWithCrypto, savpWithoutCrypto, savpUnusableCrypto
        var description: String {
            switch self {
            case .plain: return "RTP/AVP"
            case .plainWithCrypto: return "RTP/AVP + a=crypto"
            case .savpWithCrypto: return "RTP/SAVP + a=crypto"
            case .savpWithoutCrypto: return "RTP/SAVP, no a=crypto"
            case .savpUnusableCrypto: return "RTP/SAVP + unusable a=crypto"
            }
        }
    }

    static func offer(_ kind: OfferKind) throws -> SDPSession {
        var text = "v=0\r\no=- 7 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
        let savp = kind == .savpWithCrypto || kind == .savpWithoutCrypto || kind == .savpUnusableCrypto
        text += "m=audio 5004 " + (savp ? "RTP/SAVP" : "RTP/AVP") + " 0\r\na=rtpmap:0 PCMU/8000\r\n"
        switch kind {
        case .plainWithCrypto, .savpWithCrypto:
            text += "a=crypto:5 F8_128_HMAC_SHA1_80 inline:" + b30 + "\r\n"
            text += "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:" + b30 + "\r\n"
            text += "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:" + b30 + "\r\n"
        case .savpUnusableCrypto:
            text += "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + b28 + "\r\n"
        default: break
        }
        return try SDPSession.parse(text)
    }

    enum Outcome: Equatable { case plain, srtp, refused }

    @Test("the answer per policy x offer kind: plain, SRTP (first supported suite, its tag, our key) or refused")
    func policyTable() throws {
        let expected: [SRTPPolicy: [OfferKind: Outcome]] = [
            .off: [
                .plain: .plain, .plainWithCrypto: .plain, .savpWithCrypto: .refused, .savpWithoutCrypto: .refused,
                .savpUnusableCrypto: .refused,
            ],
            .optional: [
                .plain: .plain, .plainWithCrypto: .srtp, .savpWithCrypto: .srtp, .savpWithoutCrypto: .refused,
                .savpUnusableCrypto: .refused,
            ],
            .mandatory: [
                .plain: .refused, .plainWithCrypto: .srtp, .savpWithCrypto: .srtp, .savpWithoutCrypto: .refused,
                .savpUnusableCrypto: .refused,
            ],
        ]
        for policy in [SRTPPolicy.off, .optional, .mandatory] {
            for kind in OfferKind.allCases {
                let config = Self.phone(policy)
                let offer = try Self.offer(kind)
                let answer = try SDPSession.parse(SDPOfferAnswer.answer(to: offer, config).serialized())
                var outcome = Outcome.refused
                do {
                    let result = try SDPOfferAnswer.negotiate(
                        offer: offer, answer: answer, localIsOfferer: false, srtp: policy)
                    outcome = result.srtp == nil ? .plain : .srtp
                    if let keys = result.srtp {
                        // The first supported suite of the offer (tag 7: _32), answered with our key.
                        #expect(keys.suite == .aesCM128HMACSHA1_32 && keys.tag == 7)
                        #expect(keys.receiveKey == Self.key30)
                        #expect(keys.sendKey == config.cryptos[1].keySalt)
                        #expect(answer.media[0].proto == offer.media[0].proto)
                        let lines = answer.media[0].attributes.filter { $0.name == "crypto" }
                        #expect(lines.count == 1)
                        #expect(lines.first?.value?.hasPrefix("7 AES_CM_128_HMAC_SHA1_32 inline:") == true)
                    } else {
                        #expect(!answer.media[0].hasCrypto)
                    }
                } catch {
                    #expect(answer.media[0].port == 0, "\(policy) \(kind): a refused stream is answered port 0")
                }
                #expect(outcome == expected[policy]![kind]!, "\(policy) x \(kind)")
            }
        }
    }

    @Test("our offers: off plain, optional RTP/AVP with keys, mandatory RTP/SAVP with keys; the answer completes them")
    func offers() throws {
        for policy in [SRTPPolicy.off, .optional, .mandatory] {
            let ours = Self.phone(policy)
            let offer = try SDPSession.parse(SDPOfferAnswer.offer(ours).serialized())
            let media = offer.media[0]
            #expect(media.proto == (policy == .mandatory ? "RTP/SAVP" : "RTP/AVP"))
            #expect(media.cryptoAttributes.usable == (policy == .off ? [] : ours.cryptos))
            // A peer with SRTP mandatory answers; both views agree, keys crossed.
            let peer = Self.phone(.mandatory, port: 5004)
            let answer = SDPOfferAnswer.answer(to: offer, peer)
            if policy == .off {
                #expect(throws: SDPError.self) {
                    try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true, srtp: policy)
                }
                continue
            }
            let mine = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true, srtp: policy)
            let theirs = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false, srtp: .mandatory)
            let a = try #require(mine.srtp)
            let b = try #require(theirs.srtp)
            #expect(a.suite == .aesCM128HMACSHA1_80 && a.tag == 1)
            #expect(a.sendKey == b.receiveKey && a.receiveKey == b.sendKey && a.sendKey != a.receiveKey)
            #expect(mine.description.hasSuffix(" srtp AES_CM_128_HMAC_SHA1_80"))
            #expect(!mine.description.contains("inline"))
        }
    }

    @Test("a mandatory offerer refuses an answer without keys; a re-offer carries new keys")
    func answerWithoutKeysAndReoffer() throws {
        let ours = Self.phone(.mandatory)
        let offer = SDPOfferAnswer.offer(ours)
        var answer = SDPOfferAnswer.answer(to: offer, Self.phone(.optional, port: 5004))
        answer.media[0].attributes.removeAll { $0.name == "crypto" }
        #expect(throws: SDPError.self) {
            try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true, srtp: .mandatory)
        }
        let fresh = SIPCall.freshCryptos()!
        let next = SDPOfferAnswer.reoffer(offer, direction: .sendonly, cryptos: fresh)
        #expect(next.media[0].cryptoAttributes.usable == fresh)
        #expect(next.media[0].cryptoAttributes.usable != ours.cryptos)
        #expect(next.origin.sessionVersion == offer.origin.sessionVersion + 1)
        // Without new keys (a session refresh) the old ones stay.
        #expect(SDPOfferAnswer.reoffer(offer, direction: .sendrecv).media[0].cryptoAttributes.usable == ours.cryptos)
    }
}
