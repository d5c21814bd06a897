import CLinux
import Foundation
import Net
import Reactor
import Testing

@testable import HTTP
@testable import Recording

/// One GET through a fresh client; returns its result (nil if none came within 10 s).
func fetch(
    _ url: String, reactor: Reactor, timeout: Int64 = 5_000_000_000,
    userAgent: String = "deskphone/1.0 T46 001565aabbcc"
) throws -> (result: HTTPGetResult?, started: Bool) {
    let client = HTTPClient(reactor: reactor, userAgent: userAgent, timeoutNanoseconds: timeout)
    defer { client.close() }
    var result: HTTPGetResult? = nil
    var calls = 0
    let started = client.get(url) {
        result = $0
        calls += 1
    }
    try runUntil(reactor) { result != nil }
    // Exactly once: nothing more arrives later.
    try reactor.run(for: 20_000_000)
    #expect(calls <= 1)
    return (result, started)
}

/// GETs `path` from a fresh test server on a fresh reactor and checks that the client let go
/// of every watch: the result.
func fetchFromTestServer(
    _ path: String, timeout: Int64 = 5_000_000_000, userAgent: String = "deskphone/1.0 T46 001565aabbcc"
) throws -> HTTPGetResult? {
    let server = try RecordHTTPServer()
    defer { server.stop() }
    let reactor = try Reactor()
    defer { reactor.close() }
    let (result, _) = try fetch(server.url(path), reactor: reactor, timeout: timeout, userAgent: userAgent)
    #expect(reactor.watchCount == 0)
    return result
}


