import TestSupport
import Testing

@testable import TLS

/// Moves every pending ciphertext byte from `a` to `b`, `chunk` bytes per `receiveCiphertext`
/// (each followed by `advance()`); whether anything moved.
@discardableResult
func transfer(from a: TLSConnection, to b: TLSConnection, chunk: Int = 1 << 16) -> Bool {
    var buffer = [UInt8](repeating: 0, count: chunk)
    var moved = false
    while a.pendingCiphertext > 0 {
        let n = buffer.withUnsafeMutableBytes { a.takeCiphertext(into: $0) }
        buffer.withUnsafeBytes { b.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        b.advance()
        moved = true
    }
    return moved
}

/// Runs the two engines against each other in memory until neither has anything to send.
@discardableResult
func run(_ client: TLSConnection, _ server: TLSConnection, chunk: Int = 1 << 16) -> (TLSProgress, TLSProgress) {
    client.advance()
    server.advance()
    var rounds = 0
    while rounds < 10_000 {
        let a = transfer(from: client, to: server, chunk: chunk)
        let b = transfer(from: server, to: client, chunk: chunk)
        if !a && !b { break }
        rounds += 1
    }
    return (client.progress, server.progress)
}

func write(_ connection: TLSConnection, _ text: String) -> Int {
    Array(text.utf8).withUnsafeBytes { connection.writePlaintext($0) }
}

func readAll(_ connection: TLSConnection) -> String {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 7)  // odd size: reads span several calls
    while true {
        let n = buffer.withUnsafeMutableBytes { connection.readPlaintext(into: $0) }
        if n == 0 { break }
        out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

/// A test PKI, a server configuration for `pbx.test` (chain: leaf + intermediate) and a client
/// configuration trusting the root.
final class Fixture {
    let pki: TestPKI
    let server: TLSConfiguration
    let client: TLSConfiguration

    init(
        server serverCertificate: ((TestPKI) throws -> TestPKI.Certificate)? = nil, sendChain: Bool = true,
        clientTrust: Bool = false
    ) throws {
        pki = try TestPKI()
        let leaf = try serverCertificate?(pki) ?? pki.issue("server", commonName: "pbx.test", dns: ["pbx.test"])
        server = try TLSConfiguration(
            serverCertificateFile: sendChain ? leaf.chain : leaf.certificate, serverKeyFile: leaf.key,
            clientTrustFile: clientTrust ? pki.rootCertificate : nil)
        client = try TLSConfiguration(trustFile: pki.rootCertificate)
    }

    func connect(_ name: String = "pbx.test", client configuration: TLSConfiguration? = nil) throws -> (
        TLSConnection, TLSConnection
    ) {
        let c = try TLSConnection(configuration: configuration ?? client, serverName: name)
        let s = try TLSConnection(serverConfiguration: server)
        return (c, s)
    }

    deinit { pki.cleanUp() }
}

/// The client's failure reason after a full in-memory run.
func refusal(_ fixture: Fixture, _ name: String = "pbx.test") throws -> TLSError? {
    let (c, s) = try fixture.connect(name)
    let (progress, _) = run(c, s)
    if case .failed(let error) = progress { return error }
    return nil
}

@Suite("TLS engine on mbedTLS: in-memory client and server, certificates from a test PKI")
struct TLSConnectionTests {
    @Test("a handshake through the intermediate, then data both ways; close_notify closes the peer")
    func established() throws {
        let f = try Fixture()
        let (c, s) = try f.connect()
        #expect(write(c, "REGISTER early") == 14)  // queued until established
        let (cp, sp) = run(c, s)
        #expect(cp == .established && sp == .established)
        #expect(readAll(s) == "REGISTER early")
        #expect(write(s, "SIP/2.0 200 OK") == 14)
        transfer(from: s, to: c)
        #expect(readAll(c) == "SIP/2.0 200 OK")
        #expect(!c.isResumed)
        c.close()
        #expect(c.progress == .closed && c.pendingCiphertext > 0)
        transfer(from: c, to: s)
        #expect(s.progress == .closed)
        #expect(write(c, "late") == 0)
    }

    @Test("wrong host name: refused with the wanted name")
    func wrongHost() throws {
        let error = try refusal(Fixture(), "other.test")
        #expect(error == .hostNameMismatch(wanted: "other.test"))
        #expect(error?.reason == "host name mismatch (wanted other.test)")
    }

    @Test("expired and not-yet-valid certificates are refused with their reasons")
    func dates() throws {
        let expired = try Fixture {
            try $0.issue(
                "old", commonName: "pbx.test", dns: ["pbx.test"], notBefore: "20200101000000Z",
                notAfter: "20200201000000Z")
        }
        #expect(try refusal(expired) == .certificateExpired)
        #expect(TLSError.certificateExpired.reason == "certificate has expired")
        let future = try Fixture {
            try $0.issue(
                "future", commonName: "pbx.test", dns: ["pbx.test"], notBefore: "20400101000000Z",
                notAfter: "20400201000000Z")
        }
        #expect(try refusal(future) == .certificateNotYetValid)
    }

    @Test("a self-signed certificate is refused as such, and accepted only with verifyPeer off")
    func selfSigned() throws {
        let f = try Fixture { try $0.selfSigned("self", dns: "pbx.test") }
        #expect(try refusal(f) == .untrustedSelfSigned)
        let lax = try TLSConfiguration(trustFile: nil, verifyPeer: false)
        let (c, s) = try f.connect(client: lax)
        #expect(run(c, s) == (.established, .established))
    }

    @Test("a chain missing the intermediate is refused; the same leaf passes when the server sends it")
    func missingIntermediate() throws {
        let bare = try Fixture(sendChain: false)
        #expect(try refusal(bare) == .issuerUnknown)
        let full = try Fixture(sendChain: true)
        #expect(try refusal(full) == nil)
    }

    @Test("a server asking for a client certificate: refused without one, mutual TLS with one")
    func clientCertificate() throws {
        let f = try Fixture(clientTrust: true)
        let (c, s) = try f.connect()
        let (cp, sp) = run(c, s)
        #expect(cp == .failed(.clientCertificateRequested))
        #expect(sp == .failed(.clientCertificateMissing))
        #expect(TLSError.clientCertificateRequested.reason == "peer asked for a client certificate")
        let phone = try f.pki.issue("phone", commonName: "phone-1")
        let mutual = try TLSConfiguration(
            trustFile: f.pki.rootCertificate, clientCertificateFile: phone.chain, clientKeyFile: phone.key)
        let (c2, s2) = try f.connect(client: mutual)
        #expect(run(c2, s2) == (.established, .established))
    }

    @Test("garbage after the handshake fails the connection as a bad record, never a crash")
    func garbage() throws {
        let f = try Fixture()
        let (c, s) = try f.connect()
        #expect(run(c, s) == (.established, .established))
        var rng = SplitMix64(seed: 17)
        let junk = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
        junk.withUnsafeBytes { c.receiveCiphertext($0) }
        guard case .failed(let error) = c.advance(), case .badRecord = error else {
            Issue.record("garbage accepted: \(c.progress)")
            return
        }
        #expect(error.reason.hasPrefix("bad record: "))
        #expect(write(c, "more") == 0)
        // A well-formed header with a bad MAC is refused too.
        let (c2, s2) = try f.connect()
        #expect(run(c2, s2) == (.established, .established))
        let forged: [UInt8] = [23, 3, 3, 0, 40] + [UInt8](repeating: 0x5a, count: 40)
        forged.withUnsafeBytes { c2.receiveCiphertext($0) }
        guard case .failed(.badRecord) = c2.advance() else {
            Issue.record("forged record accepted: \(c2.progress)")
            return
        }
    }

    @Test("records fed one byte at a time: handshake and data go through")
    func byteAtATime() throws {
        let f = try Fixture()
        let (c, s) = try f.connect()
        #expect(run(c, s, chunk: 1) == (.established, .established))
        #expect(write(c, "INVITE sip:bob@pbx.test SIP/2.0") == 31)
        transfer(from: c, to: s, chunk: 1)
        #expect(readAll(s) == "INVITE sip:bob@pbx.test SIP/2.0")
    }

    @Test("the server's first flight split at every byte boundary: each handshake completes")
    func everySplitOfFirstFlight() throws {
        let f = try Fixture()
        var failures = 0
        var flightLength = 0
        var k = 1
        repeat {
            f.client.forgetSession(for: "pbx.test")  // the full flight, with the certificates
            let (c, s) = try f.connect()
            c.advance()
            transfer(from: c, to: s)  // ClientHello
            var flight = [UInt8](repeating: 0, count: s.pendingCiphertext)
            flightLength = flight.withUnsafeMutableBytes { s.takeCiphertext(into: $0) }
            flight.withUnsafeBytes { c.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<k])) }
            c.advance()
            flight.withUnsafeBytes { c.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[k...])) }
            c.advance()
            if run(c, s) != (.established, .established) { failures += 1 }
            k += 1
        } while k < flightLength
        #expect(flightLength > 500)
        #expect(failures == 0)
    }

    @Test("wildcard certificate: one left-most label only")
    func wildcard() throws {
        let f = try Fixture { try $0.issue("wild", commonName: "wild", dns: ["*.pbx.test"]) }
        #expect(try refusal(f, "a.pbx.test") == nil)
        #expect(try refusal(f, "pbx.test") == .hostNameMismatch(wanted: "pbx.test"))
        #expect(try refusal(f, "a.b.pbx.test") == .hostNameMismatch(wanted: "a.b.pbx.test"))
    }

    @Test("an IP literal matches an iPAddress SAN only; a URI SAN sip:domain names the domain")
    func ipAndURI() throws {
        let ip = try Fixture { try $0.issue("ip", commonName: "127.0.0.1", ips: ["127.0.0.1", "::1"]) }
        #expect(try refusal(ip, "127.0.0.1") == nil)
        #expect(try refusal(ip, "::1") == nil)
        #expect(try refusal(ip, "127.0.0.2") == .hostNameMismatch(wanted: "127.0.0.2"))
        let text = try Fixture { try $0.issue("iptext", commonName: "127.0.0.1", dns: ["127.0.0.1"]) }
        #expect(try refusal(text, "127.0.0.1") == .hostNameMismatch(wanted: "127.0.0.1"))
        let uri = try Fixture { try $0.issue("uri", commonName: "ignored.test", uris: ["sip:pbx.test"]) }
        #expect(try refusal(uri, "pbx.test") == nil)
        #expect(try refusal(uri, "ignored.test") == .hostNameMismatch(wanted: "ignored.test"))
    }

    @Test("the second connection to the same server resumes the first one's session")
    func resumption() throws {
        let f = try Fixture()
        let (c1, s1) = try f.connect()
        #expect(run(c1, s1) == (.established, .established))
        #expect(!c1.isResumed && !s1.isResumed)
        let (c2, s2) = try f.connect()
        #expect(run(c2, s2) == (.established, .established))
        #expect(c2.isResumed && s2.isResumed)
        #expect(write(c2, "OPTIONS") == 7)
        transfer(from: c2, to: s2)
        #expect(readAll(s2) == "OPTIONS")
        // Another configuration (another account) has no session to offer.
        let other = try TLSConfiguration(trustFile: f.pki.rootCertificate)
        let (c3, s3) = try f.connect(client: other)
        #expect(run(c3, s3) == (.established, .established))
        #expect(!c3.isResumed)
    }

    @Test("unreadable trust, certificate and key files are refused with their paths")
    func unreadableFiles() throws {
        #expect(throws: TLSError.trustFileUnreadable(path: "/nonexistent/ca.pem")) {
            try TLSConfiguration(trustFile: "/nonexistent/ca.pem")
        }
        #expect(TLSError.trustFileUnreadable(path: "/x.pem").reason == "trust file unreadable: /x.pem")
        let pki = try TestPKI()
        defer { pki.cleanUp() }
        let a = try pki.issue("a", commonName: "a.test")
        let b = try pki.issue("b", commonName: "b.test")
        #expect(throws: TLSError.keyFileUnreadable(path: b.key)) {
            try TLSConfiguration(serverCertificateFile: a.certificate, serverKeyFile: b.key)
        }
        #expect(throws: TLSError.certificateFileUnreadable(path: "/nonexistent/c.pem")) {
            try TLSConfiguration(serverCertificateFile: "/nonexistent/c.pem", serverKeyFile: a.key)
        }
    }
}
