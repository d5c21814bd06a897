// RFC 4733 telephone-events (DTMF digits in RTP). The sender sends one packet per audio frame while
// a digit sounds, all with the RTP timestamp of the digit's start, the first with the marker, the
// duration so far growing by a frame each time; the packet that reaches the tone length has the E
// bit and is sent three times (new sequence numbers, same contents). The receiver turns packets into
// one digit event each, whichever of them are lost, duplicated or reordered.

/// An RFC 4733 §3.2 DTMF event code: 0-9, * (10), # (11), A-D (12-15).
public struct TelephoneEventCode: Equatable, Sendable, CustomStringConvertible {
    public let code: UInt8

    /// The event for a keypad character ("0"-"9", "*", "#", "A"-"D" or "a"-"d"), nil for others.
    public init?(character: UInt8) {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): code = character - UInt8(ascii: "0")
        case UInt8(ascii: "*"): code = 10
        case UInt8(ascii: "#"): code = 11
        case UInt8(ascii: "A")...UInt8(ascii: "D"): code = character - UInt8(ascii: "A") + 12
        case UInt8(ascii: "a")...UInt8(ascii: "d"): code = character - UInt8(ascii: "a") + 12
        default: return nil
        }
    }

    /// The event with this code, nil above 15 (not a DTMF digit).
    public init?(code: UInt8) {
        guard code <= 15 else { return nil }
        self.code = code
    }

    /// The keypad character as ASCII.
    public var character: UInt8 {
        switch code {
        case 0...9: return UInt8(ascii: "0") + code
        case 10: return UInt8(ascii: "*")
        case 11: return UInt8(ascii: "#")
        default: return UInt8(ascii: "A") + code - 12
        }
    }

    public var description: String { String(Unicode.Scalar(character)) }
}

/// The 4-byte payload of a telephone-event packet (RFC 4733 §2.3).
public struct TelephoneEventPayload: Equatable, Sendable, CustomStringConvertible {
    public static let size = 4

    public var event: UInt8
    /// E bit: the event has ended.
    public var isEnd: Bool
    /// Power level in -dBm0, 0...63.
    public var volume: UInt8
    /// Duration of the event so far, RTP timestamp units.
    public var duration: UInt16

    public init(event: UInt8, isEnd: Bool, volume: UInt8, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.volume = volume
        self.duration = duration
    }

    /// Reads a payload; nil when shorter than 4 bytes (RFC 4733 §2.3; extra bytes are ignored).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> TelephoneEventPayload? {
        guard bytes.count >= size else { return nil }
        return TelephoneEventPayload(
            event: bytes[0], isEnd: bytes[1] & 0x80 != 0, volume: bytes[1] & 0x3F, duration: RTPBytes.load16(bytes, 2))
    }

    /// Writes the 4 bytes at the start of `buffer` (R bit zero) and returns 4.
    public func write(into buffer: UnsafeMutableRawBufferPointer) throws(RTPError) -> Int {
        guard buffer.count >= TelephoneEventPayload.size else {
            throw .bufferTooSmall(needed: TelephoneEventPayload.size, available: buffer.count)
        }
        buffer[0] = event
        buffer[1] = (isEnd ? 0x80 : 0) | (volume & 0x3F)
        RTPBytes.store16(duration, buffer, 2)
        return TelephoneEventPayload.size
    }

    public var description: String {
        "event \(event)" + (isEnd ? " end" : "") + " volume -\(volume) dBm0 duration \(duration)"
    }
}

/// One telephone-event packet to send: its payload and the RTP header fields that differ from audio.
public struct TelephoneEventPacket: Equatable, Sendable {
    public var payload: TelephoneEventPayload
    /// RTP timestamp: the event's start, the same on all its packets.
    public var timestamp: UInt32
    /// Marker: set on the first packet of the event.
    public var marker: Bool
}

/// Sends DTMF digits as RFC 4733 events, one packet per audio frame (§2.5.1): call `next` once per
/// frame; it returns the event packet to send in place of audio, or nil when audio goes out.
/// Digits queue up; a pause of `pauseMilliseconds` separates consecutive ones.
public struct TelephoneEventEncoder: Sendable {
    public let clockRate: Int
    /// Tone length of each digit (default 100 ms), at most what the 16-bit duration holds.
    public var toneMilliseconds: Int
    /// Silence between two queued digits.
    public var pauseMilliseconds: Int
    /// Power level in -dBm0 (RFC 4733 §2.3.4; 10 is typical).
    public var volume: UInt8
    /// How often the end packet is sent (§2.5.1.4 recommends 3).
    public var endPackets = 3

