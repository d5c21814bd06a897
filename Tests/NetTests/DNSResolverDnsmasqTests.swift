import Foundation
import Reactor
import Testing

@testable import Net

/// The resolver against a real DNS server: dnsmasq on 127.0.0.1:38454 (UDP and TCP).
@Suite("DNS against dnsmasq: SRV, NAPTR, truncation to TCP, several servers, the cache")
struct DNSResolverDnsmasqTests {
    /// Asks and runs the loop until the answer.
    func query(_ resolver: DNSResolver, _ reactor: Reactor, _ name: String, _ type: DNSRecordType) throws -> Result<
        [DNSRecord], DNSError
    >? {
        var result: Result<[DNSRecord], DNSError>? = nil
        resolver.query(name, type: type) { result = $0 }
        #expect(result == nil, "never inside query")
        try runUntil(reactor) { result != nil }
        return result
    }

    @Test(
        "SRV and NAPTR records, a truncated answer asked again over TCP, a dead first server, cached answers",
        .enabled(if: DnsmasqProcess.isInstalled))
    func realServer() throws {
        var records = [
            "--srv-host=_sip._udp.pbx.test,sip1.pbx.test,5061,10,60",
            "--srv-host=_sip._udp.pbx.test,sip2.pbx.test,5062,20,40",
            "--naptr-record=pbx.test,10,20,S,SIP+D2U,,_sip._udp.pbx.test",
            "--naptr-record=pbx.test,20,10,S,SIP+D2T,,_sip._tcp.pbx.test",
            "--host-record=sip1.pbx.test,127.0.0.2", "--local=/pbx.test/", "--local=/big.test/",
        ]
        // 30 SRV records with long targets: about 2 KB, over UDP's 512 bytes (no EDNS): TC.
        for n in 0..<30 {
            records.append(
                "--srv-host=_sip._udp.big.test,target-" + String(n) + "-with-a-rather-long-label.big.test,5060,1,"
                    + String(n))
        }
        let dnsmasq = try DnsmasqProcess(port: 38454, records: records)
        defer { dnsmasq.stop() }
        let reactor = try Reactor()
        defer { reactor.close() }
        // The first server's port is closed (ICMP port unreachable): the second answers.
        let resolver = DNSResolver(
            reactor: reactor,
            nameservers: [SocketAddress(ipv4: 127, 0, 0, 1, port: 38455), SocketAddress(ipv4: 127, 0, 0, 1, port: 38454)],
            attemptNanoseconds: 1_000_000_000)
        var log: [String] = []
        resolver.onLog = { log.append($0) }

        let srv = try query(resolver, reactor, "_sip._udp.pbx.test", .srv)
        guard case .success(let services)? = srv else {
            Issue.record("SRV: \(String(describing: srv))")
            return
        }
        #expect(
            services.sorted { $0.description < $1.description } == [
                .service(priority: 10, weight: 60, port: 5061, target: "sip1.pbx.test"),
                .service(priority: 20, weight: 40, port: 5062, target: "sip2.pbx.test"),
            ])
        let naptr = try query(resolver, reactor, "PBX.test", .naptr)
        guard case .success(let naming)? = naptr else {
            Issue.record("NAPTR: \(String(describing: naptr))")
            return
        }
        #expect(naming.count == 2)
        #expect(
            naming.contains(
                .naming(
                    order: 10, preference: 20, flags: "S", service: "SIP+D2U", regexp: "", replacement: "_sip._udp.pbx.test"
                )))
        #expect(try query(resolver, reactor, "sip1.pbx.test", .a) == .success([.address([127, 0, 0, 2])]))
        #expect(try query(resolver, reactor, "sip1.pbx.test", .aaaa) == .success([]))
        #expect(
            try query(resolver, reactor, "nowhere.pbx.test", .srv)
                == .failure(DNSError("host name 'nowhere.pbx.test' not found")))

        // Truncated over UDP: the same question over TCP gets all 30 records.
        let big = try query(resolver, reactor, "_sip._udp.big.test", .srv)
        guard case .success(let many)? = big else {
            Issue.record("big SRV: \(String(describing: big))")
            return
        }
        #expect(many.count == 30)
        #expect(many.contains(.service(priority: 1, weight: 29, port: 5060, target: "target-29-with-a-rather-long-label.big.test")))
        #expect(log.contains { $0.contains("SRV answer for '_sip._udp.big.test'") && $0.contains("asking again over TCP") })

        // Cached: asked again (whatever the case), answered without a question to the server.
        #expect(resolver.cachedAnswerCount >= 4)
        let sent = resolver.questionsSent
        #expect(try query(resolver, reactor, "_SIP._udp.pbx.test", .srv) == srv)
        #expect(try query(resolver, reactor, "_sip._udp.big.test", .srv) == big)
        #expect(resolver.questionsSent == sent)
        #expect(try query(resolver, reactor, "sip2.pbx.test", .a) == .failure(DNSError("host name 'sip2.pbx.test' not found")))
        #expect(resolver.questionsSent == sent + 2)  // the dead first server, then dnsmasq
        #expect(reactor.watchCount == 0)
        #expect(reactor.timerCount == 0)
    }
}
