import Foundation
import Reactor
@_exported import TestSupport

/// The DNS stub of the recording tests' HTTP server (Tests/RecordingTests/Fixtures/http/
/// record_server.py --dns) on 127.0.0.1: it answers pbx.test (A), cname.test, v6only.test
/// (AAAA), missing.test (NXDOMAIN), nothing.test (no data), servfail.test and never
/// silent.test.
final class DNSTestServer {
    let process = Process()
    /// The server's stdin: closing it ends the server.
    let input = Pipe()
    let dnsPort: UInt16
    let logURL: URL

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../RecordingTests/Fixtures/http/record_server.py").standardized

    init() throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent(
            "net-dns-" + String(ProcessInfo.processInfo.processIdentifier) + "-" + UUID().uuidString + ".log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: Data())
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", DNSTestServer.script.path, "--log", logURL.path, "--dns"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is "PORT <n> DNS <m>".
        var line = Data()
        while !line.contains(10) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let words = text.split(separator: " ")
        guard words.count >= 4, words[2] == "DNS", let port = UInt16(words[3]) else {
            try? input.fileHandleForWriting.close()
            process.terminate()
            throw TestServerError(message: "server did not report its DNS port: '" + text + "'")
        }
        dnsPort = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: logURL)
    }
}


