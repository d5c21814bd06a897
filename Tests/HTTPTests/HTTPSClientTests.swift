import Foundation
import Net
import Reactor
import TLS
import TestSupport
import Testing

@testable import HTTP

/// A lighttpd with mod_openssl on loopback, its certificates from a test PKI made by openssl at
/// test time: plain HTTP on 41000 (redirects to https), HTTPS with a certificate for 127.0.0.1 on
/// 41001, HTTPS with a certificate for another host name on 41002; /digest/ (MD5), /digest256/
/// (SHA-256) and /basic/ behind mod_auth with an htdigest file (user "phone", password "s3cret").
final class HTTPSFixture {
    static let plainPort: UInt16 = 41000
    static let tlsPort: UInt16 = 41001
    static let wrongNamePort: UInt16 = 41002
    static let body = "static.auto_provision.power_on = 1\n"

    let pki: TestPKI
    let server: LighttpdProcess
    let reactor: Reactor

    init() throws {
        pki = try TestPKI()
        do {
            let good = try pki.issue("server", commonName: "127.0.0.1", ips: ["127.0.0.1"])
            let wrong = try pki.issue("elsewhere", commonName: "pbx.example.com", dns: ["pbx.example.com"])
            // htdigest lines: user:realm:H(user:realm:password), MD5 by htdigest's rule; the SHA-256
            // one for the SHA-256 realm (lighttpd takes the hash by its length).
            let htdigest =
                "phone:prov:" + HTTPSFixture.hash("md5sum", "phone:prov:s3cret") + "\n"
                + "phone:prov256:" + HTTPSFixture.hash("sha256sum", "phone:prov256:s3cret") + "\n"
            let users = pki.directory + "/htdigest"
            try htdigest.write(toFile: users, atomically: true, encoding: .utf8)
            let conf = """
                auth.backend = "htdigest"
                auth.backend.htdigest.userfile = "\(users)"
                auth.require = (
                    "/digest/" => ("method" => "digest", "realm" => "prov", "require" => "valid-user"),
                    "/digest256/" => ("method" => "digest", "algorithm" => "SHA-256", "realm" => "prov256",
                                      "require" => "valid-user"),
                    "/basic/" => ("method" => "basic", "realm" => "prov", "require" => "valid-user"),
                )
                url.redirect = (
                    "^/tohttps/(.*)$" => "https://127.0.0.1:\(HTTPSFixture.tlsPort)/$1",
                    "^/moved/(.*)$" => "/digest/$1",
                )
                $SERVER["socket"] == "127.0.0.1:\(HTTPSFixture.tlsPort)" {
                    ssl.engine = "enable"
                    ssl.pemfile = "\(good.chain)"
                    ssl.privkey = "\(good.key)"
                }
                $SERVER["socket"] == "127.0.0.1:\(HTTPSFixture.wrongNamePort)" {
                    ssl.engine = "enable"
                    ssl.pemfile = "\(wrong.chain)"
                    ssl.privkey = "\(wrong.key)"
                }

                """
            let files = [
                ("p.cfg", HTTPSFixture.body), ("digest/p.cfg", HTTPSFixture.body),
                ("digest256/p.cfg", HTTPSFixture.body), ("basic/p.cfg", HTTPSFixture.body),
            ]
            server = try LighttpdProcess(
                port: HTTPSFixture.plainPort, listening: [HTTPSFixture.tlsPort, HTTPSFixture.wrongNamePort],
                files: files, configuration: conf)
        } catch {
            pki.cleanUp()
            throw error
        }
        reactor = try Reactor()
    }

    deinit {
        reactor.close()
        server.stop()
        pki.cleanUp()
    }

