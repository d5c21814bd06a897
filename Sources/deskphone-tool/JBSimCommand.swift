import ArgumentParser

/// `deskphone-tool jbsim`: placeholder until its issue lands.
struct JBSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jbsim", abstract: "Play a packet-delay trace through the jitter buffer (not built yet).")
    func run() throws { throw ToolError("jbsim is not built yet") }
}
