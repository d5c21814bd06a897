// The record keys of the provisioning file: the admin guide's line key types 25 (Record: SIP INFO)
// and 35 (URL Record: HTTP GET), the board's dedicated record key, and the request timeout.

import Config
import Keys

/// The URL(s) a URL Record key requests. With one URL (`linekey.N.value`) every press requests
/// it and the server decides (it toggles); with `record_on_url` and `record_off_url` the phone
/// requests the one for the direction it asks for.
public struct RecordURLs: Equatable, Sendable, CustomStringConvertible {
    /// The URL of every press when no start/stop pair is set ("" when the pair is set).
    public var toggle: String
    public var start: String?
    public var stop: String?

    public init(toggle: String = "", start: String? = nil, stop: String? = nil) {
        self.toggle = toggle
        self.start = start
        self.stop = stop
    }

    /// True when one URL serves both directions (the server toggles).
    public var isToggle: Bool { start == nil || stop == nil }

    /// The URL template for a press that asks to start (`true`) or stop recording.
    public func url(starting: Bool) -> String {
        if isToggle { return toggle }
        return (starting ? start : stop) ?? toggle
    }

    public var description: String {
        isToggle ? toggle : "on " + (start ?? "") + ", off " + (stop ?? "")
    }
}

/// How a record key asks the server to start or stop recording.
public enum RecordKeyMode: Equatable, Sendable, CustomStringConvertible {
    /// Type 25: SIP INFO in the call's dialog with `Record: on` / `Record: off`.
    case info
    /// Type 35: an HTTP GET of the configured URL(s), variables expanded.
    case url(RecordURLs)

    /// The admin guide's line key type number (25 or 35).
    public var typeNumber: Int {
        switch self {
        case .info: return 25
        case .url: return 35
        }
    }

    public var description: String {
        switch self {
        case .info: return "record (SIP INFO)"
        case .url(let urls): return "URL record (" + urls.description + ")"
        }
    }
}

/// One key that records: a line key of type 25/35 or the board's record key.
public struct RecordKeyBinding: Equatable, Sendable, CustomStringConvertible {
    public var key: PhoneKey
    public var mode: RecordKeyMode
    /// The label shown next to a line key ("Record" unless `linekey.N.label` says otherwise).
    public var label: String
    /// Where the key was configured (`phone.cfg:12`), or "default" for the board's record key.
    public var location: String

    public init(key: PhoneKey, mode: RecordKeyMode, label: String, location: String = "") {
        self.key = key
        self.mode = mode
        self.label = label
        self.location = location
    }

    /// The LED that shows the recording state on this key (`record`, `line3`).
    public var description: String { key.name + ": " + mode.description + " '" + label + "'" }
}

/// The recording part of a provisioning file (admin guide, "Call Recording"):
///
/// - `linekey.N.type = 25` (Record: SIP INFO) or `35` (URL Record: HTTP GET of `linekey.N.value`),
///   `linekey.N.label`, and for URL Record optional `linekey.N.record_on_url` /
///   `linekey.N.record_off_url` (both or neither);
/// - the board's dedicated record key acts as type 25 unless `features.record_key.type` says
///   `35` (with `features.record_key.value` or the on/off pair) or `0` (not a record key);
/// - `features.record.request_timeout` (seconds) bounds a URL record request;
///   `features.record.message_time` (seconds) is how long a message stays on the LCD.
///
/// Line key types other than 25 and 35 belong to other features and are not read here.
public struct RecordingConfiguration: Equatable, Sendable {
    /// The record keys, the board's record key first, then line keys by number.
    public var keys: [RecordKeyBinding]
    /// How long a URL record request may take (the HTTP client's timeout), nanoseconds.
    public var requestTimeoutNanoseconds: Int64
    /// How long a message ("cannot start recording", the server's text) stays on the LCD.
    public var messageNanoseconds: Int64
    /// Settings that were ignored, for the phone's log (`features.record_key.type` on a board
    /// without a record key).
    public var warnings: [String] = []

