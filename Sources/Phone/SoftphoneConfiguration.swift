// What a running phone needs beyond its board: the SIP account, where SIP and RTP listen, the
// tones of its country, read from the provisioning files (keys in docs/CONFIG.md).
//
// Keys read here (defaults in brackets):
//   sip.listen_address     IP literal to bind SIP and RTP to [0.0.0.0]
//   sip.advertised_address IP literal written in Via/Contact/SDP [the listen address; for the
//                          any-address 127.0.0.1, with a warning: set it on a real network]
//   sip.network_watch      0|1: follow the phone's address through network changes (netlink) [1]
//   rtp.port_min/port_max  even RTP port range, RTCP on the port above [0/0: any free port]
//   voice.tone_country     tone table (itu, us, gb, de, fr, nl, ...) [itu]
//   voice.audio_path       handset | headset | speaker: where a call's audio goes [handset]
//   account.1.*, sip.listen_port: SIPAccountConfiguration.
//   account.N.*            accounts 2 ... the board's line count (board.linekeys, at least 1,
//                          at most 16), each read as account 1; enabled ones register. Keys of
//                          an account above the line count are ignored with a warning.
//   security.*             TLS trust for SIP over TLS: SIPTLSSettings.

import Audio
import Config
import Media
import Net
import SIP

/// A phone's call settings (RFC 3261 account, RFC 3550 RTP ports, tones), from provisioning
/// files; every value is checked, the first bad one refused with file:line.
public struct SoftphoneConfiguration: Sendable {
    /// Account 1, the default account: calls go out on it unless a Line key chose another.
    public var account: SIPAccountConfiguration
    /// The enabled accounts 2 ... (`account.N.enable = 1`), by number.
    public var moreAccounts: [SIPAccountConfiguration] = []
    /// `account.N.*` keys above the board's line count, for the log.
    public var accountWarnings: [String] = []
    /// Accounts a phone has at most (`account.1` ... `account.16`).
    public static let maxAccounts = 16
    public var listenAddress: String
    public var advertisedAddress: String
    /// Set when `advertisedAddress` is a guess (the listen address is the any-address).
    public var advertisedAddressWarning: String?
    public var rtp: RTPSessionConfiguration
    public var tones: ToneTable
    public var audioPath: AudioPath
    /// The audio device buffer in periods (the board's `audio.buffer_periods`; the period is
    /// `rtp.periodMilliseconds`, the board's `audio.period_ms`).
    public var audioBufferPeriods = 3
    /// How TLS servers are checked (`security.*`).
    public var tls = SIPTLSSettings()
    /// Watch netlink and follow the SIP address through network changes (`sip.network_watch`).
    public var watchNetwork = true

    /// Defaults: direct-IP account on 127.0.0.1:`listenPort`, any RTP port.
    public init(account: SIPAccountConfiguration = SIPAccountConfiguration(), listenAddress: String = "127.0.0.1") {
        self.account = account
        self.listenAddress = listenAddress
        advertisedAddress = listenAddress
        advertisedAddressWarning = nil
        rtp = RTPSessionConfiguration(bindAddress: listenAddress)
        tones = ToneTable.standard
        audioPath = .handset
    }

    /// Every account the phone runs: account 1, then the enabled accounts 2 ....
    public var accounts: [SIPAccountConfiguration] { [account] + moreAccounts }

    /// How many accounts a board with `lineKeys` line keys has (nil: any board): one per line
    /// key, at least 1, at most `maxAccounts`.
    public static func accountCount(lineKeys: Int?) -> Int { max(1, min(maxAccounts, lineKeys ?? maxAccounts)) }

