import Foundation
import Glibc
import TestSupport
import Testing

@testable import TLS

/// `openssl s_server` on 127.0.0.1:`port` with the given extra arguments, killed by `stop`.
final class OpenSSLServer {
    let process = Process()

    init(port: UInt16, pki: TestPKI, certificate: TestPKI.Certificate, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments =
            [
                "s_server", "-accept", "127.0.0.1:" + String(port), "-cert", certificate.certificate,
                "-key", certificate.key, "-cert_chain", pki.intermediateCertificate, "-www", "-naccept", "8",
                "-quiet",
            ] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// SIGKILL: the test process blocks SIGTERM and the child inherits the mask.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A blocking loopback TCP connection that drives a TLSConnection (test side only).
final class LoopbackTLS {
    let fd: Int32
    let tls: TLSConnection

    /// Connects (retrying while the server starts, up to 5 s) and wraps the socket.
    init(port: UInt16, tls: TLSConnection) throws {
        self.tls = tls
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        for _ in 0..<100 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if status == 0 {
                fd = s
                return
            }
            Glibc.close(s)
            usleep(50_000)
        }
        throw TestServerError(message: "no server on port \(port)")
    }

    /// Sends what the engine has, waits up to `seconds` for bytes and feeds them in, until
    /// `done` says so, the peer closes or time runs out; returns the last progress.
    @discardableResult
    func pump(seconds: Double = 5, until done: (TLSConnection) -> Bool) -> TLSProgress {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 16384)
        var progress = tls.advance()
        while Date() < deadline {
            flush()
            if done(tls) { break }
            if case .failed = progress { break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            buffer.withUnsafeBytes { tls.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            progress = tls.advance()
        }
        flush()
        return tls.progress
    }

    func flush() {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while tls.pendingCiphertext > 0 {
            let n = buffer.withUnsafeMutableBytes { tls.takeCiphertext(into: $0) }
            _ = buffer.withUnsafeBytes { send(fd, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
        }
    }

    deinit { Glibc.close(fd) }
}

/// Runs `body` with a fresh PKI, `openssl s_server` for pbx.test on `port` (with `arguments`) and a
/// client configuration trusting the PKI's root; stops the server and removes the PKI after.
func withOpenSSLServer(port: UInt16, arguments: [String] = [], _ body: (TLSConfiguration) throws -> Void) throws {
    let pki = try TestPKI()
    defer { pki.cleanUp() }
    let leaf = try pki.issue("server", commonName: "pbx.test", dns: ["pbx.test"])
    let server = try OpenSSLServer(port: port, pki: pki, certificate: leaf, arguments: arguments)
    defer { server.stop() }
    try body(TLSConfiguration(trustFile: pki.rootCertificate))
}

@Suite("TLS engine against openssl s_server over loopback TCP", .serialized)
struct TLSInteropTests {
    @Test("handshake, an HTTP request and its answer, then resumption on a second connection")
    func requestAndResume() throws {
        try withOpenSSLServer(port: 38901) { configuration in
            for round in 0..<2 {
                let link = try LoopbackTLS(
                    port: 38901, tls: TLSConnection(configuration: configuration, serverName: "pbx.test"))
                #expect(link.pump { $0.progress == .established } == .established)
                #expect(link.tls.isResumed == (round == 1))
                _ = Array("GET / HTTP/1.0\r\n\r\n".utf8).withUnsafeBytes { link.tls.writePlaintext($0) }
                var answer: [UInt8] = []
                link.pump { tls in
                    var chunk = [UInt8](repeating: 0, count: 4096)
                    let n = chunk.withUnsafeMutableBytes { tls.readPlaintext(into: $0) }
                    answer += chunk[0..<n]
                    return tls.progress == .closed
                }
                let text = String(decoding: answer, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.0 200 ok"))
                #expect(text.contains("TLSv1.2"))
            }
        }
    }

    @Test("a server with only suites the phone refuses (CBC): no shared cipher")
    func noSharedCipher() throws {
        try withOpenSSLServer(port: 38902, arguments: ["-cipher", "ECDHE-ECDSA-AES128-SHA", "-no_tls1_3"]) {
            configuration in
            let link = try LoopbackTLS(
                port: 38902, tls: TLSConnection(configuration: configuration, serverName: "pbx.test"))
            let progress = link.pump { _ in false }
            #expect(progress == .failed(.noSharedCipher))
            #expect(TLSError.noSharedCipher.reason == "no shared cipher")
        }
    }

    @Test("a server demanding a client certificate (openssl -Verify): refused with that reason")
    func clientCertificateDemanded() throws {
        try withOpenSSLServer(port: 38903, arguments: ["-Verify", "2"]) { configuration in
            let link = try LoopbackTLS(
                port: 38903, tls: TLSConnection(configuration: configuration, serverName: "pbx.test"))
            #expect(link.pump { _ in false } == .failed(.clientCertificateRequested))
        }
    }
}
