import Config
import Reactor

/// Where a board's keys come from (`keys.source`).
public enum KeySourceSpec: Equatable, Sendable, CustomStringConvertible {
    /// An evdev device: `evdev:/dev/input/eventN`, `evdev-name:TEXT`, `evdev-caps:keyboard`.
    case evdev(EvdevSelector)
    /// Raw `input_event` records from a FIFO: `fifo:PATH`.
    case fifo(String)
    /// Raw `input_event` records from a file (replayed) or a pipe: `file:PATH`.
    case file(String)
    /// The terminal on standard input: `stdin`.
    case stdin

    /// The accepted forms, for messages.
    public static let forms =
        "evdev:PATH, evdev-name:TEXT, evdev-caps:keyboard|keypad|keymap, fifo:PATH, file:PATH or stdin"

    /// Parses a `keys.source` value; nil when malformed.
    public init?(parsing text: String) {
        if text == "stdin" {
            self = .stdin
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let scheme = String(text[..<colon])
        let rest = String(text[text.index(after: colon)...])
        if rest.isEmpty { return nil }
        switch scheme {
        case "evdev": self = .evdev(.path(rest))
        case "evdev-name": self = .evdev(.name(rest))
        case "evdev-caps":
            guard let cap = EvdevCapability(rawValue: rest) else { return nil }
            self = .evdev(.capability(cap))
        case "fifo": self = .fifo(rest)
        case "file": self = .file(rest)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .evdev(let s): return s.description
        case .fifo(let p): return "fifo:" + p
        case .file(let p): return "file:" + p
        case .stdin: return "stdin"
        }
    }
}

/// The Keys part of a board profile: the key source, long-press and repeat timings, the evdev
/// keymap and the terminal map; and the factory that opens the configured source on a reactor.
/// Board keys: `keys.source`, `keys.grab`, `keys.long_press_ms`, `keys.repeat_delay_ms`,
/// `keys.repeat_interval_ms`, `keys.repeat_keys`, `keys.devices_dir`, `keys.keymap_base`,
/// `keymap.<KEY_NAME>`, `terminal.key.<name>` (see docs/BOARDS.md, section Keys).
public struct KeysConfiguration {
    /// Where keys come from. Default `stdin`.
    public var source: KeySourceSpec = .stdin
    /// Grab the evdev device (EVIOCGRAB) so the console does not see the keys. Default off.
    public var grab = false
    /// Long press and repeat.
    public var timing = KeyTiming()
    /// Evdev codes to phone keys.
    public var keymap: KeyMap = .standard
    /// Terminal keys to phone keys.
    public var terminalMap: TerminalKeyMap = .standard
    /// Where evdev devices are discovered (and watched for hot-plug). Default `/dev/input`.
    public var devicesDirectory = "/dev/input"
    /// Record layout of `fifo:`/`file:` streams. Default: the build's own.
    public var streamLayout: InputEventLayout = .native
    /// Replay `file:` recordings with their recorded timing (else as fast as possible).
    public var pacedReplay = true

    /// The defaults: terminal keys, the standard keymaps, 1 s long press.
    public init() {}

    /// Reads the Keys settings of a board profile. Every bad value is refused with its
    /// file:line: an unknown source form, an evdev code name libevdev does not know, an
    /// unknown phone key name, a terminal key name that is not one, a timing out of range.
    public init(board: ConfigFile) throws(ConfigError) {
        if let e = board.entry("keys.source") {
            guard let spec = KeySourceSpec(parsing: e.value) else {
                throw ConfigError(e.file, e.line, "keys.source = '" + e.value + "': expected " + KeySourceSpec.forms)
            }
            source = spec
        }
        grab = try board.bool("keys.grab", default: false)
        let ms: Int64 = 1_000_000
        timing.longPressNanoseconds = Int64(try board.int("keys.long_press_ms", default: 1000, in: 0...60_000)) * ms
        timing.repeatDelayNanoseconds = Int64(try board.int("keys.repeat_delay_ms", default: 500, in: 0...10_000)) * ms
        timing.repeatIntervalNanoseconds =
            Int64(try board.int("keys.repeat_interval_ms", default: 150, in: 10...5_000)) * ms
        if let e = board.entry("keys.repeat_keys") {
            var keys: [PhoneKey] = []
            for word in e.value.split(whereSeparator: { $0 == "," || $0 == " " }) where word != "none" {
                guard let key = PhoneKey(name: String(word)) else {
                    throw ConfigError(e.file, e.line, "keys.repeat_keys: '" + String(word) + "' is not a phone key")
                }
                keys.append(key)
            }
            timing.repeatingKeys = keys
        }
        if let dir = board.string("keys.devices_dir") {
            guard dir.hasPrefix("/") else { throw board.error("keys.devices_dir", "keys.devices_dir must be absolute") }
            devicesDirectory = dir
        }

        let keymapLines = board.entries(withPrefix: "keymap.")
        var base = keymapLines.isEmpty ? "standard" : "none"
        if let e = board.entry("keys.keymap_base") {
            guard e.value == "standard" || e.value == "none" else {
                throw ConfigError(e.file, e.line, "keys.keymap_base = '" + e.value + "': expected standard or none")
            }
            base = e.value
        }
        keymap = base == "standard" ? .standard : KeyMap()
        for e in keymapLines {
            let codeName = String(e.key.dropFirst("keymap.".count))
            guard let code = KeyMap.code(named: codeName) else {
                throw ConfigError(e.file, e.line, e.key + ": '" + codeName + "' is not an evdev key code name"
                    + " (KEY_F1, KEY_KP5, BTN_0, ...)")
            }
            keymap[code] = try KeysConfiguration.phoneKey(e)
        }

        for e in board.entries(withPrefix: "terminal.key.") {
            let name = String(e.key.dropFirst("terminal.key.".count))
            guard TerminalKeyMap.isValidName(name) else {
                throw ConfigError(e.file, e.line, e.key + ": '" + name + "' is not a terminal key (a letter, a digit,"
                    + " or one of " + TerminalKeyMap.namedKeys.joined(separator: " ") + ")")
            }
            terminalMap[name] = try KeysConfiguration.phoneKey(e)
        }
    }

