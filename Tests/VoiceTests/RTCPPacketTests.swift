import Testing

@testable import Voice

func parseRTCP(_ bytes: [UInt8]) -> Result<[RTCPPacket], RTCPError> {
    bytes.withUnsafeBytes { raw in
        do throws(RTCPError) {
            return .success(try RTCPPacket.parseCompound(raw))
        } catch {
            return .failure(error)
        }
    }
}

/// Writes a compound packet with `build` into a 1500-byte buffer and returns its bytes.
func writeRTCP(_ build: (inout RTCPCompoundWriter) throws(RTCPError) -> Void) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0xEE, count: 1500)
    let count = try buffer.withUnsafeMutableBytes { raw throws(RTCPError) in
        var writer = RTCPCompoundWriter(buffer: raw)
        try build(&writer)
        return writer.count
    }
    return Array(buffer[0..<count])
}

extension RTCPVoIPMetrics {
    static var sample: RTCPVoIPMetrics {
        var m = RTCPVoIPMetrics(ssrc: 0xFEED_BEEF)
        m.lossRate = 19
        m.discardRate = 3
        m.burstDensity = 192
        m.gapDensity = 4
        m.burstDuration = 80
        m.gapDuration = 1240
        m.roundTripDelay = 125
        m.endSystemDelay = 60
        m.signalLevel = UInt8(bitPattern: -20)
        m.rFactor = 88
        m.mosLQ = 42
        m.mosCQ = 41
        m.concealment = .standard
        m.jitterBufferType = .adaptive
        m.jitterBufferRate = 5
        m.jitterBufferNominal = 60
        m.jitterBufferMaximum = 210
        m.jitterBufferAbsoluteMaximum = 610
        return m
    }
}

@Suite("RTCP compound packets (RFC 3550 §6, RFC 3611)")
struct RTCPPacketTests {
    static let block = RTCPReportBlock(
        ssrc: 0xB0B0_B0B0, fractionLost: 39, cumulativeLost: -3, extendedHighestSequence: 0x0001_0002, jitter: 4,
        lastSR: 0x5678_9ABC, delaySinceLastSR: 98_304)

