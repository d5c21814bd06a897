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
        try launchUDPServer(process, port: port, name: "dnsmasq", orElse: stop)
    }

    public func stop() {
        killAndWait(process)
        if !stopped { try? FileManager.default.removeItem(at: logURL) }
        stopped = true
    }
}
