import Config
import Reactor

/// Where one board LED is shown.
public enum LEDTarget: Equatable, Sendable, CustomStringConvertible {
    /// A Linux LED class device (`/sys/class/leds/NAME`); `{color}` in NAME for multi-colour LEDs.
    case sysfs(String)
    /// A keyboard LED on the evdev device (`LED_SCROLLL`: name and code).
    case evdev(String, UInt16)
    /// Drawn by the terminal simulator.
    case terminal
    /// Not shown (the LED exists in the model only).
    case none

    public var description: String {
        switch self {
        case .sysfs(let name): return "sysfs:" + name
        case .evdev(let name, _): return "evdev:" + name
        case .terminal: return "terminal"
        case .none: return "none"
        }
    }
}

/// One LED of the board profile: `led.<id>.backend` and `led.<id>.colors`.
public struct LEDConfiguration: Equatable, Sendable {
    public var id: LEDID
    public var target: LEDTarget
    /// The LED's colours; empty for a single-colour LED.
    public var colors: [LEDColor]
}

/// Where the LCD is shown.
public enum LCDTarget: Equatable, Sendable, CustomStringConvertible {
    case terminal
    case framebuffer(String)
    case none

    public var description: String {
        switch self {
        case .terminal: return "terminal"
        case .framebuffer(let path): return "framebuffer:" + path
        case .none: return "none"
        }
    }
}

/// The LED and LCD part of a board profile (`led.*` and `lcd.*` keys; see
/// docs/BOARDS-indicators.md), validated: every error names the file and line.
public struct IndicatorsConfiguration: Equatable, Sendable {
    /// The board's LEDs in profile order.
    public var leds: [LEDConfiguration] = []
    /// `led.sysfs_dir`: the Linux LED class directory.
    public var sysfsDirectory = "/sys/class/leds"
    /// `led.evdev_device`: the keyboard whose LEDs `evdev:` LEDs use.
    public var evdevDevice: String? = nil
    public var lcdTarget: LCDTarget = .none
    /// `lcd.width`, `lcd.height` in pixels (0 = unknown: asked from the framebuffer).
    public var width = 0
    public var height = 0
    /// `lcd.bpp`: 1, 16 or 32 (0 = unknown).
    public var bitsPerPixel = 0
    /// `lcd.stride`: bytes per line (nil = packed).
    public var stride: Int? = nil
    /// `lcd.bit_order`: 1 bpp leftmost pixel in the most significant bit.
    public var msbFirst = true
    /// `lcd.columns` x `lcd.lines`: the text grid.
    public var columns = 24
    public var lines = 6
    /// `lcd.color`: colour theme (else mono).
    public var color = false

    /// No LEDs, no LCD.
    public init() {}

    /// Reads the `led.*` and `lcd.*` keys of a board profile. Unknown `led.`/`lcd.` keys and
    /// bad values are errors at their line.
    public init(board: ConfigFile) throws(ConfigError) {
        for e in board.entries(withPrefix: "led.") {
            let parts = TextUtil.split(e.key, 0x2E)
            if parts.count == 2 {
                switch parts[1] {
                case "sysfs_dir":
                    if e.value.isEmpty { throw ConfigError(e.file, e.line, "led.sysfs_dir: empty") }
                    sysfsDirectory = e.value
                case "evdev_device":
                    if e.value.isEmpty { throw ConfigError(e.file, e.line, "led.evdev_device: empty") }
                    evdevDevice = e.value
                default:
                    throw ConfigError(
                        e.file, e.line,
                        "unknown key '" + e.key + "' (led.<id>.backend, led.<id>.colors, "
                            + "led.sysfs_dir, led.evdev_device)")
                }
                continue
            }
            guard parts.count == 3, LEDID.isValidName(parts[1]) else {
                throw ConfigError(
                    e.file, e.line,
                    "unknown key '" + e.key + "' (expected led.<id>.backend or "
                        + "led.<id>.colors; <id> is letters, digits, '_' or '-')")
            }
            let id = LEDID(parts[1])
            var index = leds.firstIndex { $0.id == id }
            if index == nil {
                leds.append(LEDConfiguration(id: id, target: .none, colors: []))
                index = leds.count - 1
            }
            switch parts[2] {
            case "backend": leds[index!].target = try IndicatorsConfiguration.ledTarget(e)
            case "colors": leds[index!].colors = try IndicatorsConfiguration.colors(e)
            default:
                throw ConfigError(e.file, e.line, "unknown key '" + e.key + "' (led.<id>.backend or led.<id>.colors)")
            }
        }
        for led in leds {
            let key = "led." + led.id.name + ".backend"
            if board.entry(key) == nil {
                throw board.error("led." + led.id.name + ".colors", "LED '" + led.id.name + "' has no " + key)
            }
            if case .sysfs(let name) = led.target, led.colors.count > 1, !TextUtil.contains("{color}", in: name) {
                throw board.error(
                    key,
                    key + " = '" + led.target.description + "': a multi-colour LED needs "
                        + "'{color}' in its sysfs name (one LED per colour, e.g. phone:{color}:line1)")
            }
            if case .evdev = led.target, evdevDevice == nil {
                throw board.error(key, key + " = '" + led.target.description + "': led.evdev_device is not set")
            }
        }
        try readLCD(board)
    }