    @Test func senderReportSDESXRAndBYERoundTrip() throws {
        let info = RTCPSenderInfo(
            ntpTimestamp: RTCPTime.ntp(unixNanoseconds: 1_700_000_000_500_000_000), rtpTimestamp: 123_456,
            packetCount: 250, octetCount: 40_000)
        let bytes = try writeRTCP { w throws(RTCPError) in
            try w.appendSenderReport(ssrc: 0xA11C_E000, info: info, blocks: CollectionOfOne(Self.block))
            try w.appendSourceDescription(ssrc: 0xA11C_E000, cname: "alice@192.0.2.1")
            try w.appendExtendedReport(ssrc: 0xA11C_E000, voipMetrics: .sample)
            try w.appendGoodbye(ssrc: 0xA11C_E000, reason: "hangup")
        }
        // SR 28 + 24, SDES 4 + 4 + 2 + 15 + 1 pad to 28, XR 8 + 36, BYE 8 + 1 + 6 to 16.
        #expect(bytes.count == 52 + 28 + 44 + 16)
        #expect(Array(bytes[0..<4]) == [0x81, 200, 0, 12])
        #expect(Array(bytes[52..<56]) == [0x81, 202, 0, 6])
        #expect(Array(bytes[80..<84]) == [0x80, 207, 0, 10])
        #expect(Array(bytes[124..<128]) == [0x81, 203, 0, 3])
        // Cumulative loss -3 as 24-bit two's complement after the fraction byte.
        #expect(Array(bytes[32..<36]) == [39, 0xFF, 0xFF, 0xFD])
        let packets = try parseRTCP(bytes).get()
        #expect(
            packets == [
                .senderReport(ssrc: 0xA11C_E000, info: info, blocks: [Self.block]),
                .sourceDescription([RTCPSourceDescription(ssrc: 0xA11C_E000, cname: "alice@192.0.2.1")]),
                .extendedReport(ssrc: 0xA11C_E000, voipMetrics: [.sample]),
                .goodbye(ssrcs: [0xA11C_E000], reason: "hangup"),
            ])
    }

    @Test func receiverReportAndPaddingRoundTrip() throws {
        var bytes = try writeRTCP { w throws(RTCPError) in
            try w.appendReceiverReport(ssrc: 7, blocks: [Self.block, Self.block])
            try w.appendReceiverReport(ssrc: 8, blocks: EmptyCollection())
            try w.appendSourceDescription(ssrc: 7, cname: "abc")  // 4 + 4 + 2 + 3 + 3 = 16: one null octet
            try w.appendGoodbye(ssrc: 7)
        }
        #expect(bytes.count == 56 + 8 + 16 + 8)
        #expect(
            try parseRTCP(bytes).get() == [
                .receiverReport(ssrc: 7, blocks: [Self.block, Self.block]), .receiverReport(ssrc: 8, blocks: []),
                .sourceDescription([RTCPSourceDescription(ssrc: 7, cname: "abc")]), .goodbye(ssrcs: [7], reason: nil),
            ])
        // Padding on the last packet (a BYE) is allowed: 4 bytes, count in the last octet.
        bytes[bytes.count - 8] |= 0x20
        bytes[bytes.count - 5] = 2
        bytes += [0, 0, 0, 4]
        #expect((try? parseRTCP(bytes).get().last) == .goodbye(ssrcs: [7], reason: nil))
    }

    @Test func reportIsAnSROnlyWhenWeSent() throws {
        let info = RTCPSenderInfo(ntpTimestamp: 5, rtpTimestamp: 6, packetCount: 7, octetCount: 8)
        let sr = try writeRTCP { w throws(RTCPError) in
            try w.appendReport(ssrc: 3, senderInfo: info, blocks: CollectionOfOne(Self.block))
        }
        let rr = try writeRTCP { w throws(RTCPError) in
            try w.appendReport(ssrc: 3, senderInfo: nil, blocks: CollectionOfOne(Self.block))
        }
        #expect(try parseRTCP(sr).get() == [.senderReport(ssrc: 3, info: info, blocks: [Self.block])])
        #expect(try parseRTCP(rr).get() == [.receiverReport(ssrc: 3, blocks: [Self.block])])
    }

    @Test func malformedCompoundsAreRejectedPrecisely() throws {
        let rr = try writeRTCP { w throws(RTCPError) in
            try w.appendReceiverReport(ssrc: 7, blocks: CollectionOfOne(Self.block))
        }
        let bye = try writeRTCP { w throws(RTCPError) in try w.appendGoodbye(ssrc: 7) }
        #expect(parseRTCP([]) == .failure(.badLength(length: 0)))
        #expect(parseRTCP(Array(rr[0..<30])) == .failure(.badLength(length: 30)))
        #expect(parseRTCP(Array(rr[0..<28])) == .failure(.lengthPastEnd(offset: 0, declared: 32, available: 28)))
        var badVersion = rr + bye
        badVersion[32] = 0x41
        #expect(parseRTCP(badVersion) == .failure(.badVersion(1, offset: 32)))
        var paddedFirst = rr + bye
        paddedFirst[0] |= 0x20
        #expect(parseRTCP(paddedFirst) == .failure(.paddingNotLast(offset: 0)))
        var zeroPadding = bye
        zeroPadding[0] |= 0x20
        zeroPadding[7] = 0
        #expect(parseRTCP(zeroPadding) == .failure(.badPadding(offset: 0, padding: 0)))
        // RC says 2 blocks, the length holds 1.
        var tooManyBlocks = rr
        tooManyBlocks[0] = 0x82
        #expect(parseRTCP(tooManyBlocks) == .failure(.truncatedBody(packetType: 201, offset: 0)))
        // BYE count 2 with one SSRC.
        var shortBye = rr + bye
        shortBye[32] = 0x82
        #expect(parseRTCP(shortBye) == .failure(.truncatedBody(packetType: 203, offset: 32)))
        // SDES item length past the chunk.
        var sdes = try writeRTCP { w throws(RTCPError) in try w.appendSourceDescription(ssrc: 7, cname: "abc") }
        sdes[9] = 40
        #expect(parseRTCP(sdes) == .failure(.truncatedBody(packetType: 202, offset: 0)))
        // An unknown packet type is passed over.
        #expect(
            try parseRTCP([0x80, 204, 0, 1, 0, 0, 0, 1] + bye).get() == [
                .other(packetType: 204, length: 8), .goodbye(ssrcs: [7], reason: nil),
            ])
    }

    @Test func writerRefusesWhatDoesNotFit() {
        var small = [UInt8](repeating: 0, count: 40)
        small.withUnsafeMutableBytes { raw in
            var w = RTCPCompoundWriter(buffer: raw)
            #expect(throws: RTCPError.bufferTooSmall(needed: 56, available: 40)) {
                try w.appendReceiverReport(ssrc: 1, blocks: [Self.block, Self.block])
            }
            #expect(throws: RTCPError.tooMany(what: "report blocks", count: 32)) {
                try w.appendReceiverReport(ssrc: 1, blocks: Array(repeating: Self.block, count: 32))
            }
            #expect(w.count == 0)
        }
    }

    @Test func truncationsAndRandomBytesNeverTrap() throws {
        let valid = try writeRTCP { w throws(RTCPError) in
            try w.appendSenderReport(
                ssrc: 1, info: RTCPSenderInfo(ntpTimestamp: 1, rtpTimestamp: 2, packetCount: 3, octetCount: 4),
                blocks: CollectionOfOne(Self.block))
            try w.appendSourceDescription(ssrc: 1, cname: "x@y")
            try w.appendExtendedReport(ssrc: 1, voipMetrics: .sample)
            try w.appendGoodbye(ssrc: 1, reason: "bye")
        }
        var parsed = 0
        for length in 0...valid.count where (try? parseRTCP(Array(valid[0..<length])).get()) != nil { parsed += 1 }
        #expect(parsed == 4)  // exactly the prefixes ending on a packet boundary
        var random = RTPTestRandom(seed: 99)
        for _ in 0..<20_000 {
            var bytes = (0..<(Int(random.next() % 24) * 4)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Make most headers plausible so parsing gets past the version check.
            var o = 0
            while o + 4 <= bytes.count && random.next() % 4 != 0 {
                bytes[o] = 0x80 | (bytes[o] & 0x1F)
                bytes[o + 1] = UInt8(200 + random.next() % 8)
                bytes[o + 2] = 0
                bytes[o + 3] = UInt8(random.next() % 8)
                o += 4 * (Int(bytes[o + 3]) + 1)
            }
            _ = parseRTCP(bytes)
        }
    }

    @Test func ntpTimeAndRoundTripFromLSRAndDLSR() {
        // Unix 1700000000.5 s: NTP seconds shifted by 70 years, fraction one half.
        let sent = RTCPTime.ntp(unixNanoseconds: 1_700_000_000_500_000_000)
        #expect(sent == (UInt64(1_700_000_000 + 2_208_988_800) << 32) | 0x8000_0000)
        let lsr = RTCPTime.middle32(sent)
        // The far end holds our SR 1.5 s, its RR reaches us 1.625 s after we sent: RTT 125 ms.
        let dlsr = RTCPTime.compact(nanoseconds: 1_500_000_000)
        #expect(dlsr == 98_304)
        let arrival = RTCPTime.ntp(unixNanoseconds: 1_700_000_002_125_000_000)
        let rtt = RTCPTime.roundTrip(arrivalNTP: arrival, lastSR: lsr, delaySinceLastSR: dlsr)
        #expect(rtt == 8192)
        #expect(RTCPTime.milliseconds(compact: 8192) == 125)
        #expect(RTCPTime.roundTrip(arrivalNTP: arrival, lastSR: 0, delaySinceLastSR: dlsr) == nil)
        #expect(RTCPTime.roundTrip(arrivalNTP: arrival, lastSR: lsr, delaySinceLastSR: dlsr * 2) == nil)
        // A DLSR a little longer than the time since our SR (rounded up by the far end on
        // loopback): no measurable round trip, 0; more than 10 ms longer: bogus, none.
        let since = RTCPTime.middle32(arrival) &- lsr
        #expect(RTCPTime.roundTrip(arrivalNTP: arrival, lastSR: lsr, delaySinceLastSR: since + 60) == 0)
        #expect(RTCPTime.roundTrip(arrivalNTP: arrival, lastSR: lsr, delaySinceLastSR: since + 655) == 0)
        #expect(RTCPTime.roundTrip(arrivalNTP: arrival, lastSR: lsr, delaySinceLastSR: since + 656) == nil)
        // Across the 16-bit seconds wrap of the middle word.
        let boundary = Int64(
            ((1_700_000_000 + RTCPTime.unixToNTPSeconds) / 65_536 + 1) * 65_536 - RTCPTime.unixToNTPSeconds)
        let late = RTCPTime.ntp(unixNanoseconds: boundary * 1_000_000_000 - 250_000_000)
        let later = RTCPTime.ntp(unixNanoseconds: boundary * 1_000_000_000 + 250_000_000)
        #expect(RTCPTime.middle32(later) < RTCPTime.middle32(late))
        #expect(RTCPTime.roundTrip(arrivalNTP: later, lastSR: RTCPTime.middle32(late), delaySinceLastSR: 0) == 32_768)
    }

    @Test func receiverReportBlockCarriesTheRoundTripBack() {
        // Our SR leaves at T; the far end's statistics note it on arrival and report 1.5 s later.
        let t: Int64 = 1_700_000_000_500_000_000
        var farEnd = RTPSource(ssrc: 0xA, sequence: 0, clockRate: 8000)
        _ = feed(&farEnd, [0, 1, 2])
        farEnd.receivedSenderReport(ntpTimestamp: RTCPTime.ntp(unixNanoseconds: t), arrivalNanoseconds: 40_000_000_000)
        let block = farEnd.makeReportBlock(nowNanoseconds: 41_500_000_000)
        let rtt = RTCPTime.roundTrip(
            arrivalNTP: RTCPTime.ntp(unixNanoseconds: t + 1_625_000_000), lastSR: block.lastSR,
            delaySinceLastSR: block.delaySinceLastSR)
        #expect(rtt.map { RTCPTime.milliseconds(compact: $0) } == 125)
    }

    @Test func transmissionIntervalFollowsA7() {
        // G.711 20 ms: 80 kbit/s with headers = 10000 B/s, RTCP 500 B/s; 2 members, 1 sender.
        var interval = RTCPTransmissionInterval(sessionBandwidth: 10_000, initialPacketSize: 100)
        // 100 * 2 / 500 = 0.4 s, below the minimum: 2.5 s before the first packet, 5 s after.
        #expect(interval.deterministicInterval(weSent: true) == 2.5)
        let compensation = 2.718281828459045 - 1.5
        #expect(interval.nextInterval(weSent: true, random: 0.5) == 2.5 / compensation)
        #expect(!interval.initial)
        #expect(interval.nextInterval(weSent: true, random: 0) == 5 * 0.5 / compensation)
        #expect(interval.nextInterval(weSent: false, random: 0.999) == 5 * 1.499 / compensation)
        // A big conference: senders are a quarter or less, so they share 25% and receivers 75%.
        interval.members = 100
        interval.senders = 1
        #expect(interval.deterministicInterval(weSent: false) == 100.0 * 99 / 375)
        #expect(interval.deterministicInterval(weSent: true) == 5)
        interval.observePacket(size: 260)
        #expect(interval.averagePacketSize == 260.0 / 16 + 100.0 * 15 / 16)
        var random = RTPTestRandom(seed: 3)
        for _ in 0..<1000 {
            let t = interval.nextInterval(weSent: true, generator: &random)
            #expect(t >= 5 * 0.5 / compensation && t < 5 * 1.5 / compensation)
        }
    }
}

