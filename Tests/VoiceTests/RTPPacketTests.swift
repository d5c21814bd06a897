import CMallocCounter
import TestSupport
import Testing

@testable import Voice

#if DEBUG
    let rtpOptimized = false
#else
    let rtpOptimized = true
#endif

/// A seeded generator for reproducible "random" SSRCs, fuzz inputs and intervals.
typealias RTPTestRandom = SplitMix64

/// Parses `bytes` and returns the packet or the error.
func parseRTP(_ bytes: [UInt8]) -> Result<RTPPacket, RTPError> {
    bytes.withUnsafeBytes { raw in
        do throws(RTPError) {
            return .success(try RTPPacket.parse(raw))
        } catch {
            return .failure(error)
        }
    }
}

@Suite("RTP packets (RFC 3550 §5.1)")
struct RTPPacketTests {
    /// V=2 P=1 X=1 CC=2, M=1 PT=8, seq 0x1234, ts 0xDEADBEEF, SSRC 0x01020304, two CSRCs, an
    /// extension of one word, five payload bytes, three padding bytes.
    static let full: [UInt8] =
        [0xB2, 0x88, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04]
        + [0xAA, 0xAA, 0xAA, 0xA1, 0xBB, 0xBB, 0xBB, 0xB2]
        + [0xBE, 0xDE, 0x00, 0x01, 0x10, 0x20, 0x30, 0x40]
        + [1, 2, 3, 4, 5]
        + [0, 0, 3]

    @Test func parsesEveryHeaderField() throws {
        let packet = try parseRTP(Self.full).get()
        #expect(packet.marker)
        #expect(packet.payloadType == 8)
        #expect(packet.sequence == 0x1234)
        #expect(packet.timestamp == 0xDEAD_BEEF)
        #expect(packet.ssrc == 0x0102_0304)
        #expect(packet.csrcCount == 2)
        #expect(packet.extensionProfile == 0xBEDE)
        #expect(packet.payloadOffset == 28)
        #expect(packet.payloadCount == 5)
        #expect(packet.paddingCount == 3)
        Self.full.withUnsafeBytes { raw in
            #expect(Array(packet.payload(in: raw)) == [1, 2, 3, 4, 5])
            #expect(packet.csrc(0, in: raw) == 0xAAAA_AAA1)
            #expect(packet.csrc(1, in: raw) == 0xBBBB_BBB2)
        }
    }

    @Test func headerWrittenIsParsedBack() throws {
        let header = RTPHeader(
            marker: true, payloadType: 9, sequence: 65535, timestamp: 4_000_000_000, ssrc: 0xCAFE_F00D)
        var buffer = [UInt8](repeating: 0xFF, count: 12 + 160)
        let offset = try buffer.withUnsafeMutableBytes { raw throws(RTPError) in try header.write(into: raw) }
        #expect(offset == 12)
        #expect(Array(buffer[0..<12]) == [0x80, 0x89, 0xFF, 0xFF, 0xEE, 0x6B, 0x28, 0x00, 0xCA, 0xFE, 0xF0, 0x0D])
        let packet = try parseRTP(buffer).get()
        #expect(packet.header == header)
        #expect(packet.payloadOffset == 12)
        #expect(packet.payloadCount == 160)
        #expect(packet.extensionProfile == nil)
        var small = [UInt8](repeating: 0, count: 11)
        _ = small.withUnsafeMutableBytes { raw in
            #expect(throws: RTPError.bufferTooSmall(needed: 12, available: 11)) { _ = try header.write(into: raw) }
        }
    }

