import CLinux
import CMallocCounter
import Foundation
import Reactor
import Testing

@testable import Media
@testable import SIP
@testable import Voice

@Suite("RTP sessions on loopback", .serialized)
struct RTPSessionTests {
    @Test("binds an even RTP port with RTCP above it, from a configured range too")
    func ports() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let any = try RTPSession(reactor: reactor, configuration: RTPSessionConfiguration(bindAddress: "127.0.0.1"))
        defer { any.close() }
        #expect(any.localAddress.port % 2 == 0)
        #expect(any.localRTCPAddress.port == any.localAddress.port + 1)
        let ranged = try RTPSession(
            reactor: reactor,
            configuration: RTPSessionConfiguration(bindAddress: "127.0.0.1", portMin: 41001, portMax: 41011))
        defer { ranged.close() }
        #expect(ranged.localAddress.port >= 41002 && ranged.localAddress.port <= 41010)
        #expect(ranged.localAddress.port % 2 == 0)
        #expect(reactor.watchCount == 4)
        any.close()
        ranged.close()
        #expect(reactor.watchCount == 0)
        #expect(throws: MediaError.self) {
            _ = try RTPSession(reactor: reactor, configuration: RTPSessionConfiguration(bindAddress: "not-an-ip"))
        }
    }

    @Test("packet headers: PT, sequence +1, timestamp +ptime, marker on the first packet, one SSRC")
    func headers() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let (session, peer) = try startedAgainstPeer(reactor, CodecRegistry.pcma)
        defer { session.close() }
        let tone = Signal.sine(1000, amplitude: 8000, count: 8000, sampleRate: 8000)
        var fed = 0
        reactor.every(10_000_000) {
            tone[fed..<(fed + 80)].withUnsafeBufferPointer { session.sendAudio($0) }
            fed += 80
        }
        try reactor.run(for: 500_000_000)
        let packets = peer.receiveAll().filter { $0.count > 1 && !($0[1] >= 192 && $0[1] <= 223) }
        #expect(packets.count == 25)
        var previous: RTPPacket? = nil
        for (index, bytes) in packets.enumerated() {
            let packet = try bytes.withUnsafeBytes { try RTPPacket.parse($0) }
            #expect(packet.payloadType == 8)
            #expect(packet.payloadCount == 160)
            #expect(packet.marker == (index == 0))
            if let previous {
                #expect(packet.sequence == previous.sequence &+ 1)
                #expect(packet.timestamp == previous.timestamp &+ 160)
                #expect(packet.ssrc == previous.ssrc)
            }
            previous = packet
        }
        // The payload is the A-law of what was fed.
        let first = try packets[0].withUnsafeBytes { try RTPPacket.parse($0) }
        var decoded = [Int16](repeating: 0, count: 160)
        packets[0].withUnsafeBytes { raw in
            decoded.withUnsafeMutableBufferPointer {
                _ = G711.decode(.aLaw, first.payload(in: raw).bindMemory(to: UInt8.self), into: $0)
            }
        }
        for i in 0..<160 { #expect(abs(Int(decoded[i]) - Int(tone[i])) <= max(16, abs(Int(tone[i])) / 16)) }
        #expect(session.statistics.packetsSent == 25)
        #expect(session.statistics.bytesSent == 25 * 160)
        // Capture-to-send on the virtual clock: the packet leaves when its second period
        // arrives, 10 ms after the first period ended.
        #expect(session.statistics.captureToSend.p50Nanoseconds == 10_000_000)
        #expect(session.statistics.captureToSend.p99Nanoseconds == 10_000_000)
    }

    @Test(
        "a tone crosses from one session to the other and plays at its frequency and level",
        arguments: ["PCMU", "PCMA", "G722", "opus"])
    func toneEndToEnd(codecName: String) throws {
        let codec: CodecDescriptor
        switch codecName {
        case "PCMU": codec = CodecRegistry.pcmu
        case "PCMA": codec = CodecRegistry.pcma
        case "G722": codec = CodecRegistry.g722
        default: codec = CodecRegistry.opus
        }
        let pair = try CallPair()
        defer { pair.close() }
        let (na, nb) = try pair.start(codecs: [codec])
        #expect(na.sendCodec == codec && nb.sendCodec == codec)
        #expect(pair.a.audioSampleRate == pair.a.configuration.audioSampleRate(for: codec))
        pair.startClock()
        try pair.run(seconds: 1.5)
        pair.expectTone(levelTolerance: codec.kind == .opus ? 0.25 : 0.1)
        let stats = pair.b.statistics
        #expect(stats.packetsReceived >= 70)
        #expect(stats.malformed == 0 && stats.wrongPayloadType == 0 && stats.lost == 0)
        #expect(stats.receiveToPlayback.count > 50)
        // On the virtual clock the delay is the jitter buffer's alone: tens of ms, stable.
        #expect(stats.receiveToPlayback.p50Nanoseconds > 10_000_000)
        #expect(stats.receiveToPlayback.p99Nanoseconds < 150_000_000)
        // B's (silent) stream reaches A too.
        #expect(pair.a.statistics.packetsReceived >= 70)
    }

    @Test("hold: a sendonly/inactive re-INVITE stops the held side's packets; resume brings them back")
    func hold() throws {
        let pair = try CallPair()
        defer { pair.close() }
        try pair.start(codecs: [CodecRegistry.pcmu])
        pair.startClock()
        try pair.run(seconds: 1)
        try pair.reactor.runUntilIdle()
        let before = pair.b.statistics.packetsReceived
        #expect(before >= 45)
        // B puts A on hold: B sendonly, so A answers recvonly and stops sending to B.
        let (na, nb) = try pair.start(codecs: [CodecRegistry.pcmu], directionA: .sendrecv, directionB: .sendonly)
        #expect(!na.sends && na.receives)
        #expect(nb.sends && !nb.receives)
        let aSentAtHold = pair.a.statistics.packetsSent
        try pair.run(seconds: 1)
        #expect(pair.a.statistics.packetsSent == aSentAtHold)
        #expect(pair.b.statistics.packetsReceived == before)
        // B still sends music-on-hold (silence here), A still plays it.
        let aReceived = pair.a.statistics.packetsReceived
        try pair.run(seconds: 0.5)
        #expect(pair.a.statistics.packetsReceived > aReceived)
        // Resume: the tone plays at B again, and the first packet after the gap has the marker.
        let sequenceBeforeResume = pair.a.senderState!.sequence
        try pair.start(codecs: [CodecRegistry.pcmu])
        try pair.run(seconds: 1)
        #expect(pair.b.statistics.packetsReceived > before + 40)
        #expect(pair.a.senderState!.sequence &- sequenceBeforeResume >= 45)
        pair.expectTone()
    }

    @Test("codec change by update(): PCMU to G.722 on the same sockets and SSRC, the device rate follows")
    func codecChange() throws {
        let pair = try CallPair()
        defer { pair.close() }
        var rates: [Int] = []
        pair.a.onFormatChange = { rates.append($0) }
        try pair.start(codecs: [CodecRegistry.pcmu])
        pair.startClock()
        try pair.run(seconds: 1)
        pair.expectTone()
        let ssrc = pair.a.ssrc
        let port = pair.a.localAddress.port
        try pair.start(codecs: [CodecRegistry.g722])
        #expect(pair.a.audioSampleRate == 16000 && pair.b.audioSampleRate == 16000)
        #expect(rates == [8000, 16000])
        #expect(pair.a.ssrc == ssrc && pair.a.localAddress.port == port)
        let playedBefore = pair.played.count
        try pair.run(seconds: 1.5)
        #expect(pair.b.playoutCodec == CodecRegistry.g722)
        #expect(pair.played.count - playedBefore >= 16000)
        pair.expectTone()
    }

    @Test("DTMF: digits sent as RFC 4733 events replace audio frames and are decoded at the far end")
    func dtmf() throws {
        let pair = try CallPair()
        defer { pair.close() }
        let (na, _) = try pair.start(codecs: [CodecRegistry.pcmu])
        #expect(na.sendTelephoneEventPayloadType == 101)
        pair.startClock()
        try pair.run(seconds: 0.5)
        #expect(pair.a.sendDigit(UInt8(ascii: "5")))
        #expect(pair.a.sendDigit(UInt8(ascii: "#")))
        #expect(!pair.a.sendDigit(UInt8(ascii: "x")))
        #expect(pair.b.sendDigit(UInt8(ascii: "9")))
        try pair.run(seconds: 1)
        #expect(pair.digitsAtB.map { $0.event.description } == ["5", "#"])
        #expect(pair.digitsAtB.allSatisfy { $0.ending == .endPacket && $0.duration == 800 })
        #expect(pair.digitsAtA.map { $0.event.description } == ["9"])
        // 100 ms tones in 20 ms frames: 5 packets, the end one sent 3 times.
        #expect(pair.a.statistics.eventPacketsSent == 2 * 7)
        #expect(pair.b.statistics.digitsReceived == 2)
        #expect(pair.b.statistics.wrongPayloadType == 0)
    }

    @Test("RTCP: SR and RR with SDES and XR are exchanged, RTT computed, BYE on stop")
    func rtcp() throws {
        let pair = try CallPair { $0.rtcpMinimumSeconds = 1; $0.cname = "tester@127.0.0.1" }
        defer { pair.close() }
        var logs: [String] = []
        pair.b.onLog = { logs.append($0) }
        try pair.start(codecs: [CodecRegistry.pcmu])
        pair.startClock()
        try pair.run(seconds: 6)
        let a = pair.a.statistics
        let b = pair.b.statistics
        #expect(a.rtcpSent >= 3 && b.rtcpSent >= 3)
        #expect(a.rtcpReceived >= 3 && b.rtcpReceived >= 3)
        #expect(a.malformed == 0 && b.malformed == 0)
        // Loopback on a virtual clock: the round trip is (almost) nothing, but it is measured.
        #expect(a.roundTripMicroseconds != nil && b.roundTripMicroseconds != nil)
        #expect((a.roundTripMicroseconds ?? 99_999) < 1_000)
        #expect(pair.a.remoteCNAME == "tester@127.0.0.1")
        let metrics = try #require(pair.a.remoteVoIPMetrics)
        #expect(metrics.ssrc == pair.a.ssrc)
        #expect(metrics.lossRate == 0)
        #expect(metrics.jitterBufferNominal > 0)
        #expect(metrics.mosLQ >= 40 && metrics.mosLQ <= 45)
        pair.a.stop()
        try pair.run(seconds: 0.1)
        #expect(logs.contains { $0.contains("BYE") })
    }

    @Test("garbage datagrams are dropped and counted while the audio goes on; STUN is dropped uncounted")
    func garbage() throws {
        let pair = try CallPair()
        defer { pair.close() }
        try pair.start(codecs: [CodecRegistry.pcmu])
        let attacker = try UDPPeer()
        var sent = 0
        pair.reactor.every(7_000_000) {
            switch sent % 4 {
            case 0: attacker.send([1, 2, 3], to: pair.b.localAddress)  // too short
            case 1: attacker.send([0x40] + [UInt8](repeating: 0, count: 40), to: pair.b.localAddress)  // version 1
            case 2: attacker.send([0x8F] + [UInt8](repeating: 0, count: 20), to: pair.b.localAddress)  // CSRCs past end
            default: attacker.send([0x80, 0xC8, 0, 9, 1, 2], to: pair.b.localAddress)  // RTCP-looking, bad length
            }
            sent += 1
        }
        // A packet with a payload type nobody negotiated.
        var strange = [UInt8](repeating: 0, count: 172)
        strange[0] = 0x80
        strange[1] = 18
        attacker.send(strange, to: pair.b.localAddress)
        // STUN binding requests (RFC 5389; linphone sends them without ICE): dropped, not malformed.
        let stun: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 7, count: 12)
        attacker.send(stun, to: pair.b.localAddress)
        attacker.send(stun, to: pair.b.localRTCPAddress)
        pair.startClock()
        try pair.run(seconds: 1.5)
        let stats = pair.b.statistics
        #expect(stats.malformed == UInt64(sent))
        #expect(stats.wrongPayloadType == 1)
        pair.expectTone()
        // The attacker's address did not capture the stream.
        #expect(pair.b.remoteAddress == pair.a.localAddress)
    }

    @Test("symmetric RTP: the far end's real address is learnt from its packets")
    func symmetricLatch() throws {
        let pair = try CallPair()
        defer { pair.close() }
        // B is told (by a NAT-unaware SDP) to send to a port where nobody listens.
        let (na, nbSignalled) = try Negotiation.pair(
            offerer: Negotiation.configuration(port: 9, codecs: [CodecRegistry.pcmu]),
            answerer: Negotiation.configuration(port: pair.b.localAddress.port, codecs: [CodecRegistry.pcmu]))
        var nb = nbSignalled
        #expect(nb.remotePort == 9)
        var naReal = na
        naReal.remotePort = Int(pair.b.localAddress.port)
        try pair.a.start(naReal)
        nb.remotePort = 9
        try pair.b.start(nb)
        #expect(pair.b.remoteAddress?.port == 9)
        pair.startClock()
        try pair.run(seconds: 1)
        #expect(pair.b.remoteAddress == pair.a.localAddress)
        // B's packets now reach A.
        #expect(pair.a.statistics.packetsReceived > 30)
    }

    @Test("no allocation per packet in steady state (optimized builds)", .enabled(if: mediaOptimized))
    func noAllocations() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        var configuration = RTPSessionConfiguration(bindAddress: "127.0.0.1")
        configuration.rtcpMinimumSeconds = 10_000
        let a = try RTPSession(reactor: reactor, configuration: configuration)
        let b = try RTPSession(reactor: reactor, configuration: configuration)
        defer {
            a.close()
            b.close()
        }
        let (na, nb) = try Negotiation.pair(
            offerer: Negotiation.configuration(port: a.localAddress.port, codecs: [CodecRegistry.pcmu]),
            answerer: Negotiation.configuration(port: b.localAddress.port, codecs: [CodecRegistry.pcmu]))
        try a.start(na)
        try b.start(nb)
        let input = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 80)
        let output = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 80)
        defer {
            input.deallocate()
            output.deallocate()
        }
        var phase = 0
        reactor.every(10_000_000) {
            for i in 0..<80 { input[i] = Int16((i + phase) % 40 * 200 - 4000) }
            phase += 80
            a.sendAudio(UnsafeBufferPointer(input))
            b.sendAudio(UnsafeBufferPointer(input))
            b.pullPlayout(into: output)
            a.pullPlayout(into: output)
        }
        // A stranger's forged packets (dropped as foreign) take the same path without allocating.
        let stranger = try UDPPeer()
        let forged = forgedPCMU(ssrc: 0xBAD0_BAD0, sequence: 1, timestamp: 0, marker: false, Array(input)[0..<80])
        let datagram = UnsafeMutableRawBufferPointer.allocate(byteCount: forged.count, alignment: 8)
        let loopback = UnsafeMutablePointer<UInt8>.allocate(capacity: 4)
        defer {
            datagram.deallocate()
            loopback.deallocate()
        }
        datagram.copyBytes(from: forged)
        loopback.initialize(from: [127, 0, 0, 1], count: 4)
        let target = b.localAddress.port
        reactor.every(20_000_000) {
            _ = cl_socket_send_to(stranger.fd, datagram.baseAddress, datagram.count, 4, loopback, target)
        }
        try reactor.run(for: 2_000_000_000)
        let before = mc_thread_allocations()
        for _ in 0..<2_000 { try reactor.runOnce(block: true) }
        let after = mc_thread_allocations()
        #expect(after - before == 0, "allocations in steady state: \(after - before)")
        #expect(b.statistics.packetsReceived > 150)
        #expect(b.statistics.foreign > 50)
    }
}