    /// A phone key name, or `none` (nil: unmap).
    static func phoneKey(_ e: ConfigFile.Entry) throws(ConfigError) -> PhoneKey? {
        if e.value == "none" { return nil }
        guard let key = PhoneKey(name: e.value) else {
            throw ConfigError(e.file, e.line, e.key + " = '" + e.value + "': unknown phone key (digit0-9, star, pound,"
                + " hook, speaker, headset, mute, volume_up, volume_down, ok, cancel, up, down, left, right,"
                + " softkey1-4, line1-99, record, hold, transfer, conference, redial, message, or none)")
        }
        return key
    }

    /// Opens the configured source on `reactor`; `handler` gets every phone key event.
    /// An evdev device need not be present yet (the source waits for it); a FIFO is created
    /// when missing. `onEnd` runs at the end of a `file:` source or of standard input.
    public func open(
        on reactor: Reactor, log: @escaping (String) -> Void = keysLogToStandardError,
        onEnd: @escaping () -> Void = {}, handler: @escaping (KeyEvent) -> Void
    ) throws(KeysError) -> KeySource {
        let resolver = KeyResolver(reactor: reactor, timing: timing, handler: handler)
        let router = KeyRouter(keymap: keymap, resolver: resolver, log: log)
        let source = KeySource(spec: source, router: router)
        do {
            switch self.source {
            case .evdev(let selector):
                source.evdev = EvdevKeySource(
                    selector: selector, directory: devicesDirectory, grab: grab, reactor: reactor, router: router,
                    log: log)
            case .fifo(let path):
                source.stream = try StreamKeySource(
                    path: path, kind: .fifo, layout: streamLayout, reactor: reactor, router: router, log: log,
                    onEnd: onEnd)
            case .file(let path):
                source.stream = try StreamKeySource(
                    path: path, kind: .file, layout: streamLayout, reactor: reactor, router: router,
                    paced: pacedReplay, log: log, onEnd: onEnd)
            case .stdin:
                source.terminal = try TerminalKeySource(
                    fd: 0, map: terminalMap, reactor: reactor, resolver: resolver, log: log, onEnd: onEnd)
            }
        } catch {
            router.close()
            throw error
        }
        return source
    }
}

/// An open key source of any kind (what `KeysConfiguration.open` returns). `close()` stops it,
/// restores the terminal, cancels its timers and breaks its reference cycles.
public final class KeySource {
    /// What was opened.
    public let spec: KeySourceSpec
    /// Keymap, unknown-code log and the resolver.
    public let router: KeyRouter
    /// The source behind it (exactly one is set).
    public internal(set) var evdev: EvdevKeySource? = nil
    public internal(set) var stream: StreamKeySource? = nil
    public internal(set) var terminal: TerminalKeySource? = nil

    init(spec: KeySourceSpec, router: KeyRouter) {
        self.spec = spec
        self.router = router
    }

    /// The resolver (for keys held, or to release them all).
    public var resolver: KeyResolver { router.resolver }

    /// Stops the source for good.
    public func close() {
        evdev?.close()
        stream?.close()
        terminal?.close()
        evdev = nil
        stream = nil
        terminal = nil
        router.close()
    }
}
