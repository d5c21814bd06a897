import ArgumentParser

/// `deskphone-tool sip ...` (placeholder until the SIP parser lands; replaced by its owner).
struct SIPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sip", abstract: "SIP tools.")
    func run() throws { throw ExitCode(2) }
}
