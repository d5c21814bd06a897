import Foundation

/// lighttpd (Debian lighttpd, with lighttpd-mod-openssl) as the real HTTP/HTTPS server of a test:
/// started in the foreground with its own configuration (never the system service), serving
/// `directory/www` on 127.0.0.1:`port`; `configuration` adds modules' settings, TLS sockets and
/// auth rules. `stop` may be called more than once.
public final class LighttpdProcess {
    public let process = Process()
    public let port: UInt16
    /// Holds lighttpd.conf, error.log, access.log and the document root `www`.
    public let directory: URL

    public static let executable = "/usr/sbin/lighttpd"
    /// Whether lighttpd and its TLS module are installed (scripts/install-deps.sh installs them).
    public static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: executable)
            && FileManager.default.fileExists(atPath: "/usr/lib/lighttpd/mod_openssl.so")
    }

    /// Serves `files` (path under the document root, contents) on `port` and waits for every port
    /// of `listening` (the TLS sockets the configuration adds) too.
    public init(port: UInt16, listening: [UInt16] = [], files: [(String, String)], configuration: String) throws {
        self.port = port
        directory = try makeTemporaryDirectory("lighttpd")
        for (name, text) in files {
            let url = directory.appendingPathComponent("www/" + name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let path = directory.path
        let conf = """
            server.document-root = "\(path)/www"
            server.bind = "127.0.0.1"
            server.port = \(port)
            server.errorlog = "\(path)/error.log"
            server.modules = ("mod_openssl", "mod_redirect", "mod_auth", "mod_authn_file", "mod_accesslog")
            accesslog.filename = "\(path)/access.log"
            mimetype.assign = (".txt" => "text/plain", ".cfg" => "text/plain")

            """ + configuration
        try conf.write(to: directory.appendingPathComponent("lighttpd.conf"), atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: LighttpdProcess.executable)
        process.arguments = ["-D", "-f", path + "/lighttpd.conf"]
        do {
            try launchTCPServer(process, ports: [port] + listening, name: "lighttpd", orElse: {})
        } catch {
            let log = (try? String(contentsOfFile: path + "/error.log", encoding: .utf8)) ?? ""
            stop()
            throw TestServerError(message: String(describing: error) + ": " + log)
        }
    }

    /// The error log so far (why lighttpd refused a request).
    public var errorLog: String { (try? String(contentsOfFile: directory.path + "/error.log", encoding: .utf8)) ?? "" }

    public func stop() {
        killAndWait(process)
        try? FileManager.default.removeItem(at: directory)
    }
}
