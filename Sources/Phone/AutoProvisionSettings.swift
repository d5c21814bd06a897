// The `auto_provision.*` keys (the desk-phone names): where the phone fetches its provisioning
// from, with which credentials, and when. Every key is in docs/CONFIG.md.

import Config
import Net

/// Where and when the phone fetches its provisioning from a server (`auto_provision.*`).
/// No server URL: the phone uses its local files (and a stored set, if it has one).
public struct AutoProvisionSettings: Sendable {
    /// `auto_provision.server.url`: the directory on the server holding the common and MAC files
    /// (`http://`, `https://` or `tftp://host[:port]/dir`, RFC 3617); nil when unset or empty.
    public var serverURL: String? = nil
    /// `auto_provision.server.username` / `.password`: HTTP credentials answering a 401 (digest,
    /// RFC 7616, or basic, RFC 7617) when the user name is not empty; TFTP has none.
    public var userName = ""
    public var password = ""
    /// `auto_provision.power_on`: fetch at boot, before registering (default on).
    public var powerOn = true
    /// `auto_provision.repeat.enable`: fetch again every `repeat.minutes` (default off).
    public var repeatEnabled = false
    /// `auto_provision.repeat.minutes` (1...43200, default 1440).
    public var repeatMinutes = 1440
    /// `auto_provision.repeat.seconds`: for tests and the lab, overrides `repeat.minutes` (1...86400).
    public var repeatSeconds: Int? = nil
    /// `auto_provision.server.timeout`: seconds for each file, redirects included (1...120, default 10).
    public var timeoutSeconds = 10
    /// `auto_provision.weekly.*`: a round once on each chosen day in a time window (nil: off).
    public var weekly: WeeklySchedule? = nil
    /// `auto_provision.dhcp_option.enable`: with no server URL, use DHCP option 66 (default on, as Yealink).
    public var dhcpOptionEnabled = true
    /// `auto_provision.dhcp_option.lease_file`: where the board's DHCP client leaves option 66 (none: no DHCP).
    public var dhcpLeaseFile: String? = nil

    public static let knownPrefixes = ["auto_provision."]

    public init() {}

    public init(_ file: ConfigFile) throws(ConfigError) {
        if let url = file.string("auto_provision.server.url"), !url.isEmpty {
            guard AutoProvisionSettings.isSupported(url) else {
                throw file.error(
                    "auto_provision.server.url",
                    "auto_provision.server.url = '" + url
                        + "': expected an http://, https:// or tftp:// URL")
            }
            serverURL = url
        }
        userName = file.string("auto_provision.server.username") ?? ""
        password = file.string("auto_provision.server.password") ?? ""
        powerOn = try file.bool("auto_provision.power_on", default: true)
        repeatEnabled = try file.bool("auto_provision.repeat.enable", default: false)
        repeatMinutes = try file.int("auto_provision.repeat.minutes", default: 1440, in: 1...43200)
        if file.entry("auto_provision.repeat.seconds") != nil {
            repeatSeconds = try file.int("auto_provision.repeat.seconds", default: 60, in: 1...86400)
        }
        timeoutSeconds = try file.int("auto_provision.server.timeout", default: 10, in: 1...120)
        weekly = try WeeklySchedule.read(file)
        dhcpOptionEnabled = try file.bool("auto_provision.dhcp_option.enable", default: true)
        if let path = file.string("auto_provision.dhcp_option.lease_file"), !path.isEmpty { dhcpLeaseFile = path }
    }

    /// Whether `url` is a provisioning directory this firmware fetches from (`http://`, `tftp://`).
    public static func isSupported(_ url: String) -> Bool {
        var scheme: [UInt8] = []
        for b in url.utf8 {
            if b == UInt8(ascii: ":") { break }
            scheme.append(b >= 65 && b <= 90 ? b + 32 : b)
        }
        let http =
            (scheme == Array("http".utf8) || scheme == Array("https".utf8)) && url.utf8.count > scheme.count + 3
        return http || TFTPURL(url.hasSuffix("/") ? url + "x" : url + "/x") != nil
    }

    /// The server from DHCP option 66 when `auto_provision.server.url` is empty: read from
    /// `dhcp_option.lease_file` (`DHCPLease`), as a URL; nil (with the reason in `log`) when there
    /// is none or it is not an http://, https:// or tftp:// one.
    public func dhcpServerURL(log: (String) -> Void) -> String? {
        guard serverURL == nil, dhcpOptionEnabled, let path = dhcpLeaseFile else { return nil }
        let bytes: [UInt8]
        do throws(ConfigError) {
            bytes = try FileText.bytes(path)
        } catch {
            log("provisioning: DHCP lease file: " + error.description + " (no server from DHCP)")
            return nil
        }
        guard let value = DHCPLease.tftpServerName(in: bytes) else {
            log("provisioning: no option 66 (TFTP server name) in " + path)
            return nil
        }
        let url = DHCPLease.provisioningURL(optionValue: value)
        guard AutoProvisionSettings.isSupported(url) else {
            log("provisioning: DHCP option 66 '" + value + "' in " + path + ": not an http://, https:// or tftp:// server (ignored)")
            return nil
        }
        log("provisioning: server from DHCP option 66 in " + path + ": " + url)
        return url
    }

    /// The time between two repeated fetches.
    public var repeatIntervalNanoseconds: Int64 {
        if let repeatSeconds { return Int64(repeatSeconds) * 1_000_000_000 }
        return Int64(repeatMinutes) * 60 * 1_000_000_000
    }
}