@Suite("RTCP XR VoIP metrics (RFC 3611 §4.7, Appendix A.2)")
struct RTCPExtendedReportTests {
    @Test func voipMetricsBlockBytes() throws {
        let bytes = try writeRTCP { w throws(RTCPError) in try w.appendExtendedReport(ssrc: 1, voipMetrics: .sample) }
        #expect(bytes.count == 44)
        let block = Array(bytes[8...])
        #expect(Array(block[0..<4]) == [7, 0, 0, 8])
        #expect(Array(block[4..<8]) == [0xFE, 0xED, 0xBE, 0xEF])
        #expect(Array(block[8..<12]) == [19, 3, 192, 4])
        #expect(Array(block[12..<16]) == [0, 80, 0x04, 0xD8])
        #expect(Array(block[16..<20]) == [0, 125, 0, 60])
        #expect(Array(block[20..<24]) == [0xEC, 127, 127, 16])
        #expect(Array(block[24..<28]) == [88, 127, 42, 41])
        #expect(Array(block[28..<32]) == [0xF5, 0, 0, 60])  // PLC 11, JBA 11, rate 5
        #expect(Array(block[32..<36]) == [0, 210, 0x02, 0x62])
        #expect(try parseRTCP(bytes).get() == [.extendedReport(ssrc: 1, voipMetrics: [.sample])])
    }

