// The transaction timers of RFC 3261 §17 (summarised in its Appendix A, table 4) and the
// Accepted-state timers of RFC 6026, derived from the three base values T1, T2 and T4.

/// T1, T2 and T4 and the timers A to M derived from them (RFC 3261 §17, Appendix A; RFC 6026
/// §8.4 and §8.7 for L and M). All values are nanoseconds on the reactor's clock. Timer C is a
/// proxy timer and is not provided.
///
/// Timers that only exist on unreliable transports (A, E, G: retransmissions) are simply not
/// started on TCP; the "wait" timers D, I, J and K are zero on a reliable transport. Timer D is
/// `max(32 s, 64·T1)` on UDP: RFC 3261 asks for "at least 32 seconds", and a longer T1 makes
/// the server's Timer H (64·T1) longer too, so D grows with it (as several stacks do).
public struct SIPTimerValues: Equatable, Sendable, CustomStringConvertible {
    /// One millisecond in reactor time units.
    public static let millisecond: Int64 = 1_000_000
    /// One second in reactor time units.
    public static let second: Int64 = 1_000_000_000

    /// RTT estimate, 500 ms by default (RFC 3261 §17.1.1.1).
    public var t1: Int64
    /// Maximum retransmission interval for non-INVITE requests and INVITE responses, 4 s.
    public var t2: Int64
    /// Maximum time a message remains in the network, 5 s.
    public var t4: Int64
    /// How long an INVITE server transaction waits for the TU's first response before it
    /// sends 100 Trying itself (RFC 3261 §17.2.1: 200 ms); 0 sends it at once.
    public var tryingDelay: Int64

    public init(
        t1: Int64 = 500 * SIPTimerValues.millisecond,
        t2: Int64 = 4 * SIPTimerValues.second,
        t4: Int64 = 5 * SIPTimerValues.second,
        tryingDelay: Int64 = 200 * SIPTimerValues.millisecond
    ) {
        self.t1 = max(1, t1)
        self.t2 = max(self.t1, t2)
        self.t4 = max(0, t4)
        self.tryingDelay = max(0, tryingDelay)
    }

    /// The same values given in milliseconds (configuration files speak milliseconds).
    public init(t1Milliseconds: Int, t2Milliseconds: Int = 4000, t4Milliseconds: Int = 5000) {
        self.init(
            t1: Int64(t1Milliseconds) * SIPTimerValues.millisecond,
            t2: Int64(t2Milliseconds) * SIPTimerValues.millisecond,
            t4: Int64(t4Milliseconds) * SIPTimerValues.millisecond)
    }

    /// Timer A: first INVITE retransmission interval (T1, doubling each time, no cap).
    public var timerA: Int64 { t1 }
    /// Timer B: INVITE transaction timeout (64·T1).
    public var timerB: Int64 { 64 * t1 }
    /// Timer D: wait time for response retransmissions in Completed (INVITE client).
    public func timerD(_ transport: SIPTransportProtocol) -> Int64 {
        transport.isReliable ? 0 : max(32 * SIPTimerValues.second, 64 * t1)
    }
    /// Timer E: first non-INVITE retransmission interval (T1, doubling up to T2).
    public var timerE: Int64 { t1 }
    /// Timer F: non-INVITE transaction timeout (64·T1).
    public var timerF: Int64 { 64 * t1 }
    /// Timer G: first INVITE final-response retransmission interval (T1, doubling up to T2).
    public var timerG: Int64 { t1 }
    /// Timer H: wait time for the ACK (64·T1).
    public var timerH: Int64 { 64 * t1 }
    /// Timer I: wait time for ACK retransmissions in Confirmed (T4 on UDP, 0 on TCP).
    public func timerI(_ transport: SIPTransportProtocol) -> Int64 { transport.isReliable ? 0 : t4 }
    /// Timer J: wait time for non-INVITE request retransmissions (64·T1 on UDP, 0 on TCP).
    public func timerJ(_ transport: SIPTransportProtocol) -> Int64 { transport.isReliable ? 0 : 64 * t1 }
    /// Timer K: wait time for non-INVITE response retransmissions (T4 on UDP, 0 on TCP).
    public func timerK(_ transport: SIPTransportProtocol) -> Int64 { transport.isReliable ? 0 : t4 }
    /// Timer L (RFC 6026): how long an INVITE server transaction stays Accepted (64·T1).
    public var timerL: Int64 { 64 * t1 }
    /// Timer M (RFC 6026): how long an INVITE client transaction stays Accepted (64·T1).
    public var timerM: Int64 { 64 * t1 }

    /// The retransmission interval that follows `interval`: doubled, and capped at T2 for
    /// Timers E and G (`capped`), uncapped for Timer A.
    public func doubled(_ interval: Int64, capped: Bool) -> Int64 {
        capped ? min(2 * interval, t2) : 2 * interval
    }

    public var description: String {
        "T1=" + String(t1 / SIPTimerValues.millisecond) + "ms T2=" + String(t2 / SIPTimerValues.millisecond)
            + "ms T4=" + String(t4 / SIPTimerValues.millisecond) + "ms"
    }
}
