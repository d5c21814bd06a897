// NAT keep-alives of a registered account (RFC 5626 §3.5.1, §4.4.1; vendor "NAT keep-alive"):
// while the account is bound to a registrar, the phone sends it a keep-alive every interval so
// a NAT or firewall keeps the binding open, and learns early that the server is gone.
//
// Keys (Yealink names):
//   account.1.nat.udp_update_enable  0|1 [1]  send keep-alives while registered
//   account.1.nat.udp_update_time    5..3600 s [30]  the interval
//   account.1.nat.rport              0|1 [1]  take the address the registrar saw (received/rport
//                                    of its 2xx, RFC 3581 §4) as the Contact and register it
//
// UDP: a CRLFCRLF datagram (the form RFC 5626 §3.5.1 gives for streams; registrars and NATs take
// it as a no-op); an ICMP error for it (port unreachable: the registrar is gone) makes the
// registration start again at once, which moves to the next server target. TCP: a CRLFCRLF ping
// on the registration's connection; no CRLF pong within 10 s (RFC 5626 §4.4.1) means the flow
// failed, and the registration starts again.

import Config

/// The account's keep-alive settings.
public struct SIPKeepAliveSettings: Equatable, Sendable {
    public var enabled = true
    /// Seconds between keep-alives.
    public var interval = 30
    /// Learn the public address from the registrar's `received`/`rport` and register it as the
    /// Contact (`account.1.nat.rport`, on by default).
    public var learnsPublicAddress = true
    /// How long a TCP ping waits for its pong (RFC 5626 §4.4.1).
    public static let pongWait: Int64 = 10 * SIPTimerValues.second

    public init(enabled: Bool = true, interval: Int = 30, learnsPublicAddress: Bool = true) {
        self.enabled = enabled
        self.interval = interval
        self.learnsPublicAddress = learnsPublicAddress
    }

    /// `account.N.nat.*` from a provisioning file.
    init(_ file: ConfigFile, prefix: String) throws(ConfigError) {
        enabled = try file.bool(prefix + "nat.udp_update_enable", default: true)
        interval = try file.int(prefix + "nat.udp_update_time", default: 30, in: 5...3600)
        learnsPublicAddress = try file.bool(prefix + "nat.rport", default: true)
    }
}

/// The keep-alive bytes: CRLFCRLF.
enum SIPKeepAlive {
    static let ping: [UInt8] = [13, 10, 13, 10]
}