    /// The lowercase hex digest of `text` by a coreutils tool (md5sum, sha256sum).
    static func hash(_ tool: String, _ text: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/" + tool)
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix { $0 != " " })
    }

    /// One GET through a client trusting `trust` (the test root by default); its result.
    func get(_ url: String, options: HTTPRequestOptions = HTTPRequestOptions(), trust: String? = nil) throws
        -> HTTPGetResult?
    {
        let client = HTTPClient(reactor: reactor, userAgent: "deskphone-test", timeoutNanoseconds: 5_000_000_000)
        defer { client.close() }
        client.tls = TLSClientProfile(trustFile: trust ?? pki.rootCertificate)
        var result: HTTPGetResult? = nil
        client.get(url, options: options) { result = $0 }
        try runUntil(reactor) { result != nil }
        #expect(reactor.watchCount == 0)
        #expect(reactor.timerCount == 0)
        return result
    }

    func url(_ path: String, port: UInt16 = HTTPSFixture.tlsPort, secure: Bool = true) -> String {
        (secure ? "https" : "http") + "://127.0.0.1:" + String(port) + path
    }
}

func credentials(_ password: String) -> HTTPRequestOptions {
    var options = HTTPRequestOptions()
    options.credentials = HTTPCredentials(user: "phone", password: password)
    return options
}

@Suite(
    "HTTPS and HTTP authentication against lighttpd (mod_openssl, mod_auth)", .serialized,
    .enabled(if: LighttpdProcess.isInstalled && TestPKI.isAvailable))
struct HTTPSClientTests {
    @Test("GET over HTTPS: the certificate chains to the test root and names 127.0.0.1")
    func getOverTLS() throws {
        let fixture = try HTTPSFixture()
        let result = try fixture.get(fixture.url("/p.cfg"))
        let response = try #require(result?.response, "\(String(describing: result))")
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == HTTPSFixture.body)
    }

    @Test("a certificate for another host name is refused with the reason")
    func wrongHostName() throws {
        let fixture = try HTTPSFixture()
        let result = try fixture.get(fixture.url("/p.cfg", port: HTTPSFixture.wrongNamePort))
        #expect(result?.failure == "TLS: host name mismatch (wanted 127.0.0.1)")
    }

    @Test("a server whose CA is not trusted is refused with the reason")
    func untrustedCA() throws {
        let fixture = try HTTPSFixture()
        let other = try TestPKI()
        defer { other.cleanUp() }
        let result = try fixture.get(fixture.url("/p.cfg"), trust: other.rootCertificate)
        #expect(result?.failure == "TLS: issuer unknown (no trusted CA, or an intermediate is missing)")
    }

    @Test("a trust file that cannot be read fails the request, naming the file")
    func unreadableTrustFile() throws {
        let fixture = try HTTPSFixture()
        let result = try fixture.get(fixture.url("/p.cfg"), trust: "/nonexistent/ca.pem")
        #expect(result?.failure == "TLS: trust file unreadable: /nonexistent/ca.pem")
    }

    @Test("digest MD5 (RFC 7616, qop=auth): the right password gets the file, a wrong one is refused")
    func digestMD5() throws {
        let fixture = try HTTPSFixture()
        let url = fixture.url("/digest/p.cfg", port: HTTPSFixture.plainPort, secure: false)
        let none = try fixture.get(url)
        #expect(none?.response?.status == 401, "without credentials the 401 is the result")
        let ok = try fixture.get(url, options: credentials("s3cret"))
        #expect(ok?.response?.status == 200, "\(String(describing: ok)) \(fixture.server.errorLog)")
        #expect(ok?.response.map { String(decoding: $0.body, as: UTF8.self) } == HTTPSFixture.body)
        let refused = try fixture.get(url, options: credentials("wrong"))
        #expect(refused?.failure?.hasPrefix("authentication refused for user 'phone' (401 Unauthorized") == true)
    }

    @Test("digest SHA-256 over HTTPS")
    func digestSHA256() throws {
        let fixture = try HTTPSFixture()
        let url = fixture.url("/digest256/p.cfg")
        let ok = try fixture.get(url, options: credentials("s3cret"))
        #expect(ok?.response?.status == 200, "\(String(describing: ok)) \(fixture.server.errorLog)")
        let refused = try fixture.get(url, options: credentials("wrong"))
        #expect(refused?.failure?.hasPrefix("authentication refused") == true)
    }

    @Test("basic (RFC 7617): the right password gets the file, a wrong one is refused")
    func basic() throws {
        let fixture = try HTTPSFixture()
        let url = fixture.url("/basic/p.cfg", port: HTTPSFixture.plainPort, secure: false)
        let ok = try fixture.get(url, options: credentials("s3cret"))
        #expect(ok?.response?.status == 200, "\(String(describing: ok)) \(fixture.server.errorLog)")
        let refused = try fixture.get(url, options: credentials("wrong"))
        #expect(refused?.failure?.hasPrefix("authentication refused for user 'phone'") == true)
    }

    @Test("a redirect from http to https is followed; the https answer is the result")
    func redirectToHTTPS() throws {
        let fixture = try HTTPSFixture()
        var options = HTTPRequestOptions()
        options.maximumRedirects = 2
        let result = try fixture.get(
            fixture.url("/tohttps/p.cfg", port: HTTPSFixture.plainPort, secure: false), options: options)
        let response = try #require(result?.response, "\(String(describing: result))")
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == HTTPSFixture.body)
        // Not followed: the 3xx names the https URL.
        let unfollowed = try fixture.get(fixture.url("/tohttps/p.cfg", port: HTTPSFixture.plainPort, secure: false))
        #expect(unfollowed?.response?.header("Location") == fixture.url("/p.cfg"))
    }
}

