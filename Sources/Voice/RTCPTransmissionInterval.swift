/// When to send the next RTCP packet (RFC 3550 §6.3, A.7): the deterministic interval from the
/// RTCP bandwidth (5% of the session's), the members and senders and the average RTCP packet size,
/// at least 5 s (2.5 s before the first packet), then randomized over 0.5...1.5 of itself and
/// divided by e - 3/2 to compensate for timer reconsideration. The random number is passed in.
public struct RTCPTransmissionInterval: Equatable, Sendable {
    /// The minimum deterministic interval, seconds (§6.2).
    public var minimumSeconds = 5.0
    /// Session bandwidth in bytes per second (RTP with its IP/UDP headers).
    public var sessionBandwidth: Double
    /// Share of the session bandwidth for RTCP (§6.2: 5%).
    public var rtcpFraction = 0.05
    /// Members of the session, this end included (2 in a call).
    public var members = 2
    /// Members that sent RTP since the last report but one.
    public var senders = 1
    /// Average compound RTCP packet size in bytes including IP and UDP headers (§6.3.3).
    public private(set) var averagePacketSize: Double
    /// True until the first RTCP packet went out (halves the minimum, §6.2).
    public private(set) var initial = true

    /// Bytes of IPv4 and UDP headers counted on every RTCP packet (§6.2).
    public static let ipv4UDPHeaderBytes = 28

    public init(sessionBandwidth: Double, initialPacketSize: Double = 100) {
        self.sessionBandwidth = sessionBandwidth
        averagePacketSize = initialPacketSize
    }

    /// Folds an RTCP packet sent or received (`size` bytes with IP/UDP headers) into the average (§6.3.3).
    public mutating func observePacket(size: Int) {
        averagePacketSize = Double(size) / 16 + averagePacketSize * 15 / 16
    }

    /// The deterministic interval Td in seconds (A.7 before randomization).
    public func deterministicInterval(weSent: Bool) -> Double {
        var bandwidth = sessionBandwidth * rtcpFraction
        var n = Double(members)
        if Double(senders) <= Double(members) * 0.25 {
            if weSent {
                bandwidth *= 0.25
                n = Double(senders)
            } else {
                bandwidth *= 0.75
                n -= Double(senders)
            }
        }
        let minimum = initial ? minimumSeconds / 2 : minimumSeconds
        guard bandwidth > 0 else { return minimum }
        return max(minimum, averagePacketSize * n / bandwidth)
    }

    /// The randomized interval in seconds for the next packet; `random` is uniform in 0..<1. Marks
    /// the initial packet as sent.
    public mutating func nextInterval(weSent: Bool, random: Double) -> Double {
        let interval = deterministicInterval(weSent: weSent) * (random + 0.5) / (2.718281828459045 - 1.5)
        initial = false
        return interval
    }

    /// The randomized interval, with the random number drawn from `generator`.
    public mutating func nextInterval<Random: RandomNumberGenerator>(weSent: Bool, generator: inout Random) -> Double {
        let random = Double(generator.next() >> 11) / 0x1p53  // not `1 << 53`: Int is 32-bit on armv7
        return nextInterval(weSent: weSent, random: random)
    }
}
