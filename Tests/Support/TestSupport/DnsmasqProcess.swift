import Foundation

/// dnsmasq (Debian dnsmasq-base) as the real DNS server of a test: started in the foreground on
/// 127.0.0.1:`port` (UDP and TCP) with no upstream and only the records given as its options
/// (`--srv-host=...`, `--naptr-record=...`, `--host-record=...`), every query logged to a file.
/// `stop` may be called more than once.
public final class DnsmasqProcess {
    public let process = Process()
    public let port: UInt16
    /// Its log (every query); removed at `stop`.
    public let logURL: URL
    private var stopped = false

    /// Whether dnsmasq is installed (scripts/install-deps.sh installs it).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq") }

    public init(port: UInt16, records: [String], localTTL: Int = 60) throws {
        self.port = port
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dnsmasq-" + String(ProcessInfo.processInfo.processIdentifier) + "-" + UUID().uuidString + ".log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: Data())
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/dnsmasq")
        process.arguments =
            [
                "--no-daemon", "--conf-file=/dev/null", "--port=" + String(port), "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-negcache", "--pid-file=",
                "--user=" + NSUserName(), "--local-ttl=" + String(localTTL), "--log-queries",
                "--log-facility=" + logURL.path,
            ] + records
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when its UDP port shows in /proc/net/udp (at most 5 s).
        let hex = String(format: ":%04X ", Int(port))
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let table = try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8), table.contains(hex) { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        stop()
        throw TestServerError(message: "dnsmasq did not start on port " + String(port))
    }

    /// SIGKILL: the test process blocks SIGTERM, and a child inherits the blocked mask.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        if !stopped { try? FileManager.default.removeItem(at: logURL) }
        stopped = true
    }
}
