import Reactor

/// The simulated board in a terminal: the LCD drawn as a box of text, the softkeys under it
/// and a row of LEDs (`[G] line1`), redrawn on every change (changes in one loop iteration
/// give one redraw). With `ansi` the screen is cleared first and styles and LED colours use
/// SGR escapes; without, the same picture is plain text (golden tests, logs). Flashing LEDs
/// blink on reactor timers.
public final class TerminalBackend: IndicatorBackend {
    private let fd: Int32
    private let reactor: Reactor
    private let layout: LCDLayout?
    private let ledIDs: [LEDID]
    private let ansi: Bool
    private let faults: IndicatorFaults
    private var flasher: LEDFlasher? = nil
    private var lcd = LCDState()
    private var states: [LEDID: LEDState] = [:]
    private var redrawPending = false
    private var closed = false
    /// Number of pictures written (for tests).
    public private(set) var redrawCount = 0

    /// Draws to `fd` (1 = standard output). `layout` nil: no LCD (LEDs only); `leds`: the
    /// LEDs drawn, in order.
    public init(fd: Int32, reactor: Reactor, layout: LCDLayout?, leds: [LEDID], ansi: Bool, faults: IndicatorFaults) {
        self.fd = fd
        self.reactor = reactor
        self.layout = layout
        self.ledIDs = leds
        self.ansi = ansi
        self.faults = faults
        flasher = LEDFlasher(reactor: reactor) { [self] _, _ in scheduleRedraw() }
    }

    public func ledChanged(_ id: LEDID, _ state: LEDState) {
        guard ledIDs.contains(id) else { return }
        states[id] = state
        flasher?.set(id, state.mode)
        scheduleRedraw()
    }

    public func lcdChanged(_ lcd: LCDState) {
        guard layout != nil else { return }
        self.lcd = lcd
        scheduleRedraw()
    }

    public func close() {
        closed = true
        flasher?.close()
        flasher = nil
    }

    /// The picture as it would be drawn now.
    public func picture() -> String {
        var lit: [LEDID: Bool] = [:]
        for id in ledIDs { lit[id] = flasher?.isLit(id) ?? false }
        return TerminalBackend.picture(
            lcd: lcd, layout: layout, leds: ledIDs, states: states, lit: lit, ansi: ansi)
    }

    /// Draws the board: the LCD box (when `layout` is set) and the LEDs with their lit phase.
    public static func picture(
        lcd: LCDState, layout: LCDLayout?, leds: [LEDID], states: [LEDID: LEDState], lit: [LEDID: Bool],
        ansi: Bool
    ) -> String {
        var out = ansi ? "\u{1B}[H\u{1B}[2J" : ""
        var width = 0
        if let layout {
            let frame = layout.frame(lcd)
            width = frame.columns + 2
            var border = "+"
            for _ in 0..<frame.columns { border += "-" }
            border += "+"
            out += border + "\n"
            for row in frame.rows {
                out += "|"
                out += ansi ? styledRow(row) : row.text
                out += "|\n"
            }
            out += border + "\n"
        }
        var ledLine = ""
        for id in leds {
            let state = states[id] ?? .off
            let on = lit[id] ?? false
            let letter = on ? letterFor(state.color) : " "
            if !ledLine.isEmpty { ledLine += "  " }
            if ansi && on {
                ledLine += "\u{1B}[" + sgrFor(state.color) + "m[" + letter + "]\u{1B}[0m " + id.name
            } else {
                ledLine += "[" + letter + "] " + id.name
            }
        }
        if !ledLine.isEmpty || width > 0 { out += ledLine + "\n" }
        return out
    }

    static func letterFor(_ color: LEDColor?) -> String {
        switch color {
        case .red: return "R"
        case .green: return "G"
        case .amber: return "A"
        case nil: return "*"
        }
    }

    static func sgrFor(_ color: LEDColor?) -> String {
        switch color {
        case .red: return "1;37;41"
        case .green: return "1;30;42"
        case .amber: return "1;30;43"
        case nil: return "1;30;47"
        }
    }

    static func sgr(_ style: LCDCellStyle) -> String {
        switch style {
        case .normal: return "0"
        case .statusBar: return "0;1;37;44"
        case .icon: return "0;30;46"
        case .alert: return "0;1;37;41"
        case .title: return "0;1"
        case .softkey: return "0;30;47"
        }
    }

    static func styledRow(_ row: LCDRow) -> String {
        var out = ""
        var current: LCDCellStyle? = nil
        for i in 0..<row.characters.count {
            if row.styles[i] != current {
                current = row.styles[i]
                out += "\u{1B}[" + sgr(row.styles[i]) + "m"
            }
            out += String(decoding: [row.characters[i]], as: UTF8.self)
        }
        return out + "\u{1B}[0m"
    }

    private func scheduleRedraw() {
        if redrawPending || closed { return }
        redrawPending = true
        reactor.runSoon { [self] in
            redrawPending = false
            if !closed { redraw() }
        }
    }

    /// Draws the picture now.
    public func redraw() {
        redrawCount += 1
        if let error = FileIO.write(fd, Array(picture().utf8), what: "terminal: write to fd " + String(fd)) {
            faults.report("terminal:" + String(fd), error)
        } else {
            faults.recovered("terminal:" + String(fd))
        }
    }
}
