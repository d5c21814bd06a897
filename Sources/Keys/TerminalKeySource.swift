import CLinux
import Reactor

/// Terminal characters to phone keys, by key name: a letter or digit (`a`, `5`) or a named
/// key (`space`, `enter`, `tab`, `backspace`, `escape`, `up`, `down`, `left`, `right`,
/// `f1`...`f12`, `star`, `pound`, `plus`, `minus`, `equals`, `slash`, `period`, `comma`).
public struct TerminalKeyMap: Equatable, Sendable {
    private var byName: [String: PhoneKey] = [:]

    /// An empty map.
    public init() {}

    /// The phone key for a terminal key name.
    public subscript(name: String) -> PhoneKey? {
        get { byName[name] }
        set { byName[name] = newValue }
    }

    /// The mapped names, sorted.
    public var names: [String] { byName.keys.sorted() }

    /// Named (non-character) terminal keys.
    public static let namedKeys: [String] = {
        var list = [
            "space", "enter", "tab", "backspace", "escape", "up", "down", "left", "right",
            "star", "pound", "plus", "minus", "equals", "slash", "period", "comma",
        ]
        for n in 1...12 { list.append("f" + String(n)) }
        return list
    }()

    /// Whether `name` is a terminal key name (a single ASCII letter or digit, or a named key).
    public static func isValidName(_ name: String) -> Bool {
        let u = Array(name.utf8)
        if u.count == 1 {
            let c = u[0]
            return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
        }
        return namedKeys.contains(name)
    }

    /// The simulated board's keys: digits, `*`, `#`; `h` hook (toggles off-hook/on-hook),
    /// `s` speaker, `j` headset, `m` mute, `r` record, `o` hold, `t` transfer, `n` conference,
    /// `p` redial, `i` message; `z x c v` and F1-F4 softkeys 1-4; F5-F8 line keys 1-4, `l`
    /// line 1, `k` line 2; `+`/`=` volume up, `-` volume down; Enter ok; Backspace/Escape
    /// cancel; arrows.
    public static let standard: TerminalKeyMap = {
        var map = TerminalKeyMap()
        for (name, key) in standardEntries { map[name] = PhoneKey(name: key) }
        return map
    }()

    /// The standard map as (terminal key name, phone key name) pairs.
    public static let standardEntries: [(String, String)] = {
        var list: [(String, String)] = []
        for d in 0...9 { list.append((String(d), "digit" + String(d))) }
        for n in 1...4 { list.append(("f" + String(n), "softkey" + String(n))) }
        for n in 1...4 { list.append(("f" + String(n + 4), "line" + String(n))) }
        list += [
            ("star", "star"), ("pound", "pound"),
            ("z", "softkey1"), ("x", "softkey2"), ("c", "softkey3"), ("v", "softkey4"),
            ("l", "line1"), ("k", "line2"),
            ("h", "hook"), ("s", "speaker"), ("j", "headset"), ("m", "mute"), ("r", "record"),
            ("o", "hold"), ("t", "transfer"), ("n", "conference"), ("p", "redial"), ("i", "message"),
            ("plus", "volume_up"), ("equals", "volume_up"), ("minus", "volume_down"),
            ("enter", "ok"), ("backspace", "cancel"), ("escape", "cancel"),
            ("up", "up"), ("down", "down"), ("left", "left"), ("right", "right"),
        ]
        return list
    }()
}

/// Terminal bytes to key names (see `TerminalKeyMap`), escape sequences included (arrows,
/// F1-F12 in xterm and Linux console forms). Unknown sequences and control bytes are skipped;
/// Ctrl-D gives `eof`.
public struct TerminalInputDecoder {
    public init() {}