@Suite("HTTP client against a real server on loopback")
struct HTTPClientTests {
    @Test("200 with a YealinkIPPhoneText body; the exact request line and headers on the wire")
    func textAnswerAndExactRequest() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let (result, started) = try fetch(server.url("/text/start?mac=001565aabbcc#frag"), reactor: reactor)
        #expect(started)
        let response = try #require(result?.response, "result: \(String(describing: result))")
        #expect(response.status == 200)
        #expect(response.reason == "OK")
        #expect(response.header("content-type") == "text/xml")
        #expect(PhoneTextXML.text(in: response.body) == "Recording started & saved")
        let requests = server.requests
        #expect(requests.count == 1)
        var expected = "GET /text/start?mac=001565aabbcc HTTP/1.1\r\n"
        expected += "Host: 127.0.0.1:" + String(server.port) + "\r\n"
        expected += "User-Agent: deskphone/1.0 T46 001565aabbcc\r\n"
        expected += "Accept: */*\r\n"
        expected += "Connection: close\r\n\r\n"
        #expect(requests.first == expected)
        #expect(reactor.watchCount == 0)
        #expect(reactor.timerCount == 0)
    }

    @Test("the record URL template with a hostile display name gives one request line, all percent-encoded")
    func hostileDisplayName() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let variables = RecordURLVariables(
            mac: "001565aabbcc", ip: "192.0.2.7", model: "T46", firmware: "1.0", local: "sip:1001@192.0.2.1",
            remote: "sip:evil@192.0.2.66\r\nHost: x", displayLocal: "Alice Ä",
            displayRemote: "Bob\r\nX-Evil: 1/../?a=b&c",
            callID: "abc@192.0.2.1 HTTP/1.1\r\n\r\nGET /second", activeUser: "1001", activeHost: "192.0.2.1")
        let template = server.url("/echo/$display_remote?from=$remote&id=$call_id&me=$display_local&m=$mac")
        let url = RecordURLTemplate.expand(template, variables)
        let (result, _) = try fetch(url, reactor: reactor)
        let response = try #require(result?.response, "result: \(String(describing: result))")
        #expect(response.status == 200)
        let requests = server.requests
        #expect(requests.count == 1)
        var expectedLine = "GET /echo/Bob%0D%0AX-Evil%3A%201%2F..%2F%3Fa%3Db%26c"
        expectedLine += "?from=sip%3Aevil%40192.0.2.66%0D%0AHost%3A%20x"
        expectedLine += "&id=abc%40192.0.2.1%20HTTP%2F1.1%0D%0A%0D%0AGET%20%2Fsecond"
        expectedLine += "&me=Alice%20%C3%84&m=001565aabbcc HTTP/1.1\r\n"
        let head = try #require(requests.first)
        #expect(head.hasPrefix(expectedLine))
        // One request line and exactly the four headers: nothing injected.
        let lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 5)
        let names: [String] = lines.dropFirst().map { String($0.split(separator: ":")[0]) }
        #expect(names == ["Host", "User-Agent", "Accept", "Connection"])
        // The server echoes what it saw; the response body is that same head.
        #expect(String(decoding: response.body, as: UTF8.self) == head)
    }

    @Test("a User-Agent with CR LF cannot add a header")
    func hostileUserAgent() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let agent = HTTPClient.userAgent(firmware: "1.0\r\nX-Evil: 1", model: "T46", mac: "001565aabbcc")
        #expect(agent == "deskphone/1.0\r\nX-Evil: 1 T46 001565aabbcc")
        let (result, _) = try fetch(server.url("/echo"), reactor: reactor, userAgent: agent)
        #expect(result?.response?.status == 200)
        let head = try #require(server.requests.first)
        let lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 5)
        #expect(lines.contains("User-Agent: deskphone/1.0X-Evil: 1 T46 001565aabbcc"))
    }

    @Test("404 is a response, not a failure")
    func notFound() throws {
        let result = try fetchFromTestServer("/missing")
        let response = try #require(result?.response)
        #expect(response.status == 404)
        #expect(response.reason == "Not Found")
        #expect(!response.isSuccess)
        #expect(String(decoding: response.body, as: UTF8.self) == "<h1>no such box</h1>")
        #expect(PhoneTextXML.text(in: response.body) == nil)
    }

    @Test("302 is returned as it is: the redirect is not followed")
    func redirectNotFollowed() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let (result, _) = try fetch(server.url("/redirect"), reactor: reactor)
        let response = try #require(result?.response)
        #expect(response.status == 302)
        #expect(response.header("Location") == "http://127.0.0.1:9/elsewhere")
        #expect(
            result?.description == "302 Found (0 body bytes) redirect not followed, to http://127.0.0.1:9/elsewhere")
        #expect(server.requests.count == 1)
    }

    @Test("a server that never answers: timeout, socket closed")
    func timeout() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let (result, _) = try fetch(server.url("/silent"), reactor: reactor, timeout: 300_000_000)
        #expect(result?.failure == "timeout after 300 ms")
        #expect(reactor.watchCount == 0)
        #expect(server.requests.count == 1)
    }

    @Test("the default whole-request timeout is 5 s (virtual clock: no waiting)")
    func defaultTimeoutVirtualClock() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let client = HTTPClient(reactor: reactor, userAgent: "deskphone")
        defer { client.close() }
        var result: HTTPGetResult? = nil
        client.get(server.url("/silent")) { result = $0 }
        let deadline = Date().addingTimeInterval(10)
        while result == nil && Date() < deadline { try reactor.run(for: 100_000_000) }
        #expect(result?.failure == "timeout after 5 s")
        #expect(reactor.now >= 5_000_000_000)
        #expect(reactor.watchCount == 0)
    }

    @Test("a header that never ends: timeout")
    func headerNeverEnds() throws {
        let result = try fetchFromTestServer("/slowhead", timeout: 1_000_000_000)
        #expect(result?.failure == "timeout after 1 s")
    }

    @Test("the connection closes in the middle of the body")
    func closedMidBody() throws {
        let result = try fetchFromTestServer("/cut")
        #expect(
            result?.failure == "malformed response: connection closed 90 bytes before the end of the body (10 received)"
        )
    }

    @Test("chunked body with an extension and a trailer")
    func chunked() throws {
        let result = try fetchFromTestServer("/chunked")
        let response = try #require(result?.response, "result: \(String(describing: result))")
        #expect(response.status == 200)
        #expect(PhoneTextXML.text(in: response.body) == "Recording started & saved")
        #expect(String(decoding: response.body, as: UTF8.self).hasSuffix("</YealinkIPPhoneText>\n"))
    }

    @Test("a body read until the server closes (HTTP/1.0, no Content-Length)")
    func readToClose() throws {
        let result = try fetchFromTestServer("/close")
        let response = try #require(result?.response)
        #expect(PhoneTextXML.text(in: response.body) == "Recording started & saved")
    }

    @Test("a response sent a few bytes at a time")
    func split() throws {
        let result = try fetchFromTestServer("/split")
        let response = try #require(result?.response)
        #expect(PhoneTextXML.text(in: response.body) == "Recording started & saved")
    }

    @Test("huge bodies are refused: by Content-Length and when read to close")
    func hugeBodies() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let (declared, _) = try fetch(server.url("/huge"), reactor: reactor)
        #expect(declared?.failure == "response body larger than 65536 bytes")
        let (streamed, _) = try fetch(server.url("/endless"), reactor: reactor)
        #expect(streamed?.failure == "response body larger than 65536 bytes")
        #expect(reactor.watchCount == 0)
    }

    @Test("a response that is not HTTP is malformed")
    func garbage() throws {
        let result = try fetchFromTestServer("/garbage")
        #expect(result?.failure == "malformed response: bad status line 'SIP/2.0 200 OK'")
    }

    @Test("connection refused by a closed port")
    func connectionRefused() throws {
        // A bound but not listening socket: the port is ours and refuses connections.
        let (fd, port) = try #require(loopbackSocket(Int32(CL_SOCK_STREAM)))
        defer { _ = cl_close(fd) }
        let reactor = try Reactor()
        defer { reactor.close() }
        let (result, started) = try fetch("http://127.0.0.1:" + String(port) + "/text", reactor: reactor)
        #expect(started)
        #expect(result?.failure == "connection refused")
        #expect(reactor.watchCount == 0)
        #expect(reactor.timerCount == 0)
    }

    @Test("https without TLS settings and host names without a resolver are refused before anything is sent")
    func refusedURLs() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let cases: [(String, String)] = [
            ("https://192.0.2.1/rec", "https: no TLS settings in this client"),
            ("HTTPS://192.0.2.1/rec", "https: no TLS settings in this client"),
            (
                "http://pbx.example.com/rec",
                "no DNS resolver for host name 'pbx.example.com': use the server's IP address"
            ),
            ("ftp://192.0.2.1/rec", "unsupported URL scheme 'ftp'"),
            ("/rec", "not an absolute URL"),
        ]
        for (url, reason) in cases {
            let client = HTTPClient(reactor: reactor, userAgent: "deskphone")
            var result: HTTPGetResult? = nil
            let started = client.get(url) { result = $0 }
            #expect(!started)
            #expect(result == nil, "the completion runs on the next loop pass, not inside get")
            #expect(reactor.watchCount == 0)
            _ = try reactor.runUntilIdle()
            #expect(result?.failure == reason, "\(url)")
            client.close()
        }
    }

    @Test("several requests at once on one client, each completed once with its own answer")
    func concurrent() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let client = HTTPClient(reactor: reactor, userAgent: "deskphone", timeoutNanoseconds: 4_000_000_000)
        defer { client.close() }
        var results: [String: [HTTPGetResult]] = [:]
        for path in ["/text", "/missing", "/redirect", "/chunked", "/silent"] {
            client.get(server.url(path)) { results[path, default: []].append($0) }
        }
        #expect(client.activeRequests == 5)
        try runUntil(reactor) { results.count == 5 }
        #expect(results.values.allSatisfy { $0.count == 1 })
        #expect(results["/text"]?.first?.response?.status == 200)
        #expect(results["/missing"]?.first?.response?.status == 404)
        #expect(results["/redirect"]?.first?.response?.status == 302)
        let chunkedText = results["/chunked"]?.first?.response.flatMap { PhoneTextXML.text(in: $0.body) }
        #expect(chunkedText == "Recording started & saved")
        #expect(results["/silent"]?.first?.failure == "timeout after 4 s")
        #expect(client.activeRequests == 0)
        #expect(server.requests.count == 5)
    }

    @Test("cancelAll drops pending completions and frees the sockets")
    func cancelAll() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let client = HTTPClient(reactor: reactor, userAgent: "deskphone", timeoutNanoseconds: 200_000_000)
        var calls = 0
        client.get(server.url("/silent")) { _ in calls += 1 }
        client.get("https://192.0.2.1/") { _ in calls += 1 }
        client.cancelAll()
        try reactor.run(for: 400_000_000)
        #expect(calls == 0)
        #expect(reactor.watchCount == 0)
        #expect(reactor.timerCount == 0)
        // The client still works afterwards; after close it starts nothing.
        var after: HTTPGetResult? = nil
        client.get(server.url("/text")) { after = $0 }
        try runUntil(reactor) { after != nil }
        #expect(after?.response?.status == 200)
        client.close()
        #expect(!client.get(server.url("/text")) { _ in calls += 1 })
        try reactor.run(for: 50_000_000)
        #expect(calls == 0)
    }

    @Test("IPv6 literal URL: Host header in brackets")
    func ipv6() throws {
        guard cl_ipv6_loopback_available() == 1 else { return }
        let server = try RecordHTTPServer(host: "::1")
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let (result, _) = try fetch("http://[::1]:" + String(server.port) + "/echo?x=1", reactor: reactor)
        #expect(result?.response?.status == 200)
        let prefix = "GET /echo?x=1 HTTP/1.1\r\nHost: [::1]:" + String(server.port) + "\r\n"
        #expect(server.requests.first?.hasPrefix(prefix) == true)
    }

    @Test("a completion may start the next request (the recording controller's on/off sequence)")
    func reentrantCompletion() throws {
        let server = try RecordHTTPServer()
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let client = HTTPClient(reactor: reactor, userAgent: "deskphone")
        defer { client.close() }
        var statuses: [Int] = []
        client.get(server.url("/text")) { first in
            statuses.append(first.response?.status ?? -1)
            client.get(server.url("/missing")) { second in statuses.append(second.response?.status ?? -1) }
        }
        try runUntil(reactor) { statuses.count == 2 }
        #expect(statuses == [200, 404])
    }
}

