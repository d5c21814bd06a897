import Config
import Indicators
import Keys

/// A board profile: what one phone board has (identity, keymap and key source, LEDs and LCD,
/// audio devices), from one `board/NAME.cfg` file in the provisioning format. A new board
/// comes up by writing such a file, no code. Every key is documented in docs/BOARDS.md.
public struct BoardProfile {
    /// ALSA PCM device names for one audio path.
    public struct AudioPath: Equatable, Sendable {
        public var playback: String
        public var capture: String
    }

    public let name: String
    public let model: String
    public let description: String
    /// Number of line (DSS) keys.
    public let lineKeys: Int
    /// Whether the board has a dedicated record key (the admin guide's type 25 by default).
    public let hasRecordKey: Bool
    public let keys: KeysConfiguration
    public let indicators: IndicatorsConfiguration
    public let handset: AudioPath
    public let headset: AudioPath
    public let speaker: AudioPath
    /// The audio period in milliseconds (`audio.period_ms`, 10 or 20; default 10): one wake-up,
    /// one capture read and one playback write per period. 20 halves them; with a 20 ms ptime a
    /// packet leaves at the same moment, but a received one waits up to a period longer for its
    /// playout and the playback buffer holds periods of twice the length.
    public let audioPeriodMilliseconds: Int
    /// The device buffer in periods (`audio.buffer_periods`, 2 or 3; default 3 at 10 ms, 2 at
    /// 20 ms): the playback keeps between this many less one and this many periods queued.
    public let audioBufferPeriods: Int
    /// The model's common provisioning file (`board.provision_common_file`, default
    /// `y000000000000.cfg`).
    public let provisionCommonFile: String
    /// Where the last good fetched provisioning set is stored (`board.provision_dir`; nil: not stored).
    public let provisionDirectory: String?
    /// Keys the profile sets that no module reads (reported once, not an error).
    public let unknownKeys: [ConfigFile.Entry]
    /// The parsed file.
    public let file: ConfigFile

    /// The prefixes of the keys a board profile may set.
    static let knownPrefixes = ["board.", "keys.", "keymap.", "terminal.", "led.", "lcd.", "audio."]

    /// Parses and checks a profile; the first problem is refused with file:line and the reason.
    public init(file: ConfigFile) throws(ConfigError) {
        self.file = file
        guard let name = file.string("board.name"), !name.isEmpty else {
            throw ConfigError(file.path, 0, "no 'board.name' line")
        }
        self.name = name
        model = file.string("board.model") ?? name
        description = file.string("board.description") ?? ""
        lineKeys = try file.int("board.linekeys", default: 0, in: 0...64)
        hasRecordKey = try file.bool("board.record_key", default: false)
        provisionCommonFile = file.string("board.provision_common_file") ?? ProvisioningPlan.defaultCommonFile
        let directory = file.string("board.provision_dir") ?? ""
        provisionDirectory = directory.isEmpty ? nil : directory
        keys = try KeysConfiguration(board: file)
        indicators = try IndicatorsConfiguration(board: file)
        handset = try BoardProfile.audioPath(file, "handset")
        headset = try BoardProfile.audioPath(file, "headset")
        speaker = try BoardProfile.audioPath(file, "speaker")
        audioPeriodMilliseconds = try file.int("audio.period_ms", default: 10, in: 10...20)
        if audioPeriodMilliseconds != 10 && audioPeriodMilliseconds != 20 {
            throw file.error(
                "audio.period_ms", "audio.period_ms = " + String(audioPeriodMilliseconds) + ": expected 10 or 20")
        }
        audioBufferPeriods = try file.int(
            "audio.buffer_periods", default: audioPeriodMilliseconds == 20 ? 2 : 3, in: 2...3)
        var unknown: [ConfigFile.Entry] = []
        for entry in file.entries {
            if !BoardProfile.knownPrefixes.contains(where: { entry.key.hasPrefix($0) }) {
                unknown.append(entry)
            } else if entry.key.hasPrefix("board.") || entry.key.hasPrefix("audio.") {
                if !BoardProfile.ownKeys.contains(entry.key) { unknown.append(entry) }
            }
        }
        unknownKeys = unknown
    }

    /// Reads and parses `path`.
    public static func load(path: String) throws(ConfigError) -> BoardProfile {
        try BoardProfile(file: try ConfigFile.load(path: path))
    }

    static let ownKeys: [String] = {
        var keys = [
            "board.name", "board.model", "board.description", "board.linekeys", "board.record_key",
            "board.provision_common_file", "board.provision_dir", "audio.period_ms", "audio.buffer_periods",
        ]
        for path in ["handset", "headset", "speaker"] {
            keys.append("audio." + path + ".playback")
            keys.append("audio." + path + ".capture")
        }
        return keys
    }()

    static func audioPath(_ file: ConfigFile, _ path: String) throws(ConfigError) -> AudioPath {
        let playbackKey = "audio." + path + ".playback"
        let captureKey = "audio." + path + ".capture"
        let playback = file.string(playbackKey) ?? "default"
        let capture = file.string(captureKey) ?? "default"
        for (key, value) in [(playbackKey, playback), (captureKey, capture)] where value.isEmpty {
            throw file.error(key, key + " is empty: give an ALSA PCM name such as 'default' or 'hw:0,0'")
        }
        return AudioPath(playback: playback, capture: capture)
    }
}