    /// Decodes the bytes of one read.
    public func feed(_ bytes: UnsafeRawBufferPointer, _ body: (String) -> Void) {
        var i = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            i += 1
            if c == 0x1B {
                guard i < n, bytes[i] == 0x5B || bytes[i] == 0x4F else {
                    body("escape")
                    continue
                }
                let introducer = bytes[i]
                i += 1
                var params: [UInt8] = []
                var final: UInt8 = 0
                while i < n {
                    let b = bytes[i]
                    i += 1
                    if b >= 0x40 && b <= 0x7E && !(introducer == 0x5B && b == 0x5B && params.isEmpty) {
                        final = b
                        break
                    }
                    params.append(b)
                }
                if let name = TerminalInputDecoder.sequenceName(introducer, params, final) { body(name) }
                continue
            }
            if let name = TerminalInputDecoder.byteName(c) { body(name) }
        }
    }

    static func byteName(_ c: UInt8) -> String? {
        switch c {
        case 0x0D, 0x0A: return "enter"
        case 0x09: return "tab"
        case 0x7F, 0x08: return "backspace"
        case 0x04: return "eof"
        case 0x20: return "space"
        case UInt8(ascii: "*"): return "star"
        case UInt8(ascii: "#"): return "pound"
        case UInt8(ascii: "+"): return "plus"
        case UInt8(ascii: "-"): return "minus"
        case UInt8(ascii: "="): return "equals"
        case UInt8(ascii: "/"): return "slash"
        case UInt8(ascii: "."): return "period"
        case UInt8(ascii: ","): return "comma"
        default:
            if (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) {
                return String(Character(Unicode.Scalar(c)))
            }
            return nil
        }
    }

    static func sequenceName(_ introducer: UInt8, _ params: [UInt8], _ final: UInt8) -> String? {
        switch final {
        case UInt8(ascii: "A"): return params == [0x5B] ? "f1" : "up"
        case UInt8(ascii: "B"): return params == [0x5B] ? "f2" : "down"
        case UInt8(ascii: "C"): return params == [0x5B] ? "f3" : "right"
        case UInt8(ascii: "D"): return params == [0x5B] ? "f4" : "left"
        case UInt8(ascii: "E"): return params == [0x5B] ? "f5" : nil
        case UInt8(ascii: "P"): return "f1"
        case UInt8(ascii: "Q"): return "f2"
        case UInt8(ascii: "R"): return "f3"
        case UInt8(ascii: "S"): return "f4"
        case UInt8(ascii: "~"):
            var number = 0
            for b in params {
                if b == UInt8(ascii: ";") { break }
                guard b >= 0x30 && b <= 0x39 else { return nil }
                number = number * 10 + Int(b - 0x30)
            }
            let table: [Int: String] = [
                11: "f1", 12: "f2", 13: "f3", 14: "f4", 15: "f5", 17: "f6", 18: "f7", 19: "f8",
                20: "f9", 21: "f10", 23: "f11", 24: "f12",
            ]
            return table[number]
        default: return nil
        }
    }
}

/// Phone keys from a terminal (standard input in raw mode) for the simulated board. A
/// terminal sends characters, not key-down/key-up, so each mapped character is a press
/// followed at once by a release, except the hook key, which toggles off-hook (press) and
/// on-hook (release). The terminal's settings are restored by `close()` and at exit. End of
/// input (or Ctrl-D) runs `onEnd`.
public final class TerminalKeySource {
    /// The descriptor read (0: standard input).
    public let fd: Int32
    private let map: TerminalKeyMap
    private let reactor: Reactor
    private let resolver: KeyResolver
    private var log: (String) -> Void
    private var onEnd: (() -> Void)?
    private var watchID: WatchID? = nil
    private var reported: Set<String> = []
    private var buffer: [UInt8]
    private let decoder = TerminalInputDecoder()
    /// Whether the terminal was put in raw mode (false when `fd` is not a terminal).
    public private(set) var isRaw = false

    /// Starts reading `fd` on the reactor; puts it in raw mode when it is a terminal and
    /// `rawMode` is set.
    public init(
        fd: Int32 = 0, map: TerminalKeyMap, reactor: Reactor, resolver: KeyResolver, rawMode: Bool = true,
        log: @escaping (String) -> Void = keysLogToStandardError, onEnd: @escaping () -> Void = {}
    ) throws(KeysError) {
        self.fd = fd
        self.map = map
        self.reactor = reactor
        self.resolver = resolver
        self.log = log
        self.onEnd = onEnd
        buffer = [UInt8](repeating: 0, count: 256)
        _ = cl_set_nonblocking(fd, 1)
        do {
            watchID = try reactor.watch(fd, for: .readable) { [self] _ in self.readable() }
        } catch {
            throw KeysError("terminal fd " + String(fd), "epoll_ctl", errno: error.errno)
        }
        if rawMode && cl_isatty(fd) == 1 {
            let rc = cl_term_raw(fd)
            if rc < 0 { log("terminal raw mode failed: " + KeysError.errnoText(rc)) } else { isRaw = true }
        }
    }

    /// Stops reading and restores the terminal (does not close the descriptor).
    public func close() {
        if let w = watchID { reactor.cancel(w) }
        watchID = nil
        if isRaw { _ = cl_term_restore() }
        isRaw = false
        _ = cl_set_nonblocking(fd, 0)
        onEnd = nil
        log = { _ in }
    }

    /// One decoded terminal key (for tests and for boards that feed names themselves).
    public func key(named name: String) {
        if name == "eof" {
            end()
            return
        }
        guard let key = map[name] else {
            if !reported.contains(name) {
                reported.insert(name)
                log("terminal key '" + name + "' is not mapped")
            }
            return
        }
        if key == .hook {
            if resolver.heldKeys.contains(.hook) { resolver.release(.hook) } else { resolver.press(.hook) }
            return
        }
        resolver.press(key)
        resolver.release(key)
    }

    private func readable() {
        let n = buffer.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
        if n == -Int(EAGAIN) || n == -Int(EINTR) { return }
        if n <= 0 {
            if n < 0 { log("terminal read failed: " + KeysError.errnoText(Int32(-n))) }
            end()
            return
        }
        var names: [String] = []
        buffer.withUnsafeBytes { raw in
            decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { names.append($0) }
        }
        for name in names { key(named: name) }
    }

    private func end() {
        if let w = watchID { reactor.cancel(w) }
        watchID = nil
        if isRaw { _ = cl_term_restore() }
        isRaw = false
        resolver.releaseAll()
        let e = onEnd
        onEnd = nil
        e?()
    }
}
