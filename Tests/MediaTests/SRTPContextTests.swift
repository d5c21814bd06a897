import CLinux
import Foundation
import Reactor
import Testing

@testable import Media
@testable import SIP
@testable import Voice

@Suite("SRTP/SRTCP context over libsrtp2 (RFC 3711)", .serialized)
struct SRTPContextTests {
    static func keys(_ suite: SRTPCryptoSuite, seed: UInt8 = 1) -> (SDPNegotiatedSRTP, SDPNegotiatedSRTP) {
        let k1 = (0..<suite.masterKeyLength).map { UInt8(truncatingIfNeeded: $0 * 7 + Int(seed)) }
        let k2 = (0..<suite.masterKeyLength).map { UInt8(truncatingIfNeeded: $0 * 13 + Int(seed) + 100) }
        return (
            SDPNegotiatedSRTP(suite: suite, tag: 1, sendKey: k1, receiveKey: k2),
            SDPNegotiatedSRTP(suite: suite, tag: 1, sendKey: k2, receiveKey: k1)
        )
    }

    /// An RTP packet: PT 0, `sequence`, `ssrc`, 160 bytes of payload, in a 2048-byte buffer.
    static func packet(sequence: UInt16, ssrc: UInt32 = 0x1234_5678) -> (buffer: [UInt8], length: Int) {
        var bytes = [UInt8](repeating: 0, count: 2048)
        bytes[0] = 0x80
        bytes[1] = 0
        bytes[2] = UInt8(sequence >> 8)
        bytes[3] = UInt8(sequence & 0xFF)
        let timestamp = UInt32(sequence) * 160
        for i in 0..<4 { bytes[4 + i] = UInt8(truncatingIfNeeded: timestamp >> (24 - 8 * UInt32(i))) }
        for i in 0..<4 { bytes[8 + i] = UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i))) }
        for i in 0..<160 { bytes[12 + i] = UInt8(truncatingIfNeeded: i &* 3 &+ Int(sequence)) }
        return (bytes, 172)
    }

    static func protect(_ context: SRTPContext, _ packet: (buffer: [UInt8], length: Int)) -> [UInt8]? {
        var buffer = packet.buffer
        let outcome = buffer.withUnsafeMutableBytes {
            context.protect($0.baseAddress!, length: packet.length, capacity: $0.count)
        }
        guard case .ok(let length) = outcome else { return nil }
        return Array(buffer[0..<length])
    }

    static func unprotect(_ context: SRTPContext, _ bytes: [UInt8]) -> (SRTPOutcome, [UInt8]) {
        var buffer = bytes
        let outcome = buffer.withUnsafeMutableBytes { context.unprotect($0.baseAddress!, length: $0.count) }
        if case .ok(let length) = outcome { return (outcome, Array(buffer[0..<length])) }
        return (outcome, [])
    }

    @Test("protect then unprotect gives the packet back, for each suite, with its tag length", arguments: [
        (SRTPCryptoSuite.aesCM128HMACSHA1_80, 10), (.aesCM128HMACSHA1_32, 4), (.aeadAES128GCM, 16),
    ])
    func roundTrip(suite: SRTPCryptoSuite, tag: Int) throws {
        let (mine, theirs) = Self.keys(suite)
        let sender = try SRTPContext(mine)
        let receiver = try SRTPContext(theirs)
        for sequence in UInt16(100)..<UInt16(110) {
            let plain = Self.packet(sequence: sequence)
            let secured = try #require(Self.protect(sender, plain))
            #expect(secured.count == plain.length + tag)
            #expect(Array(secured[0..<12]) == Array(plain.buffer[0..<12]), "the header stays in clear")
            #expect(Array(secured[12..<172]) != Array(plain.buffer[12..<172]), "the payload is encrypted")
            let (outcome, back) = Self.unprotect(receiver, secured)
            #expect(outcome == .ok(plain.length))
            #expect(back == Array(plain.buffer[0..<plain.length]))
        }
        // Our own key does not open our packets (each direction has its key).
        let selfCheck = try SRTPContext(mine)
        let (outcome, _) = Self.unprotect(selfCheck, Self.protect(sender, Self.packet(sequence: 200))!)
        #expect(outcome == .authenticationFailure)
    }

    @Test("a bad tag or an altered payload fails authentication; a replay is refused as such")
    func badTagAndReplay() throws {
        let (mine, theirs) = Self.keys(.aesCM128HMACSHA1_80)
        let sender = try SRTPContext(mine)
        let receiver = try SRTPContext(theirs)
        let secured = try #require(Self.protect(sender, Self.packet(sequence: 1)))
        var badTag = secured
        badTag[badTag.count - 1] ^= 0x01
        #expect(Self.unprotect(receiver, badTag).0 == .authenticationFailure)
        var badPayload = secured
        badPayload[20] ^= 0x80
        #expect(Self.unprotect(receiver, badPayload).0 == .authenticationFailure)
        #expect(Self.unprotect(receiver, Array(secured[0..<8])).0 != .ok(8))
        #expect(Self.unprotect(receiver, secured).0 == .ok(172))
        #expect(Self.unprotect(receiver, secured).0 == .replay)
        // Far behind the replay window (128): refused as a replay too.
        var later: [UInt8] = []
        for sequence in UInt16(2)..<UInt16(400) {
            later = try #require(Self.protect(sender, Self.packet(sequence: sequence)))
            if sequence == 399 { #expect(Self.unprotect(receiver, later).0 == .ok(172)) }
        }
        let old = try #require(Self.protect(try SRTPContext(mine), Self.packet(sequence: 5)))
        #expect(Self.unprotect(receiver, old).0 == .replay)
    }

    @Test("re-key: a new context takes only the new key; a new far SSRC gets its own replay window")
    func rekeyAndSSRC() throws {
        let (oldMine, _) = Self.keys(.aesCM128HMACSHA1_80, seed: 1)
        let (newMine, newTheirs) = Self.keys(.aesCM128HMACSHA1_80, seed: 2)
        let oldSender = try SRTPContext(oldMine)
        let newSender = try SRTPContext(newMine)
        let receiver = try SRTPContext(newTheirs)
        #expect(Self.unprotect(receiver, Self.protect(oldSender, Self.packet(sequence: 10))!).0 == .authenticationFailure)
        #expect(Self.unprotect(receiver, Self.protect(newSender, Self.packet(sequence: 11))!).0 == .ok(172))
        // The far end restarts with another SSRC and a lower sequence: a new crypto context.
        let restarted = try SRTPContext(newMine)
        let other = Self.protect(restarted, Self.packet(sequence: 3, ssrc: 0xCAFE_0001))!
        #expect(Self.unprotect(receiver, other).0 == .ok(172))
        #expect(Self.unprotect(receiver, other).0 == .replay)
        #expect(throws: MediaError.self) {
            _ = try SRTPContext(SDPNegotiatedSRTP(suite: .aeadAES128GCM, tag: 1, sendKey: [1], receiveKey: [2]))
        }
    }

    @Test("a re-key that keeps the far end's key keeps its receiving session (replay window, rollover counter)")
    func rekeyKeepsUnchangedDirection() throws {
        let (mine, theirs) = Self.keys(.aesCM128HMACSHA1_80)
        let far = try SRTPContext(mine)
        let first = try SRTPContext(theirs)
        let packet = try #require(Self.protect(far, Self.packet(sequence: 10)))
        #expect(Self.unprotect(first, packet).0 == .ok(172))
        // Our answer to a re-INVITE brings a new key of ours; the far end's stays.
        var next = theirs
        next.sendKey = (0..<30).map { UInt8($0 + 50) }
        let second = try SRTPContext(next, continuing: first)
        #expect(Self.unprotect(second, packet).0 == .replay, "the far end's window goes on")
        #expect(Self.unprotect(second, Self.protect(far, Self.packet(sequence: 11))!).0 == .ok(172))
        // A new far key: a fresh receiving session (the old packet opens no more).
        var third = next
        third.receiveKey = (0..<30).map { UInt8($0 + 90) }
        let fresh = try SRTPContext(third, continuing: second)
        #expect(Self.unprotect(fresh, packet).0 == .authenticationFailure)
    }

    @Test("SRTCP: a compound report round-trips; a replayed or altered one is refused")
    func rtcp() throws {
        let (mine, theirs) = Self.keys(.aesCM128HMACSHA1_32)
        let sender = try SRTPContext(mine)
        let receiver = try SRTPContext(theirs)
        // An RR with no blocks plus SDES CNAME "a".
        var buffer = [UInt8](repeating: 0, count: 256)
        let report: [UInt8] = [0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78, 0x81, 202, 0, 2, 0x12, 0x34, 0x56, 0x78, 1, 1, 97, 0]
        buffer.replaceSubrange(0..<report.count, with: report)
        let outcome = buffer.withUnsafeMutableBytes { sender.protectRTCP($0.baseAddress!, length: report.count, capacity: 256) }
        guard case .ok(let length) = outcome else {
            Issue.record("protectRTCP: \(outcome)")
            return
        }
        #expect(length == report.count + 4 + 10, "E flag + index and an 80-bit tag even for the _32 suite")
        let secured = Array(buffer[0..<length])
        var copy = secured
        let opened = copy.withUnsafeMutableBytes { receiver.unprotectRTCP($0.baseAddress!, length: $0.count) }
        #expect(opened == .ok(report.count))
        #expect(Array(copy[0..<report.count]) == report)
        var again = secured
        #expect(again.withUnsafeMutableBytes { receiver.unprotectRTCP($0.baseAddress!, length: $0.count) } == .replay)
        // An altered report (a fresh index: libsrtp2 checks the index before the tag).
        buffer.replaceSubrange(0..<report.count, with: report)
        let next = buffer.withUnsafeMutableBytes { sender.protectRTCP($0.baseAddress!, length: report.count, capacity: 256) }
        #expect(next == .ok(length))
        var altered = Array(buffer[0..<length])
        altered[10] ^= 1
        #expect(
            altered.withUnsafeMutableBytes { receiver.unprotectRTCP($0.baseAddress!, length: $0.count) }
                == .authenticationFailure)
    }

    @Test("two RTP sessions with SRTP: the tone gets through both ways; plain, forged and replayed packets are counted and dropped")
    func sessions() throws {
        let pair = try CallPair()
        defer { pair.close() }
        var offerer = Negotiation.configuration(port: pair.a.localAddress.port, codecs: [CodecRegistry.pcmu])
        offerer.srtp = .mandatory
        offerer.cryptos = SIPCall.freshCryptos()!
        var answerer = Negotiation.configuration(port: pair.b.localAddress.port, codecs: [CodecRegistry.pcmu])
        answerer.srtp = .optional
        answerer.cryptos = SIPCall.freshCryptos()!
        let offer = SDPOfferAnswer.offer(offerer)
        let answer = SDPOfferAnswer.answer(to: offer, answerer)
        let na = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true, srtp: .mandatory)
        let nb = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false, srtp: .optional)
        try pair.a.update(na)
        try pair.b.update(nb)
        #expect(pair.a.isEncrypted && pair.b.isEncrypted)
        pair.startClock()
        try pair.run(seconds: 2)
        pair.expectTone()
        #expect(pair.b.statistics.packetsReceived > 90)
        #expect(pair.a.statistics.packetsReceived > 90, "B's packets reach A too")
        #expect(pair.b.statistics.srtpAuthFailures == 0 && pair.b.statistics.srtpReplays == 0)

        // A stranger's plain RTP and a forged SRTP packet: authentication failures, never played.
        let peer = try UDPPeer()
        let plain = Self.packet(sequence: 5000, ssrc: 0xBAD0_0001)
        peer.send(Array(plain.buffer[0..<plain.length]), to: pair.b.localAddress)
        let forger = try SRTPContext(Self.keys(.aesCM128HMACSHA1_80).0)
        peer.send(Self.protect(forger, plain)!, to: pair.b.localAddress)
        // A packet with B's real receive key sent twice: the second is a replay.
        let insider = try SRTPContext(
            SDPNegotiatedSRTP(suite: nb.srtp!.suite, tag: 1, sendKey: nb.srtp!.receiveKey, receiveKey: nb.srtp!.sendKey))
        let genuine = Self.protect(insider, Self.packet(sequence: 7000, ssrc: 0xBAD0_0002))!
        peer.send(genuine, to: pair.b.localAddress)
        peer.send(genuine, to: pair.b.localAddress)
        try pair.run(seconds: 0.5)
        #expect(pair.b.statistics.srtpAuthFailures == 2)
        #expect(pair.b.statistics.srtpReplays == 1)
        pair.expectTone(lastSeconds: 0.3)
        #expect(pair.b.statistics.description.contains("srtp auth failures 2 replays 1"))

        // Re-key (a re-INVITE with new keys on both sides): the tone carries on under the new keys.
        offerer.cryptos = SIPCall.freshCryptos()!
        answerer.cryptos = SIPCall.freshCryptos()!
        let offer2 = SDPOfferAnswer.reoffer(offer, direction: .sendrecv, cryptos: offerer.cryptos)
        let answer2 = SDPOfferAnswer.answer(to: offer2, answerer)
        let na2 = try SDPOfferAnswer.negotiate(offer: offer2, answer: answer2, localIsOfferer: true, srtp: .mandatory)
        let nb2 = try SDPOfferAnswer.negotiate(offer: offer2, answer: answer2, localIsOfferer: false, srtp: .optional)
        #expect(na2.srtp!.sendKey != na.srtp!.sendKey)
        try pair.a.update(na2)
        try pair.b.update(nb2)
        let before = pair.b.statistics.packetsReceived
        try pair.run(seconds: 1)
        #expect(pair.b.statistics.packetsReceived > before + 40)
        pair.expectTone()
        // The old insider key no longer opens anything.
        let failures = pair.b.statistics.srtpAuthFailures
        peer.send(Self.protect(insider, Self.packet(sequence: 7001, ssrc: 0xBAD0_0002))!, to: pair.b.localAddress)
        try pair.run(seconds: 0.1)
        #expect(pair.b.statistics.srtpAuthFailures == failures + 1)
    }
}
