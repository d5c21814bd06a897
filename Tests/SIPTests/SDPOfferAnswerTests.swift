import Testing
import Voice

@testable import SIP

@Suite("SDP offer/answer (RFC 3264)")
struct SDPOfferAnswerTests {
    static func phone(
        _ codecs: [CodecDescriptor] = [CodecRegistry.g722, CodecRegistry.pcmu, CodecRegistry.pcma],
        address: String = "192.0.2.10", port: Int = 40000
    ) -> SDPAudioConfiguration {
        SDPAudioConfiguration(address: address, rtpPort: port, sessionID: "4711", codecs: codecs)
    }

    /// `session` serialized and parsed again (what the peer sees on the wire).
    static func wire(_ session: SDPSession) throws -> SDPSession {
        let parsed = try SDPSession.parse(session.serialized())
        #expect(parsed == session)
        return parsed
    }

    @Test("the offer lists G.722 (clock 8000), G.711 and telephone-event 101 with ptime and direction")
    func offerDefault() throws {
        let offer = try Self.wire(SDPOfferAnswer.offer(Self.phone()))
        #expect(
            offer.description
                == "v=0\r\no=- 4711 1 IN IP4 192.0.2.10\r\ns=deskphone\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
                + "m=audio 40000 RTP/AVP 9 0 8 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
                + "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
                + "a=ptime:20\r\na=sendrecv\r\n")
    }

    @Test("an IPv6 offer with Opus (dynamic, fmtp) and L16 gets one telephone-event per clock rate")
    func offerOpusIPv6() throws {
        var config = Self.phone(
            [CodecRegistry.opus, CodecRegistry.l16At16000, CodecRegistry.pcmu], address: "2001:db8::10", port: 5004)
        config.maxptime = 60
        config.telephoneEventRange = "0-15"
        let offer = try Self.wire(SDPOfferAnswer.offer(config))
        #expect(offer.connection == SDPConnection(networkType: "IN", addressType: "IP6", address: "2001:db8::10"))
        #expect(offer.origin.addressType == "IP6")
        let audio = offer.media[0]
        #expect(audio.formats == ["96", "97", "0", "98", "99", "101"])
        #expect(audio.rtpMap(for: 96)?.description == "96 opus/48000/2")
        #expect(audio.formatParameters(for: 96) == "useinbandfec=1")
        #expect(audio.rtpMap(for: 97)?.description == "97 L16/16000")
        #expect(audio.rtpMap(for: 98)?.description == "98 telephone-event/48000")
        #expect(audio.rtpMap(for: 99)?.description == "99 telephone-event/16000")
        #expect(audio.rtpMap(for: 101)?.description == "101 telephone-event/8000")
        #expect(audio.formatParameters(for: 101) == "0-15")
        #expect(audio.maxptime == 60 && audio.ptime == 20)
        var quiet = config
        quiet.telephoneEvent = false
        quiet.ptime = nil
        let plain = SDPOfferAnswer.offer(quiet).media[0]
        #expect(plain.formats == ["96", "97", "0"] && plain.ptime == nil)
    }

    @Test("answering Asterisk: G.722 with the offer's numbers, telephone-event 101 echoed, both views agree")
    func answerAsterisk() throws {
        let offer = try SDPFixtures.session("asterisk-offer.sdp")
        let answer = try Self.wire(SDPOfferAnswer.answer(to: offer, Self.phone()))
        #expect(answer.origin.sessionID == "4711")
        #expect(answer.connection?.address == "192.0.2.10")
        let audio = answer.media[0]
        #expect(audio.port == 40000 && audio.formats == ["9", "101"])
        #expect(
            audio.attributes.map(\.line) == [
                "rtpmap:9 G722/8000", "rtpmap:101 telephone-event/8000", "fmtp:101 0-16", "ptime:20", "sendrecv",
            ])
        let local = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
        #expect(local.sendCodec == CodecRegistry.g722 && local.sendPayloadType == 9)
        #expect(local.sendCodec.rtpClockRate == 8000 && local.sendCodec.sampleRate == 16000)
        #expect(local.remoteConnection.address == "203.0.113.5" && local.remotePort == 17540)
        #expect(local.remoteRTCPPort == 17541)
        #expect(local.ptime == 20 && local.sendTelephoneEventPayloadType == 101)
        #expect(
            local.receivePayloadTypes == [
                SDPPayloadType(number: 9, codec: CodecRegistry.g722),
                SDPPayloadType(number: 101, codec: CodecRegistry.telephoneEvent8000),
            ])
        #expect(local.sends && local.receives)
        let far = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true)
        #expect(far.remoteConnection.address == "192.0.2.10" && far.remotePort == 40000)
        #expect(far.sendPayloadType == 9 && far.sendTelephoneEventPayloadType == 101)
    }

    @Test("common codecs in the offerer's order by default, in ours on request")
    func codecOrder() throws {
        let offer = try SDPFixtures.session("yealink-offer.sdp")
        let byOfferer = SDPOfferAnswer.answer(to: offer, Self.phone())
        #expect(byOfferer.media[0].formats == ["0", "101"])
        var config = Self.phone()
        config.answerCodecOrder = .local
        config.answerCodecLimit = 2
        let byUs = SDPOfferAnswer.answer(to: offer, config)
        #expect(byUs.media[0].formats == ["9", "0", "101"])
        let result = try SDPOfferAnswer.negotiate(offer: offer, answer: byUs, localIsOfferer: false)
        #expect(result.sendCodec == CodecRegistry.g722)
        #expect(result.receivePayloadTypes.map(\.number) == [9, 0, 101])
    }

    @Test("no common codec: every stream is rejected with port 0 in place, and negotiation fails")
    func noCommonCodec() throws {
        let offer = try SDPFixtures.session("rfc4317-2.1-offer.sdp")
        let answer = try Self.wire(SDPOfferAnswer.answer(to: offer, Self.phone([CodecRegistry.g722])))
        #expect(answer.media.count == 2)
        #expect(answer.media[0].port == 0 && answer.media[0].formats == ["0", "8", "97"])
        #expect(
            answer.media[1].media == "video" && answer.media[1].port == 0 && answer.media[1].formats == ["31", "32"])
        #expect(answer.media.allSatisfy { $0.attributes.isEmpty })
        #expect(throws: SDPError.self) {
            try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
        }
        do {
            _ = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
        } catch {
            #expect(error.description.hasPrefix("no usable audio stream"))
        }
    }

    @Test("RFC 4317 §2.1: PCMU accepted, video rejected with port 0; Alice's view of Bob's real answer")
    func rfc4317AudioVideo() throws {
        let offer = try SDPFixtures.session("rfc4317-2.1-offer.sdp")
        let ours = SDPOfferAnswer.answer(to: offer, Self.phone([CodecRegistry.pcmu]))
        #expect(ours.media[0].formats == ["0"] && ours.media[0].port == 40000)
        #expect(ours.media[1].port == 0)
        let result = try SDPOfferAnswer.negotiate(offer: offer, answer: ours, localIsOfferer: false)
        #expect(result.remoteConnection.address == "host.atlanta.example.com" && result.remotePort == 49170)
        #expect(result.sendTelephoneEventPayloadType == nil)

        // Bob's answer from the RFC, seen by Alice (the offerer): audio PCMU to 49174.
        let bob = try SDPFixtures.session("rfc4317-2.1-answer.sdp")
        let alice = try SDPOfferAnswer.negotiate(offer: offer, answer: bob, localIsOfferer: true)
        #expect(alice.mediaIndex == 0 && alice.sendCodec == CodecRegistry.pcmu && alice.sendPayloadType == 0)
        #expect(alice.remoteConnection.address == "host.biloxi.example.com" && alice.remotePort == 49174)
        #expect(alice.receivePayloadTypes == [SDPPayloadType(number: 0, codec: CodecRegistry.pcmu)])
    }

    @Test("RFC 4317 §2.4 and §4.1: a telephone-event-only stream is not an audio path")
    func rfc4317TwoAudioStreams() throws {
        let twoStreams = try SDPFixtures.session("rfc4317-2.4-offer.sdp")
        let answer = SDPOfferAnswer.answer(to: twoStreams, Self.phone())
        #expect(answer.media[0].port == 40000 && answer.media[0].formats == ["0"])
        #expect(answer.media[1].port == 0 && answer.media[1].formats == ["98"])
        let secondOffer = try SDPFixtures.session("rfc4317-4.1-second-offer.sdp")
        let rejected = SDPOfferAnswer.answer(to: secondOffer, Self.phone())
        #expect(rejected.media.map(\.port) == [0, 0])
        #expect(throws: SDPError.self) {
            try SDPOfferAnswer.negotiate(offer: secondOffer, answer: rejected, localIsOfferer: false)
        }
    }

    @Test("Opus: the offer's dynamic number, our fmtp; telephone-event only at the codec's clock rate")
    func opus() throws {
        let baresip = try SDPFixtures.session("baresip-offer.sdp")
        let opusPhone = Self.phone([CodecRegistry.opus, CodecRegistry.g722])
        let answer = try Self.wire(SDPOfferAnswer.answer(to: baresip, opusPhone))
        #expect(answer.media[0].formats == ["96"])
        #expect(answer.media[0].formatParameters(for: 96) == "useinbandfec=1")
        #expect(answer.media[0].rtpMap(for: 96)?.description == "96 opus/48000/2")
        let result = try SDPOfferAnswer.negotiate(offer: baresip, answer: answer, localIsOfferer: false)
        #expect(result.sendCodec == CodecRegistry.opus && result.sendPayloadType == 96)
        #expect(result.sendTelephoneEventPayloadType == nil)

        // Without Opus the same offer gives G.722 and DTMF on 101.
        let narrow = SDPOfferAnswer.answer(to: baresip, Self.phone())
        #expect(narrow.media[0].formats == ["9", "101"])
        #expect(narrow.media[0].formatParameters(for: 101) == "0-15")

        // A softphone with telephone-event/48000 and ptime 40: Opus sent in 40 ms packets, DTMF on 113.
        let soft = try SDPFixtures.session("softphone-opus-l16.sdp")
        let softAnswer = SDPOfferAnswer.answer(to: soft, opusPhone)
        #expect(softAnswer.media[0].formats == ["111", "113"])
        #expect(softAnswer.media[0].ptime == 40)
        #expect(softAnswer.media[0].formatParameters(for: 113) == nil)
        let softResult = try SDPOfferAnswer.negotiate(offer: soft, answer: softAnswer, localIsOfferer: false)
        #expect(softResult.ptime == 40 && softResult.sendTelephoneEventPayloadType == 113)
        #expect(softResult.remoteRTCPPort == 30011 && softResult.remoteRTCPConnection.address == "198.51.100.8")

        // L16/16000 with telephone-event/16000 when we only do L16.
        let l16 = SDPOfferAnswer.answer(to: soft, Self.phone([CodecRegistry.l16At16000]))
        #expect(l16.media[0].formats == ["112", "114"])
        #expect(l16.media[0].formatParameters(for: 114) == "0-16")
    }

    @Test("G.722 is rtpmap G722/8000: a G722/16000 mapping is not taken for it")
    func g722Clock() throws {
        let offer = try SDPSession.parse(
            "v=0\no=- 1 1 IN IP4 192.0.2.5\ns=-\nc=IN IP4 192.0.2.5\nt=0 0\nm=audio 7000 RTP/AVP 100 9\n"
                + "a=rtpmap:100 G722/16000\n")
        let answer = SDPOfferAnswer.answer(to: offer, Self.phone([CodecRegistry.g722]))
        #expect(answer.media[0].formats == ["9"])
        #expect(answer.media[0].rtpMap(for: 9)?.clockRate == 8000)
        let result = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
        #expect(result.sendCodec.rtpTimestampIncrement(ptime: result.ptime) == 160)
    }

    @Test("payload type numbers: each side sends with the numbers the other side wrote")
    func payloadTypeMapping() throws {
        let offer = SDPOfferAnswer.offer(Self.phone([CodecRegistry.opus, CodecRegistry.pcmu]))
        #expect(offer.media[0].formats == ["96", "0", "97", "101"])
        // A peer answering with its own numbers (RFC 4317 §2.3 shows this is allowed).
        let answer = try SDPSession.parse(
            "v=0\no=- 9 9 IN IP4 192.0.2.99\ns=-\nc=IN IP4 192.0.2.99\nt=0 0\nm=audio 6000 RTP/AVP 111 126\n"
                + "a=rtpmap:111 opus/48000/2\na=rtpmap:126 telephone-event/48000\na=ptime:60\n")
        let result = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true)
        #expect(result.sendCodec == CodecRegistry.opus && result.sendPayloadType == 111)
        #expect(result.sendTelephoneEventPayloadType == 126)
        #expect(result.ptime == 60)
        #expect(
            result.receivePayloadTypes == [
                SDPPayloadType(number: 96, codec: CodecRegistry.opus),
                SDPPayloadType(number: 97, codec: CodecRegistry.telephoneEvent48000),
            ])
    }

    @Test("hold: sendonly re-offer with the same id and version + 1, answered recvonly; resume")
    func hold() throws {
        let a = Self.phone()
        let b = Self.phone(address: "192.0.2.20", port: 50000)
        let offer = SDPOfferAnswer.offer(a)
        let held = try Self.wire(SDPOfferAnswer.reoffer(offer, direction: .sendonly))
        #expect(held.origin.sessionID == offer.origin.sessionID)
        #expect(held.origin.sessionVersion == offer.origin.sessionVersion + 1)
        #expect(held.media[0].direction == .sendonly)
        #expect(held.media[0].attributeValues("rtpmap") == offer.media[0].attributeValues("rtpmap"))
        let answer = try Self.wire(SDPOfferAnswer.answer(to: held, b))
        #expect(answer.media[0].direction == .recvonly)
        let holder = try SDPOfferAnswer.negotiate(offer: held, answer: answer, localIsOfferer: true)
        #expect(holder.localDirection == .sendonly && holder.remoteDirection == .recvonly)
        #expect(holder.sends && !holder.receives)
        let heldSide = try SDPOfferAnswer.negotiate(offer: held, answer: answer, localIsOfferer: false)
        #expect(!heldSide.sends && heldSide.receives)

        let inactive = SDPOfferAnswer.reoffer(held, direction: .inactive)
        #expect(inactive.origin.sessionVersion == offer.origin.sessionVersion + 2)
        #expect(SDPOfferAnswer.answer(to: inactive, b).media[0].direction == .inactive)
        let resumed = SDPOfferAnswer.reoffer(inactive, direction: .sendrecv)
        #expect(resumed.media[0].attributes.filter { SDPDirection(attributeName: $0.name) != nil }.count == 1)
        #expect(SDPOfferAnswer.answer(to: resumed, b).media[0].direction == .sendrecv)
    }

    @Test("the answer's direction: the offer's reversed, limited by ours")
    func directionTable() throws {
        let base = try SDPFixtures.session("asterisk-offer.sdp")
        let cases: [(SDPDirection, SDPDirection, SDPDirection)] = [
            (.sendrecv, .sendrecv, .sendrecv), (.sendonly, .sendrecv, .recvonly), (.recvonly, .sendrecv, .sendonly),
            (.inactive, .sendrecv, .inactive), (.sendrecv, .sendonly, .sendonly), (.sendonly, .sendonly, .inactive),
            (.recvonly, .recvonly, .inactive), (.sendrecv, .inactive, .inactive),
        ]
        for (offered, ours, expected) in cases {
            var offer = base
            offer.media[0].setDirection(offered)
            var config = Self.phone()
            config.direction = ours
            #expect(SDPOfferAnswer.answer(to: offer, config).media[0].direction == expected, "\(offered) \(ours)")
        }
        // Asterisk's hold re-INVITE and an RFC 2543 hold (c=0.0.0.0) are both answered recvonly.
        let asteriskHold = try SDPFixtures.session("asterisk-hold.sdp")
        #expect(asteriskHold.origin.sessionVersion == base.origin.sessionVersion + 1)
        #expect(SDPOfferAnswer.answer(to: asteriskHold, Self.phone()).media[0].direction == .recvonly)
        let oldHold = try SDPFixtures.session("old-hold-0000.sdp")
        let oldAnswer = SDPOfferAnswer.answer(to: oldHold, Self.phone())
        #expect(oldAnswer.media[0].direction == .recvonly)
        let result = try SDPOfferAnswer.negotiate(offer: oldHold, answer: oldAnswer, localIsOfferer: false)
        #expect(!result.sends && result.sendPayloadType == 0)
        // RFC 4317 §3.1: Bob answers sendonly; Alice's view says she only receives.
        let alice = try SDPSession.parse(
            "v=0\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\ns= \n"
                + "c=IN IP4 host.atlanta.example.com\nt=0 0\nm=audio 49170 RTP/AVP 0 97\na=rtpmap:0 PCMU/8000\n"
                + "a=rtpmap:97 iLBC/8000\n")
        let bob = try SDPFixtures.session("rfc4317-3.1-answer-hold.sdp")
        #expect(throws: SDPError.self) { try SDPOfferAnswer.negotiate(offer: alice, answer: bob, localIsOfferer: true) }
        var bobPCMU = bob
        bobPCMU.media[0].formats = ["0"]
        bobPCMU.media[0].attributes[0] = SDPAttribute("rtpmap", "0 PCMU/8000")
        let view = try SDPOfferAnswer.negotiate(offer: alice, answer: bobPCMU, localIsOfferer: true)
        #expect(view.remoteDirection == .sendonly && !view.sends && view.receives)
    }

    @Test("IPv6 offer with video: audio accepted on IPv6, video rejected with port 0")
    func ipv6AndVideo() throws {
        let offer = try SDPFixtures.session("polycom-ipv6-video.sdp")
        let answer = try Self.wire(SDPOfferAnswer.answer(to: offer, Self.phone(address: "2001:db8::10")))
        #expect(answer.connection == SDPConnection(addressType: "IP6", address: "2001:db8::10"))
        #expect(answer.description.contains("\r\nc=IN IP6 2001:db8::10\r\n"))
        #expect(answer.media[0].formats == ["9", "127"] && answer.media[0].direction == .sendrecv)
        #expect(
            answer.media[1].media == "video" && answer.media[1].port == 0 && answer.media[1].formats == ["109", "34"])
        let result = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
        #expect(result.remoteConnection.addressType == "IP6" && result.remoteConnection.address == "2001:db8::20")
        #expect(result.remotePort == 2222 && result.sendTelephoneEventPayloadType == 127)
    }

    @Test("streams the phone cannot serve: port 0 offered, SAVPF, no connection")
    func unservable() throws {
        let webrtc = try SDPFixtures.session("webrtc-savpf.sdp")
        let answer = SDPOfferAnswer.answer(to: webrtc, Self.phone())
        #expect(answer.media[0].port == 0 && answer.media[0].proto == "UDP/TLS/RTP/SAVPF")
        #expect(throws: SDPError.self) {
            try SDPOfferAnswer.negotiate(offer: webrtc, answer: answer, localIsOfferer: false)
        }
        let portZero = try SDPSession.parse(
            "v=0\no=- 1 1 IN IP4 a\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 0 RTP/AVP 0\nm=audio 4000 RTP/AVP 0\n")
        #expect(SDPOfferAnswer.answer(to: portZero, Self.phone()).media.map(\.port) == [0, 40000])
        let noConnection = try SDPSession.parse("v=0\no=- 1 1 IN IP4 a\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n")
        #expect(SDPOfferAnswer.answer(to: noConnection, Self.phone()).media[0].port == 0)
        #expect(SDPOfferAnswer.isServableAudio(noConnection, 0) == false)
        #expect(SDPOfferAnswer.isServableAudio(noConnection, 7) == false)
    }

    @Test("an answer with another number of m= lines is an error")
    func lineCountMismatch() throws {
        let offer = try SDPFixtures.session("rfc4317-2.1-offer.sdp")
        var answer = try SDPFixtures.session("rfc4317-2.1-answer.sdp")
        answer.media.removeLast()
        do {
            _ = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true)
            Issue.record("accepted")
        } catch {
            #expect(
                error.description
                    == "the answer has 1 m= lines, the offer 2 (RFC 3264 §6 wants one answer line per offer line)")
        }
    }

    @Test("two phones: A offers, B answers; A's and B's views are mirror images")
    func twoPhones() throws {
        let a = Self.phone([CodecRegistry.pcma, CodecRegistry.g722])
        var b = Self.phone(address: "192.0.2.20", port: 50000)
        b.answerCodecOrder = .local
        let offer = try Self.wire(SDPOfferAnswer.offer(a))
        let answer = try Self.wire(SDPOfferAnswer.answer(to: offer, b))
        let viewA = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true)
        let viewB = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
        #expect(viewA.sendCodec == CodecRegistry.g722 && viewB.sendCodec == CodecRegistry.g722)
        #expect(viewA.remotePort == 50000 && viewB.remotePort == 40000)
        #expect(viewA.remoteConnection.address == "192.0.2.20" && viewB.remoteConnection.address == "192.0.2.10")
        #expect(viewA.sendTelephoneEventPayloadType == 101 && viewB.sendTelephoneEventPayloadType == 101)
        #expect(viewA.description.hasPrefix("m#0 send 9 G722/8000 ptime 20 to 192.0.2.20 port 50000"))
    }

    @Test("answers to every fixture parse back equal")
    func answersRoundTrip() throws {
        for name in SDPFixtures.names() {
            let offer = try SDPFixtures.session(name)
            let answer = SDPOfferAnswer.answer(to: offer, Self.phone([CodecRegistry.opus, CodecRegistry.pcmu]))
            #expect(answer.media.count == offer.media.count, "\(name)")
            #expect(try SDPSession.parse(answer.serialized()) == answer, "\(name)")
        }
    }
}