    /// Reads the settings from a (merged) provisioning file, for a board with `lineKeys` line
    /// keys (nil: up to `maxAccounts` accounts).
    public init(_ file: ConfigFile, lineKeys: Int? = nil) throws(ConfigError) {
        self.init(account: try SIPAccountConfiguration(file))
        let count = SoftphoneConfiguration.accountCount(lineKeys: lineKeys)
        var seen: [Int] = []
        for entry in file.entries(withPrefix: "account.") {
            let rest = entry.key.utf8.dropFirst(8)
            guard let dot = rest.firstIndex(of: UInt8(ascii: ".")),
                let n = Int(String(decoding: rest[rest.startIndex..<dot], as: UTF8.self)), n >= 2, !seen.contains(n)
            else { continue }
            seen.append(n)
            if n > count {
                accountWarnings.append(
                    entry.location + ": account." + String(n) + ".* ignored: the board has " + String(count)
                        + (count == 1 ? " line" : " lines") + " (board.linekeys; one account per line, at most "
                        + String(SoftphoneConfiguration.maxAccounts) + ")")
                continue
            }
            let more = try SIPAccountConfiguration(file, account: n)
            guard more.enabled else { continue }
            // In number order (files may name them in any order).
            var at = moreAccounts.count
            while at > 0 && moreAccounts[at - 1].number > n { at -= 1 }
            moreAccounts.insert(more, at: at)
        }
        tls = try SIPTLSSettings(file)
        let listen = file.string("sip.listen_address") ?? "0.0.0.0"
        guard let listenLiteral = SIPSocketAddress(literal: listen, port: 0) else {
            throw file.error("sip.listen_address", "sip.listen_address = '" + listen + "': expected an IP address")
        }
        listenAddress = listenLiteral.plainHostText
        if let advertised = file.string("sip.advertised_address"), !advertised.isEmpty {
            guard let literal = SIPSocketAddress(literal: advertised, port: 0), !literal.isAnyAddress else {
                throw file.error(
                    "sip.advertised_address",
                    "sip.advertised_address = '" + advertised + "': expected a unicast IP address")
            }
            advertisedAddress = literal.plainHostText
        } else if listenLiteral.isAnyAddress {
            advertisedAddress = listen.utf8.contains(58) ? "::1" : "127.0.0.1"
            advertisedAddressWarning =
                "sip.listen_address is the any-address and sip.advertised_address is not set: Via, Contact and SDP say "
                + advertisedAddress + " (only reachable on this host)"
        } else {
            advertisedAddress = listenAddress
        }
        watchNetwork = try file.int("sip.network_watch", default: 1, in: 0...1) == 1
        var rtp = RTPSessionConfiguration(bindAddress: listenAddress)
        rtp.portMin = try file.int("rtp.port_min", default: 0, in: 0...65534)
        rtp.portMax = try file.int("rtp.port_max", default: rtp.portMin == 0 ? 0 : rtp.portMin + 1000, in: 0...65535)
        if rtp.portMin != 0 && rtp.portMin % 2 != 0 {
            throw file.error("rtp.port_min", "rtp.port_min = " + String(rtp.portMin) + ": RTP ports are even")
        }
        if rtp.portMax < rtp.portMin + 1 && rtp.portMin != 0 {
            throw file.error("rtp.port_max", "rtp.port_max must be above rtp.port_min (RTCP takes the port above RTP)")
        }
        rtp.cname = account.userName + "@" + advertisedAddress
        self.rtp = rtp
        if let country = file.string("voice.tone_country"), !country.isEmpty {
            do throws(ToneError) {
                tones = try ToneTable(country: country)
            } catch {
                throw file.error("voice.tone_country", "voice.tone_country = '" + country + "': " + error.description)
            }
        }
        if let path = file.string("voice.audio_path") {
            guard let parsed = AudioPath(parsing: path) else {
                throw file.error(
                    "voice.audio_path", "voice.audio_path = '" + path + "': expected handset, headset or speaker")
            }
            audioPath = parsed
        }
    }

    /// The keys this struct and the account read (for reporting unknown keys once).
    public static let knownPrefixes =
        ["account.", "sip.", "rtp.", "voice.", "voice_mail.number."] + SIPTLSSettings.knownPrefixes
}
