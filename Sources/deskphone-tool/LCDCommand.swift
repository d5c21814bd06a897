import ArgumentParser

/// `deskphone-tool lcd`: placeholder until its issue lands.
struct LCDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lcd", abstract: "Render the LCD (not built yet).")
    func run() throws { throw ToolError("lcd is not built yet") }
}
