import Reactor

/// What one call's RTP session did, for logs, the RTCP-XR block and the benchmark (RFC 3550
/// §6.4 counters plus the phone's own: malformed datagrams, jitter buffer discards and
/// concealment, device xruns, the in-phone latencies of issue 7 item 6).
public struct RTPSessionStatistics: Sendable, CustomStringConvertible {
    public var packetsSent: UInt64 = 0
    /// Payload bytes sent (RTP headers excluded, as in the SR octet count).
    public var bytesSent: UInt64 = 0
    /// RFC 4733 event packets sent (in `packetsSent` too).
    public var eventPacketsSent: UInt64 = 0
    /// sendto failures (buffer full, ICMP errors surfacing).
    public var sendErrors: UInt64 = 0
    /// RTP packets received that parsed (any payload type, any source).
    public var packetsReceived: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    /// Datagrams that were not valid RTP/RTCP (or too big for the buffer): dropped.
    public var malformed: UInt64 = 0
    /// RTP packets with a payload type the negotiation did not give us: dropped.
    public var wrongPayloadType: UInt64 = 0
    /// Packets dropped by the source/sequence checks (unknown SSRC on probation, jumps).
    public var droppedBySourceCheck: UInt64 = 0
    /// RTP and RTCP packets from an address other than the far end's (the signalled one, or
    /// the one latched at the start): dropped, never played, never moving where media goes.
    public var foreign: UInt64 = 0
    /// SRTP/SRTCP packets whose authentication tag did not verify: dropped, never played.
    public var srtpAuthFailures: UInt64 = 0
    /// SRTP/SRTCP packets seen before (or older than the replay window): dropped, never played.
    public var srtpReplays: UInt64 = 0
    /// Packets that arrived while the stream was not receiving (hold): ignored.
    public var ignoredNotReceiving: UInt64 = 0
    /// Lost in the network, from the receiver's sequence accounting (RFC 3550 A.3).
    public var lost: Int64 = 0
    /// Interarrival jitter in µs (RFC 3550 A.8, converted from timestamp units).
    public var jitterMicroseconds: Int64 = 0
    /// Packets that came too late for playout, or duplicates: discarded by the jitter buffer.
    public var lateOrDiscarded: UInt64 = 0
    /// Frames concealed by the decoder (loss or underrun).
    public var concealed: UInt64 = 0
    /// RTCP compound packets sent and received; RTCP datagrams that did not parse.
    public var rtcpSent: UInt64 = 0
    public var rtcpReceived: UInt64 = 0
    /// Round-trip time from the far end's last report block (LSR/DLSR, RFC 3550 §6.4.1), µs;
    /// nil until one arrived.
    public var roundTripMicroseconds: Int64? = nil
    /// DTMF digits sent and received (RFC 4733).
    public var digitsSent: UInt64 = 0
    public var digitsReceived: UInt64 = 0
    /// Audio device xruns (filled in by `CallAudio`).
    public var xruns: Int = 0
    /// End of a capture period to the sendto of the packet carrying its samples (the wait for
    /// the rest of the packet included).
    public var captureToSend = LatencyHistogram()
    /// recvfrom of a packet to its first sample handed to the playback device, plus the
    /// device's own buffer delay.
    public var receiveToPlayback = LatencyHistogram()

    public init() {}

    public var description: String {
        var text = "sent " + String(packetsSent) + " pkts " + String(bytesSent) + " B"
        if eventPacketsSent > 0 { text += " (" + String(eventPacketsSent) + " dtmf)" }
        text += ", received " + String(packetsReceived) + " pkts " + String(bytesReceived) + " B"
        text += ", lost " + String(lost) + ", jitter " + LatencyHistogram.milliseconds(jitterMicroseconds * 1000)
        text += ", late/discarded " + String(lateOrDiscarded) + ", concealed " + String(concealed)
        text += ", malformed " + String(malformed) + ", wrong PT " + String(wrongPayloadType)
        if droppedBySourceCheck > 0 { text += ", dropped " + String(droppedBySourceCheck) }
        if foreign > 0 { text += ", foreign " + String(foreign) }
        if ignoredNotReceiving > 0 { text += ", ignored on hold " + String(ignoredNotReceiving) }
        if srtpAuthFailures > 0 || srtpReplays > 0 {
            text += ", srtp auth failures " + String(srtpAuthFailures) + " replays " + String(srtpReplays)
        }
        text += ", rtcp " + String(rtcpSent) + "/" + String(rtcpReceived)
        if let rtt = roundTripMicroseconds { text += ", rtt " + LatencyHistogram.milliseconds(rtt * 1000) }
        if digitsSent > 0 || digitsReceived > 0 {
            text += ", dtmf " + String(digitsSent) + "/" + String(digitsReceived)
        }
        text += ", xruns " + String(xruns)
        text += ", capture->send " + captureToSend.description
        text += ", receive->playback " + receiveToPlayback.description
        return text
    }
}
