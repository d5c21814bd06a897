import Foundation

/// Tests/RecordingTests/Fixtures/http/record_server.py (the HTTP server of the record-URL and
/// HTTP client tests, with a DNS stub for the resolver tests) on 127.0.0.1 (port 0: the kernel picks one), logging
/// every raw request head to a scratch file.
public final class RecordHTTPServer {
    public let process = Process()
    /// The server's stdin: closing it ends the server.
    public let input = Pipe()
    public let port: UInt16
    /// The UDP port of the DNS stub (0 unless started with `dns: true`).
    public let dnsPort: UInt16
    public let logURL: URL

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../RecordingTests/Fixtures/http/record_server.py").standardized

    public init(host: String = "127.0.0.1", dns: Bool = false) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent(
            "record-http-" + String(ProcessInfo.processInfo.processIdentifier) + "-" + UUID().uuidString + ".log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: Data())
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", RecordHTTPServer.script.path, "--host", host, "--log", logURL.path] + (dns ? ["--dns"] : [])
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is "PORT <n>".
        var line = Data()
        while !line.contains(10) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // "PORT <n>" or "PORT <n> DNS <m>".
        let words = text.split(separator: " ")
        guard words.count >= 2, words[0] == "PORT", let port = UInt16(words[1]) else {
            try? input.fileHandleForWriting.close()
            process.terminate()
            throw TestServerError(message: "server did not report its port: '" + text + "'")
        }
        self.port = port
        dnsPort = words.count >= 4 ? UInt16(words[3]) ?? 0 : 0
    }

    /// "http://127.0.0.1:<port>" + path.
    public func url(_ path: String) -> String { "http://127.0.0.1:" + String(port) + path }

    /// The raw request heads received so far, in order.
    public var requests: [String] {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            Data(base64Encoded: String(line)).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    public func stop() {
        try? input.fileHandleForWriting.close()
        // Another server started at the same moment may have inherited our pipe's write end:
        // then SIGTERM (which the script unblocks) ends it.
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: logURL)
    }
}
