import Testing

@testable import Voice

/// Feeds sequence numbers (timestamps 160 apart, arrivals 20 ms apart) and returns the verdicts.
func feed(_ source: inout RTPSource, _ sequences: [UInt16]) -> [RTPSequenceVerdict] {
    sequences.map { seq in
        source.receive(sequence: seq, timestamp: UInt32(seq) &* 160, arrivalNanoseconds: Int64(seq) * 20_000_000)
    }
}

@Suite("RTP receiver statistics (RFC 3550 A.1, A.3, A.8)")
struct RTPReceiverStatisticsTests {
    @Test func probationThenCounting() {
        var source = RTPSource(ssrc: 1, sequence: 100, clockRate: 8000)
        #expect(feed(&source, [100]) == [.probation])
        #expect(!source.isValid)
        // MIN_SEQUENTIAL = 2: the second packet in sequence validates; counting starts there (init_seq).
        #expect(feed(&source, [101]) == [.valid])
        #expect(source.isValid)
        #expect(source.baseSequence == 101)
        #expect(source.received == 1)
        #expect(feed(&source, Array(102...110)) == Array(repeating: .valid, count: 9))
        #expect(source.expected == 10)
        #expect(source.cumulativeLost == 0)
    }

    @Test func probationRestartsWhenOutOfSequence() {
        var source = RTPSource(ssrc: 1, sequence: 100, clockRate: 8000)
        #expect(feed(&source, [100, 102, 103]) == [.probation, .probation, .valid])
        #expect(source.baseSequence == 103)
    }

    @Test func lossDuplicateReorderAndFractionLost() {
        var source = RTPSource(ssrc: 1, sequence: 100, clockRate: 8000)
        _ = feed(&source, Array(100...110))
        // 111 and 112 lost.
        #expect(feed(&source, [113]) == [.valid])
        #expect(source.expected == 13)  // 101...113
        #expect(source.received == 11)
        #expect(source.cumulativeLost == 2)
        var block = source.makeReportBlock(nowNanoseconds: 0)
        #expect(block.fractionLost == 39)  // (2 << 8) / 13 = 512 / 13
        #expect(block.cumulativeLost == 2)
        #expect(block.extendedHighestSequence == 113)
        #expect(block.ssrc == 1)
        #expect(block.lastSR == 0 && block.delaySinceLastSR == 0)
        // Next interval: 115 before 114 (reordered) and 115 twice (duplicate): 2 expected, 3 received.
        #expect(feed(&source, [115, 114, 115]) == [.valid, .valid, .valid])
        #expect(source.expected == 15)
        #expect(source.received == 14)
        #expect(source.cumulativeLost == 1)
        block = source.makeReportBlock(nowNanoseconds: 0)
        #expect(block.fractionLost == 0)  // more received than expected in the interval: 0
        #expect(block.cumulativeLost == 1)
        // A packet 50 back is reordering (within MAX_MISORDER), not a restart.
        #expect(feed(&source, [65]) == [.valid])
        #expect(source.extendedMaxSequence == 115)
    }

    @Test func sequenceWrapCountsACycle() {
        var source = RTPSource(ssrc: 1, sequence: 65533, clockRate: 8000)
        #expect(feed(&source, [65533, 65534, 65535, 0, 2]) == [.probation, .valid, .valid, .valid, .valid])
        #expect(source.cycles == 65536)
        #expect(source.extendedMaxSequence == 65536 + 2)
        #expect(source.expected == 65538 - 65534 + 1)  // 5: 65534, 65535, 0, 1, 2
        #expect(source.received == 4)
        #expect(source.cumulativeLost == 1)
        #expect(source.makeReportBlock(nowNanoseconds: 0).extendedHighestSequence == 0x0001_0002)
    }

    @Test func bigJumpIsConfirmedByTheNextPacket() {
        var source = RTPSource(ssrc: 1, sequence: 1000, clockRate: 8000)
        _ = feed(&source, [1000, 1001, 1002])
        // 4000 ahead is past MAX_DROPOUT (3000): held until the next packet follows on.
        #expect(feed(&source, [5002]) == [.jump])
        #expect(source.received == 2)
        #expect(feed(&source, [9000]) == [.jump])
        #expect(feed(&source, [9001]) == [.restarted])
        #expect(source.baseSequence == 9001)
        #expect(source.received == 1)
        #expect(source.expected == 1)
        // 200 back is past MAX_MISORDER (100): a jump too.
        #expect(feed(&source, [9002, 8802]) == [.valid, .jump])
        // 2999 ahead is loss, not a jump.
        #expect(feed(&source, [9002 &+ 2999]) == [.valid])
        #expect(source.cumulativeLost == 2998)
    }

    @Test func jitterFollowsA8() {
        // Timestamps 160 apart at 8 kHz; arrivals 1000 ms + [0, 20, 40, 65, 80, 100]: transit
        // 8000 + [0, 0, 0, 40, 0, 0] ticks. Packet 0 is on probation (no jitter); from packet 1 on:
        // D = 0, 40, 40, 0 and J (×16) = 0, 40, 40 + 40 - 3 = 77, 77 - 5 = 72, so J = 72 >> 4 = 4.
        var source = RTPSource(ssrc: 9, sequence: 0, clockRate: 8000)
        let arrivals: [Int64] = [0, 20, 40, 65, 80, 100]
        var scaled: [UInt32] = []
        for (i, ms) in arrivals.enumerated() {
            _ = source.receive(
                sequence: UInt16(i), timestamp: UInt32(i * 160), arrivalNanoseconds: (1000 + ms) * 1_000_000)
            scaled.append(source.jitterScaled)
        }
        #expect(scaled == [0, 0, 0, 40, 77, 72])
        #expect(source.jitter == 4)
        #expect(source.makeReportBlock(nowNanoseconds: 0).jitter == 4)
    }

