import Foundation

/// tftpd-hpa's `in.tftpd` (Debian tftpd-hpa) as the real TFTP server of a test: started in the
/// foreground on 127.0.0.1:`port`, serving `directory` (chrooted there, so it runs as root, as the
/// tests do). `stop` may be called more than once.
public final class TFTPServerProcess {
    public let process = Process()
    public let port: UInt16
    public let directory: URL

    /// Whether tftpd-hpa is installed (scripts/install-deps.sh installs it).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/in.tftpd") }

    /// Serves `files` (name, contents) from a new directory.
    public init(port: UInt16, files: [(String, [UInt8])]) throws {
        self.port = port
        directory = try makeTemporaryDirectory("tftp")
        chmod(directory.path, 0o755)
        for (name, bytes) in files {
            let path = directory.appendingPathComponent(name).path
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o644])
        }
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/in.tftpd")
        process.arguments = [
            "--foreground", "--listen", "--address", "127.0.0.1:" + String(port), "--user", NSUserName(), "--secure",
            directory.path,
        ]
        try launchUDPServer(process, port: port, name: "in.tftpd", orElse: stop)
    }

    public func stop() {
        killAndWait(process)
        try? FileManager.default.removeItem(at: directory)
    }
}