    /// Line key type numbers (admin guide): Record and URL Record.
    public static let recordType = 25
    public static let urlRecordType = 35
    /// Prefixes of the keys read here (for the phone's report of unused keys).
    public static let knownPrefixes = ["linekey.", "features.record_key.", "features.record."]
    /// Defaults: 5 s request timeout, 3 s messages.
    public static let defaultRequestTimeoutSeconds = 5
    public static let defaultMessageSeconds = 3

    static let second: Int64 = 1_000_000_000

    public init(
        keys: [RecordKeyBinding] = [], requestTimeoutSeconds: Int = RecordingConfiguration.defaultRequestTimeoutSeconds,
        messageSeconds: Int = RecordingConfiguration.defaultMessageSeconds
    ) {
        self.keys = keys
        requestTimeoutNanoseconds = Int64(requestTimeoutSeconds) * RecordingConfiguration.second
        messageNanoseconds = Int64(messageSeconds) * RecordingConfiguration.second
    }

    /// Reads the record keys from `file`. `hasRecordKey` is the board's dedicated record key
    /// (`BoardProfile.hasRecordKey`); `lineKeyCount`, when given, refuses line keys the board
    /// does not have. Every refused value names its file and line.
    public init(_ file: ConfigFile, hasRecordKey: Bool, lineKeyCount: Int? = nil) throws(ConfigError) {
        self.init()
        requestTimeoutNanoseconds =
            Int64(
                try file.int(
                    "features.record.request_timeout", default: RecordingConfiguration.defaultRequestTimeoutSeconds,
                    in: 1...60)) * RecordingConfiguration.second
        messageNanoseconds =
            Int64(
                try file.int(
                    "features.record.message_time", default: RecordingConfiguration.defaultMessageSeconds, in: 1...60))
            * RecordingConfiguration.second
        for entry in file.entries(withPrefix: "features.record.")
        where entry.key != "features.record.request_timeout" && entry.key != "features.record.message_time" {
            throw ConfigError(entry.file, entry.line, entry.key + ": unknown recording key")
        }
        let recordKeyFields = ["type", "value", "label", "record_on_url", "record_off_url"]
        for entry in file.entries(withPrefix: "features.record_key.")
        where !recordKeyFields.contains(String(entry.key.dropFirst("features.record_key.".count))) {
            throw ConfigError(entry.file, entry.line, entry.key + ": unknown recording key")
        }

        // The board's record key.
        let recordKeyPrefix = "features.record_key."
        if hasRecordKey {
            let type = try RecordingConfiguration.type(file, recordKeyPrefix + "type", allowOff: true) ?? 25
            if type != 0 {
                let location = file.entry(recordKeyPrefix + "type")?.location ?? "default"
                keys.append(
                    try RecordingConfiguration.binding(
                        file, prefix: recordKeyPrefix, key: .record, type: type, location: location))
            }
        } else if let entry = file.entries(withPrefix: recordKeyPrefix).first {
            warnings.append(entry.location + ": " + entry.key + " ignored: the board has no record key")
        }

        // Line keys of type 25 and 35.
        var lineBindings: [(Int, RecordKeyBinding)] = []
        for entry in file.entries(withPrefix: "linekey.") where entry.key.hasSuffix(".type") {
            let middle = entry.key.dropFirst("linekey.".count).dropLast(".type".count)
            guard let n = Int(middle), n >= 1, n <= PhoneKey.maxLine, String(n) == String(middle) else {
                throw ConfigError(
                    entry.file, entry.line,
                    entry.key + ": the line key number must be 1 to " + String(PhoneKey.maxLine))
            }
            let prefix = "linekey." + String(n) + "."
            guard let type = try RecordingConfiguration.type(file, entry.key, allowOff: false),
                type == RecordingConfiguration.recordType || type == RecordingConfiguration.urlRecordType
            else {
                // Another feature's key: its URL pair would be a mistake.
                for field in ["record_on_url", "record_off_url"] {
                    if let stray = file.entry(prefix + field) {
                        throw ConfigError(
                            stray.file, stray.line, stray.key + " needs " + prefix + "type = 35 (URL Record)")
                    }
                }
                continue
            }
            if let count = lineKeyCount, n > count {
                throw ConfigError(
                    entry.file, entry.line,
                    entry.key + ": the board has " + String(count) + " line key" + (count == 1 ? "" : "s"))
            }
            let binding = try RecordingConfiguration.binding(
                file, prefix: prefix, key: .line(n), type: type, location: entry.location)
            lineBindings.append((n, binding))
        }
        lineBindings.sort { $0.0 < $1.0 }
        for (_, binding) in lineBindings { keys.append(binding) }
    }

