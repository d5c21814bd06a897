import ArgumentParser
import CLinux
import COsipReference
import Foundation

/// `deskphone-tool bench sip`: SIP message parse + serialize per second for deskphone's
/// parser (host build and Embedded x86_64 build of `deskphone-sip-bench`) and for libosip2
/// (Debian libosip2-dev, the C reference) on the same message, with the ratios.
struct SIPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip",
        abstract: "SIP parse+serialize per second: host and Embedded builds against libosip2."
    )

    @Option(help: "The message to parse (a typical INVITE with SDP).")
    var message = "bench/invite-sdp.sip"

    @Option(help: "Messages per timed round (best of 5 rounds).")
    var iterations = 200_000

    @Option(help: "The Embedded x86_64 build of deskphone-sip-bench.")
    var embedded = ".build-firmware/x86_64/deskphone-sip-bench"

    @Option(help: "The host build of deskphone-sip-bench (default: beside this tool).")
    var host: String?

    func run() throws {
        let toolDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let hostPath = host ?? toolDirectory.appendingPathComponent("deskphone-sip-bench").path
        guard let bytes = FileManager.default.contents(atPath: message).map({ [UInt8]($0) }) else {
            throw ToolError("cannot read \(message)")
        }
        print("SIP benchmark: \(message) (\(bytes.count) bytes), \(iterations) parse+serialize per round, best of 5")
        let hostNs = try runBench(hostPath, label: "host")
        let embeddedNs: Double? =
            FileManager.default.isExecutableFile(atPath: embedded) ? try runBench(embedded, label: "embedded") : nil
        if embeddedNs == nil {
            print("(no Embedded build at \(embedded): build it with toolchain/build-firmware.py x86_64 "
                + "--product=deskphone-sip-bench)")
        }
        var osipNs = Double.infinity
        var osipSize = 0
        for _ in 0..<5 {
            let ns = bytes.withUnsafeBufferPointer {
                osip_reference_parse_serialize($0.baseAddress, $0.count, Int32(iterations), &osipSize)
            }
            guard ns >= 0 else { throw ToolError("libosip2 cannot parse \(message)") }
            osipNs = min(osipNs, Double(ns) / Double(iterations))
        }
        print("")
        print(pad("parser", 36) + pad("ns/message", 12) + pad("messages/s", 13) + "vs libosip2")
        func row(_ name: String, _ ns: Double?, reference: Bool = false) {
            guard let ns else { return print(pad(name, 36) + "-") }
            print(pad(name, 36) + pad(String(format: "%.0f", ns), 12) + pad(String(format: "%.0f", 1e9 / ns), 13)
                + (reference ? "reference" : String(format: "%.2fx (osip ns / ours)", osipNs / ns)))
        }
        row("deskphone (host Swift)", hostNs)
        row("deskphone (Embedded Swift x86_64)", embeddedNs)
        row(String(cString: osip_reference_version()), osipNs, reference: true)
        print("(libosip2 serialization: \(osipSize) bytes)")
    }

    func pad(_ s: String, _ width: Int) -> String {
        s.padding(toLength: max(width, s.count + 1), withPad: " ", startingAt: 0)
    }

    /// ns per message from one run of the bench program.
    func runBench(_ path: String, label: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--message", message, "--iterations", String(iterations)]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { throw ToolError("\(label) bench \(path): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ToolError("\(label) bench \(path) exited \(process.terminationStatus): \(text)")
        }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 4, f[0] == "sip", f[1] == "parse+serialize", let n = Double(f[2]), let ns = Double(f[3]) {
                return ns / n
            }
        }
        throw ToolError("\(label) bench printed no result: \(text)")
    }
}
