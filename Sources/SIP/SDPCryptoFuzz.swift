// libFuzzer entry for the `a=crypto` parser (RFC 4568) and the SRTP answer policy (issue 17).

import Net

/// Feeds arbitrary bytes to the `a=crypto` parser. A value that parses must write back as a
/// value that parses to the same crypto, and its redacted form must not hold the key; the
/// line is then offered in an m= line and answered under each SRTP policy, and the answer
/// negotiated. Traps only on a broken round trip or a leaked key; any refusal returns.
public func sdpCryptoFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    var parsed: SDESCrypto? = nil
    do throws(SDESCryptoRefusal) {
        parsed = try SDESCrypto.parse(text)
    } catch {
        _ = error.description
    }
    if let crypto = parsed {
        do throws(SDESCryptoRefusal) {
            let again = try SDESCrypto.parse(crypto.value)
            if again != crypto { fatalError("a=crypto round trip changed it: " + SDESCrypto.redacted(crypto.value)) }
        } catch {
            fatalError("a=crypto written form does not parse: " + error.reason)
        }
        let key = Array(Base64.encode(crypto.keySalt).utf8)
        let redacted = Array(SDESCrypto.redacted(crypto.value).utf8)
        if redacted.count >= key.count {
            for start in 0...(redacted.count - key.count) where redacted[start..<(start + key.count)].elementsEqual(key) {
                fatalError("redacted a=crypto still holds the key")
            }
        }
    }
    // The value in an offer, whatever it is (no line breaks: the SDP parser would split it).
    guard !text.utf8.contains(0x0A), !text.utf8.contains(0x0D), !text.utf8.contains(0) else { return }
    for profile in ["RTP/AVP", "RTP/SAVP"] {
        let sdp =
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 " + profile
            + " 0\r\na=crypto:" + text + "\r\n"
        let offer: SDPSession
        do throws(SDPError) {
            offer = try SDPSession.parse(Array(sdp.utf8))
        } catch {
            continue
        }
        for policy in [SRTPPolicy.off, .optional, .mandatory] {
            var config = SDPAudioConfiguration(address: "192.0.2.10", rtpPort: 40000, sessionID: "1")
            config.srtp = policy
            if policy != .off {
                for (tag, suite) in [SRTPCryptoSuite.aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM]
                    .enumerated()
                {
                    config.cryptos.append(
                        SDESCrypto(
                            tag: tag + 1, suite: suite, keySalt: [UInt8](repeating: UInt8(tag), count: suite.masterKeyLength)))
                }
            }
            let answer = SDPOfferAnswer.answer(to: offer, config)
            do throws(SDPError) {
                let result = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false, srtp: policy)
                if policy == .off && result.srtp != nil { fatalError("SRTP negotiated while off") }
                if profile == "RTP/SAVP" && result.srtp == nil { fatalError("RTP/SAVP negotiated without keys") }
            } catch {
                _ = error.description
            }
        }
    }
}
