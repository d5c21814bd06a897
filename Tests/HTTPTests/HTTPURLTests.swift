import Net
import Testing

@testable import HTTP

@Suite("HTTP URL parsing for record URLs (RFC 3986)")
struct HTTPURLTests {
    func parsed(_ text: String) -> HTTPURL? {
        if case .success(let url) = HTTPURL.parse(text) { return url }
        return nil
    }

    func refusal(_ text: String) -> String? {
        if case .failure(let error) = HTTPURL.parse(text) { return error.description }
        return nil
    }

    @Test("IPv4, IPv6, ports, paths, queries, fragments")
    func accepted() throws {
        let a = try #require(parsed("http://192.0.2.10/record?call=1"))
        #expect(a.address == SocketAddress(ipv4: 192, 0, 2, 10, port: 80))
        #expect(a.hostHeader == "192.0.2.10")
        #expect(a.target == "/record?call=1")
        let b = try #require(parsed("  HTTP://192.0.2.10:8080  "))
        #expect(b.address?.port == 8080)
        #expect(b.hostHeader == "192.0.2.10:8080")
        #expect(b.target == "/")
        let c = try #require(parsed("http://[2001:DB8::1]:8088/r?x#frag"))
        #expect(c.address?.isIPv6 == true)
        #expect(c.hostHeader == "[2001:db8::1]:8088")
        #expect(c.target == "/r?x")
        let d = try #require(parsed("http://192.0.2.10?only=query"))
        #expect(d.target == "/?only=query")
        let empty = try #require(parsed("http://192.0.2.10:/x"))
        #expect(empty.address?.port == 80)
        #expect(empty.hostHeader == "192.0.2.10")
        let e = try #require(parsed("http://[::1]/"))
        #expect(e.hostHeader == "[::1]")
        #expect(e.description == "http://[::1]/")
    }

    @Test("https: port 443 by default (not in Host), the host is the name the certificate must carry")
    func https() throws {
        let a = try #require(parsed("https://192.0.2.10/prov/"))
        #expect(a.isSecure)
        #expect(a.address == SocketAddress(ipv4: 192, 0, 2, 10, port: 443))
        #expect(a.hostHeader == "192.0.2.10")
        #expect(a.serverName == "192.0.2.10")
        #expect(a.description == "https://192.0.2.10/prov/")
        #expect(a.origin == "https://192.0.2.10")
        let b = try #require(parsed("HTTPS://Prov.Example.com:8443/x?y"))
        #expect(b.isSecure)
        #expect(b.port == 8443)
        #expect(b.hostHeader == "Prov.Example.com:8443")
        #expect(b.serverName == "Prov.Example.com")
        #expect(b.description == "https://Prov.Example.com:8443/x?y")
        let c = try #require(parsed("https://[2001:db8::1]:443/"))
        #expect(c.hostHeader == "[2001:db8::1]")
        #expect(c.serverName == "2001:db8::1")
        let plain = try #require(parsed("http://192.0.2.10:443/"))
        #expect(!plain.isSecure)
        #expect(plain.hostHeader == "192.0.2.10:443")
        #expect(plain.origin != a.origin)
    }

    @Test("host names are kept for the resolver")
    func hostNames() throws {
        let url = try #require(parsed("http://PBX.example.com:8080/rec"))
        #expect(url.address == nil)
        #expect(url.hostName == "PBX.example.com")
        #expect(url.port == 8080)
        #expect(url.hostHeader == "PBX.example.com:8080")
        #expect(url.target == "/rec")
    }

    @Test("bytes that cannot go in a request line are percent-encoded, never sent raw")
    func targetEncoding() throws {
        let url = try #require(parsed("http://192.0.2.10/a b\r\nX: y\u{7f}/\u{e9}?q=\"<>\"&p=%41"))
        #expect(url.target == "/a%20b%0D%0AX:%20y%7F/%C3%A9?q=%22%3C%3E%22&p=%41")
    }

    @Test("refused URLs say why")
    func refused() {
        #expect(refusal("https:/192.0.2.10/") == "not an absolute URL (no // after https:)")
        #expect(refusal("https://192.0.2.10:0/") == "bad port '0' in URL")
        #expect(refusal("") == "empty URL")
        #expect(refusal("192.0.2.10/record") == "not an absolute URL")
        #expect(refusal("http:/192.0.2.10/") == "not an absolute URL (no // after http:)")
        #expect(refusal("sip:192.0.2.10") == "unsupported URL scheme 'sip'")
        #expect(refusal("http://user:pw@192.0.2.10/") == "user names in URLs are not supported")
        #expect(refusal("http:///path") == "no host in URL")
        #expect(refusal("http://192.0.2.10:0/") == "bad port '0' in URL")
        #expect(refusal("http://192.0.2.10:65536/") == "bad port '65536' in URL")
        #expect(refusal("http://192.0.2.10:8x/") == "bad port '8x' in URL")
        #expect(refusal("http://[2001:db8::1/") == "unterminated [ in URL host")
        #expect(refusal("http://[2001:db8::1]x/") == "junk after ] in URL host")
        #expect(refusal("http://[2001:db8::zz]/") == "bad IPv6 address '[2001:db8::zz]' in URL")
        #expect(refusal("http://192.0.2.300/") == "bad host '192.0.2.300' in URL")
        #expect(refusal("http://pbx!.example/") == "bad host 'pbx!.example' in URL")
        #expect(refusal("http://pbx..example/") == "bad host 'pbx..example' in URL")
        #expect(refusal("http://" + String(repeating: "1", count: 5000)) == "URL longer than 4096 bytes")
    }

    @Test("a URL that parses prints as one that parses again, even when encoding makes it longer (fuzz http)")
    func encodedLengthBounded() throws {
        // 1,500 two-byte characters: 3,000 bytes as given, 9,000 once percent-encoded.
        let long = "http://re8080/record?call=" + String(repeating: "\u{e9}", count: 1_500)
        #expect(refusal(long) == "URL longer than 4096 bytes once encoded")
        let fits = try #require(parsed("http://re8080/record?call=" + String(repeating: "\u{e9}", count: 600)))
        let again = try #require(parsed("http://" + fits.hostHeader + fits.target))
        #expect(again == fits)
    }
}
