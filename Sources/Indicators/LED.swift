/// The name of one LED on the board (`line1`..`lineN`, `record`, `message`, `mute`, `speaker`,
/// `headset`, `power`, ...). The board profile names its LEDs; the phone refers to them by name.
public struct LEDID: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The LED's name as written in the board profile (`led.<name>.backend`).
    public let name: String

    public init(_ name: String) { self.name = name }
    public init(stringLiteral value: String) { self.name = value }

    /// The LED of line (DSS) key `n` (1-based): `line1`, `line2`, ...
    public static func line(_ n: Int) -> LEDID { LEDID("line" + String(n)) }

    public static let record: LEDID = "record"
    public static let message: LEDID = "message"
    public static let mute: LEDID = "mute"
    public static let speaker: LEDID = "speaker"
    public static let headset: LEDID = "headset"
    public static let power: LEDID = "power"

    public var description: String { name }

    /// Whether `name` is usable as an LED name (letters, digits, `_`, `-`; not empty).
    public static func isValidName(_ name: String) -> Bool {
        if name.isEmpty { return false }
        for c in name.utf8 {
            let ok =
                (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x5F || c == 0x2D
            if !ok { return false }
        }
        return true
    }
}

/// The colour of a multi-colour LED. A single-colour LED ignores it.
public enum LEDColor: Equatable, Hashable, Sendable, CustomStringConvertible, CaseIterable {
    case red, green, amber

    public var description: String {
        switch self {
        case .red: return "red"
        case .green: return "green"
        case .amber: return "amber"
        }
    }

    /// Parses `red`, `green` or `amber`.
    public init?(name: String) {
        switch name {
        case "red": self = .red
        case "green": self = .green
        case "amber", "yellow", "orange": self = .amber
        default: return nil
        }
    }
}

/// How an LED is lit: off, steady, or flashing with a 50 % duty cycle.
public enum LEDMode: Equatable, Hashable, Sendable, CustomStringConvertible {
    case off
    case on
    /// 1 s period: 500 ms on, 500 ms off (held calls).
    case slowFlash
    /// 200 ms period: 100 ms on, 100 ms off (incoming calls).
    case fastFlash

    /// Milliseconds on and off in one flash period (0 for steady modes).
    public var halfPeriodMilliseconds: Int {
        switch self {
        case .off, .on: return 0
        case .slowFlash: return 500
        case .fastFlash: return 100
        }
    }

    /// Whether the LED is lit at `milliseconds` on a clock shared by all LEDs, so that every
    /// LED flashing at one rate flashes in step (on during the first half of each period).
    public func isLit(atMilliseconds milliseconds: Int64) -> Bool {
        switch self {
        case .off: return false
        case .on: return true
        case .slowFlash, .fastFlash:
            let half = Int64(halfPeriodMilliseconds)
            let t = milliseconds >= 0 ? milliseconds : 0
            return (t / half) % 2 == 0
        }
    }

    public var description: String {
        switch self {
        case .off: return "off"
        case .on: return "on"
        case .slowFlash: return "slow_flash"
        case .fastFlash: return "fast_flash"
        }
    }
}

/// The state of one LED: its mode and, on a multi-colour LED, its colour.
public struct LEDState: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var mode: LEDMode
    /// nil for a single-colour LED, or "the LED's own colour".
    public var color: LEDColor?

    public init(_ mode: LEDMode, _ color: LEDColor? = nil) {
        self.mode = mode
        self.color = mode == .off ? nil : color
    }

    public static let off = LEDState(.off)
    public static let on = LEDState(.on)

    /// Line key, call connected: solid green.
    public static let lineTalking = LEDState(.on, .green)
    /// Line key, call ringing: fast-flashing green.
    public static let lineIncoming = LEDState(.fastFlash, .green)
    /// Line key, call on hold: slow-flashing green.
    public static let lineHeld = LEDState(.slowFlash, .green)
    /// Record key while a recording runs: solid red.
    public static let recordOn = LEDState(.on, .red)

    public var isOff: Bool { mode == .off }

    /// `on`, `slow_flash green`, ...
    public var description: String {
        if let color { return mode.description + " " + color.description }
        return mode.description
    }
}

/// The desk-phone meaning of a line key's LED, mapped to the conventional LED states.
public enum LineKeyState: Equatable, Sendable {
    case idle, talking, incoming, held
    /// No call on the key, its account registered / registering (several accounts).
    case registered, registering

    /// off / solid green / fast-flash green / slow-flash green; an account's Line key: on when
    /// registered, slow-flashing (no colour) while registering, off otherwise.
    public var ledState: LEDState {
        switch self {
        case .idle: return .off
        case .registered: return .on
        case .registering: return LEDState(.slowFlash)
        case .talking: return .lineTalking
        case .incoming: return .lineIncoming
        case .held: return .lineHeld
        }
    }
}