    private mutating func readLCD(_ board: ConfigFile) throws(ConfigError) {
        let known = [
            "lcd.backend", "lcd.width", "lcd.height", "lcd.bpp", "lcd.stride", "lcd.columns", "lcd.lines",
            "lcd.color", "lcd.bit_order",
        ]
        for e in board.entries(withPrefix: "lcd.") where !known.contains(e.key) {
            throw ConfigError(e.file, e.line, "unknown key '" + e.key + "'")
        }
        if let e = board.entry("lcd.backend") {
            if e.value == "terminal" {
                lcdTarget = .terminal
            } else if e.value == "none" {
                lcdTarget = .none
            } else if e.value.hasPrefix("framebuffer:") && e.value.utf8.count > 12 {
                lcdTarget = .framebuffer(String(e.value.dropFirst(12)))
            } else {
                throw ConfigError(
                    e.file, e.line,
                    "lcd.backend = '" + e.value
                        + "': expected terminal, framebuffer:/dev/fbN or none")
            }
        }
        width = try board.int("lcd.width", default: 0, in: 1...4096)
        height = try board.int("lcd.height", default: 0, in: 1...4096)
        bitsPerPixel = try board.int("lcd.bpp", default: 0, in: 1...32)
        if bitsPerPixel != 0 && !PixelFormat.supportedDepths.contains(bitsPerPixel) {
            throw board.error("lcd.bpp", "lcd.bpp = " + String(bitsPerPixel) + ": expected 1, 16 or 32")
        }
        let geometrySet = [width != 0, height != 0, bitsPerPixel != 0]
        if geometrySet.contains(true) && geometrySet.contains(false) {
            let missing = width == 0 ? "lcd.width" : height == 0 ? "lcd.height" : "lcd.bpp"
            throw board.error(
                width != 0 ? "lcd.width" : height != 0 ? "lcd.height" : "lcd.bpp",
                "lcd.width, lcd.height and lcd.bpp go together: " + missing + " is not set")
        }
        if board.entry("lcd.stride") != nil {
            let s = try board.int("lcd.stride", default: 0, in: 1...65536)
            if bitsPerPixel != 0 && s < PixelFormat.packedLineBytes(width: width, bitsPerPixel: bitsPerPixel) {
                throw board.error(
                    "lcd.stride",
                    "lcd.stride = " + String(s) + ": shorter than one line ("
                        + String(PixelFormat.packedLineBytes(width: width, bitsPerPixel: bitsPerPixel)) + " bytes)")
            }
            stride = s
        }
        if let e = board.entry("lcd.bit_order") {
            switch e.value {
            case "msb": msbFirst = true
            case "lsb": msbFirst = false
            default: throw ConfigError(e.file, e.line, "lcd.bit_order = '" + e.value + "': expected msb or lsb")
            }
        }
        columns = try board.int("lcd.columns", default: width > 0 ? max(1, width / 6) : 24, in: 1...256)
        lines = try board.int("lcd.lines", default: height > 0 ? max(1, height / 9) : 6, in: 1...64)
        if width > 0 && (columns * 6 > width || lines * 9 > height) {
            throw board.error(
                board.entry("lcd.columns") != nil ? "lcd.columns" : "lcd.lines",
                String(columns) + " columns x " + String(lines) + " lines do not fit " + String(width) + "x"
                    + String(height) + " pixels (a character cell is at least 6x9)")
        }
        color = try board.bool("lcd.color", default: bitsPerPixel > 1)
    }

