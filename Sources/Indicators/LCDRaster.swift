/// An RGB image in memory (`0xRRGGBB` per pixel, rows top first): what the framebuffer and
/// PNG snapshot backends draw into before converting to the device's pixel format.
public struct Canvas: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt32]

    public init(width: Int, height: Int, fill: UInt32 = 0xFFFFFF) {
        self.width = max(0, width)
        self.height = max(0, height)
        pixels = [UInt32](repeating: fill, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> UInt32 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Fills a rectangle (clipped to the canvas).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: UInt32) {
        let x0 = max(0, x)
        let y0 = max(0, y)
        let x1 = min(width, x + w)
        let y1 = min(height, y + h)
        if x0 >= x1 || y0 >= y1 { return }
        for yy in y0..<y1 {
            let base = yy * width
            for xx in x0..<x1 { pixels[base + xx] = color }
        }
    }

    /// The canvas enlarged `scale` times (nearest neighbour), for snapshots of small LCDs.
    public func scaled(_ scale: Int) -> Canvas {
        let s = max(1, scale)
        if s == 1 { return self }
        var out = Canvas(width: width * s, height: height * s)
        for y in 0..<out.height {
            for x in 0..<out.width { out.pixels[y * out.width + x] = pixels[(y / s) * width + x / s] }
        }
        return out
    }
}

/// Colours of a rendered LCD, per cell style: a colour theme or a mono one (ink on clear).
public struct LCDPalette: Equatable, Sendable {
    public var background: UInt32
    public var text: UInt32
    public var statusBackground: UInt32
    public var statusText: UInt32
    public var iconBackground: UInt32
    public var iconText: UInt32
    public var alertBackground: UInt32
    public var alertText: UInt32
    public var titleBackground: UInt32
    public var titleText: UInt32
    public var softkeyBackground: UInt32
    public var softkeyText: UInt32
    /// Draw a rule under the status bar and over the softkeys (mono displays).
    public var rules: Bool

    /// Black ink on white; icons and softkeys inverse. The 1 bpp format packs ink as 1 bits.
    public static let mono = LCDPalette(
        background: 0xFFFFFF, text: 0x000000, statusBackground: 0xFFFFFF, statusText: 0x000000,
        iconBackground: 0x000000, iconText: 0xFFFFFF, alertBackground: 0x000000, alertText: 0xFFFFFF,
        titleBackground: 0xFFFFFF, titleText: 0x000000, softkeyBackground: 0x000000, softkeyText: 0xFFFFFF,
        rules: true)

    /// A colour theme: dark blue status bar, red recording icon, grey softkeys.
    public static let color = LCDPalette(
        background: 0xFFFFFF, text: 0x101820, statusBackground: 0x1F3A5F, statusText: 0xFFFFFF,
        iconBackground: 0x4A7AB0, iconText: 0xFFFFFF, alertBackground: 0xD0202A, alertText: 0xFFFFFF,
        titleBackground: 0xE4ECF5, titleText: 0x101820, softkeyBackground: 0xC4CCD6, softkeyText: 0x101820,
        rules: false)

    func colors(_ style: LCDCellStyle) -> (background: UInt32, text: UInt32) {
        switch style {
        case .normal: return (background, text)
        case .statusBar: return (statusBackground, statusText)
        case .icon: return (iconBackground, iconText)
        case .alert: return (alertBackground, alertText)
        case .title: return (titleBackground, titleText)
        case .softkey: return (softkeyBackground, softkeyText)
        }
    }
}

/// Draws a laid-out LCD into a canvas of `width` x `height` pixels with the built-in 5x7
/// font: each cell is 6 x 9 font pixels, magnified by the largest whole factor that fits the
/// grid, centred horizontally; rows share the height evenly.
public struct LCDRaster: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let layout: LCDLayout
    public let palette: LCDPalette

    public init(width: Int, height: Int, layout: LCDLayout, palette: LCDPalette) {
        self.width = max(1, width)
        self.height = max(1, height)
        self.layout = layout
        self.palette = palette
    }

    /// The font magnification.
    public var scale: Int {
        max(1, min(width / (layout.columns * 6), height / (layout.lines * 9)))
    }

    public func render(_ lcd: LCDState) -> Canvas { render(layout.frame(lcd)) }

    public func render(_ frame: LCDFrame) -> Canvas {
        var canvas = Canvas(width: width, height: height, fill: palette.background)
        let s = scale
        let cellWidth = 6 * s
        let rowHeight = max(9 * s, height / layout.lines)
        let x0 = max(0, (width - frame.columns * cellWidth) / 2)
        for (r, row) in frame.rows.enumerated() {
            let y = r * rowHeight
            let glyphTop = y + (rowHeight - 8 * s) / 2
            // Whole-row backgrounds for the bars, so they reach the display's edges.
            if row.kind == .status {
                canvas.fill(x: 0, y: y, width: width, height: rowHeight, palette.statusBackground)
            } else if row.kind == .title {
                canvas.fill(x: 0, y: y, width: width, height: rowHeight, palette.titleBackground)
            }
            for c in 0..<row.characters.count {
                let x = x0 + c * cellWidth
                let (bg, fg) = palette.colors(row.styles[c])
                let rowBackground = palette.colors(row.kind == .status ? .statusBar : .normal).background
                if bg != rowBackground || row.kind != .status {
                    // Cell backgrounds give their text some air above and below, within the row.
                    let top = max(y, glyphTop - s)
                    let bottom = min(y + rowHeight - (palette.rules && row.kind == .status ? s : 0), glyphTop + 10 * s)
                    canvas.fill(x: x, y: top, width: cellWidth, height: bottom - top, bg)
                }
                let ch = row.characters[c]
                let top = glyphTop + (BitmapFont.descends(ch) ? s : 0)
                drawGlyph(&canvas, ch, x: x + (s + 1) / 2, y: top, scale: s, color: fg)
            }
            if palette.rules && row.kind == .status {
                canvas.fill(x: 0, y: y + rowHeight - s, width: width, height: s, palette.text)
            }
        }
        return canvas
    }

    func drawGlyph(_ canvas: inout Canvas, _ byte: UInt8, x: Int, y: Int, scale s: Int, color: UInt32) {
        if byte == 0x20 { return }
        for gy in 0..<BitmapFont.glyphHeight {
            let bits = BitmapFont.row(byte, gy)
            if bits == 0 { continue }
            for gx in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(gx)) != 0 {
                canvas.fill(x: x + gx * s, y: y + gy * s, width: s, height: s, color)
            }
        }
    }
}
