import Net
import Testing

@testable import SIP

/// A DNS zone as a table, answering the locator's questions (the locator is sans-IO: no
/// resolver needed).
struct LocatorZone {
    var records: [String: [DNSRecord]] = [:]
    var failing: Set<String> = []

    mutating func add(_ name: String, _ type: DNSRecordType, _ list: [DNSRecord]) {
        records[name + " " + type.description] = list
    }

    /// Runs `locator` to the end; the questions asked and the targets.
    func run(_ locator: SIPServerLocator) -> (questions: [String], targets: [SIPServerTarget]) {
        var locator = locator
        var questions: [String] = []
        while true {
            switch locator.next() {
            case .done(let targets):
                return (questions, targets)
            case .query(let name, let type):
                let key = name + " " + type.description
                questions.append(key)
                if failing.contains(key) {
                    locator.receive(.failure(DNSError("cannot resolve '" + name + "': no answer")))
                } else {
                    locator.receive(.success(records[key] ?? []))
                }
            }
        }
    }
}

/// A target on an IPv4 address: `target(.udp, 127, 0, 0, 2, 5060, "sip1.pbx.test")`.
func target(
    _ transport: SIPTransportProtocol, _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ port: UInt16, _ name: String
) -> SIPServerTarget {
    SIPServerTarget(peer: SIPPeer(transport: transport, remote: SIPSocketAddress(ipv4: a, b, c, d, port: port)), name: name)
}

func udp(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ port: UInt16, _ name: String) -> SIPServerTarget {
    target(.udp, a, b, c, d, port, name)
}

func tcp(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ port: UInt16, _ name: String) -> SIPServerTarget {
    target(.tcp, a, b, c, d, port, name)
}

func tls(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ port: UInt16, _ name: String) -> SIPServerTarget {
    target(.tls, a, b, c, d, port, name)
}

@Suite("RFC 3263 server location (sans-IO): NAPTR, SRV with weights, A/AAAA, literals")
struct ServerLocatorTests {
    static let first: @Sendable (UInt32) -> UInt32 = { _ in 0 }

    @Test("a literal is used as it is; a name with a port asks A (then AAAA)")
    func literalAndPort() {
        let zone = LocatorZone()
        let literal = zone.run(SIPServerLocator(host: "192.0.2.5", port: nil, transport: .tcp, random: Self.first))
        #expect(literal.questions.isEmpty)
        #expect(literal.targets == [tcp(192, 0, 2, 5, 5060, "192.0.2.5")])
        var named = LocatorZone()
        named.add("pbx.test", .a, [.address([192, 0, 2, 7]), .address([192, 0, 2, 8])])
        let withPort = named.run(SIPServerLocator(host: "pbx.test", port: 5080, transport: nil, random: Self.first))
        #expect(withPort.questions == ["pbx.test A"])
        #expect(withPort.targets == [udp(192, 0, 2, 7, 5080, "pbx.test"), udp(192, 0, 2, 8, 5080, "pbx.test")])
        var v6 = LocatorZone()
        v6.add("v6.test", .aaaa, [.address([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])])
        let six = v6.run(SIPServerLocator(host: "v6.test", port: 5060, transport: .udp, random: Self.first))
        #expect(six.questions == ["v6.test A", "v6.test AAAA"])
        #expect(six.targets.map { $0.peer.remote } == [SIPSocketAddress(literal: "2001:db8::1", port: 5060)!])
    }

