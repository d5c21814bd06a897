import Config
import Foundation
import Glibc
import Net
import Reactor
import SIP
import TLS
import Testing
import TestSupport

@testable import Phone

/// A TLS server on 127.0.0.1 driven by the test's reactor: accepts connections, runs a server
/// `TLSConnection` on each, collects the plaintext it receives and can send plaintext back.
final class ReactorTLSServer {
    let reactor: Reactor
    let configuration: TLSConfiguration
    let listenFD: Int32
    let port: UInt16
    private(set) var accepted = 0
    /// Plaintext received on the newest connection.
    private(set) var received: [UInt8] = []
    private(set) var failures: [String] = []
    private var fd: Int32 = -1
    private var tls: TLSConnection? = nil
    private var watches: [WatchID] = []

    init(reactor: Reactor, certificate: TestPKI.Certificate) throws {
        self.reactor = reactor
        configuration = try TLSConfiguration(serverCertificateFile: certificate.chain, serverKeyFile: certificate.key)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 4)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        listenFD = listener
        port = UInt16(bigEndian: bound.sin_port)
        watches.append(try reactor.watch(listenFD, for: .readable) { [self] _ in self.accept() })
    }

    var address: SIPSocketAddress { SIPSocketAddress(ipv4: 127, 0, 0, 1, port: port) }
    var text: String { String(decoding: received, as: UTF8.self) }

    private func accept() {
        let client = Glibc.accept(listenFD, nil, nil)
        guard client >= 0 else { return }
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        accepted += 1
        fd = client
        received = []
        tls = try? TLSConnection(serverConfiguration: configuration)
        if let watch = try? reactor.watch(client, for: .readable, { [self] _ in self.readable(client) }) {
            watches.append(watch)
        }
    }

    private func readable(_ client: Int32) {
        guard client == fd, let tls else { return }
        var buffer = [UInt8](repeating: 0, count: 16384)
        let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        if n <= 0 {
            if n == 0 { closeClient() }
            return
        }
        buffer.withUnsafeBytes { tls.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        if case .failed(let error) = tls.advance() { failures.append(error.reason) }
        var plain = [UInt8](repeating: 0, count: 16384)
        while true {
            let got = plain.withUnsafeMutableBytes { tls.readPlaintext(into: $0) }
            if got == 0 { break }
            received += plain[0..<got]
        }
        flush()
    }

    /// Sends plaintext to the newest connection.
    func send(_ text: String) {
        guard let tls else { return }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { tls.writePlaintext($0) }
        tls.advance()
        flush()
    }

    private func flush() {
        guard let tls, fd >= 0 else { return }
        var out = [UInt8](repeating: 0, count: 16384)
        while tls.pendingCiphertext > 0 {
            let n = out.withUnsafeMutableBytes { tls.takeCiphertext(into: $0) }
            var sent = 0
            while sent < n {
                let m = out.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                if m <= 0 { return }
                sent += m
            }
        }
    }

    func closeClient() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func close() {
        for watch in watches { reactor.cancel(watch) }
        watches = []
        closeClient()
        Glibc.close(listenFD)
    }
}

/// SIP over TLS in the transport layer, on real loopback sockets with the real engine (mbedTLS)
/// on both ends and a test PKI made by openssl.
@Suite("SIP over TLS: the transport layer with the TLS engine", .serialized)
struct SIPOverTLSTransportTests {
    static func request(_ callID: String, via: String = "SIP/2.0/TLS 127.0.0.1:5070;branch=z9hG4bKtls") -> SIPMessage {
        let text =
            "OPTIONS sip:pbx.test SIP/2.0\r\nVia: " + via + "\r\nMax-Forwards: 70\r\nTo: <sip:pbx.test>\r\n"
            + "From: <sip:1001@pbx.test>;tag=a1\r\nCall-ID: " + callID + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        return try! SIPMessage.parse(Array(text.utf8))
    }