@Suite("RTP session against a hand-made far end", .serialized)
struct RTPFarEndTests {
    @Test("a far end that restarts with a new SSRC: one probation packet dropped, then its stream plays")
    func ssrcChange() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let (session, peer) = try startedAgainstPeer(reactor, CodecRegistry.pcmu)
        defer { session.close() }
        let tone = Signal.sine(500, amplitude: 6000, count: 8000 * 3, sampleRate: 8000)
        var index = 0
        reactor.every(20_000_000) {
            let second = index >= 50
            let ssrc: UInt32 = second ? 0x2222_2222 : 0x1111_1111
            let sequence = second ? UInt16(40_000 + index) : UInt16(100 + index)
            let timestamp = second ? UInt32(9_000_000 + 160 * index) : UInt32(160 * index)
            peer.send(
                forgedPCMU(
                    ssrc: ssrc, sequence: sequence, timestamp: timestamp, marker: index == 0 || index == 50,
                    tone[(160 * index)..<(160 * index + 160)]), to: session.localAddress)
            index += 1
        }
        var played: [Int16] = []
        let out = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 80)
        defer { out.deallocate() }
        reactor.every(10_000_000) {
            session.pullPlayout(into: out)
            played.append(contentsOf: out)
        }
        try reactor.run(for: 2_005_000_000)
        let stats = session.statistics
        #expect(stats.packetsReceived == 100)
        #expect(stats.droppedBySourceCheck == 1)
        #expect(stats.malformed == 0 && stats.wrongPayloadType == 0)
        let tail = played[(played.count - 6000)..<(played.count - 1200)]
        #expect(
            Signal.goertzel(tail, frequency: 500, sampleRate: 8000) > 100
                * Signal.goertzel(tail, frequency: 700, sampleRate: 8000))
        #expect(abs(Signal.rms(tail) - 6000 / 2.0.squareRoot()) < 400)
        #expect(session.remoteAddress == peer.endpoint)
    }
}

