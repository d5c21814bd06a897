import CLinux
import Foundation
import Reactor
import Testing

@testable import Net

@Suite("Host names: /etc/hosts and DNS over UDP on the reactor")
struct DNSResolverTests {
    /// Resolves `name` and runs the loop until the answer.
    func resolve(_ resolver: DNSResolver, _ reactor: Reactor, _ name: String) throws -> Result<
        SocketAddress, DNSError
    >? {
        var result: Result<SocketAddress, DNSError>? = nil
        resolver.resolve(name, port: 8080) { result = $0 }
        #expect(result == nil, "never inside resolve")
        try runUntil(reactor) { result != nil }
        return result
    }

    @Test("A, CNAME + A with compressed names, AAAA when there is no A, NXDOMAIN, SERVFAIL")
    func answers() throws {
        let server = try RecordHTTPServer(dns: true)  // its DNS stub answers pbx.test, missing.test, ...
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        let dns = try #require(SocketAddress(literal: "127.0.0.1", port: server.dnsPort))
        let resolver = DNSResolver(reactor: reactor, nameservers: [dns], attemptNanoseconds: 300_000_000)
        let loopback = SocketAddress(ipv4: 127, 0, 0, 1, port: 8080)
        #expect(try resolve(resolver, reactor, "pbx.test") == .success(loopback))
        #expect(try resolve(resolver, reactor, "PBX.Test.") == .success(loopback))
        #expect(try resolve(resolver, reactor, "cname.test") == .success(loopback))
        let v6 = try #require(SocketAddress(literal: "::1", port: 8080))
        #expect(try resolve(resolver, reactor, "v6only.test") == .success(v6))
        #expect(
            try resolve(resolver, reactor, "missing.test")
                == .failure(DNSError("host name 'missing.test' not found")))
        #expect(
            try resolve(resolver, reactor, "nothing.test")
                == .failure(DNSError("host name 'nothing.test' has no address")))
        #expect(
            try resolve(resolver, reactor, "servfail.test")
                == .failure(DNSError("cannot resolve 'servfail.test': DNS server error (rcode 2)")))
        let port = String(server.dnsPort)
        #expect(
            try resolve(resolver, reactor, "silent.test")
                == .failure(DNSError("cannot resolve 'silent.test': no answer from DNS server 127.0.0.1:" + port)))
        #expect(reactor.watchCount == 0)
        #expect(reactor.timerCount == 0)
    }

    @Test("a DNS server port that is closed (ICMP port unreachable): the next server answers, no busy loop")
    func closedServerPort() throws {
        let server = try RecordHTTPServer(dns: true)  // its DNS stub answers pbx.test, missing.test, ...
        defer { server.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        // A UDP port that was just free: bind, read the port, close.
        let (fd, closedPort) = try #require(loopbackSocket())
        _ = cl_close(fd)
        let resolver = DNSResolver(
            reactor: reactor,
            nameservers: [
                SocketAddress(ipv4: 127, 0, 0, 1, port: closedPort),
                SocketAddress(ipv4: 127, 0, 0, 1, port: server.dnsPort),
            ], attemptNanoseconds: 2_000_000_000)
        let before = reactor.iterations
        #expect(
            try resolve(resolver, reactor, "pbx.test") == .success(SocketAddress(ipv4: 127, 0, 0, 1, port: 8080)))
        #expect(reactor.iterations - before < 500)
        // Refused by the only server: the reason says so.
        let lonely = DNSResolver(
            reactor: reactor, nameservers: [SocketAddress(ipv4: 127, 0, 0, 1, port: closedPort)])
        #expect(
            try resolve(lonely, reactor, "pbx.test")
                == .failure(DNSError("cannot resolve 'pbx.test': connection refused")))
    }

    @Test("/etc/hosts entries win; no server configured; bad names")
    func hostsAndErrors() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let hosts = "# comment\n127.0.0.1\tlocalhost\n192.0.2.10 pbx pbx.office.example # the PBX\n::1 ip6-localhost\n"
        let resolver = DNSResolver(reactor: reactor, nameservers: [], hostsText: hosts)
        #expect(
            try resolve(resolver, reactor, "PBX.office.example")
                == .success(SocketAddress(ipv4: 192, 0, 2, 10, port: 8080)))
        #expect(
            try resolve(resolver, reactor, "ip6-localhost") == .success(SocketAddress(literal: "::1", port: 8080)!))
        #expect(
            try resolve(resolver, reactor, "other.example")
                == .failure(DNSError("cannot resolve 'other.example': no DNS server configured")))
        #expect(try resolve(resolver, reactor, "a..b") == .failure(DNSError("bad host name 'a..b'")))
    }

    @Test("resolv.conf nameserver lines")
    func resolvConf() {
        let text =
            "# generated\nsearch example.com\nnameserver 192.0.2.53\nnameserver  fe80::1%eth0\nnameserver bogus\n"
        #expect(
            DNSResolver.nameservers(inResolvConf: text) == [
                SocketAddress(ipv4: 192, 0, 2, 53, port: 53), SocketAddress(literal: "fe80::1", port: 53)!,
            ])
    }
}