    /// The binding of `key`, nil when it is not a record key.
    public func binding(for key: PhoneKey) -> RecordKeyBinding? {
        keys.first { $0.key == key }
    }

    /// The request timeout in whole seconds (for messages: "timeout after 5 s").
    public var requestTimeoutSeconds: Int { Int(requestTimeoutNanoseconds / RecordingConfiguration.second) }

    // MARK: parsing

    /// A type number: nil when unset; refused when not a whole number (or 0 with `allowOff`
    /// false is just "not a record key").
    static func type(_ file: ConfigFile, _ key: String, allowOff: Bool) throws(ConfigError) -> Int? {
        guard let entry = file.entry(key) else { return nil }
        guard let n = Int(entry.value), n >= 0 else {
            throw ConfigError(entry.file, entry.line, key + " = '" + entry.value + "': expected a key type number")
        }
        if allowOff && n != 0 && n != recordType && n != urlRecordType {
            throw ConfigError(
                entry.file, entry.line,
                key + " = '" + entry.value + "': expected 25 (Record), 35 (URL Record) or 0 (none)")
        }
        return n
    }

    static func binding(
        _ file: ConfigFile, prefix: String, key: PhoneKey, type: Int, location: String
    ) throws(ConfigError) -> RecordKeyBinding {
        let onKey = prefix + "record_on_url"
        let offKey = prefix + "record_off_url"
        if type == recordType {
            for stray in [onKey, offKey] where file.entry(stray) != nil {
                throw file.error(stray, stray + " needs " + prefix + "type = 35 (URL Record)")
            }
            let label = file.string(prefix + "label") ?? ""
            return RecordKeyBinding(key: key, mode: .info, label: label.isEmpty ? "Record" : label, location: location)
        }
        var urls = RecordURLs()
        let on = try url(file, onKey)
        let off = try url(file, offKey)
        if (on == nil) != (off == nil) {
            let set = on == nil ? offKey : onKey
            throw file.error(set, set + ": set both " + onKey + " and " + offKey + ", or neither")
        }
        urls.start = on
        urls.stop = off
        if let value = try url(file, prefix + "value") {
            urls.toggle = value
        } else if on == nil {
            throw file.error(
                prefix + "type",
                prefix + "type = 35 (URL Record) needs the URL in " + prefix + "value (or " + onKey + " and " + offKey
                    + ")")
        }
        let label = file.string(prefix + "label") ?? ""
        return RecordKeyBinding(
            key: key, mode: .url(urls), label: label.isEmpty ? "URL Record" : label, location: location)
    }

    /// A URL value: nil when unset or empty; refused unless `http://host...` without spaces or
    /// control characters (`https` is refused until the firmware has TLS).
    static func url(_ file: ConfigFile, _ key: String) throws(ConfigError) -> String? {
        guard let entry = file.entry(key), !entry.value.isEmpty else { return nil }
        if let problem = urlProblem(entry.value) {
            throw ConfigError(entry.file, entry.line, key + " = '" + entry.value + "': " + problem)
        }
        return entry.value
    }

    /// Why `url` cannot be requested, nil when it can.
    public static func urlProblem(_ url: String) -> String? {
        let bytes = Array(url.utf8)
        func hasScheme(_ scheme: String) -> Bool {
            let s = Array(scheme.utf8)
            guard bytes.count >= s.count else { return false }
            for i in 0..<s.count where (bytes[i] | 0x20) != s[i] && bytes[i] != s[i] { return false }
            return true
        }
        let secure = hasScheme("https://")
        guard secure || hasScheme("http://") else { return "expected an http:// or https:// URL" }
        for b in bytes where b <= 0x20 || b == 0x7F {
            return "spaces and control characters are not allowed (write %20)"
        }
        let rest = bytes[(secure ? 8 : 7)...]
        if rest.isEmpty || rest.first == 0x2F || rest.first == 0x3A { return "the URL has no host" }
        return nil
    }
}
