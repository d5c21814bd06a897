import ArgumentParser
import CLinux
import CMallocCounter
import Foundation
import TLS

/// `deskphone-tool bench tls`: the phone's TLS handshake (the `TLSConnection` engine on mbedTLS,
/// client against the engine's own server mode, in memory: no sockets, so only the engine's work
/// is measured) with an ECDSA P-256 and an RSA 2048 server certificate made by `openssl` for the
/// run: a full handshake (a fresh client configuration each time, as after a reboot) and a
/// resumed one (the session kept per server name, as a reconnect does). Per handshake: CPU time
/// (best and median of the runs), heap allocations of both sides, and bytes each way.
struct TLSBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "TLS handshake cost (full and resumed; ECDSA P-256 and RSA 2048), in memory."
    )

    @Option(help: "Handshakes per measured kind.")
    var handshakes = 40

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("deskphone-bench-tls-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        print("tls benchmark: \(handshakes) handshakes per row, client and server engines in one process (mbedTLS 2.28, TLS 1.2)")
        print("certificate   handshake   best ms  median ms  allocations  bytes c->s  bytes s->c")
        for (name, key) in [("ECDSA P-256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                            ("RSA 2048", ["-newkey", "rsa:2048"])] {
            let prefix = dir.appendingPathComponent(name.replacingOccurrences(of: " ", with: "-")).path
            try makeCertificates(prefix, key: key)
            let server = try TLSConfiguration(serverCertificateFile: prefix + "-leaf.pem", serverKeyFile: prefix + "-leaf.key")
            // Full: a new client configuration (no saved session) for every handshake.
            var full: [Sample] = []
            for _ in 0..<handshakes {
                let client = try TLSConfiguration(trustFile: prefix + "-ca.pem")
                full.append(try handshake(client, server))
            }
            report(name, "full", full)
            // Resumed: one client configuration; its first handshake saves the session.
            let client = try TLSConfiguration(trustFile: prefix + "-ca.pem")
            _ = try handshake(client, server)
            var resumed: [Sample] = []
            for _ in 0..<handshakes { resumed.append(try handshake(client, server)) }
            report(name, "resumed", resumed)
        }
    }

    struct Sample {
        var ns: Int64
        var allocations: UInt64
        var clientBytes: Int
        var serverBytes: Int
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
    }

    /// One handshake, the two engines passing their records until both are established.
    func handshake(_ clientConfiguration: TLSConfiguration, _ serverConfiguration: TLSConfiguration) throws -> Sample {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32768, alignment: 8)
        defer { buffer.deallocate() }
        let before = mc_thread_allocations()
        let start = cl_monotonic_ns()
        let client = try TLSConnection(configuration: clientConfiguration, serverName: "bench.test")
        let server = try TLSConnection(serverConfiguration: serverConfiguration)
        var sample = Sample(ns: 0, allocations: 0, clientBytes: 0, serverBytes: 0)
        for _ in 0..<64 {
            let c = client.advance()
            while client.pendingCiphertext > 0 {
                let n = client.takeCiphertext(into: buffer)
                sample.clientBytes += n
                server.receiveCiphertext(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            let s = server.advance()
            while server.pendingCiphertext > 0 {
                let n = server.takeCiphertext(into: buffer)
                sample.serverBytes += n
                client.receiveCiphertext(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            if case .failed(let error) = c { throw BenchError(description: "client: " + error.description) }
            if case .failed(let error) = s { throw BenchError(description: "server: " + error.description) }
            if c == .established && s == .established && client.pendingCiphertext == 0 {
                sample.ns = cl_monotonic_ns() - start
                sample.allocations = mc_thread_allocations() - before
                return sample
            }
        }
        throw BenchError(description: "the handshake did not finish")
    }

    func report(_ certificate: String, _ kind: String, _ samples: [Sample]) {
        let times = samples.map { $0.ns }.sorted()
        let last = samples[samples.count - 1]
        func ms(_ ns: Int64) -> String { String(format: "%.2f", Double(ns) / 1_000_000) }
        print(
            certificate.padding(toLength: 14, withPad: " ", startingAt: 0) + kind.padding(toLength: 12, withPad: " ", startingAt: 0)
                + ms(times[0]).padding(toLength: 9, withPad: " ", startingAt: 0)
                + ms(times[times.count / 2]).padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(last.allocations).padding(toLength: 13, withPad: " ", startingAt: 0)
                + String(last.clientBytes).padding(toLength: 12, withPad: " ", startingAt: 0) + String(last.serverBytes))
    }

    /// A CA and a leaf for bench.test signed by it, with `key` (openssl req key options).
    func makeCertificates(_ prefix: String, key: [String]) throws {
        _ = FileManager.default.createFile(atPath: prefix + "-ext.cnf", contents: Data("subjectAltName=DNS:bench.test\n".utf8))
        try openssl(["req", "-x509"] + key + ["-nodes", "-keyout", prefix + "-ca.key", "-out", prefix + "-ca.pem", "-days", "2", "-subj", "/CN=deskphone bench CA"])
        try openssl(["req"] + key + ["-nodes", "-keyout", prefix + "-leaf.key", "-out", prefix + "-leaf.csr", "-subj", "/CN=bench.test"])
        try openssl([
            "x509", "-req", "-in", prefix + "-leaf.csr", "-CA", prefix + "-ca.pem", "-CAkey", prefix + "-ca.key",
            "-CAcreateserial", "-out", prefix + "-leaf.pem", "-days", "2", "-extfile", prefix + "-ext.cnf",
        ])
    }

    func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw BenchError(description: "openssl " + arguments.prefix(2).joined(separator: " ") + " failed (is openssl installed?)")
        }
    }
}
