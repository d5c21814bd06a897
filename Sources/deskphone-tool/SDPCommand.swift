import ArgumentParser

/// `deskphone-tool sdp ...` (placeholder until the SDP parser lands; replaced by its owner).
struct SDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sdp", abstract: "SDP tools.")
    func run() throws { throw ExitCode(2) }
}