    static func ledTarget(_ e: ConfigFile.Entry) throws(ConfigError) -> LEDTarget {
        let v = e.value
        if v == "terminal" { return .terminal }
        if v == "none" { return .none }
        if v.hasPrefix("sysfs:") && v.utf8.count > 6 {
            let name = String(v.dropFirst(6))
            if TextUtil.contains("/", in: name) || name == "." || name == ".." {
                throw ConfigError(e.file, e.line, e.key + " = '" + v + "': a sysfs LED name has no '/'")
            }
            return .sysfs(name)
        }
        if v.hasPrefix("evdev:") {
            let name = String(v.dropFirst(6))
            guard let code = EvdevLEDBackend.code(named: name) else {
                var names = ""
                for (n, _) in EvdevLEDBackend.ledCodes { names += (names.isEmpty ? "" : ", ") + n }
                throw ConfigError(e.file, e.line, e.key + " = '" + v + "': unknown keyboard LED (" + names + ")")
            }
            return .evdev(name, code)
        }
        throw ConfigError(
            e.file, e.line,
            e.key + " = '" + v
                + "': expected sysfs:NAME, evdev:LED_SCROLLL, terminal or none")
    }

    static func colors(_ e: ConfigFile.Entry) throws(ConfigError) -> [LEDColor] {
        var result: [LEDColor] = []
        for name in TextUtil.split(e.value, 0x2C) {
            guard let c = LEDColor(name: name) else {
                throw ConfigError(e.file, e.line, e.key + ": unknown colour '" + name + "' (red, green, amber)")
            }
            if result.contains(c) { throw ConfigError(e.file, e.line, e.key + ": colour '" + name + "' twice") }
            result.append(c)
        }
        return result
    }

    // MARK: what the configuration builds

    /// The board's LED names in profile order.
    public var ledIDs: [LEDID] { leds.map { $0.id } }

    /// The text grid.
    public var layout: LCDLayout { LCDLayout(columns: columns, lines: lines) }

    /// The framebuffer colours.
    public var palette: LCDPalette { color ? .color : .mono }

    /// The configured pixel format (nil when the device is to be asked).
    public var pixelFormat: PixelFormat? {
        guard width > 0, height > 0, bitsPerPixel > 0 else { return nil }
        return PixelFormat(
            width: width, height: height, bitsPerPixel: bitsPerPixel, stride: stride, msbFirst: msbFirst)
    }

    /// Takes the terminal off the targets (LEDs drawn in the terminal and a terminal LCD
    /// become `none`): for a phone whose stdout is a log, not a screen.
    public mutating func dropTerminal() {
        for i in leds.indices where leds[i].target == .terminal { leds[i].target = .none }
        if lcdTarget == .terminal { lcdTarget = .none }
    }

    /// A model with the board's LEDs.
    public func makeModel() -> IndicatorModel { IndicatorModel(leds: ledIDs) }

    /// The configured backends: sysfs LEDs, evdev LEDs, the terminal (LCD and/or LEDs), the
    /// framebuffer and, with `statusLogPath`, the JSON-lines status log. Devices that fail are
    /// reported through `faults` and skipped; building never fails.
    public func makeBackends(
        reactor: Reactor, faults: IndicatorFaults, terminalFD: Int32 = 1, ansi: Bool = true,
        statusLogPath: String? = nil
    ) -> [IndicatorBackend] {
        var backends: [IndicatorBackend] = []
        var sysfs: [SysfsLEDBackend.Binding] = []
        var evdev: [EvdevLEDBackend.Binding] = []
        var terminalLEDs: [LEDID] = []
        for led in leds {
            switch led.target {
            case .sysfs(let name): sysfs.append(SysfsLEDBackend.Binding(id: led.id, name: name, colors: led.colors))
            case .evdev(_, let code): evdev.append(EvdevLEDBackend.Binding(id: led.id, code: code))
            case .terminal: terminalLEDs.append(led.id)
            case .none: break
            }
        }
        if !sysfs.isEmpty {
            backends.append(
                SysfsLEDBackend(directory: sysfsDirectory, bindings: sysfs, reactor: reactor, faults: faults))
        }
        if !evdev.isEmpty, let device = evdevDevice {
            backends.append(EvdevLEDBackend(path: device, bindings: evdev, reactor: reactor, faults: faults))
        }
        let terminalLCD = lcdTarget == .terminal
        if terminalLCD || !terminalLEDs.isEmpty {
            backends.append(
                TerminalBackend(
                    fd: terminalFD, reactor: reactor, layout: terminalLCD ? layout : nil, leds: terminalLEDs,
                    ansi: ansi,
                    faults: faults))
        }
        if case .framebuffer(let path) = lcdTarget {
            backends.append(
                FramebufferBackend(
                    path: path, format: pixelFormat, layout: layout, palette: palette, reactor: reactor,
                    faults: faults)
            )
        }
        if let statusLogPath {
            backends.append(StatusLogBackend(path: statusLogPath, clock: { reactor.now }, faults: faults))
        }
        return backends
    }
}
