// The keypad side of the phone's provisioning: dialling, DND, volumes (keys in docs/CONFIG.md).

import Config

/// How the phone dials and rings: inter-digit timeout, the dial plan, DND and volumes.
public struct PhoneSettings: Equatable, Sendable {
    /// One dial-plan entry: dialling exactly `number` calls `uri`.
    public struct DialPlanEntry: Equatable, Sendable {
        public var number: String
        public var uri: String
    }

    /// Dialled digits are sent this long after the last one (`phone_setting.inter_digit_time`).
    public var interDigitTimeout: Int64 = 4_000_000_000
    /// `dialplan.N.number` -> `dialplan.N.uri`.
    public var dialPlan: [DialPlanEntry] = []
    /// Where a bare number goes in direct-IP mode (`dialplan.default_host`, `host[:port]`).
    public var defaultHost: String? = nil
    /// Do-not-disturb at start (`features.dnd.enable`); the DND softkey toggles it.
    public var doNotDisturb = false
    /// The SIP status DND answers incoming calls with (`features.dnd.status`, 480 or 486).
    public var doNotDisturbStatus = 480
    /// Volume steps 0...15 per path (`voice.volume.handset|headset|speaker`) and the ringer.
    public var handsetVolume = 8
    public var headsetVolume = 8
    public var speakerVolume = 8
    public var ringerVolume = 8

    public init() {}

    /// The key prefixes these settings read (the rest of the phone's are listed by their owners).
    public static let knownPrefixes = ["phone_setting.", "dialplan.", "features.dnd.", "voice.volume."]

    /// Reads the settings from a (merged) provisioning file; bad values are refused with file:line.
    public init(_ file: ConfigFile) throws(ConfigError) {
        self.init()
        interDigitTimeout = Int64(try file.int("phone_setting.inter_digit_time", default: 4, in: 1...30)) * 1_000_000_000
        doNotDisturb = try file.bool("features.dnd.enable", default: false)
        doNotDisturbStatus = try file.int("features.dnd.status", default: 480, in: 400...699)
        handsetVolume = try file.int("voice.volume.handset", default: 8, in: 0...15)
        headsetVolume = try file.int("voice.volume.headset", default: 8, in: 0...15)
        speakerVolume = try file.int("voice.volume.speaker", default: 8, in: 0...15)
        ringerVolume = try file.int("voice.volume.ringer", default: 8, in: 0...15)
        if let host = file.string("dialplan.default_host"), !host.isEmpty {
            for byte in host.utf8 where byte <= 32 || byte == UInt8(ascii: "@") || byte == UInt8(ascii: ";") {
                throw file.error("dialplan.default_host", "dialplan.default_host = '" + host + "': expected host[:port]")
            }
            defaultHost = host
        }
        var index = 1
        while index <= 100 {
            let prefix = "dialplan." + String(index) + "."
            let number = file.string(prefix + "number")
            let uri = file.string(prefix + "uri")
            if number == nil && uri == nil {
                index += 1
                continue
            }
            guard let number, !number.isEmpty, PhoneSettings.isDialString(number) else {
                throw file.error(prefix + "number", prefix + "number: expected digits, * and # only")
            }
            guard let uri, uri.hasPrefix("sip:") else {
                throw file.error(prefix + "uri", prefix + "uri: expected a sip: URI")
            }
            dialPlan.append(DialPlanEntry(number: number, uri: uri))
            index += 1
        }
    }

    /// Digits, `*` and `#` only.
    static func isDialString(_ text: String) -> Bool {
        for byte in text.utf8 {
            if !(byte >= 48 && byte <= 57) && byte != UInt8(ascii: "*") && byte != UInt8(ascii: "#") { return false }
        }
        return true
    }

    /// What dialling `number` calls: a dial-plan entry; an IP address typed with `*` for dots
    /// (`192*168*1*20`, a fifth `*` before a port: `127*0*0*1*5062`); a number at the
    /// default host; or the number itself (the account's server completes it). Nil: nothing.
    public func target(for number: String) -> String? {
        guard !number.isEmpty else { return nil }
        for entry in dialPlan where entry.number == number { return entry.uri }
        let parts = number.split(separator: "*", omittingEmptySubsequences: false)
        if parts.count == 4 || parts.count == 5 {
            var valid = true
            for (i, part) in parts.enumerated() {
                guard !part.isEmpty, part.utf8.count <= 5, let value = Int(part) else {
                    valid = false
                    break
                }
                if i < 4 && value > 255 { valid = false }
                if i == 4 && (value < 1 || value > 65535) { valid = false }
            }
            if valid {
                let host = String(parts[0]) + "." + String(parts[1]) + "." + String(parts[2]) + "." + String(parts[3])
                return "sip:" + host + (parts.count == 5 ? ":" + String(parts[4]) : "")
            }
        }
        if let host = defaultHost { return "sip:" + number + "@" + host }
        return number
    }
}
