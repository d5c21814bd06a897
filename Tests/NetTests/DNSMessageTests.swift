import Testing

@testable import Net

/// DNS answers built byte by byte (RFC 1035 §4.1): the question echoed, then answer records
/// whose owner name points at the question (0xC00C).
struct CraftedAnswer {
    var bytes: [UInt8]

    init(id: UInt16 = 0x2A2A, name: String, type: UInt16, flags: UInt8 = 0x81, rcode: UInt8 = 0) {
        bytes = DNSMessage.queryPacket(id: id, name: name, type: type)
        bytes[2] = flags
        bytes[3] = 0x80 | rcode
    }

    /// Adds an answer record (owner: the question's name) and counts it in the header.
    mutating func add(type: UInt16, ttl: UInt32 = 300, _ rdata: [UInt8]) {
        bytes += [0xC0, 12, UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        bytes += [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xff), UInt8(ttl >> 8 & 0xff), UInt8(ttl & 0xff)]
        bytes += [UInt8(rdata.count >> 8), UInt8(rdata.count & 0xff)] + rdata
        let count = (Int(bytes[6]) << 8 | Int(bytes[7])) + 1
        bytes[6] = UInt8(count >> 8)
        bytes[7] = UInt8(count & 0xff)
    }

    static func srv(_ priority: UInt16, _ weight: UInt16, _ port: UInt16, _ target: [UInt8]) -> [UInt8] {
        [UInt8(priority >> 8), UInt8(priority & 0xff), UInt8(weight >> 8), UInt8(weight & 0xff)]
            + [UInt8(port >> 8), UInt8(port & 0xff)] + target
    }

    static func text(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }
}

