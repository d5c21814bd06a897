// SIP outbound (RFC 5626) for a registered account: what the phone adds to REGISTER, what it
// reads from the registrar's 2xx, and the flow-recovery backoff. Pure values; the registration
// (SIPRegistration+Outbound.swift) carries them out.
//
// Keys (Yealink has no documented key for RFC 5626; these follow its `account.N.*` naming):
//   account.N.sip_outbound.enable  0|1 [0]  offer outbound (RFC 5626) to the registrar
//
// With it on, every REGISTER carries `Supported: outbound, path` and a Contact with
// `+sip.instance="<urn:uuid:...>"` (§4.1: one URN per phone, derived from `network.mac`, so it
// is the same after every restart and reprovisioning) and `reg-id=N` (§4.2: N is the index of
// the server the REGISTER goes to, 1 or 2). When the 2xx says `Require: outbound` (§4.2.1),
// the binding is an outbound flow: dialog-forming requests carry `;ob` in the Contact URI
// (§4.2.1, §5.4), keep-alives run whatever `account.N.nat.udp_update_enable` says, every
// `Flow-Timer` seconds of the 2xx (§4.4.1: at a random 80-100 % of it) or else
// `account.N.nat.udp_update_time`: a STUN binding request on UDP (§4.4.2, SIPSTUN.swift), a
// CRLFCRLF ping on TCP/TLS (§4.4.1). A missing STUN response or pong, or a changed NAT mapping,
// is a flow failure: the phone registers again at once, and after a failed attempt waits
// min(1800 s, 30 s * 2^failures), randomized to 50-100 % (§4.5, all flows failed: one flow).
// A registrar that does not answer `Require: outbound` gets a plain registration (logged once).

import Config
import Digest

/// The account's RFC 5626 settings (`account.N.sip_outbound.*`) and the phone's instance id.
public struct SIPOutboundSettings: Equatable, Sendable {
    /// Offer outbound to the registrar.
    public var enabled = false
    /// The phone's `+sip.instance` URN (`urn:uuid:...`, RFC 5626 §4.1).
    public var instance: String

    public init(enabled: Bool = false, instance: String = SIPOutbound.unknownMACInstance) {
        self.enabled = enabled
        self.instance = instance
    }

    /// `account.N.sip_outbound.enable`; the instance from `network.mac`.
    init(_ file: ConfigFile, prefix: String) throws(ConfigError) {
        enabled = try file.bool(prefix + "sip_outbound.enable", default: false)
        var mac = ""
        for byte in (file.string("network.mac") ?? "").utf8 where byte != 58 && byte != 45 {
            mac.append(Character(Unicode.Scalar(byte >= 97 && byte <= 102 ? byte - 32 : byte)))
        }
        instance = mac.isEmpty ? SIPOutbound.unknownMACInstance : SIPOutbound.instanceURN(mac: mac)
    }
}

/// RFC 5626 values: Contact parameters, what a 2xx to REGISTER says, the recovery backoff.
public enum SIPOutbound {
    /// The option tags REGISTER offers (§4.2.1; `path`: RFC 3327, an edge proxy may add one).
    public static let supported = "outbound, path"
    /// The backoff's bounds (§4.5): base time when every flow failed / when some still work.
    public static let allFailedBase = 30
    public static let someFailedBase = 90
    public static let maxTime = 1800

    /// The instance URN for a MAC (12 hex digits): a name-based UUID (RFC 4122 §4.3, version 3)
    /// of the MAC in the phone's own namespace, so the same phone always gives the same URN.
    public static func instanceURN(mac: String) -> String {
        var hash = MD5()
        let name = namespace + Array(("deskphone-mac:" + mac).utf8)
        name.withUnsafeBytes { hash.update($0) }
        var bytes = hash.finalize()
        bytes[6] = bytes[6] & 0x0F | 0x30
        bytes[8] = bytes[8] & 0x3F | 0x80
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text = "urn:uuid:"
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text += "-" }
            text.append(Character(Unicode.Scalar(digits[Int(byte >> 4)])))
            text.append(Character(Unicode.Scalar(digits[Int(byte & 0x0F)])))
        }
        return text
    }

    /// The instance of a phone whose MAC is not known (`network.mac` unset): the all-zero MAC's.
    public static let unknownMACInstance = instanceURN(mac: "000000000000")

    /// The namespace UUID of deskphone's instance ids (fixed, chosen once).
    static let namespace: [UInt8] = [
        0x6d, 0x2b, 0x4c, 0x1e, 0x93, 0x0a, 0x4f, 0x57, 0xb1, 0xd4, 0x2e, 0x8c, 0x70, 0x5a, 0x13, 0xe9,
    ]

    /// The Contact header parameters of a REGISTER (§4.2): `+sip.instance="<URN>"` and `reg-id`.
    public static func contactParameters(instance: String, regID: Int) -> [SIPParameter] {
        [
            SIPParameter(name: "+sip.instance", value: "\"<" + instance + ">\""),
            SIPParameter(name: "reg-id", value: String(regID)),
        ]
    }

    /// Whether a 2xx to REGISTER makes the binding an outbound flow (§4.2.1: `Require: outbound`).
    public static func registrarSupportsOutbound(_ response: SIPMessage) -> Bool {
        response.optionTags("Require").contains { ConfigFileText.asciiLowercase($0) == "outbound" }
    }

    /// The `Flow-Timer` of a 2xx to REGISTER (§10.2: seconds, the interval the registrar wants
    /// keep-alives in); nil without one or when it is not a number in 1...86400.
    public static func flowTimer(_ response: SIPMessage) -> Int? {
        guard let text = response.header("Flow-Timer") else { return nil }
        var value = 0
        var digits = 0
        for c in text.utf8 {
            if c == 32 || c == 9 { if digits == 0 { continue } else { break } }
            guard c >= 48 && c <= 57, digits < 6 else { return nil }
            value = value * 10 + Int(c - 48)
            digits += 1
        }
        return digits > 0 && value >= 1 && value <= 86400 ? value : nil
    }

    /// The keep-alive interval of a flow, seconds: a random 80-100 % of the Flow-Timer (§4.4.1),
    /// else the configured interval. `random(n)` is in `0..<n`.
    public static func keepAliveInterval(flowTimer: Int?, configured: Int, random: (UInt32) -> UInt32) -> Int {
        guard let flowTimer else { return configured }
        let percent = 80 + Int(random(21))
        return max(1, flowTimer * percent / 100)
    }

    /// The wait before the next registration attempt after `failures` consecutive failed ones
    /// (§4.5): min(max-time, base * 2^failures), times a random 50-100 %.
    public static func recoveryDelay(failures: Int, allFailed: Bool, random: (UInt32) -> UInt32) -> Int {
        var wait = allFailed ? allFailedBase : someFailedBase
        var n = 0
        while n < failures && wait < maxTime {
            wait *= 2
            n += 1
        }
        wait = min(wait, maxTime)
        let percent = 50 + Int(random(51))
        return max(1, wait * percent / 100)
    }
}