    @Test func otherXRBlocksAreSkipped() throws {
        var bytes = try writeRTCP { w throws(RTCPError) in try w.appendExtendedReport(ssrc: 1, voipMetrics: .sample) }
        // Insert a receiver reference time block (BT 4, 2 words) before the VoIP block.
        bytes.insert(contentsOf: [4, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8], at: 8)
        bytes[3] += 3
        #expect(try parseRTCP(bytes).get() == [.extendedReport(ssrc: 1, voipMetrics: [.sample])])
        // A VoIP block with a wrong length is malformed.
        bytes[12 + 8 + 3] = 7
        #expect(parseRTCP(bytes) == .failure(.truncatedBody(packetType: 207, offset: 0)))
    }

    @Test func burstAndGapFromAKnownLossPattern() {
        // gmin 16, 20 ms packets: 20 received, 1 lost (isolated), 20 received, 1 lost (isolated),
        // then a burst lost-received-lost-lost, 20 received, 1 lost (which closes the burst).
        var model = RTCPBurstGapModel(packetMilliseconds: 20)
        model.record(.received, count: 20)
        model.record(.lost)
        model.record(.received, count: 20)
        model.record(.lost)
        model.record(.received)
        model.record(.lost)
        model.record(.discarded)
        model.record(.received, count: 20)
        model.record(.lost)
        // Transitions: c11 = 20 + 20 + 20 received in gaps, c14 = 1 isolated loss classified (the
        // second closes the first), c23 = 1, c22 = 0, c33 = 1 in the burst, c13 = 1 burst closed.
        #expect([model.c11, model.c13, model.c14, model.c22, model.c23, model.c33] == [60, 1, 1, 0, 1, 1])
        #expect(model.expected == 66 && model.lost == 4 && model.discarded == 1)
        let m = model.burstGapMetrics()
        // p32 = c32 / (c31 + c32 + c33) = 1/3, p23 = 1 - c22/(c22 + c23) = 1: burst density
        // 256 * 1 / (4/3) = 192 (3 of its 4 packets lost); gap density 256 * 1 / 61 = 4.
        #expect(m.burstDensity == 192)
        #expect(m.gapDensity == 4)
        // Gap (c11 + c14 + c13) * 20 / c13 = 1240 ms; burst total * 20 / c13 - gap = 1320 - 1240 = 80 ms.
        #expect(m.gapDuration == 1240)
        #expect(m.burstDuration == 80)
        #expect(model.lossRate == 15)  // 4 * 256 / 66
        #expect(model.discardRate == 3)  // 1 * 256 / 66
    }