/// One µ-law RTP packet of `samples`, as a stranger on the network would forge it.
func forgedPCMU(ssrc: UInt32, sequence: UInt16, timestamp: UInt32, marker: Bool, _ samples: ArraySlice<Int16>)
    -> [UInt8]
{
    var bytes = [UInt8](repeating: 0, count: 12 + samples.count)
    bytes.withUnsafeMutableBytes { raw in
        let header = RTPHeader(marker: marker, payloadType: 0, sequence: sequence, timestamp: timestamp, ssrc: ssrc)
        _ = try? header.write(into: raw)
        let payload = UnsafeMutableRawBufferPointer(rebasing: raw[12...]).bindMemory(to: UInt8.self)
        Array(samples).withUnsafeBufferPointer { _ = G711.encode(.muLaw, $0, into: payload) }
    }
    return bytes
}

@Suite("RTP sessions against strangers: latching and exclusive ports", .serialized)
struct RTPStrangerTests {
    /// Sends `count` valid PCMU packets of a 2200 Hz tone with a new SSRC from `stranger` to `target`,
    /// one every 20 ms; returns how many went out so far.
    private func flood(
        _ reactor: Reactor, from stranger: UDPPeer, to target: RTPEndpoint, count: Int
    ) -> () -> Int {
        let tone = Signal.sine(2200, amplitude: 12000, count: 160 * count, sampleRate: 8000)
        var sent = 0
        var timer: TimerID? = nil
        timer = reactor.every(20_000_000) {
            guard sent < count else {
                if let timer { reactor.cancel(timer) }
                return
            }
            stranger.send(
                forgedPCMU(
                    ssrc: 0xBAD0_BAD0, sequence: UInt16(5000 + sent), timestamp: UInt32(777_000 + 160 * sent),
                    marker: sent == 0, tone[(160 * sent)..<(160 * sent + 160)]), to: target)
            sent += 1
        }
        return { sent }
    }

