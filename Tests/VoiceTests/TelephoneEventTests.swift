import Testing

@testable import Voice

/// One telephone-event packet as sent: the whole datagram and when it left.
struct SentEventPacket {
    var bytes: [UInt8]
    var frame: Int
}

/// Runs `frames` 20 ms frames at 8 kHz through an RTPSender and an encoder; frames without an event
/// packet are audio. Returns the event packets and the audio packets' headers.
func runEncoder(
    _ encoder: inout TelephoneEventEncoder, frames: Int, digitsAt: [Int: UInt8] = [:]
) -> (events: [SentEventPacket], audio: [RTPHeader]) {
    var sender = RTPSender(
        ssrc: 0x1111_2222, payloadType: 0, clockRate: 8000, ticksPerFrame: 160, initialSequence: 1000,
        initialTimestamp: 5000)
    var events: [SentEventPacket] = []
    var audio: [RTPHeader] = []
    for frame in 0..<frames {
        if let digit = digitsAt[frame] {
            let queued = encoder.enqueue(character: digit)
            #expect(queued)
        }
        if let packet = encoder.next(frameTicks: 160, mediaTimestamp: sender.timestamp) {
            let header = sender.nextHeader(
                payloadType: 101, timestamp: packet.timestamp, marker: packet.marker, payloadBytes: 4)
            var bytes = [UInt8](repeating: 0, count: 16)
            let written = bytes.withUnsafeMutableBytes { raw -> Int in
                do throws(RTPError) {
                    let offset = try header.write(into: raw)
                    return offset
                        + (try packet.payload.write(into: UnsafeMutableRawBufferPointer(rebasing: raw[offset...])))
                } catch {
                    return 0
                }
            }
            #expect(written == 16)
            events.append(SentEventPacket(bytes: bytes, frame: frame))
            sender.skipFrame()
        } else {
            audio.append(sender.nextAudioHeader(payloadBytes: 160))
        }
    }
    return (events, audio)
}

/// Feeds event datagrams (parsed as RTP) to a decoder, each arriving at its frame's time.
func decode(
    _ decoder: inout TelephoneEventDecoder, _ packets: [SentEventPacket]
) -> [TelephoneEventDigit] {
    var digits: [TelephoneEventDigit] = []
    for packet in packets {
        packet.bytes.withUnsafeBytes { raw in
            guard let rtp = try? RTPPacket.parse(raw) else { return }
            if let digit = decoder.receive(
                payload: rtp.payload(in: raw), timestamp: rtp.timestamp,
                arrivalNanoseconds: Int64(packet.frame) * 20_000_000)
            {
                digits.append(digit)
            }
        }
    }
    return digits
}

@Suite("RFC 4733 telephone-event")
struct TelephoneEventTests {
    @Test func eventCodes() {
        let keys = Array("0123456789*#ABCD".utf8)
        for (code, key) in keys.enumerated() {
            #expect(TelephoneEventCode(character: key)?.code == UInt8(code))
            #expect(TelephoneEventCode(code: UInt8(code))?.character == key)
        }
        #expect(TelephoneEventCode(character: UInt8(ascii: "d"))?.code == 15)
        #expect(TelephoneEventCode(character: UInt8(ascii: "E")) == nil)
        #expect(TelephoneEventCode(code: 16) == nil)
        #expect(TelephoneEventCode(code: 11)?.description == "#")
    }

