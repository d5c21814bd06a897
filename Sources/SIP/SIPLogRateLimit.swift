/// Keeps a burst of repeated log lines and drops the rest for a while: a flood whose answers
/// bounce (one ICMP error each) must not write one log line per packet. Pure logic on a clock
/// the caller passes in.
public struct SIPLogRateLimit: Sendable {
    /// Lines let through per window.
    public let burst: Int
    /// The window's length (ns).
    public let window: Int64
    private var windowStart: Int64 = Int64.min
    private var inWindow = 0
    private var suppressed = 0

    public init(burst: Int = 10, window: Int64 = 10_000_000_000) {
        self.burst = burst
        self.window = window
    }

    /// Whether a line at `now` is written, and how many lines were dropped since the last one
    /// written (to say so in the written line).
    public mutating func admit(now: Int64) -> (write: Bool, dropped: Int) {
        if windowStart == Int64.min || now - windowStart >= window {
            windowStart = now
            inWindow = 0
        }
        guard inWindow < burst else {
            suppressed += 1
            return (false, 0)
        }
        inWindow += 1
        let dropped = suppressed
        suppressed = 0
        return (true, dropped)
    }
}