    @Test func jitterIsZeroForAPerfectStreamAcrossTimestampWrap() {
        var source = RTPSource(ssrc: 9, sequence: 0, clockRate: 8000)
        for i in 0..<100 {
            _ = source.receive(
                sequence: UInt16(i), timestamp: 0xFFFF_F000 &+ UInt32(i * 160),
                arrivalNanoseconds: 5_000_000_000 + Int64(i) * 20_000_000)
        }
        #expect(source.jitter == 0)
    }

    @Test func lastSenderReportGivesLSRAndDLSR() {
        var source = RTPSource(ssrc: 1, sequence: 0, clockRate: 8000)
        _ = feed(&source, [0, 1])
        let ntp: UInt64 = 0x1234_5678_9ABC_DEF0
        source.receivedSenderReport(ntpTimestamp: ntp, arrivalNanoseconds: 10_000_000_000)
        let block = source.makeReportBlock(nowNanoseconds: 11_500_000_000)
        #expect(block.lastSR == 0x5678_9ABC)
        #expect(block.delaySinceLastSR == 98_304)  // 1.5 s in 1/65536 s
    }

    @Test func receiverSwitchesToANewSourceAfterItsProbation() {
        var receiver = RTPReceiver(clockRate: 8000)
        func packet(_ ssrc: UInt32, _ seq: UInt16) -> RTPReceiveVerdict {
            receiver.receive(
                ssrc: ssrc, sequence: seq, timestamp: UInt32(seq) * 160, arrivalNanoseconds: Int64(seq) * 20_000_000)
        }
        #expect(receiver.makeReportBlock(nowNanoseconds: 0) == nil)
        #expect(packet(0xA, 10) == .probation)
        #expect(packet(0xA, 11) == .accepted)
        #expect(packet(0xA, 12) == .accepted)
        // The far end restarts with a new SSRC and sequence numbers.
        #expect(packet(0xB, 500) == .otherSource)
        #expect(packet(0xA, 13) == .accepted)
        #expect(packet(0xB, 501) == .sourceChanged(previousSSRC: 0xA))
        #expect(receiver.current?.ssrc == 0xB)
        #expect(receiver.candidate == nil)
        #expect(packet(0xB, 502) == .accepted)
        // The old source's stragglers are now another source.
        #expect(packet(0xA, 14) == .otherSource)
        #expect(receiver.dropped == 2)
        #expect(receiver.makeReportBlock(nowNanoseconds: 0)?.ssrc == 0xB)
        #expect(receiver.makeReportBlock(nowNanoseconds: 0)?.extendedHighestSequence == 502)
        receiver.countMalformed()
        #expect(receiver.malformed == 1)
        #expect(RTPReceiveVerdict.otherSource.shouldPlay == false)
        #expect(RTPReceiveVerdict.probation.shouldPlay)
    }

    @Test func symmetricRTPLearnsANATAddressOnlyInTheWindowAndThenNeverMoves() {
        // Behind NAT: the first packet in the window comes from elsewhere than the SDP said.
        var latch = RTPRemoteAddressLatch(signalled: "10.0.0.5:4000", learningUntil: 3_000)
        func observe(_ address: String, _ at: Int64) -> RTPLatchVerdict { latch.observe(address, at: at) }
        #expect(latch.destination == "10.0.0.5:4000")
        #expect(observe("203.0.113.7:31000", 100) == .latched(moved: true))
        #expect(latch.destination == "203.0.113.7:31000")
        #expect(observe("203.0.113.7:31000", 120) == .peer)
        // Another address, even inside the window and however many packets: foreign.
        for t in 0..<100 { #expect(observe("198.51.100.1:9", 200 + Int64(t)) == .foreign) }
        #expect(latch.destination == "203.0.113.7:31000")
        // A new offer/answer with the same address does not move a taken latch.
        latch.reopenLearning(until: 10_000)
        #expect(latch.learningUntil == 3_000)
        #expect(observe("198.51.100.1:9", 5_000) == .foreign)
        // After the window not even the signalled address moves it.
        #expect(observe("10.0.0.5:4000", 5_000) == .foreign)
        #expect(latch.destination == "203.0.113.7:31000")
    }

    @Test func symmetricRTPTakesTheSignalledAddressAnyTimeAndItWinsInsideTheWindow() {
        var latch = RTPRemoteAddressLatch(signalled: 1, learningUntil: 1_000)
        // A stranger raced the far end inside the window; the signalled address takes over.
        #expect(latch.observe(7, at: 10) == .latched(moved: true))
        #expect(latch.observe(1, at: 20) == .latched(moved: true))
        #expect(latch.observe(7, at: 30) == .foreign)
        #expect(latch.destination == 1)
        // Nothing sent in the window: only the signalled address is taken later.
        var late = RTPRemoteAddressLatch(signalled: 1, learningUntil: 1_000)
        #expect(late.observe(7, at: 2_000) == .foreign)
        #expect(late.learnt == nil && late.destination == 1)
        #expect(late.observe(1, at: 50_000) == .latched(moved: false))
        #expect(late.observe(1, at: 50_020) == .peer)
        #expect(late.observe(7, at: 50_040) == .foreign)
        // An offer/answer while nothing was learnt opens the window again.
        var quiet = RTPRemoteAddressLatch(signalled: 1, learningUntil: 1_000)
        #expect(quiet.observe(7, at: 2_000) == .foreign)
        quiet.reopenLearning(until: 5_000)
        #expect(quiet.observe(7, at: 2_100) == .latched(moved: true))
        #expect(RTPLatchVerdict.foreign.isFromPeer == false)
        #expect(RTPLatchVerdict.latched(moved: false).isFromPeer)
    }
}