@Suite("HTTP client with the DNS resolver")
struct HTTPClientResolverTests {
    @Test("the client resolves a host name, falls back to the second DNS server, keeps the name in Host")
    func clientWithResolver() throws {
        let server = try RecordHTTPServer(dns: true)
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        // The first server is a UDP socket that never answers.
        let (silentFD, silentPort) = try #require(loopbackSocket())
        defer { _ = cl_close(silentFD) }
        let resolver = DNSResolver(
            reactor: reactor,
            nameservers: [
                SocketAddress(ipv4: 127, 0, 0, 1, port: silentPort),
                SocketAddress(ipv4: 127, 0, 0, 1, port: server.dnsPort),
            ], attemptNanoseconds: 300_000_000)
        let client = HTTPClient(reactor: reactor, userAgent: "deskphone")
        defer { client.close() }
        client.resolver = resolver
        var result: HTTPGetResult? = nil
        #expect(client.get("http://pbx.test:" + String(server.port) + "/echo?via=dns") { result = $0 })
        try runUntil(reactor) { result != nil }
        #expect(result?.response?.status == 200)
        let expected = "GET /echo?via=dns HTTP/1.1\r\nHost: pbx.test:" + String(server.port) + "\r\n"
        #expect(server.requests.first?.hasPrefix(expected) == true)
        var missing: HTTPGetResult? = nil
        #expect(client.get("http://missing.test/") { missing = $0 })
        try runUntil(reactor) { missing != nil }
        #expect(missing?.failure == "host name 'missing.test' not found")
        #expect(client.activeRequests == 0)
    }
}
