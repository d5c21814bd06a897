/// The keys of a desk phone, independent of how a board wires them. Each key has a config
/// name (`digit5`, `star`, `hook`, `volume_up`, `softkey2`, `line3`, ...) used in board
/// profiles and printed by the tools.
///
/// `hook` is the hook switch: press = off-hook (handset lifted), release = on-hook.
public enum PhoneKey: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A dial-pad digit, 0...9.
    case digit(Int)
    case star, pound
    /// The hook switch: press = off-hook, release = on-hook.
    case hook
    case speaker, headset, mute, volumeUp, volumeDown
    case ok, cancel, up, down, left, right
    /// A context key under the display, 1...4.
    case softkey(Int)
    /// A line / DSS key, 1...`PhoneKey.maxLine`.
    case line(Int)
    case record, hold, transfer, conference, redial, message

    /// Highest softkey number.
    public static let maxSoftkey = 4
    /// Highest line / DSS key number.
    public static let maxLine = 99

    /// The keys without a number, in documentation order.
    public static let namedKeys: [PhoneKey] = [
        .star, .pound, .hook, .speaker, .headset, .mute, .volumeUp, .volumeDown, .ok, .cancel,
        .up, .down, .left, .right, .record, .hold, .transfer, .conference, .redial, .message,
    ]

    /// The config name: `digit5`, `star`, `pound`, `hook`, `volume_up`, `softkey2`, `line3`, ...
    public var name: String {
        switch self {
        case .digit(let n): return "digit" + String(n)
        case .star: return "star"
        case .pound: return "pound"
        case .hook: return "hook"
        case .speaker: return "speaker"
        case .headset: return "headset"
        case .mute: return "mute"
        case .volumeUp: return "volume_up"
        case .volumeDown: return "volume_down"
        case .ok: return "ok"
        case .cancel: return "cancel"
        case .up: return "up"
        case .down: return "down"
        case .left: return "left"
        case .right: return "right"
        case .softkey(let n): return "softkey" + String(n)
        case .line(let n): return "line" + String(n)
        case .record: return "record"
        case .hold: return "hold"
        case .transfer: return "transfer"
        case .conference: return "conference"
        case .redial: return "redial"
        case .message: return "message"
        }
    }

    public var description: String { name }

    /// Parses a config name (the inverse of `name`); nil for an unknown name or a number out
    /// of range (`digit10`, `softkey5`, `line0`).
    public init?(name: String) {
        if let n = PhoneKey.number(in: name, after: "digit"), n <= 9 {
            self = .digit(n)
            return
        }
        if let n = PhoneKey.number(in: name, after: "softkey"), n >= 1, n <= PhoneKey.maxSoftkey {
            self = .softkey(n)
            return
        }
        if let n = PhoneKey.number(in: name, after: "line"), n >= 1, n <= PhoneKey.maxLine {
            self = .line(n)
            return
        }
        for key in PhoneKey.namedKeys where key.name == name {
            self = key
            return
        }
        return nil
    }

    /// Whether this is a valid key (numbers in range); values built by hand may not be.
    public var isValid: Bool {
        switch self {
        case .digit(let n): return n >= 0 && n <= 9
        case .softkey(let n): return n >= 1 && n <= PhoneKey.maxSoftkey
        case .line(let n): return n >= 1 && n <= PhoneKey.maxLine
        default: return true
        }
    }

    /// `digit7` with prefix `digit` gives 7; no sign, no leading zeros, at most 3 digits.
    static func number(in name: String, after prefix: String) -> Int? {
        guard name.hasPrefix(prefix) else { return nil }
        let digits = name.utf8.dropFirst(prefix.utf8.count)
        guard !digits.isEmpty, digits.count <= 3 else { return nil }
        if digits.count > 1 && digits.first == UInt8(ascii: "0") { return nil }
        var value = 0
        for b in digits {
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))
        }
        return value
    }
}

/// What happened to a key: pressed, released, held past the long-press time (once per
/// press), or repeated while held (repeating keys such as volume and arrows).
public enum KeyEventKind: Equatable, Hashable, Sendable, CustomStringConvertible {
    case press, release, long, `repeat`

    public var description: String {
        switch self {
        case .press: return "press"
        case .release: return "release"
        case .long: return "long"
        case .repeat: return "repeat"
        }
    }
}

/// One phone key event, as delivered to the phone: `press record`, `long digit5`.
public struct KeyEvent: Equatable, Sendable, CustomStringConvertible {
    public var key: PhoneKey
    public var kind: KeyEventKind
    /// Reactor time of the event, in nanoseconds.
    public var time: Int64

    public init(key: PhoneKey, kind: KeyEventKind, time: Int64) {
        self.key = key
        self.kind = kind
        self.time = time
    }

    /// `press record`, `release hook`, `long digit5`, `repeat volume_up`.
    public var description: String { kind.description + " " + key.name }
}