    @Test("NAPTR by order and preference, SIP+D2U/D2T and SIPS+D2T with flag s, then SRV, then A")
    func naptrChain() {
        var zone = LocatorZone()
        zone.add(
            "pbx.test", .naptr,
            [
                .naming(order: 20, preference: 1, flags: "s", service: "SIP+D2U", regexp: "", replacement: "_sip._udp.pbx.test"),
                .naming(order: 10, preference: 2, flags: "S", service: "SIP+D2T", regexp: "", replacement: "_sip._tcp.pbx.test"),
                .naming(order: 10, preference: 1, flags: "s", service: "SIPS+D2T", regexp: "", replacement: "_sips._tcp.pbx.test"),
                .naming(order: 5, preference: 1, flags: "u", service: "SIP+D2U", regexp: "!.*!sip:x@y!", replacement: ""),
            ])
        zone.add("_sip._tcp.pbx.test", .srv, [.service(priority: 1, weight: 0, port: 5070, target: "sip1.pbx.test")])
        zone.add("_sip._udp.pbx.test", .srv, [.service(priority: 1, weight: 0, port: 5060, target: "sip2.pbx.test")])
        zone.add("sip1.pbx.test", .a, [.address([127, 0, 0, 2])])
        zone.add("sip2.pbx.test", .a, [.address([127, 0, 0, 3])])
        let result = zone.run(SIPServerLocator(host: "pbx.test", random: Self.first))
        // SIPS+D2T (order 10, preference 1) comes first; its SRV name has no records here.
        #expect(
            result.questions == [
                "pbx.test NAPTR", "_sips._tcp.pbx.test SRV", "_sip._tcp.pbx.test SRV", "sip1.pbx.test A",
                "_sip._udp.pbx.test SRV", "sip2.pbx.test A",
            ])
        #expect(result.targets == [tcp(127, 0, 0, 2, 5070, "sip1.pbx.test"), udp(127, 0, 0, 3, 5060, "sip2.pbx.test")])
    }

    @Test("no NAPTR: SRV for UDP then TCP (§4.1); a given transport asks only its SRV")
    func srvWithoutNAPTR() {
        var zone = LocatorZone()
        zone.add(
            "_sip._udp.pbx.test", .srv,
            [
                .service(priority: 2, weight: 0, port: 5062, target: "backup.pbx.test"),
                .service(priority: 1, weight: 0, port: 5061, target: "main.pbx.test"),
                .service(priority: 0, weight: 0, port: 0, target: ""),
            ])
        zone.add("main.pbx.test", .a, [.address([127, 0, 0, 2])])
        zone.add("backup.pbx.test", .a, [.address([127, 0, 0, 3])])
        let result = zone.run(SIPServerLocator(host: "pbx.test", random: Self.first))
        #expect(
            result.questions == [
                "pbx.test NAPTR", "_sip._udp.pbx.test SRV", "main.pbx.test A", "backup.pbx.test A",
                "_sip._tcp.pbx.test SRV",
            ])
        #expect(result.targets == [udp(127, 0, 0, 2, 5061, "main.pbx.test"), udp(127, 0, 0, 3, 5062, "backup.pbx.test")])
        let onlyTCP = zone.run(SIPServerLocator(host: "pbx.test", transport: .tcp, random: Self.first))
        #expect(onlyTCP.questions == ["_sip._tcp.pbx.test SRV", "pbx.test A", "pbx.test AAAA"])
        #expect(onlyTCP.targets.isEmpty)
    }

    @Test("no SRV at all: the name's A records on 5060; DNS failures count as no records")
    func fallback() {
        var zone = LocatorZone()
        zone.add("pbx.test", .a, [.address([192, 0, 2, 9])])
        zone.failing = ["pbx.test NAPTR"]
        var locator = SIPServerLocator(host: "pbx.test", random: Self.first)
        let result = zone.run(locator)
        #expect(
            result.questions == ["pbx.test NAPTR", "_sip._udp.pbx.test SRV", "_sip._tcp.pbx.test SRV", "pbx.test A"])
        #expect(result.targets == [udp(192, 0, 2, 9, 5060, "pbx.test")])
        // The notes say what happened, for the log.
        while case .query = locator.next() { locator.receive(.failure(DNSError("cannot resolve: timeout"))) }
        #expect(locator.notes.contains("cannot resolve: timeout"))
        // SRV records that all say "." (no service): no fallback to A (RFC 2782).
        var none = LocatorZone()
        none.add("_sip._udp.pbx.test", .srv, [.service(priority: 0, weight: 0, port: 0, target: "")])
        none.add("pbx.test", .a, [.address([192, 0, 2, 9])])
        #expect(none.run(SIPServerLocator(host: "pbx.test", transport: .udp, random: Self.first)).targets.isEmpty)
    }

    @Test("RFC 2782 weighted choice among equal priorities, with the random source injected")
    func weights() {
        typealias Service = (priority: UInt16, weight: UInt16, port: UInt16, target: String)
        let services: [Service] = [
            (1, 10, 5060, "a"), (1, 0, 5060, "zero"), (1, 30, 5060, "b"), (0, 5, 5060, "first"), (2, 1, 5060, "last"),
        ]
        // Priority 0, then 1: running sums over [zero 0, a 10, b 40]; pick 0 -> zero, then
        // [a 10, b 40]: pick 40 -> b, then a; then priority 2.
        var picks: [UInt32] = [0, 0, 40, 0, 0]
        let order = SIPServerLocator.order(services) { bound in
            let value = picks.removeFirst()
            #expect(value < bound)
            return value
        }
        #expect(order.map { $0.target } == ["first", "zero", "b", "a", "last"])
        // Over many draws with a fair source the weights show: b (30) first about 3 times as often as a (10).
        var state: UInt64 = 42
        var bFirst = 0
        for _ in 0..<4000 {
            let ordered = SIPServerLocator.order([(1, 10, 1, "a"), (1, 30, 1, "b")]) { bound in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt32(truncatingIfNeeded: state >> 33) % bound
            }
            if ordered.first?.target == "b" { bFirst += 1 }
        }
        #expect(bFirst > 2800 && bFirst < 3200)
    }

    @Test("a hostile zone: SRV records by the dozen that resolve to nothing stop at the question limit")
    func questionLimit() {
        var zone = LocatorZone()
        var many: [DNSRecord] = []
        for n in 0..<32 { many.append(.service(priority: 1, weight: 1, port: 5060, target: "n" + String(n) + ".test")) }
        zone.add("_sip._udp.pbx.test", .srv, many)
        let result = zone.run(SIPServerLocator(host: "pbx.test", transport: .udp, random: Self.first))
        #expect(result.questions.count == SIPServerLocator.questionLimit)
        #expect(result.targets.isEmpty)
    }
}