    private var queue: [UInt8] = []
    private var queueHead = 0
    private var active: UInt8? = nil
    private var startTimestamp: UInt32 = 0
    private var elapsed = 0
    private var endsSent = 0
    private var pauseLeft = 0

    public init(clockRate: Int, toneMilliseconds: Int = 100, pauseMilliseconds: Int = 50, volume: UInt8 = 10) {
        self.clockRate = clockRate
        self.toneMilliseconds = toneMilliseconds
        self.pauseMilliseconds = pauseMilliseconds
        self.volume = volume
        queue.reserveCapacity(32)
    }

    /// Queues a digit ("0"-"9", "*", "#", "A"-"D"); returns false for other characters.
    public mutating func enqueue(character: UInt8) -> Bool {
        guard let event = TelephoneEventCode(character: character) else { return false }
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
        queue.append(event.code)
        return true
    }

    /// Whether an event is being sent or digits wait.
    public var isBusy: Bool { active != nil || queueHead < queue.count || pauseLeft > 0 }

    /// The packet for the audio frame that starts at RTP timestamp `mediaTimestamp` and lasts
    /// `frameTicks`, or nil when this frame carries audio.
    public mutating func next(frameTicks: Int, mediaTimestamp: UInt32) -> TelephoneEventPacket? {
        if active == nil {
            if pauseLeft > 0 {
                pauseLeft -= frameTicks
                return nil
            }
            guard queueHead < queue.count else { return nil }
            active = queue[queueHead]
            queueHead += 1
            startTimestamp = mediaTimestamp
            elapsed = 0
            endsSent = 0
        }
        let event = active!
        let toneTicks = min(65535, max(1, toneMilliseconds * clockRate / 1000))
        let first = elapsed == 0
        if elapsed < toneTicks { elapsed = min(toneTicks, elapsed + frameTicks) }
        let isEnd = elapsed >= toneTicks
        if isEnd {
            endsSent += 1
            if endsSent >= endPackets {
                active = nil
                pauseLeft = pauseMilliseconds * clockRate / 1000
            }
        }
        return TelephoneEventPacket(
            payload: TelephoneEventPayload(event: event, isEnd: isEnd, volume: volume, duration: UInt16(elapsed)),
            timestamp: startTimestamp, marker: first)
    }
}

/// A DTMF digit the far end sent, reported once when it ended.
public struct TelephoneEventDigit: Equatable, Sendable, CustomStringConvertible {
    /// How the receiver knew the digit was over.
    public enum Ending: Equatable, Sendable {
        /// An end packet arrived.
        case endPacket
        /// No packet for the timeout (end packets lost).
        case timeout
        /// Another event started before this one's end was seen.
        case nextEvent
    }

    public var event: TelephoneEventCode
    /// RTP timestamp of the event's start.
    public var timestamp: UInt32
    /// Longest duration seen, RTP timestamp units.
    public var duration: UInt16
    public var volume: UInt8
    public var ending: Ending

    public var description: String { "DTMF \(event) duration \(duration) ending \(ending)" }
}

/// Turns received telephone-event packets into one `TelephoneEventDigit` per event (RFC 4733
/// §2.5.2): packets of one event share a timestamp; its first packet may be lost (any packet
/// starts it), end packets come three times (reported once), and when all end packets are lost the
/// event ends `timeoutMilliseconds` after its last packet (`poll`). Old events' packets are ignored.
public struct TelephoneEventDecoder: Sendable {
    public let clockRate: Int
    /// Silence after which an event with no end packet counts as over.
    public var timeoutMilliseconds: Int

    /// The event sounding now (its packets are arriving), if any.
    public private(set) var current: TelephoneEventDigit?
    private var lastArrival: Int64 = 0
    /// The current event's latest segment (RFC 4733 §2.5.1.3: an event longer than the 16-bit
    /// duration goes on in segments, each with its own timestamp): its timestamp, the longest
    /// duration seen in it, and the event's duration before it.
    private var segment: UInt32 = 0
    private var segmentDuration: UInt16 = 0
    private var segmentBase = 0
    private var lastTimestamp: UInt32 = 0
    private var hasLast = false
    /// Digits that ended but are not handed out yet (two can end on one packet), oldest first.
    private var ready: [TelephoneEventDigit] = []
    private var readyHead = 0
    /// Packets ignored: not DTMF, too short, of an event already reported or older than the current one.
    public private(set) var ignored = 0

