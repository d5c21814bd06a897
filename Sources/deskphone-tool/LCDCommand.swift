import ArgumentParser
import Config
import Indicators

/// `deskphone-tool lcd`: renders the LCD of a board profile to PNG files (the sample screens
/// with `--demo`: idle, dialing, talking with the recording icon).
struct LCDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lcd",
        abstract: "Render a board's LCD to PNG.",
        discussion: """
            With --demo, renders the sample screens (idle, dialing, talking with the recording icon)
            to one PNG each: --out lcd.png writes lcd-idle.png, lcd-dialing.png and lcd-talking.png.
            The picture is the framebuffer render in the board's pixel format (lcd.width, lcd.height,
            lcd.bpp, lcd.columns, lcd.lines, lcd.color), enlarged --scale times.
            """
    )

    @Option(name: .long, help: "Board profile (board/NAME.cfg).")
    var board: String

    @Flag(name: .long, help: "Render the sample screens.")
    var demo = false

    @Option(name: .long, help: "Output PNG path; each screen's name is inserted before .png.")
    var out = "lcd.png"

    @Option(name: .long, help: "Screens to render (idle, dialing, talking; default all).")
    var screen: [String] = []

    @Option(name: .long, help: "Enlargement factor (default: 4 for small panels, 2 for larger ones).")
    var scale: Int?

    @Flag(name: .long, help: "Also print each screen as text.")
    var text = false

    func run() throws {
        guard demo else { throw ToolError("lcd: nothing to render: use --demo") }
        let file: ConfigFile
        let config: IndicatorsConfiguration
        do {
            file = try ConfigFile.load(path: board)
            config = try IndicatorsConfiguration(board: file)
        } catch {
            throw ToolError(error.description)
        }
        var screens: [SampleScreen] = []
        for name in screen {
            guard let s = SampleScreen.allCases.first(where: { $0.description == name }) else {
                throw ToolError("lcd: unknown screen '\(name)' (idle, dialing, talking)")
            }
            screens.append(s)
        }
        if screens.isEmpty { screens = SampleScreen.allCases }
        let panelWidth = config.pixelFormat?.width ?? config.columns * 6
        let factor = scale ?? (panelWidth < 200 ? 4 : 2)
        guard (1...16).contains(factor) else { throw ToolError("lcd: --scale must be 1...16") }
        let model = config.makeModel()
        for s in screens {
            s.show(on: model)
            let path = LCDCommand.outputPath(out, s.description)
            if let error = LCDSnapshot.write(model.lcd, configuration: config, scale: factor, to: path) {
                throw ToolError("lcd: " + error.description)
            }
            print("\(path): \(s) (\(config.columns)x\(config.lines) characters, scale \(factor))")
            if text { print(config.layout.frame(model.lcd).text, terminator: "") }
        }
    }

    /// `lcd.png` + `idle` -> `lcd-idle.png` (`.png` added when missing).
    static func outputPath(_ out: String, _ name: String) -> String {
        let base = out.hasSuffix(".png") ? String(out.dropLast(4)) : out
        return base + "-" + name + ".png"
    }
}