@Suite("DNS answers: SRV, NAPTR, compression, bad input, the TTL cache")
struct DNSMessageTests {
    @Test("SRV records with plain and compressed targets, the smallest TTL")
    func srv() throws {
        var answer = CraftedAnswer(name: "_sip._udp.pbx.test", type: 33)
        answer.add(type: 33, ttl: 600, CraftedAnswer.srv(10, 60, 5060, DNSResolver.encodeName("sip1.pbx.test")!))
        // "sip2" + a pointer to "pbx.test" inside the question (offset 12 + 10 = 22).
        answer.add(type: 33, ttl: 120, CraftedAnswer.srv(20, 0, 5070, [4] + Array("sip2".utf8) + [0xC0, 22]))
        answer.add(type: 33, ttl: 60, CraftedAnswer.srv(0, 0, 0, [0]))  // "." : no service here
        answer.add(type: 5, ttl: 1, DNSResolver.encodeName("other.test")!)  // a CNAME: skipped, TTL unused
        let parsed = DNSMessage.parse(answer.bytes, id: 0x2A2A, type: .srv)
        #expect(
            parsed
                == .records(
                    [
                        .service(priority: 10, weight: 60, port: 5060, target: "sip1.pbx.test"),
                        .service(priority: 20, weight: 0, port: 5070, target: "sip2.pbx.test"),
                        .service(priority: 0, weight: 0, port: 0, target: ""),
                    ], ttl: 60))
    }

    @Test("NAPTR records (RFC 3403 §4.1) with their texts and replacement")
    func naptr() {
        var answer = CraftedAnswer(name: "pbx.test", type: 35)
        let replacement = DNSResolver.encodeName("_sip._tcp.pbx.test")!
        answer.add(
            type: 35,
            [0, 20, 0, 5] + CraftedAnswer.text("S") + CraftedAnswer.text("SIP+D2T") + CraftedAnswer.text("")
                + replacement)
        answer.add(
            type: 35,
            [0, 10, 0, 1] + CraftedAnswer.text("s") + CraftedAnswer.text("SIP+D2U") + CraftedAnswer.text("")
                + [4] + Array("_sip".utf8) + [0xC0, 12])
        guard case .records(let records, _) = DNSMessage.parse(answer.bytes, id: 0x2A2A, type: .naptr) else {
            Issue.record("not read")
            return
        }
        #expect(records.count == 2)
        #expect(
            records.first
                == .naming(
                    order: 20, preference: 5, flags: "S", service: "SIP+D2T", regexp: "", replacement: "_sip._tcp.pbx.test"
                ))
        #expect(
            records.last
                == .naming(order: 10, preference: 1, flags: "s", service: "SIP+D2U", regexp: "", replacement: "_sip.pbx.test"))
    }

    @Test("compression loops, pointers forward, names over 255 bytes: refused, never a hang")
    func compressionLoops() {
        // A pointer to itself: offset of the target = where the pointer is.
        var selfLoop = CraftedAnswer(name: "pbx.test", type: 33)
        let at = selfLoop.bytes.count + 12 + 6  // owner(2) type class ttl len(10) + 6 bytes of SRV fields
        selfLoop.add(type: 33, CraftedAnswer.srv(1, 1, 5060, [0xC0 | UInt8(at >> 8), UInt8(at & 0xff)]))
        #expect(DNSMessage.parse(selfLoop.bytes, id: 0x2A2A, type: .srv) == .failed("malformed SRV record in DNS answer"))
        // Two pointers sending each other back and forth: a label, then a pointer back to it.
        var pingPong = CraftedAnswer(name: "pbx.test", type: 33)
        let start = pingPong.bytes.count + 12 + 6
        pingPong.add(type: 33, CraftedAnswer.srv(1, 1, 5060, [1, 65, 0xC0 | UInt8(start >> 8), UInt8(start & 0xff)]))
        #expect(DNSMessage.readName(pingPong.bytes, start) == nil)
        #expect(DNSMessage.parse(pingPong.bytes, id: 0x2A2A, type: .srv) == .failed("malformed SRV record in DNS answer"))
        // A pointer forward (past itself) is refused too.
        #expect(DNSMessage.readName([0xC0, 4, 0, 0, 1, 65, 0], 0) == nil)
        // 5 labels of 63 bytes: over 255 on the wire.
        var long: [UInt8] = []
        for _ in 0..<5 { long += [63] + [UInt8](repeating: 97, count: 63) }
        #expect(DNSMessage.readName(long + [0], 0) == nil)
        #expect(DNSMessage.readName([3, 97, 98, 99, 0], 0)?.0 == "abc")
    }

    @Test("wrong id, not a response, truncated (TC), short records, NXDOMAIN, SERVFAIL")
    func badAnswers() {
        var answer = CraftedAnswer(name: "pbx.test", type: 1)
        answer.add(type: 1, [192, 0, 2, 7])
        #expect(DNSMessage.parse(answer.bytes, id: 0x2A2A, type: .a) == .records([.address([192, 0, 2, 7])], ttl: 300))
        #expect(DNSMessage.parse(answer.bytes, id: 0x2A2B, type: .a) == .ignore)
        var query = answer.bytes
        query[2] = 0x01
        #expect(DNSMessage.parse(query, id: 0x2A2A, type: .a) == .ignore)
        var tc = answer.bytes
        tc[2] |= 0x02
        #expect(DNSMessage.parse(tc, id: 0x2A2A, type: .a) == .truncated)
        // The message cut in the middle of the record: malformed, not a crash.
        for cut in 12..<answer.bytes.count {
            let parsed = DNSMessage.parse(Array(answer.bytes[0..<cut]), id: 0x2A2A, type: .a)
            #expect(parsed == .failed("malformed DNS answer"))
        }
        // An SRV record of 5 bytes, a NAPTR whose text runs past the record.
        var short = CraftedAnswer(name: "pbx.test", type: 33)
        short.add(type: 33, [0, 1, 0, 1, 0])
        #expect(DNSMessage.parse(short.bytes, id: 0x2A2A, type: .srv) == .failed("malformed SRV record in DNS answer"))
        var naptr = CraftedAnswer(name: "pbx.test", type: 35)
        naptr.add(type: 35, [0, 1, 0, 1, 200, 65, 66, 0])
        #expect(
            DNSMessage.parse(naptr.bytes, id: 0x2A2A, type: .naptr) == .failed("malformed NAPTR record in DNS answer"))
        #expect(DNSMessage.parse(CraftedAnswer(name: "x.test", type: 1, rcode: 3).bytes, id: 0x2A2A, type: .a) == .notFound)
        #expect(
            DNSMessage.parse(CraftedAnswer(name: "x.test", type: 1, rcode: 2).bytes, id: 0x2A2A, type: .a)
                == .failed("DNS server error (rcode 2)"))
        #expect(DNSMessage.parse(CraftedAnswer(name: "x.test", type: 1).bytes, id: 0x2A2A, type: .a) == .noData)
    }

    @Test("absurd TTLs are clamped; the cache is bounded; expired answers go")
    func cache() {
        let second: Int64 = 1_000_000_000
        var cache = DNSCache(capacity: 3, maximumTTL: 3600)
        let name = DNSResolver.encodeName("pbx.test")!
        let records: [DNSRecord] = [.address([192, 0, 2, 1])]
        // 0x7FFFFFFF s (68 years) is kept one hour.
        cache.insert(name, type: .a, records, ttl: 0x7FFF_FFFF, now: 0)
        #expect(cache.lookUp(name, type: .a, now: 3599 * second) == records)
        #expect(cache.lookUp(name, type: .a, now: 3600 * second) == nil)
        #expect(cache.count == 0)
        // A TTL with the top bit set reads as 0 (RFC 2181 §8): not cached.
        var answer = CraftedAnswer(name: "pbx.test", type: 1)
        answer.add(type: 1, ttl: 0xFFFF_FFFF, [192, 0, 2, 7])
        #expect(DNSMessage.parse(answer.bytes, id: 0x2A2A, type: .a) == .records([.address([192, 0, 2, 7])], ttl: 0))
        cache.insert(name, type: .a, records, ttl: 0, now: 0)
        #expect(cache.count == 0)
        // Full: the entry expiring soonest makes room; the type is part of the key.
        cache.insert(Array("a".utf8), type: .a, records, ttl: 30, now: 0)
        cache.insert(Array("b".utf8), type: .a, records, ttl: 10, now: 0)
        cache.insert(Array("c".utf8), type: .a, records, ttl: 20, now: 0)
        cache.insert(Array("d".utf8), type: .a, records, ttl: 40, now: 0)
        #expect(cache.count == 3)
        #expect(cache.lookUp(Array("b".utf8), type: .a, now: 0) == nil)
        #expect(cache.lookUp(Array("a".utf8), type: .a, now: 0) == records)
        #expect(cache.lookUp(Array("a".utf8), type: .srv, now: 0) == nil)
    }

    @Test("name servers from provisioning text: address, address:port, [v6]:port")
    func nameserverText() {
        #expect(DNSResolver.nameserver("192.0.2.53") == SocketAddress(ipv4: 192, 0, 2, 53, port: 53))
        #expect(DNSResolver.nameserver("127.0.0.1:5353") == SocketAddress(ipv4: 127, 0, 0, 1, port: 5353))
        #expect(DNSResolver.nameserver("[::1]:5353") == SocketAddress(literal: "::1", port: 5353))
        #expect(DNSResolver.nameserver("2001:db8::35") == SocketAddress(literal: "2001:db8::35", port: 53))
        #expect(DNSResolver.nameserver("dns.example") == nil)
        #expect(DNSResolver.nameserver("127.0.0.1:0") == nil)
        #expect(DNSResolver.nameserver("127.0.0.1:99999") == nil)
    }
}
