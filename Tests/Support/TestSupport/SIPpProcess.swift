import Foundation
import Reactor

/// A SIPp process (Debian sip-tester) for one scenario file on 127.0.0.1: one call (`-m 1`),
/// every wait bounded, its error and message traces in a scratch directory of its own.
public final class SIPpProcess {
    public let process = Process()
    public let directory: URL
    public let port: UInt16

    /// `remote` (host:port) makes SIPp a client; `keys` become `-key name value`. Returns once
    /// SIPp listens on `port` (at most 3 s), so a request sent at once is not refused by ICMP.
    public init(
        scenarioFile: URL, port: UInt16, mediaPort: UInt16, remote: String? = nil, keys: [String: String] = [:],
        extra: [String] = [], timeoutSeconds: Int = 12
    ) throws {
        self.port = port
        let name = scenarioFile.deletingPathExtension().lastPathComponent
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sipp-" + name + "-" + String(ProcessInfo.processInfo.processIdentifier) + "-" + String(port))
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments: [String] = []
        if let remote { arguments.append(remote) }
        arguments += [
            "-sf", scenarioFile.path,
            "-i", "127.0.0.1", "-p", String(port), "-mp", String(mediaPort), "-m", "1",
            "-timeout", String(timeoutSeconds) + "s", "-timeout_error", "-trace_err", "-trace_msg", "-nostdin",
            "-max_recv_loops", "1000",
        ]
        for (name, value) in keys.sorted(by: { $0.key < $1.key }) { arguments += ["-key", name, value] }
        arguments += extra
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sipp")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["TERM"] = "dumb"
        process.environment = environment
        try process.run()
        SIPpProcess.waitUntilBound(udpPort: port)
    }

    /// Waits (at most 3 s) until something listens on UDP `port` (from /proc/net/udp).
    public static func waitUntilBound(udpPort port: UInt16) {
        let needle = ":" + String(format: "%04X", port) + " "
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            if let table = try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8), table.contains(needle) {
                return
            }
            usleep(20_000)
        }
    }

    public var isRunning: Bool { process.isRunning }

    /// SIPp's address as a SIP URI.
    public var uri: String { "sip:sipp@127.0.0.1:" + String(port) }

    /// Runs `reactor` until SIPp exits (or `seconds` pass, then SIPp is stopped); SIPp's exit
    /// status. The loop runs 50 ms more so SIPp's last messages are processed.
    @discardableResult
    public func wait(running reactor: Reactor, seconds: Double = 20) throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline {
            try reactor.run(for: 10_000_000)
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try reactor.run(for: 50_000_000)
        return process.terminationStatus
    }

    /// SIPp's error and message traces (empty when it logged nothing).
    public var errors: String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var text = ""
        for file in files.sorted() where file.hasSuffix("_errors.log") || file.hasSuffix("_messages.log") {
            text += (try? String(contentsOfFile: directory.appendingPathComponent(file).path, encoding: .utf8)) ?? ""
        }
        return text
    }

    /// Stops SIPp if it still runs and removes its directory.
    public func cleanUp() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