    public init(clockRate: Int, timeoutMilliseconds: Int = 250) {
        self.clockRate = clockRate
        self.timeoutMilliseconds = timeoutMilliseconds
        ready.reserveCapacity(4)
    }

    /// Takes one packet of the telephone-event payload type; returns the oldest digit that ended
    /// and was not returned yet, if any (when two end at once, the second comes from the next
    /// `receive` or `poll`: digits always come out in the order they were dialled).
    /// `payload` is the RTP payload; `timestamp` the packet's RTP timestamp.
    public mutating func receive(
        payload bytes: UnsafeRawBufferPointer, timestamp: UInt32, arrivalNanoseconds: Int64
    ) -> TelephoneEventDigit? {
        accept(payload: bytes, timestamp: timestamp, arrivalNanoseconds: arrivalNanoseconds)
        return nextReady()
    }

    /// Takes one packet; digits that end go to `ready`.
    private mutating func accept(payload bytes: UnsafeRawBufferPointer, timestamp: UInt32, arrivalNanoseconds: Int64) {
        guard let payload = TelephoneEventPayload.parse(bytes), let code = TelephoneEventCode(code: payload.event)
        else {
            ignored += 1
            return
        }
        if var event = current, timestamp == segment {
            lastArrival = arrivalNanoseconds
            segmentDuration = max(segmentDuration, payload.duration)
            event.duration = UInt16(min(65535, segmentBase + Int(segmentDuration)))
            guard payload.isEnd else {
                current = event
                return
            }
            event.ending = .endPacket
            finish(event)
            return
        }
        // A packet of an event already reported, or older than it: retransmitted or reordered.
        if hasLast && Int32(bitPattern: timestamp &- lastTimestamp) <= 0 {
            ignored += 1
            return
        }
        // A packet of an event (or segment) older than the one sounding now (reordered): it must
        // not end the current event and be reported after it, out of order.
        if current != nil, Int32(bitPattern: timestamp &- segment) < 0 {
            ignored += 1
            return
        }
        if var previous = current {
            // A long event goes on in a new segment (§2.5.1.3): same code, timestamp where the
            // segment before left off.
            if previous.event == code && !payload.isEnd && timestamp == segment &+ UInt32(segmentDuration) {
                segmentBase += Int(segmentDuration)
                segment = timestamp
                segmentDuration = payload.duration
                previous.duration = UInt16(min(65535, segmentBase + Int(payload.duration)))
                current = previous
                lastArrival = arrivalNanoseconds
                return
            }
            previous.ending = .nextEvent
            finish(previous)
        }
        let event = TelephoneEventDigit(
            event: code, timestamp: timestamp, duration: payload.duration, volume: payload.volume, ending: .endPacket)
        lastArrival = arrivalNanoseconds
        segment = timestamp
        segmentDuration = payload.duration
        segmentBase = 0
        if payload.isEnd {
            // Only the end packets got through: the digit is over already.
            finish(event)
            return
        }
        current = event
    }

    private mutating func nextReady() -> TelephoneEventDigit? {
        guard readyHead < ready.count else { return nil }
        let digit = ready[readyHead]
        readyHead += 1
        if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        }
        return digit
    }

    /// Ends the current event when no packet came for the timeout; call once per frame or timer tick.
    public mutating func poll(nowNanoseconds: Int64) -> TelephoneEventDigit? {
        if let digit = nextReady() { return digit }
        guard var event = current, nowNanoseconds - lastArrival >= Int64(timeoutMilliseconds) * 1_000_000 else {
            return nil
        }
        event.ending = .timeout
        finish(event)
        return nextReady()
    }

    /// Reports `event` (after any digit still waiting); later packets of it, up to its latest
    /// segment, are ignored from now on.
    private mutating func finish(_ event: TelephoneEventDigit) {
        current = nil
        lastTimestamp = segment
        hasLast = true
        ready.append(event)
    }
}
