import ArgumentParser
import Config
import Foundation
import Keys
import Reactor

/// `deskphone-tool keys`: prints one line per phone key event (`press record`,
/// `release record`, `long digit5`) from a board's key source or the one given.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Print phone key events from a key source.",
        discussion: """
            The keymap, long-press and repeat timings come from --board (the standard maps without one).
            Sources: evdev:PATH, evdev-name:TEXT, evdev-caps:keyboard|keypad|keymap, fifo:PATH,
            file:PATH (raw struct input_event records, replayed with their recorded timing; exits at the
            end) or stdin (the terminal). Ctrl-C stops.
            """
    )

    @Option(name: .long, help: "Board profile (board/NAME.cfg).")
    var board: String?

    @Option(name: .long, help: "Key source (overrides keys.source of the board).")
    var source: String?

    @Option(name: .long, help: "Record layout of fifo:/file: streams: 24 (64-bit) or 16 (32-bit ARM).")
    var layout: Int?

    @Flag(name: .long, help: "Replay file: sources as fast as possible (no long presses or repeats).")
    var fast = false

    @Flag(name: .long, help: "Prefix each line with the time in seconds since start.")
    var time = false

    func run() throws {
        var config = KeysConfiguration()
        if let board {
            do {
                config = try KeysConfiguration(board: try ConfigFile.load(path: board))
            } catch {
                throw ToolError(error.description)
            }
        }
        if let source {
            guard let spec = KeySourceSpec(parsing: source) else {
                throw ToolError("--source '\(source)': expected " + KeySourceSpec.forms)
            }
            config.source = spec
        }
        if let layout {
            guard let l = InputEventLayout(rawValue: layout) else { throw ToolError("--layout must be 16 or 24") }
            config.streamLayout = l
        }
        config.pacedReplay = !fast

        let loop = try Reactor()
        let start = loop.now
        try loop.handleStandardSignals(reload: {})
        let keys: KeySource
        do {
            keys = try config.open(on: loop, onEnd: { loop.stop() }) { event in
                // Unbuffered, one write per event: a pipe reader sees each line at once.
                let prefix = time ? String(format: "%.3f ", Double(event.time - start) / 1e9) : ""
                FileHandle.standardOutput.write((prefix + event.description + "\n").data(using: .utf8)!)
            }
        } catch {
            loop.close()
            throw ToolError(error.description)
        }
        try loop.run()
        keys.close()
        loop.close()
    }
}