    @Test func noBurstYetMeansOneLongGap() {
        var model = RTCPBurstGapModel(packetMilliseconds: 20)
        model.record(.received, count: 100)
        model.record(.lost)
        model.record(.received, count: 27)
        let m = model.burstGapMetrics()
        #expect(m == RTCPBurstGapModel.Metrics(burstDensity: 0, gapDensity: 2, burstDuration: 0, gapDuration: 2560))
    }

    @Test func qualityFromTheEModel() {
        // No loss, no delay: R = 93.2, MOS = 1 + 0.035 R + R (R - 60)(100 - R) 7e-6 = 4.41.
        let perfect = RTCPQualityEstimate(oneWayDelayMilliseconds: 0, lossPercent: 0)
        #expect(perfect.rFactor == 93.2)
        #expect(abs(perfect.mos - (1 + 0.035 * 93.2 + 93.2 * 33.2 * 6.8 * 7e-6)) < 1e-12)
        #expect(RTCPQualityEstimate.mos(r: 120) == 4.5)
        #expect(RTCPQualityEstimate.mos(r: -5) == 1)
        var model = RTCPBurstGapModel(packetMilliseconds: 20)
        model.record(.received, count: 95)
        model.record(.lost, count: 5)
        var metrics = RTCPVoIPMetrics(ssrc: 1)
        #expect(metrics.rFactor == 127 && metrics.mosLQ == 127 && metrics.signalLevel == 127)
        metrics.roundTripDelay = 100
        metrics.endSystemDelay = 50
        metrics.fillLoss(from: model)
        metrics.fillQuality(from: model)
        // 5% loss: Ie = 95 * 5 / 30.1; one way 100 ms: Id = 2.4.
        let ie = 95.0 * 5 / 30.1
        #expect(metrics.rFactor == UInt8((93.2 - 2.4 - ie).rounded()))
        #expect(metrics.mosLQ == UInt8((RTCPQualityEstimate.mos(r: 93.2 - ie) * 10).rounded()))
        #expect(metrics.mosCQ == UInt8((RTCPQualityEstimate.mos(r: 93.2 - 2.4 - ie) * 10).rounded()))
        #expect(metrics.lossRate == 12)  // 5 * 256 / 100
        #expect(metrics.gmin == 16)
    }

    @Test func jitterBufferFieldsComeFromTheJitterBuffer() throws {
        let jb = try JitterBuffer(JitterBufferConfiguration(codec: CodecConfiguration(kind: .pcmu)))
        var metrics = RTCPVoIPMetrics(ssrc: 1)
        metrics.fillJitterBuffer(from: jb)
        #expect(metrics.jitterBufferNominal == UInt16(jb.targetDelayMilliseconds.rounded()))
        #expect(metrics.jitterBufferMaximum == UInt16((jb.targetDelayMilliseconds + 150).rounded()))
        #expect(metrics.jitterBufferAbsoluteMaximum == 610)
        #expect(metrics.rxConfig == 0xF0)
    }
}