    @Test("RTP Bleed: 90 valid packets with a new SSRC from a stranger mid-call are foreign, never played or answered")
    func strangerMidCall() throws {
        let pair = try CallPair()
        defer { pair.close() }
        try pair.start(codecs: [CodecRegistry.pcmu])
        pair.startClock()
        try pair.run(seconds: 1)
        #expect(pair.b.remoteAddress == pair.a.localAddress)
        let stranger = try UDPPeer()
        let playedBefore = pair.played.count
        let aReceivedBefore = pair.a.statistics.packetsReceived
        let sent = flood(pair.reactor, from: stranger, to: pair.b.localAddress, count: 90)
        try pair.run(seconds: 2)
        #expect(sent() == 90)
        let stats = pair.b.statistics
        #expect(stats.foreign == 90)
        #expect(stats.droppedBySourceCheck == 0)
        #expect(stats.description.contains("foreign 90"))
        // B still sends to A, and nothing at all to the stranger (no RTP, no RTCP).
        #expect(pair.b.remoteAddress == pair.a.localAddress)
        #expect(pair.a.statistics.packetsReceived >= aReceivedBefore + 90)
        #expect(stranger.receiveAll().isEmpty)
        // Nothing of the stranger's tone was played; A's tone went on.
        let heard = pair.played[playedBefore...]
        let intruder = Signal.goertzel(heard, frequency: 2200, sampleRate: 8000)
        let peer = Signal.goertzel(heard, frequency: 1000, sampleRate: 8000)
        #expect(intruder * 100 < peer, "stranger's 2200 Hz \(intruder) vs the far end's 1000 Hz \(peer)")
        pair.expectTone()
    }

