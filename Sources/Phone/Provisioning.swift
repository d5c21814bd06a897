// The phone's provisioning: one or more `.cfg` files (with their `include:config` files), later
// ones overriding earlier ones, read into every module's settings at once. The phone loads it at
// start and on SIGHUP (a reload that fails keeps the last good one); `deskphone-tool cfg check`
// runs the same checks. Every key is in docs/CONFIG.md with its default.

import Config
import Net
import Recording

/// Every setting the phone reads from its provisioning files, checked together: a `Provisioning`
/// exists only when every value in every file is valid.
public struct Provisioning {
    /// The files as given (in order; includes are inside them).
    public let paths: [String]
    /// The files merged: the last value of a key wins.
    public let merged: ConfigFile
    public let softphone: SoftphoneConfiguration
    public let phone: PhoneSettings
    public let recording: RecordingConfiguration
    public let network: NetworkIdentity
    /// Where and when the phone fetches its provisioning from a server.
    public let autoProvision: AutoProvisionSettings
    /// Keys no module reads (kept in `merged`; the phone reports each once).
    public let unknownKeys: [ConfigFile.Entry]
    /// Values that were accepted but have no effect on this board, for the log (the softphone
    /// logs its own `advertisedAddressWarning` when it starts).
    public let warnings: [String]

    /// The prefixes of every key the phone reads.
    public static let knownPrefixes =
        SoftphoneConfiguration.knownPrefixes + PhoneSettings.knownPrefixes + RecordingConfiguration.knownPrefixes
        + NetworkIdentity.knownPrefixes + AutoProvisionSettings.knownPrefixes

    /// Keys that are read only when the phone starts (the SIP stack and its sockets): a reload
    /// that changes them says so instead of applying them.
    public static let restartPrefixes = [
        "account.", "sip.", "rtp.", "voice.tone_country", "voice.audio_path", "network.mac",
    ]

    /// Reads and checks `paths` for a phone with `board`'s keys; the first bad value is
    /// refused with its file:line.
    public init(paths: [String], board: BoardProfile) throws(ConfigError) {
        try self.init(paths: paths, hasRecordKey: board.hasRecordKey, lineKeys: board.lineKeys)
    }

    /// Reads and checks `paths` for a board described by `hasRecordKey` and `lineKeys` (nil: any
    /// line key number).
    public init(paths: [String], hasRecordKey: Bool, lineKeys: Int?) throws(ConfigError) {
        var files: [ConfigFile] = []
        for path in paths { files.append(try ConfigFile.load(path: path)) }
        try self.init(paths: paths, merged: ConfigFile(merging: files), hasRecordKey: hasRecordKey, lineKeys: lineKeys)
    }

    /// Checks already-read files. `lineKeys` nil accepts any line key number.
    public init(paths: [String], merged: ConfigFile, hasRecordKey: Bool, lineKeys: Int?) throws(ConfigError) {
        self.paths = paths
        self.merged = merged
        softphone = try SoftphoneConfiguration(merged, lineKeys: lineKeys)
        phone = try PhoneSettings(merged)
        recording = try RecordingConfiguration(merged, hasRecordKey: hasRecordKey, lineKeyCount: lineKeys)
        network = try NetworkIdentity(merged)
        autoProvision = try AutoProvisionSettings(merged)
        var unknown: [ConfigFile.Entry] = []
        for entry in merged.entries where !Provisioning.knownPrefixes.contains(where: { entry.key.hasPrefix($0) }) {
            unknown.append(entry)
        }
        unknownKeys = unknown
        warnings = recording.warnings + softphone.accountWarnings
    }

    /// Every problem in `paths`, not just the first: each file's syntax (and its includes),
    /// then, when they all read, each module's settings. Empty: the files are good.
    /// `hasRecordKey`/`lineKeys` describe the board (nil line keys: any number).
    public static func problems(paths: [String], hasRecordKey: Bool, lineKeys: Int?) -> [ConfigError] {
        var problems: [ConfigError] = []
        var files: [ConfigFile] = []
        for path in paths {
            do throws(ConfigError) {
                files.append(try ConfigFile.load(path: path))
            } catch {
                problems.append(error)
            }
        }
        guard problems.isEmpty else { return problems }
        let merged = ConfigFile(merging: files)
        func check(_ body: () throws(ConfigError) -> Void) {
            do throws(ConfigError) { try body() } catch { problems.append(error) }
        }
        check { () throws(ConfigError) in _ = try SoftphoneConfiguration(merged, lineKeys: lineKeys) }
        check { () throws(ConfigError) in _ = try PhoneSettings(merged) }
        check { () throws(ConfigError) in
            _ = try RecordingConfiguration(merged, hasRecordKey: hasRecordKey, lineKeyCount: lineKeys)
        }
        check { () throws(ConfigError) in _ = try NetworkIdentity(merged) }
        check { () throws(ConfigError) in _ = try AutoProvisionSettings(merged) }
        return problems
    }

    /// The keys under `restartPrefixes` whose value differs from `old`'s, in file order.
    public func changesNeedingRestart(from old: Provisioning) -> [String] {
        var keys: [String] = []
        for source in [merged, old.merged] {
            for entry in source.entries where !keys.contains(entry.key) {
                guard Provisioning.restartPrefixes.contains(where: { entry.key.hasPrefix($0) }) else { continue }
                if merged.string(entry.key) != old.merged.string(entry.key) { keys.append(entry.key) }
            }
        }
        return keys
    }
}

/// The phone's network identity for URL record and the HTTP User-Agent (`network.mac`).
public struct NetworkIdentity: Sendable {
    /// 12 upper-case hex digits.
    public var mac = "000000000000"
    /// The DNS servers (`static.network.primary_dns`, `static.network.secondary_dns`, each an IP
    /// literal, optionally with a port: `127.0.0.1:5353`, `[::1]:5353`); empty: /etc/resolv.conf's.
    public var nameservers: [SocketAddress] = []
    public static let knownPrefixes = ["network.", "static.network.primary_dns", "static.network.secondary_dns"]

    public init() {}

    public init(_ file: ConfigFile) throws(ConfigError) {
        if let text = file.string("network.mac"), !text.isEmpty {
            var hex = ""
            for byte in text.utf8 where byte != UInt8(ascii: ":") && byte != UInt8(ascii: "-") {
                let isHex = (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 70) || (byte >= 97 && byte <= 102)
                guard isHex else { throw file.error("network.mac", "network.mac = '" + text + "': expected 12 hex digits") }
                hex.append(Character(Unicode.Scalar(byte >= 97 ? byte - 32 : byte)))
            }
            guard hex.utf8.count == 12 else {
                throw file.error("network.mac", "network.mac = '" + text + "': expected 12 hex digits")
            }
            mac = hex
        }
        for key in ["static.network.primary_dns", "static.network.secondary_dns"] {
            guard let text = file.string(key), !text.isEmpty else { continue }
            guard let server = DNSResolver.nameserver(text) else {
                throw file.error(
                    key, key + " = '" + text + "': expected an IP address, optionally with a port (192.0.2.53:5353)")
            }
            nameservers.append(server)
        }
    }
}
