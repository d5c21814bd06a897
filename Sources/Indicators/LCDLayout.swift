/// How one character cell of a laid-out LCD is drawn.
public enum LCDCellStyle: UInt8, Equatable, Sendable {
    case normal
    /// The status bar's background.
    case statusBar
    /// A status-bar icon (inverse on a mono display).
    case icon
    /// An alert icon: recording and its failures (red on a colour display, inverse on mono).
    case alert
    case title
    /// A softkey label (inverse on a mono display).
    case softkey
}

/// What a laid-out row shows.
public enum LCDRowKind: Equatable, Sendable {
    case status, title, text, softkeys
}

/// One row of character cells: ASCII bytes and a style per cell, exactly `columns` wide.
public struct LCDRow: Equatable, Sendable {
    public var kind: LCDRowKind
    public var characters: [UInt8]
    public var styles: [LCDCellStyle]

    init(kind: LCDRowKind, columns: Int, style: LCDCellStyle) {
        self.kind = kind
        characters = [UInt8](repeating: 0x20, count: columns)
        styles = [LCDCellStyle](repeating: style, count: columns)
    }

    /// The row as text.
    public var text: String { String(decoding: characters, as: UTF8.self) }

    mutating func put(_ cells: [UInt8], at column: Int, style: LCDCellStyle? = nil) {
        var c = column
        for b in cells where c >= 0 && c < characters.count {
            characters[c] = b
            if let style { styles[c] = style }
            c += 1
        }
    }
}

/// The LCD laid out on a grid of character cells, the common ground of the terminal and
/// framebuffer renderers.
public struct LCDFrame: Equatable, Sendable {
    public var columns: Int
    public var rows: [LCDRow]

    /// The rows as text, one line each.
    public var text: String {
        var s = ""
        for r in rows { s += r.text + "\n" }
        return s
    }
}

/// Lays the LCD contents out on a `columns` x `lines` character grid.
///
/// With 4 or more lines: status bar (account left; icons and time right), title (call timer
/// right), text lines, softkeys (four equal slots). 3 lines: status, title, softkeys.
/// 2 lines: the status bar with the title in place of the account, then the first text line
/// with the timer. 1 line: the title with the timer. When the title is empty the first text
/// line takes its place (on 2 lines the account stays). Text is ASCII; other characters show as `?`.
public struct LCDLayout: Equatable, Sendable {
    public let columns: Int
    public let lines: Int

    public init(columns: Int, lines: Int) {
        self.columns = max(1, columns)
        self.lines = max(1, lines)
    }

    public func frame(_ lcd: LCDState) -> LCDFrame {
        var kinds: [LCDRowKind] = []
        switch lines {
        case 1: kinds = [.title]
        case 2:
            // Two lines: the title (or the account) in the status bar, the first text line
            // with the timer under it.
            var left = lcd.title.isEmpty ? lcd.account : lcd.title
            if left.isEmpty, !lcd.lines.isEmpty { left = lcd.lines[0] }
            let second = lcd.title.isEmpty ? (lcd.lines.count > 1 ? lcd.lines[1] : "") : (lcd.lines.first ?? "")
            return LCDFrame(
                columns: columns,
                rows: [
                    statusRow(lcd, left: left), titleRow(second, timer: lcd.callTimerText),
                ])
        case 3: kinds = [.status, .title, .softkeys]
        default:
            kinds = [.status, .title]
            for _ in 0..<(lines - 3) { kinds.append(.text) }
            kinds.append(.softkeys)
        }
        var title = lcd.title
        var textLines = lcd.lines
        if title.isEmpty && !textLines.isEmpty { title = textLines.removeFirst() }
        var rows: [LCDRow] = []
        var nextText = 0
        for kind in kinds {
            switch kind {
            case .status: rows.append(statusRow(lcd, left: lcd.account))
            case .title: rows.append(titleRow(title, timer: lcd.callTimerText))
            case .text:
                var row = LCDRow(kind: .text, columns: columns, style: .normal)
                if nextText < textLines.count { row.put(LCDLayout.ascii(textLines[nextText], max: columns), at: 0) }
                nextText += 1
                rows.append(row)
            case .softkeys: rows.append(softkeyRow(lcd.softkeys))
            }
        }
        return LCDFrame(columns: columns, rows: rows)
    }

    func statusRow(_ lcd: LCDState, left: String) -> LCDRow {
        var row = LCDRow(kind: .status, columns: columns, style: .statusBar)
        var time = LCDLayout.ascii(lcd.time, max: columns)
        // Icons right to left before the time, as many as fit.
        var iconCells: [([UInt8], LCDCellStyle)] = []
        var used = time.count
        for icon in lcd.icons {
            let label = LCDLayout.ascii(icon.label, max: columns)
            let need = label.count + (used > 0 ? 1 : 0)
            if used + need > columns { break }
            iconCells.append((label, icon.isAlert ? .alert : .icon))
            used += need
        }
        if iconCells.isEmpty && !lcd.icons.isEmpty && !time.isEmpty {
            // Not even one icon next to the time: an icon matters more than the clock.
            time = []
            used = 0
            let label = LCDLayout.ascii(lcd.icons[0].label, max: columns)
            iconCells.append((label, lcd.icons[0].isAlert ? .alert : .icon))
            used = label.count
        }
        var column = columns - time.count
        row.put(time, at: column)
        for (label, style) in iconCells.reversed() {
            column -= label.count + (column < columns ? 1 : 0)
            row.put(label, at: column, style: style)
        }
        let accountSpace = column - 1
        if accountSpace > 0 { row.put(LCDLayout.ascii(left, max: accountSpace), at: 0) }
        return row
    }

    func titleRow(_ title: String, timer: String?) -> LCDRow {
        var row = LCDRow(kind: .title, columns: columns, style: .title)
        var space = columns
        if let timer {
            let t = LCDLayout.ascii(timer, max: columns)
            row.put(t, at: columns - t.count)
            space = columns - t.count - 1
        }
        if space > 0 { row.put(LCDLayout.ascii(title, max: space), at: 0) }
        return row
    }

    func softkeyRow(_ labels: [String]) -> LCDRow {
        var row = LCDRow(kind: .softkeys, columns: columns, style: .normal)
        let n = LCDState.softkeyCount
        for i in 0..<n where i < labels.count && !labels[i].isEmpty {
            let start = i * columns / n
            let end = (i + 1) * columns / n - (i == n - 1 ? 0 : 1)
            let width = end - start
            if width <= 0 { continue }
            let label = LCDLayout.ascii(labels[i], max: width)
            for c in start..<end { row.styles[c] = .softkey }
            row.put(label, at: start + (width - label.count) / 2)
        }
        return row
    }

    /// `text` as printable ASCII bytes (one per Unicode scalar, `?` for others), at most `max`.
    static func ascii(_ text: String, max: Int) -> [UInt8] {
        var out: [UInt8] = []
        for s in text.unicodeScalars {
            if out.count >= max { break }
            let v = s.value
            out.append(v >= 32 && v <= 126 ? UInt8(v) : 0x3F)
        }
        return out
    }
}