    @Test("a far end silent past the latch window: a stranger cannot take the stream, the signalled address still does")
    func strangerBeforeTheFarEnd() throws {
        let pair = try CallPair()
        defer { pair.close() }
        try pair.start(codecs: [CodecRegistry.pcmu])
        pair.feeding = false
        pair.startClock()
        let window = Double(pair.b.configuration.latchWindowMilliseconds) / 1000
        try pair.run(seconds: window + 0.5)
        let stranger = try UDPPeer()
        let sent = flood(pair.reactor, from: stranger, to: pair.b.localAddress, count: 20)
        try pair.run(seconds: 0.5)
        #expect(sent() == 20)
        #expect(pair.b.statistics.foreign == 20)
        #expect(pair.b.remoteAddress == pair.a.localAddress)
        #expect(stranger.receiveAll().isEmpty)
        // The far end starts sending from the signalled address: it is heard.
        pair.feeding = true
        try pair.run(seconds: 1.5)
        pair.expectTone()
        #expect(pair.b.statistics.foreign == 20)
    }

    @Test("RTP ports are exclusive: a one-pair range serves one session; the second fails cleanly")
    func exclusivePorts() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let port = try freeEvenPort(reactor)
        let range = RTPSessionConfiguration(bindAddress: "127.0.0.1", portMin: port, portMax: port + 1)
        let first = try RTPSession(reactor: reactor, configuration: range)
        #expect(first.localAddress.port == UInt16(port))
        do throws(MediaError) {
            let second = try RTPSession(reactor: reactor, configuration: range)
            Issue.record("a second session bound \(second.localAddress.port) while the first holds it")
            second.close()
        } catch {
            #expect(error.message.hasPrefix("no free RTP port pair in \(port)...\(port + 1)"))
            #expect(error.errno == EADDRINUSE)
        }
        #expect(reactor.watchCount == 2)
        // Freed, the pair serves the next call.
        first.close()
        let third = try RTPSession(reactor: reactor, configuration: range)
        #expect(third.localAddress.port == UInt16(port))
        third.close()
    }

    @Test("sessions from a range never share a port; the range exhausted, the next one fails")
    func rangeExhausted() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let port = try freeEvenPort(reactor)
        // Three pairs (the kernel's free port may sit at the top of the range's neighbours: all tries count).
        let range = RTPSessionConfiguration(bindAddress: "127.0.0.1", portMin: port, portMax: port + 5)
        var sessions: [RTPSession] = []
        defer { for session in sessions { session.close() } }
        for _ in 0..<4 {
            do throws(MediaError) {
                sessions.append(try RTPSession(reactor: reactor, configuration: range))
            } catch {
                #expect(error.errno == EADDRINUSE)
            }
        }
        let ports = sessions.map { Int($0.localAddress.port) }
        #expect(Set(ports).count == ports.count)
        #expect(ports.count <= 3)
        #expect(ports.allSatisfy { $0 >= port && $0 <= port + 4 && $0 % 2 == 0 })
    }
}

/// A session on 127.0.0.1, started against a plain UDP peer with `codec` on both sides.
private func startedAgainstPeer(_ reactor: Reactor, _ codec: CodecDescriptor) throws -> (RTPSession, UDPPeer) {
    let session = try RTPSession(reactor: reactor, configuration: RTPSessionConfiguration(bindAddress: "127.0.0.1"))
    do {
        let peer = try UDPPeer()
        let (mine, _) = try Negotiation.pair(
            offerer: Negotiation.configuration(port: session.localAddress.port, codecs: [codec]),
            answerer: Negotiation.configuration(port: peer.port, codecs: [codec]))
        try session.start(mine)
        return (session, peer)
    } catch {
        session.close()
        throw error
    }
}

/// A free even port with a free port above it, from the kernel (a session bound and closed).
private func freeEvenPort(_ reactor: Reactor) throws -> Int {
    let probe = try RTPSession(reactor: reactor, configuration: RTPSessionConfiguration(bindAddress: "127.0.0.1"))
    defer { probe.close() }
    return Int(probe.localAddress.port)
}