extension HTTPSClientTests {
    @Test("credentials follow a redirect on the same origin, never to another scheme, host or port")
    func credentialsAndRedirects() throws {
        let fixture = try HTTPSFixture()
        var options = credentials("s3cret")
        options.maximumRedirects = 2
        let same = try fixture.get(
            fixture.url("/moved/p.cfg", port: HTTPSFixture.plainPort, secure: false), options: options)
        #expect(same?.response?.status == 200, "\(String(describing: same))")
        let other = try fixture.get(
            fixture.url("/tohttps/digest256/p.cfg", port: HTTPSFixture.plainPort, secure: false), options: options)
        #expect(other?.response?.status == 401, "the https origin gets no credentials: \(String(describing: other))")
    }
}

@Suite("HTTP authentication answers (sans-IO)")
struct HTTPAuthorizationTests {
    let options = HTTPCredentials(user: "Mufasa", password: "Circle of Life")

    func challenge(_ values: [String]) -> HTTPResponse {
        HTTPResponse(status: 401, reason: "Unauthorized", headers: values.map { (name: "WWW-Authenticate", value: $0) })
    }

    @Test("RFC 7616 §3.9.1: SHA-256 is chosen over MD5, with the RFC's response")
    func rfcExample() {
        let common =
            "realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
            + "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
            + "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        let response = challenge(["Digest " + common + ", algorithm=SHA-256", "Digest " + common + ", algorithm=MD5"])
        let answer = HTTPAuthorization.answer(
            response, credentials: options, url: "http://www.example.org/dir/index.html",
            cnonce: { "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ" })
        #expect(
            answer?.contains("response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\"") == true)
        #expect(answer?.contains("uri=\"/dir/index.html\"") == true)
        #expect(answer?.contains("qop=auth,") == true)
        #expect(answer?.contains("nc=00000001") == true)
        let md5 = HTTPAuthorization.answer(
            challenge(["Digest " + common + ", algorithm=MD5"]), credentials: options,
            url: "http://www.example.org/dir/index.html", cnonce: { "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ" })
        #expect(md5?.contains("response=\"8ca523f5e9506fed4657c9700eebdbec\"") == true)
    }

    @Test("Basic when that is all that is offered; nothing for an unknown scheme or no challenge")
    func basicAndNone() {
        let url = "http://192.0.2.1/p.cfg"
        #expect(
            HTTPAuthorization.answer(challenge(["Basic realm=\"x\""]), credentials: options, url: url)
                == "Basic TXVmYXNhOkNpcmNsZSBvZiBMaWZl")
        #expect(
            HTTPAuthorization.answer(
                challenge(["Bearer realm=\"x\", Basic realm=\"y\""]), credentials: options, url: url)
                == "Basic TXVmYXNhOkNpcmNsZSBvZiBMaWZl")
        #expect(HTTPAuthorization.answer(challenge(["Bearer realm=\"x\""]), credentials: options, url: url) == nil)
        #expect(HTTPAuthorization.answer(challenge(["Basically"]), credentials: options, url: url) == nil)
        #expect(HTTPAuthorization.answer(challenge([]), credentials: options, url: url) == nil)
    }
}
