import Testing

@testable import Net

@Suite("Socket addresses: IP literals, text, equality")
struct SocketAddressTests {
    @Test("IPv4 and IPv6 literals, with and without brackets")
    func literals() throws {
        let v4 = try #require(SocketAddress(literal: "192.0.2.1", port: 5060))
        #expect(v4 == SocketAddress(ipv4: 192, 0, 2, 1, port: 5060))
        #expect(v4.family == 4 && !v4.isIPv6)
        #expect(v4.address == [192, 0, 2, 1])
        #expect(v4.description == "192.0.2.1:5060")
        let v6 = try #require(SocketAddress(literal: "[2001:db8::1]", port: 5061))
        #expect(v6.isIPv6)
        #expect(v6.address == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(v6.hostText == "[2001:db8::1]")
        #expect(v6.plainHostText == "2001:db8::1")
        #expect(v6.description == "[2001:db8::1]:5061")
        #expect(SocketAddress(literal: "2001:DB8:0:0:1:0:0:1", port: 1)?.plainHostText == "2001:db8::1:0:0:1")
        let mapped = try #require(SocketAddress(literal: "::ffff:192.0.2.2", port: 1))
        #expect(mapped.plainHostText == "::ffff:c000:202")
        #expect(SocketAddress(literal: "::", port: 0)?.isAnyAddress == true)
        #expect(SocketAddress(literal: "0.0.0.0", port: 0)?.isUnspecified == true)
        #expect(SocketAddress(literal: "1::", port: 0)?.plainHostText == "1::")
    }

    @Test("names and malformed text are not literals")
    func notLiterals() {
        for text in [
            "", "pbx.example.com", "192.0.2", "192.0.2.256", "192.0.2.1.5", "1.2.3.4:5060", "[192.0.2.1",
            "2001:db8:::1", "1:2:3:4:5:6:7:8:9", ":1::2", "12345::", "[]", "fe80::1%eth0",
        ] {
            #expect(SocketAddress(literal: text, port: 1) == nil, "\(text)")
        }
    }

    @Test("equality and hashing see family, bytes and port; raw bytes of 4 or 16 only")
    func equality() throws {
        let a = SocketAddress(ipv4: 10, 0, 0, 1, port: 1)
        #expect(a != a.with(port: 2))
        #expect(a.hasSameHost(as: a.with(port: 2)))
        let v6 = try #require(SocketAddress(bytes: [10, 0, 0, 1] + [UInt8](repeating: 0, count: 12), port: 1))
        #expect(a != v6)
        #expect(Set([a, a.with(port: 1), v6]).count == 2)
        #expect(SocketAddress(bytes: [1, 2, 3], port: 1) == nil)
        #expect(SocketAddress(bytes: [10, 0, 0, 1], port: 1) == a)
    }
}
