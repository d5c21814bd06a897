// The sending side of one RTP stream: its SSRC, the next sequence number and the media clock.
//
// SSRC, first sequence number and first timestamp are random (RFC 3550 §5.1, §8.1); the caller
// passes the generator (the session uses one over getrandom(2), tests a seeded one). The timestamp
// runs at the codec's RTP clock, which is not always its sample rate: G.722 samples at 16 kHz but
// counts 8000 per second (RFC 3551 §4.5.2), so 20 ms advance the timestamp by 160. It advances per
// frame whether or not the frame is sent (silence, a DTMF event in its place), and the first packet
// after such a gap carries the marker (RFC 3551 §4.1). Packet and octet counts feed the SR.

/// Sequence number, timestamp and marker state of an RTP stream the phone sends (RFC 3550 §5.1,
/// RFC 3551 §4.1); makes the header of each packet and counts what was sent for RTCP SR (§6.4.1).
public struct RTPSender: Sendable, CustomStringConvertible {
    public let ssrc: UInt32
    /// Payload type of the audio packets.
    public var payloadType: UInt8
    /// Sequence number the next packet gets.
    public private(set) var sequence: UInt16
    /// RTP timestamp of the current frame (the next one to send or skip).
    public private(set) var timestamp: UInt32
    /// Timestamp advance per audio frame (RTP clock ticks).
    public var ticksPerFrame: UInt32
    /// RTP clock rate (ticks per second), for the SR's RTP timestamp.
    public let clockRate: Int
    /// Packets sent (SR sender's packet count, wraps).
    public private(set) var packetCount: UInt32 = 0
    /// Payload octets sent (SR sender's octet count, wraps).
    public private(set) var octetCount: UInt32 = 0
    /// Whether the next audio packet starts a talkspurt and gets the marker.
    public private(set) var markerPending = true

    /// A sender with the given start values (tests and restarts).
    public init(
        ssrc: UInt32, payloadType: UInt8, clockRate: Int, ticksPerFrame: UInt32, initialSequence: UInt16,
        initialTimestamp: UInt32
    ) {
        self.ssrc = ssrc
        self.payloadType = payloadType
        self.clockRate = clockRate
        self.ticksPerFrame = ticksPerFrame
        self.sequence = initialSequence
        self.timestamp = initialTimestamp
    }

    /// A sender for `codec` in packets of `ptime` ms, with SSRC, first sequence number and first
    /// timestamp drawn from `random`.
    public init<Random: RandomNumberGenerator>(
        codec: CodecDescriptor, payloadType: UInt8, ptime: Int, random: inout Random
    ) {
        self.init(
            ssrc: UInt32(truncatingIfNeeded: random.next()), payloadType: payloadType,
            clockRate: codec.rtpClockRate, ticksPerFrame: UInt32(codec.rtpTimestampIncrement(ptime: ptime)),
            initialSequence: UInt16(truncatingIfNeeded: random.next()),
            initialTimestamp: UInt32(truncatingIfNeeded: random.next()))
    }

    /// The header of the next audio packet (one frame, `payloadBytes` long), then moves on one
    /// sequence number and one frame of timestamp.
    public mutating func nextAudioHeader(payloadBytes: Int) -> RTPHeader {
        let header = RTPHeader(
            marker: markerPending, payloadType: payloadType, sequence: sequence, timestamp: timestamp, ssrc: ssrc)
        markerPending = false
        sequence &+= 1
        timestamp &+= ticksPerFrame
        packetCount &+= 1
        octetCount &+= UInt32(truncatingIfNeeded: payloadBytes)
        return header
    }

    /// Passes one frame without sending it (silence suppression, or a frame whose time a DTMF
    /// event packet takes): the timestamp advances, and the next audio packet gets the marker.
    public mutating func skipFrame() {
        timestamp &+= ticksPerFrame
        markerPending = true
    }

    /// Marks the next audio packet as the start of a talkspurt (RFC 3551 §4.1).
    public mutating func beginTalkspurt() { markerPending = true }

    /// The header of a packet with its own payload type, timestamp and marker (RFC 4733 events use
    /// the timestamp of the event's start on every packet): takes the next sequence number and
    /// counts the packet, leaving the media clock alone.
    public mutating func nextHeader(
        payloadType otherType: UInt8, timestamp eventTimestamp: UInt32, marker: Bool, payloadBytes: Int
    ) -> RTPHeader {
        let header = RTPHeader(
            marker: marker, payloadType: otherType, sequence: sequence, timestamp: eventTimestamp, ssrc: ssrc)
        sequence &+= 1
        packetCount &+= 1
        octetCount &+= UInt32(truncatingIfNeeded: payloadBytes)
        return header
    }

    /// What goes in an SR's sender info (RFC 3550 §6.4.1) at wall-clock time `unixNanoseconds`, when
    /// the current frame (`timestamp`) is due at `currentFrameUnixNanoseconds`.
    public func senderInfo(unixNanoseconds: Int64, currentFrameUnixNanoseconds: Int64) -> RTCPSenderInfo {
        let ahead = unixNanoseconds - currentFrameUnixNanoseconds
        let ticks = Int64(RTCPTime.ticks(nanoseconds: ahead >= 0 ? ahead : -ahead, clockRate: clockRate))
        let rtp =
            ahead >= 0 ? timestamp &+ UInt32(truncatingIfNeeded: ticks) : timestamp &- UInt32(truncatingIfNeeded: ticks)
        return RTCPSenderInfo(
            ntpTimestamp: RTCPTime.ntp(unixNanoseconds: unixNanoseconds), rtpTimestamp: rtp,
            packetCount: packetCount, octetCount: octetCount)
    }

    public var description: String {
        "RTP sender ssrc=\(RTPBytes.hex(ssrc)) pt=\(payloadType) next seq=\(sequence) ts=\(timestamp) "
            + "sent \(packetCount) packets \(octetCount) bytes"
    }
}