    @Test func malformedPacketsAreRejectedPrecisely() {
        let base: [UInt8] = [0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]
        #expect(parseRTP(Array(base[0..<11])) == .failure(.tooShort(length: 11)))
        #expect(parseRTP([0x40] + base[1...]) == .failure(.badVersion(1)))
        #expect(parseRTP([0xC0] + base[1...]) == .failure(.badVersion(3)))
        // CC=3 needs 24 bytes.
        #expect(parseRTP([0x83] + base[1...] + [0, 0, 0, 0]) == .failure(.csrcPastEnd(csrcCount: 3, length: 16)))
        // X with no room for the extension header, then with a length past the end.
        #expect(
            parseRTP([0x90] + base[1...] + [0xBE, 0xDE]) == .failure(.extensionHeaderPastEnd(offset: 12, length: 14)))
        #expect(
            parseRTP([0x90] + base[1...] + [0xBE, 0xDE, 0, 2, 1, 2, 3, 4])
                == .failure(.extensionPastEnd(words: 2, offset: 12, length: 20)))
        // P with a zero count, and with more padding than there is packet after the header.
        #expect(parseRTP([0xA0] + base[1...] + [1, 0]) == .failure(.zeroPadding))
        #expect(parseRTP([0xA0] + base[1...] + [1, 3]) == .failure(.paddingTooLong(padding: 3, available: 2)))
        // Padding that exactly eats the payload is valid: an empty payload.
        let emptied = parseRTP([0xA0] + base[1...] + [0, 2])
        #expect((try? emptied.get().payloadCount) == 0)
    }

    @Test func truncationsAndRandomBytesNeverTrap() {
        var accepted = 0
        for length in 0...Self.full.count {
            let prefix = Array(Self.full[0..<length])
            if case .success(let packet) = parseRTP(prefix) {
                #expect(packet.payloadOffset + packet.payloadCount + packet.paddingCount == length)
                accepted += 1
            }
        }
        // With P set the last byte is the padding count, so only some prefixes parse; 12 bytes never do.
        #expect(parseRTP(Array(Self.full[0..<12])) == .failure(.csrcPastEnd(csrcCount: 2, length: 12)))
        var random = RTPTestRandom(seed: 7)
        var errors = 0
        for _ in 0..<20_000 {
            let length = Int(random.next() % 64)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if length > 0 && random.next() % 2 == 0 { bytes[0] = 0x80 | (bytes[0] & 0x3F) }
            switch parseRTP(bytes) {
            case .success(let packet):
                #expect(packet.payloadOffset + packet.payloadCount + packet.paddingCount == length)
                #expect(packet.payloadCount >= 0)
                accepted += 1
            case .failure: errors += 1
            }
        }
        #expect(errors > 0 && accepted > 0)
    }

    @Test func rtcpIsToldApartOnAMultiplexedPort() {
        let rtcp: [UInt8] = [0x80, 200, 0, 6]
        let rtp: [UInt8] = [0x80, 0x00, 0, 6]
        let rtpMarkerPT0: [UInt8] = [0x80, 0x80, 0, 6]
        rtcp.withUnsafeBytes { #expect(RTPPacket.isRTCP($0)) }
        rtp.withUnsafeBytes { #expect(!RTPPacket.isRTCP($0)) }
        rtpMarkerPT0.withUnsafeBytes { #expect(!RTPPacket.isRTCP($0)) }
    }

    @Test(.enabled(if: rtpOptimized, "allocation counts are meaningful in optimized builds only"))
    func writeParseAndReceiveAllocateNothing() throws {
        var sender = RTPSender(
            ssrc: 1, payloadType: 0, clockRate: 8000, ticksPerFrame: 160, initialSequence: 0, initialTimestamp: 0)
        var buffer = [UInt8](repeating: 0, count: 172)
        var receiver = RTPReceiver(clockRate: 8000)
        var accepted = 0
        var checksum = 0
        let before = mc_thread_allocations()
        buffer.withUnsafeMutableBytes { raw in
            for i in 0..<10_000 {
                let header = sender.nextAudioHeader(payloadBytes: 160)
                guard (try? header.write(into: raw)) != nil else { return }
                guard let packet = try? RTPPacket.parse(UnsafeRawBufferPointer(raw)) else { return }
                checksum &+= Int(packet.sequence) + packet.payload(in: UnsafeRawBufferPointer(raw)).count
                if receiver.receive(packet, arrivalNanoseconds: Int64(i) * 20_000_000) == .accepted { accepted += 1 }
            }
        }
        let allocations = mc_thread_allocations() - before
        #expect(allocations == 0, "RTP write, parse and receive allocated \(allocations) times in 10000 packets")
        #expect(sender.packetCount == 10_000)
        #expect(accepted == 9_999)  // the first packet is on probation
        #expect(checksum == (0..<10_000).reduce(0) { $0 + $1 + 160 })
    }
}

@Suite("RTP sender (RFC 3550 §5.1, RFC 3551 §4.1)")
struct RTPSenderTests {
    @Test func startValuesComeFromTheGenerator() {
        var random = RTPTestRandom(seed: 42)
        var copy = random
        let sender = RTPSender(codec: CodecRegistry.g722, payloadType: 9, ptime: 20, random: &random)
        #expect(sender.ssrc == UInt32(truncatingIfNeeded: copy.next()))
        #expect(sender.sequence == UInt16(truncatingIfNeeded: copy.next()))
        #expect(sender.timestamp == UInt32(truncatingIfNeeded: copy.next()))
        // G.722 samples at 16 kHz but its RTP clock is 8000: 20 ms is 160 ticks.
        #expect(sender.ticksPerFrame == 160)
        #expect(sender.clockRate == 8000)
        var other = RTPTestRandom(seed: 43)
        #expect(RTPSender(codec: CodecRegistry.g722, payloadType: 9, ptime: 20, random: &other).ssrc != sender.ssrc)
        var opusRandom = RTPTestRandom(seed: 1)
        #expect(
            RTPSender(codec: CodecRegistry.opus, payloadType: 111, ptime: 20, random: &opusRandom).ticksPerFrame == 960)
    }

    @Test func sequenceWrapsTimestampAdvancesMarkerStartsTalkspurts() {
        var sender = RTPSender(
            ssrc: 5, payloadType: 0, clockRate: 8000, ticksPerFrame: 160, initialSequence: 65534,
            initialTimestamp: 0xFFFF_FF60)
        let first = sender.nextAudioHeader(payloadBytes: 160)
        #expect(first == RTPHeader(marker: true, payloadType: 0, sequence: 65534, timestamp: 0xFFFF_FF60, ssrc: 5))
        let second = sender.nextAudioHeader(payloadBytes: 160)
        #expect(second == RTPHeader(marker: false, payloadType: 0, sequence: 65535, timestamp: 0, ssrc: 5))
        // Two silent frames: no sequence numbers used, timestamp moves on, next packet is marked.
        sender.skipFrame()
        sender.skipFrame()
        let third = sender.nextAudioHeader(payloadBytes: 80)
        #expect(third == RTPHeader(marker: true, payloadType: 0, sequence: 0, timestamp: 160 * 3, ssrc: 5))
        // An event packet takes a sequence number but not the media clock.
        let event = sender.nextHeader(payloadType: 101, timestamp: 1234, marker: true, payloadBytes: 4)
        #expect(event == RTPHeader(marker: true, payloadType: 101, sequence: 1, timestamp: 1234, ssrc: 5))
        #expect(sender.sequence == 2)
        #expect(sender.timestamp == 160 * 4)
        #expect(sender.packetCount == 4)
        #expect(sender.octetCount == 160 + 160 + 80 + 4)
        sender.beginTalkspurt()
        #expect(sender.nextAudioHeader(payloadBytes: 160).marker)
    }

    @Test func senderInfoMapsWallClockOntoTheMediaClock() {
        var sender = RTPSender(
            ssrc: 5, payloadType: 0, clockRate: 8000, ticksPerFrame: 160, initialSequence: 0, initialTimestamp: 1000)
        _ = sender.nextAudioHeader(payloadBytes: 160)
        // The current frame (timestamp 1160) is due at t; the report is made 5 ms later: 40 ticks on.
        let t: Int64 = 1_700_000_000_000_000_000
        let info = sender.senderInfo(unixNanoseconds: t + 5_000_000, currentFrameUnixNanoseconds: t)
        #expect(info.rtpTimestamp == 1200)
        #expect(info.packetCount == 1)
        #expect(info.octetCount == 160)
        #expect(info.ntpTimestamp >> 32 == 1_700_000_000 + 2_208_988_800)
        #expect(info.ntpTimestamp & 0xFFFF_FFFF == (5_000_000 << 32) / 1_000_000_000)
        let early = sender.senderInfo(unixNanoseconds: t - 10_000_000, currentFrameUnixNanoseconds: t)
        #expect(early.rtpTimestamp == 1080)
    }
}
