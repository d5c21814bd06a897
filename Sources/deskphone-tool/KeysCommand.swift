import ArgumentParser

/// `deskphone-tool keys`: placeholder until its issue lands.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Print phone key events from a key source (not built yet).")
    func run() throws { throw ToolError("keys is not built yet") }
}