    @Test func digitFiveAt8kHzIn20msFrames() throws {
        var encoder = TelephoneEventEncoder(clockRate: 8000)
        let (events, audio) = runEncoder(&encoder, frames: 12, digitsAt: [2: UInt8(ascii: "5")])
        // 100 ms = 800 ticks: durations 160, 320, 480, 640, then 800 with E three times; 7 packets
        // in frames 2...8, sequence numbers 1002...1008, all with the timestamp of frame 2 (5320).
        #expect(events.map(\.frame) == Array(2...8))
        #expect(
            events[0].bytes == [
                0x80, 0xE5, 0x03, 0xEA, 0x00, 0x00, 0x14, 0xC8, 0x11, 0x11, 0x22, 0x22,  // M, PT 101, seq 1002, ts 5320
                0x05, 0x0A, 0x00, 0xA0,  // event 5, volume 10, duration 160
            ])
        #expect(
            events[6].bytes == [
                0x80, 0x65, 0x03, 0xF0, 0x00, 0x00, 0x14, 0xC8, 0x11, 0x11, 0x22, 0x22,  // no M, seq 1008
                0x05, 0x8A, 0x03, 0x20,  // E, duration 800
            ])
        let durations = events.map { UInt16($0.bytes[14]) << 8 | UInt16($0.bytes[15]) }
        #expect(durations == [160, 320, 480, 640, 800, 800, 800])
        #expect(events.map { $0.bytes[13] & 0x80 != 0 } == [false, false, false, false, true, true, true])
        #expect(events.map { $0.bytes[1] & 0x80 != 0 } == [true, false, false, false, false, false, false])
        // Audio around it: frames 0, 1, then 9...11; the first after the event is marked and its
        // timestamp is where the media clock got to (frame 9: 5000 + 9 * 160).
        #expect(audio.map(\.sequence) == [1000, 1001, 1009, 1010, 1011])
        #expect(audio[2].timestamp == 5000 + 9 * 160)
        #expect(audio.map(\.marker) == [true, false, true, false, false])
        #expect(!encoder.isBusy)
    }

    @Test func queuedDigitsArePausedAndTimedApart() throws {
        var encoder = TelephoneEventEncoder(clockRate: 8000, toneMilliseconds: 60, pauseMilliseconds: 40)
        let queued = encoder.enqueue(character: UInt8(ascii: "x"))
        #expect(!queued)
        let (events, _) = runEncoder(&encoder, frames: 20, digitsAt: [0: UInt8(ascii: "1"), 1: UInt8(ascii: "#")])
        // "1": 60 ms = 480 ticks, frames 0...4 (160, 320, 480 E x3); 2 frames of pause; "#" frames 7...11.
        #expect(events.map(\.frame) == [0, 1, 2, 3, 4, 7, 8, 9, 10, 11])
        #expect(events.map { $0.bytes[12] } == [1, 1, 1, 1, 1, 11, 11, 11, 11, 11])
        let timestamps = events.map {
            UInt32($0.bytes[4]) << 24 | UInt32($0.bytes[5]) << 16 | UInt32($0.bytes[6]) << 8 | UInt32($0.bytes[7])
        }
        #expect(timestamps == Array(repeating: 5000, count: 5) + Array(repeating: 5000 + 7 * 160, count: 5))
    }

    @Test func decoderReportsOneDigitAndDropsRetransmittedEnds() throws {
        var encoder = TelephoneEventEncoder(clockRate: 8000)
        let (events, _) = runEncoder(&encoder, frames: 10, digitsAt: [0: UInt8(ascii: "5")])
        var decoder = TelephoneEventDecoder(clockRate: 8000)
        let digits = decode(&decoder, events)
        #expect(digits.count == 1)
        #expect(digits.first?.event.code == 5)
        #expect(digits.first?.duration == 800)
        #expect(digits.first?.volume == 10)
        #expect(digits.first?.ending == .endPacket)
        #expect(decoder.ignored == 2)
        #expect(decoder.poll(nowNanoseconds: 10_000_000_000) == nil)
        // A straggler of the reported event, reordered behind its end, does not bring it back.
        #expect(decode(&decoder, [events[1]]).isEmpty)
    }

    /// Replays `[control, timestamp delta, payload]` records as the `dtmf` fuzz target reads them
    /// (Tools/deskphone-fuzz/FuzzVoice.swift), then lets every event time out; returns the digits.
    func replayFuzzRecords(_ decoder: inout TelephoneEventDecoder, _ bytes: [UInt8]) -> [TelephoneEventDigit] {
        var digits: [TelephoneEventDigit] = []
        var now: Int64 = 1_000_000_000
        var timestamp: UInt32 = 0x1000
        var i = 0
        while i + 7 <= bytes.count {
            let control = bytes[i]
            now += Int64(control & 0x1F) * 5_000_000
            if control & 0x80 != 0 {
                if let digit = decoder.poll(nowNanoseconds: now) { digits.append(digit) }
            } else {
                let delta = Int16(bitPattern: UInt16(bytes[i + 1]) << 8 | UInt16(bytes[i + 2]))
                timestamp = timestamp &+ UInt32(bitPattern: Int32(delta))
                let length = control & 0x40 != 0 ? Int(control & 3) : 4
                let digit = Array(bytes[(i + 3)..<(i + 3 + length)]).withUnsafeBytes {
                    decoder.receive(payload: $0, timestamp: timestamp, arrivalNanoseconds: now)
                }
                if let digit { digits.append(digit) }
            }
            i += 7
        }
        for _ in 0..<4 {
            now += 10_000_000_000
            if let digit = decoder.poll(nowNanoseconds: now) { digits.append(digit) }
        }
        return digits
    }

    /// Found by the `dtmf` fuzz target: a packet of an older event arriving while a newer one sounds
    /// ended the newer event and was reported after it (digits out of order). It is ignored now.
    @Test func packetOfAnOlderEventDoesNotEndTheCurrentOne() {
        let bytes: [UInt8] = [
            0x04, 0x00, 0x00, 0x00, 0x0A, 0xFF, 0xFF, 0x04, 0xFF, 0xFF, 0x00, 0x0A, 0x00, 0xA0,
            0x04, 0x00, 0x00, 0x00, 0x8A, 0x01, 0x90,
        ]
        var decoder = TelephoneEventDecoder(clockRate: 8000)
        let digits = replayFuzzRecords(&decoder, bytes)
        #expect(decoder.ignored == 2)
        #expect(digits.map(\.timestamp) == [0x1000])
        #expect(digits.map(\.duration) == [65535])
        #expect(digits.map(\.ending) == [.timeout])
    }

    /// Found by the `dtmf` fuzz target: when one packet ended two digits, the second waited in a
    /// single slot for the next poll; a digit ending on a packet before that poll came out first
    /// (out of order), and a third would have overwritten it (lost). Digits now queue in order.
    @Test func digitsEndingTogetherComeOutInOrder() {
        let bytes: [UInt8] =
            [0x04, 0x00, 0x00, 0x01, 0x0A, 0x6C, 0x6C] + [UInt8](repeating: 0x6C, count: 21)
            + [
                0x3D, 0x00, 0x6C, 0x00, 0xA0, 0x04, 0x00, 0x00, 0x01, 0x8A, 0x03, 0x20, 0x04, 0x5B, 0x60, 0x00, 0x00,
                0x03, 0x20, 0x04, 0x00, 0x00, 0x0B, 0x8A, 0x03, 0x20, 0x9F, 0x00, 0x0A, 0xA0, 0x04, 0x00, 0x00,
            ]
        #expect(bytes.count == 61)
        var decoder = TelephoneEventDecoder(clockRate: 8000)
        let digits = replayFuzzRecords(&decoder, bytes)
        #expect(digits.map(\.event.code) == [1, 0, 3, 3])
        #expect(digits.map(\.timestamp) == [4096, 87472, 87866, 90820])
        #expect(digits.map(\.ending) == [.nextEvent, .endPacket, .nextEvent, .timeout])
        #expect(decoder.ignored == 4)
        // The same by hand: a sounding digit, then end packets of two newer ones, no poll between.
        var second = TelephoneEventDecoder(clockRate: 8000)
        var out: [UInt8] = []
        func feed(_ code: UInt8, _ end: Bool, _ timestamp: UInt32) {
            let payload: [UInt8] = [code, end ? 0x8A : 0x0A, 0x01, 0x40]
            if let digit = payload.withUnsafeBytes({
                second.receive(payload: $0, timestamp: timestamp, arrivalNanoseconds: 0)
            }) {
                out.append(digit.event.code)
            }
        }
        feed(1, false, 1000)
        feed(2, true, 2000)
        feed(3, false, 3000)
        feed(4, true, 4000)
        while let digit = second.poll(nowNanoseconds: 0) { out.append(digit.event.code) }
        #expect(out == [1, 2, 3, 4])
    }

    /// An event longer than the 16-bit duration goes on in segments (RFC 4733 §2.5.1.3): it is one
    /// digit with the durations added, reported once, and late packets of its segments are ignored.
    @Test func longEventInSegmentsIsOneDigit() {
        var decoder = TelephoneEventDecoder(clockRate: 8000)
        var digits: [TelephoneEventDigit] = []
        func feed(_ timestamp: UInt32, _ duration: UInt16, end: Bool = false) {
            let payload: [UInt8] = [5, end ? 0x8A : 0x0A, UInt8(duration >> 8), UInt8(duration & 0xFF)]
            if let digit = payload.withUnsafeBytes({
                decoder.receive(payload: $0, timestamp: timestamp, arrivalNanoseconds: 0)
            }) {
                digits.append(digit)
            }
        }
        feed(10_000, 60_000)
        feed(10_000, 65_535)
        feed(75_535, 160)  // the second segment starts where the first left off
        feed(75_535, 320)
        feed(10_000, 65_535)  // late packet of the first segment
        feed(75_535, 400, end: true)
        feed(75_535, 400, end: true)
        while let digit = decoder.poll(nowNanoseconds: 10_000_000_000) { digits.append(digit) }
        #expect(digits.count == 1)
        #expect(digits.first?.timestamp == 10_000)
        #expect(digits.first?.duration == 65535)
        #expect(digits.first?.ending == .endPacket)
        #expect(decoder.ignored == 2)
    }

    @Test func lostStartAndOnlyEndPackets() throws {
        var encoder = TelephoneEventEncoder(clockRate: 8000)
        let (events, _) = runEncoder(&encoder, frames: 10, digitsAt: [0: UInt8(ascii: "7")])
        var decoder = TelephoneEventDecoder(clockRate: 8000)
        // Start packet (with the marker) lost: the next packet starts the event.
        #expect(decode(&decoder, Array(events[1...])).map(\.event.code) == [7])
        // Only one end packet gets through.
        var second = TelephoneEventDecoder(clockRate: 8000)
        let digits = decode(&second, [events[5]])
        #expect(digits.map(\.duration) == [800])
        #expect(second.current == nil)
    }

    @Test func lostEndPacketsEndTheDigitByTimeout() throws {
        var encoder = TelephoneEventEncoder(clockRate: 8000)
        let (events, _) = runEncoder(&encoder, frames: 10, digitsAt: [0: UInt8(ascii: "9")])
        var decoder = TelephoneEventDecoder(clockRate: 8000, timeoutMilliseconds: 250)
        #expect(decode(&decoder, Array(events[0..<4])).isEmpty)
        #expect(decoder.current?.event.code == 9)
        // The last packet arrived at frame 3 (60 ms).
        #expect(decoder.poll(nowNanoseconds: 309_000_000) == nil)
        let digit = decoder.poll(nowNanoseconds: 310_000_000)
        #expect(digit?.ending == .timeout)
        #expect(digit?.duration == 640)
        #expect(decoder.poll(nowNanoseconds: 400_000_000) == nil)
        // Its end packets arriving late after all are not a second digit.
        #expect(decode(&decoder, Array(events[4...])).isEmpty)
    }

    @Test func aNewEventEndsOneWhoseEndWasLost() throws {
        var encoder = TelephoneEventEncoder(clockRate: 8000)
        let (events, _) = runEncoder(
            &encoder, frames: 20, digitsAt: [0: UInt8(ascii: "1"), 1: UInt8(ascii: "2")])
        let one = events.filter { $0.bytes[12] == 1 }
        let two = events.filter { $0.bytes[12] == 2 }
        #expect(one.count == 7 && two.count == 7)
        var decoder = TelephoneEventDecoder(clockRate: 8000)
        // "1" loses its end packets; "2" comes whole.
        let digits = decode(&decoder, Array(one[0..<3]) + two)
        #expect(digits.map(\.event.code) == [1, 2])
        #expect(digits.map(\.ending) == [.nextEvent, .endPacket])
        // "1" open, then only the end packets of "2": both are reported, the second on the next poll.
        var other = TelephoneEventDecoder(clockRate: 8000)
        let first = decode(&other, Array(one[0..<3]) + [two[4]])
        #expect(first.map(\.event.code) == [1])
        #expect(other.poll(nowNanoseconds: 0)?.event.code == 2)
        #expect(decode(&other, Array(two[5...])).isEmpty)
    }

    @Test func nonDTMFAndShortPayloadsAreIgnored() {
        var decoder = TelephoneEventDecoder(clockRate: 8000)
        let flash: [UInt8] = [16, 0x8A, 0x03, 0x20]
        let short: [UInt8] = [5, 0x8A]
        flash.withUnsafeBytes { #expect(decoder.receive(payload: $0, timestamp: 1, arrivalNanoseconds: 0) == nil) }
        short.withUnsafeBytes { #expect(decoder.receive(payload: $0, timestamp: 2, arrivalNanoseconds: 0) == nil) }
        #expect(decoder.ignored == 2)
        #expect(TelephoneEventPayload.parse(UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
    }
}
