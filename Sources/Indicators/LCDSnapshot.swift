/// PNG snapshots of the LCD: the framebuffer render (packed to the board's pixel format and
/// back, so the picture is what the panel shows) enlarged by a whole factor. Mono panels are
/// drawn dark ink on a grey-green glass.
public enum LCDSnapshot {
    /// Ink and glass colours for mono snapshots.
    public static let monoInk: UInt32 = 0x1C2418
    public static let monoGlass: UInt32 = 0xB4C4A0

    /// The picture of `lcd` on the board's LCD. Boards without pixel geometry (terminal LCDs)
    /// get a panel of 6x9 pixels per character cell.
    public static func canvas(_ lcd: LCDState, configuration c: IndicatorsConfiguration, scale: Int) -> Canvas {
        let format =
            c.pixelFormat
            ?? PixelFormat(width: c.columns * 6, height: c.lines * 9, bitsPerPixel: c.color ? 32 : 1)
        let raster = LCDRaster(width: format.width, height: format.height, layout: c.layout, palette: c.palette)
        let frame = format.pack(raster.render(lcd))
        return format.unpack(frame, ink: monoInk, clear: monoGlass).scaled(scale)
    }

    /// The PNG file of `lcd` on the board's LCD.
    public static func png(_ lcd: LCDState, configuration: IndicatorsConfiguration, scale: Int) -> [UInt8] {
        PNGEncoder.encode(canvas(lcd, configuration: configuration, scale: scale))
    }

    /// Writes the PNG to `path`. Returns nil or the error.
    public static func write(
        _ lcd: LCDState, configuration: IndicatorsConfiguration, scale: Int, to path: String
    ) -> IndicatorError? {
        let bytes = png(lcd, configuration: configuration, scale: scale)
        return FileIO.writeBytes(path, bytes)
    }
}

/// The sample screens of the LCD demo (`deskphone-tool lcd --demo`) and of the tests: idle,
/// dialing, and talking with the recording icon.
public enum SampleScreen: CaseIterable, Sendable, CustomStringConvertible {
    case idle, dialing, talking

    public var description: String {
        switch self {
        case .idle: return "idle"
        case .dialing: return "dialing"
        case .talking: return "talking"
        }
    }

    /// Puts this screen on `model` (one update).
    public func show(on model: IndicatorModel) {
        model.batch {
            model.clearScreen()
            model.setRecording(.idle)
            model.setAccount("1009@pbx.example")
            model.setTime("09:41")
            model.setIcon(.dnd, false)
            for id in model.ledIDs where id.name.hasPrefix("line") { model.setLED(id, .off) }
            switch self {
            case .idle:
                model.setTitle("Deskphone")
                model.setLines(["Mon 14 Jul", "Line 1: 1009 ready"])
                model.setSoftkeys(["Hist", "Dir", "DND", "Menu"])
                model.setIcon(.voicemail, true)
                model.setLED(.message, LEDState(.slowFlash, .red))
            case .dialing:
                model.setTitle("Dialing")
                model.setLines(["1002_", "Alice Smith"])
                model.setSoftkeys(["Send", "123", "Del", "Exit"])
                model.setLineKey(1, .talking)
            case .talking:
                model.setTitle("Talking")
                model.setLines(["Alice Smith", "1002 - G.722"])
                model.setCallTimer(seconds: 83)
                model.setSoftkeys(["Hold", "Xfer", "Rec", "End"])
                model.setRecording(.recording)
                model.setLineKey(1, .talking)
            }
        }
    }
}
