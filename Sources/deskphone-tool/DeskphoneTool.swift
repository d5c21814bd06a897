// deskphone-tool: the host tool (not firmware): codec encode/decode and benchmarks;
// jitter-buffer simulation, keys, LCD, SIP/SDP tools and provisioning checks (`cfg check`).
import ArgumentParser

@main
struct DeskphoneTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deskphone-tool",
        abstract: "Host tool for the deskphone firmware core.",
        subcommands: [CodecCommand.self, ConfigCommand.self, JBSimCommand.self, KeysCommand.self, LCDCommand.self, ProvisionCommand.self, SIPCommand.self, SDPCommand.self, Bench.self]
    )
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print numbers (never pass/fail).",
        subcommands: [ReactorBench.self, CodecsBench.self, KeysBench.self, SIPBench.self, SRTPBench.self, TLSBench.self]
    )
}
