import Voice

/// Local settings of an `RTPSession` (RFC 3550 §6.2, RFC 3551 §3): where it binds, how often it
/// reports, at what rate it runs Opus, how it plays out.
public struct RTPSessionConfiguration: Sendable {
    /// Local address to bind ("0.0.0.0", "::", or a literal such as "127.0.0.1").
    public var bindAddress: String
    /// Even port range for RTP (`rtp.port_min`/`rtp.port_max`); RTCP takes the port above.
    /// 0/0: any even port the kernel gives.
    public var portMin: Int
    public var portMax: Int
    /// SDES CNAME (RFC 3550 §6.5.1), e.g. "user@host".
    public var cname: String
    /// RTCP minimum interval in seconds (RFC 3550 §6.2: 5; tests shorten it).
    public var rtcpMinimumSeconds: Double
    /// PCM rate Opus is coded and decoded at (8000, 16000 or 48000); its RTP clock stays 48000.
    public var opusSampleRate: Int
    /// Playout period: the device period the jitter buffer hands out (ms).
    public var periodMilliseconds: Int
    /// How long after an offer/answer the symmetric-RTP latch may take a source address other
    /// than the signalled one (a far end behind NAT), ms. After the latch took an address (or
    /// after this window), packets from any other address are foreign: counted and dropped.
    public var latchWindowMilliseconds: Int
    /// DTMF tone length and pause between queued digits (RFC 4733 §2.5.1).
    public var dtmfToneMilliseconds: Int
    public var dtmfPauseMilliseconds: Int

    public init(bindAddress: String = "0.0.0.0", portMin: Int = 0, portMax: Int = 0, cname: String = "deskphone") {
        self.bindAddress = bindAddress
        self.portMin = portMin
        self.portMax = portMax
        self.cname = cname
        rtcpMinimumSeconds = 5
        opusSampleRate = 16000
        periodMilliseconds = 10
        latchWindowMilliseconds = 3000
        dtmfToneMilliseconds = 100
        dtmfPauseMilliseconds = 50
    }

    /// The PCM rate the phone runs `codec` at: G.711 8000, G.722 16000, L16 its own, Opus
    /// `opusSampleRate`.
    public func audioSampleRate(for codec: CodecDescriptor) -> Int {
        codec.kind == .opus ? opusSampleRate : codec.sampleRate
    }
}