    static func layer(trust: String) throws -> SIPTransportLayer {
        let reactor = try Reactor()
        let layer = SIPTransportLayer(
            reactor: reactor,
            configuration: SIPTransportConfiguration(address: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: 0)))
        try layer.start()
        var settings = SIPTLSSettings()
        settings.trustFile = trust
        let engine = SIPTLSEngine(settings: settings)
        layer.makeTLSSession = { remote, name in engine.start(remote, serverName: name) }
        return layer
    }

    @Test("requests wait for the handshake, then share one connection both ways; pings get pongs")
    func oneConnection() throws {
        let pki = try TestPKI()
        defer { pki.cleanUp() }
        let leaf = try pki.issue("pbx", commonName: "pbx.test", dns: ["pbx.test"], ips: ["127.0.0.1"])
        let layer = try Self.layer(trust: pki.rootCertificate)
        defer { layer.close() }
        let server = try ReactorTLSServer(reactor: layer.reactor, certificate: leaf)
        defer { server.close() }
        var messages: [(SIPMessage, SIPPeer)] = []
        var errors: [SIPTransportError] = []
        layer.onMessage = { messages.append(($0, $1)) }
        layer.onError = { _, error in errors.append(error) }
        let peer = SIPPeer(transport: .tls, remote: server.address)
        // Two requests before any handshake byte: both queued, both arrive, in order.
        layer.send(Self.request("first"), to: peer)
        layer.send(Self.request("second"), to: peer)
        #expect(layer.connectionCount == 1)
        #expect(spin(layer.reactor, limit: 5) { server.text.contains("Call-ID: second") })
        #expect(server.text.range(of: "Call-ID: first")!.lowerBound < server.text.range(of: "Call-ID: second")!.lowerBound)
        #expect(server.text.hasPrefix("OPTIONS sip:pbx.test SIP/2.0\r\nVia: SIP/2.0/TLS "))
        #expect(layer.counters.tlsHandshakes == 1)
        // The server answers and sends its own request down the same connection.
        let connection = try #require(layer.connection(to: server.address, transport: .tls))
        #expect(layer.connection(to: server.address, transport: .tcp) == nil)
        server.send(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:" + String(layer.sentByPort(for: .tls))
                + ";branch=z9hG4bKtls\r\nTo: <sip:pbx.test>;tag=s1\r\nFrom: <sip:1001@pbx.test>;tag=a1\r\n"
                + "Call-ID: first\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        server.send(Self.request("from-server", via: "SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKsrv").description)
        #expect(spin(layer.reactor, limit: 5) { messages.count == 2 })
        #expect(messages.first?.0.status == 200)
        #expect(messages.last?.0.callID == "from-server")
        #expect(messages.last?.1 == SIPPeer(transport: .tls, remote: server.address, connection: connection))
        // A CRLFCRLF ping from the server: a CRLF pong on the same connection (RFC 5626 §4.4.1).
        let before = server.received.count
        server.send("\r\n\r\n")
        #expect(spin(layer.reactor, limit: 5) { server.received.count >= before + 2 })
        #expect(Array(server.received[before...]) == [13, 10])
        // Our keep-alive ping on the connection to the server, and its pong.
        layer.sendKeepAlivePing(to: server.address, transport: .tls)
        #expect(spin(layer.reactor, limit: 5) { server.text.hasSuffix("\r\n\r\n") })
        server.send("\r\n")
        #expect(spin(layer.reactor, limit: 5) { layer.counters.pongsReceived == 1 })
        #expect(server.accepted == 1 && layer.connectionCount == 1)
        #expect(errors.isEmpty)
    }

    @Test("a certificate for another name, or from an unknown CA: refused with the reason, never sent in clear")
    func refused() throws {
        let pki = try TestPKI()
        defer { pki.cleanUp() }
        let wrong = try pki.issue("wrong", commonName: "wrong.test", dns: ["wrong.test"])
        let rogue = try pki.selfSigned("rogue", dns: "pbx.test")
        for (certificate, reason) in [(wrong, "host name mismatch (wanted 127.0.0.1)"), (rogue, "untrusted (self-signed)")] {
            let layer = try Self.layer(trust: pki.rootCertificate)
            defer { layer.close() }
            let server = try ReactorTLSServer(reactor: layer.reactor, certificate: certificate)
            defer { server.close() }
            var errors: [(SIPPeer, SIPTransportError)] = []
            layer.onError = { errors.append(($0, $1)) }
            layer.send(Self.request("secret"), to: SIPPeer(transport: .tls, remote: server.address))
            #expect(spin(layer.reactor, limit: 5) { !errors.isEmpty })
            #expect(errors.first?.1 == .tls(reason))
            #expect(errors.first?.0.transport == .tls)
            #expect(!server.text.contains("secret"))
            #expect(layer.connectionCount == 0 && layer.counters.tlsFailures == 1)
            #expect(layer.connection(to: server.address, transport: .tcp) == nil)
        }
        // No engine: TLS is unavailable, and nothing else is tried.
        let reactor = try Reactor()
        let bare = SIPTransportLayer(
            reactor: reactor, configuration: SIPTransportConfiguration(address: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: 0)))
        try bare.start()
        defer { bare.close() }
        var errors: [SIPTransportError] = []
        bare.onError = { _, error in errors.append(error) }
        bare.send(Self.request("x"), to: SIPPeer(transport: .tls, remote: SIPSocketAddress(ipv4: 127, 0, 0, 1, port: 9)))
        #expect(spin(reactor, limit: 5) { !errors.isEmpty })
        #expect(errors == [.transportUnavailable(.tls)] && bare.connectionCount == 0)
    }

    @Test("security.* keys: defaults, a trust file, the client certificate needs its key, cn_validation 0 refused")
    func settings() throws {
        func parse(_ text: String) throws -> SIPTLSSettings {
            try SIPTLSSettings(ConfigFile(text: "#!version:1.0.0.1\n" + text, path: "phone.cfg"))
        }
        let defaults = try parse("")
        #expect(defaults.trustFile == "/etc/ssl/certs/ca-certificates.crt" && defaults.verifiesPeer)
        #expect(defaults.warning == nil && defaults.clientCertificateFile == nil)
        let set = try parse(
            "security.trusted_certificates.file = /cfg/ca.pem\nsecurity.client_certificate.file = /cfg/me.pem\n"
                + "security.client_certificate.key_file = /cfg/me.key\nsecurity.cn_validation = 1\n")
        #expect(set.trustFile == "/cfg/ca.pem" && set.clientCertificateFile == "/cfg/me.pem" && set.clientKeyFile == "/cfg/me.key")
        #expect(try parse("security.trust_certificates = 0\n").warning?.contains("not checked") == true)
        #expect(throws: ConfigError.self) { try parse("security.client_certificate.file = /cfg/me.pem\n") }
        #expect(throws: ConfigError.self) { try parse("security.cn_validation = 0\n") }
        // An unreadable trust file: the session start says so (the transport reports it as a TLS error).
        var broken = SIPTLSSettings()
        broken.trustFile = "/nonexistent/ca.pem"
        let start = SIPTLSEngine(settings: broken).start(SIPSocketAddress(ipv4: 127, 0, 0, 1, port: 5061), serverName: "x")
        if case .failed(let reason) = start {
            #expect(reason.contains("/nonexistent/ca.pem"))
        } else {
            Issue.record("a session from an unreadable trust file")
        }
    }
}
