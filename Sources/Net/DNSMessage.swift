// DNS messages (RFC 1035 §4.1): the query the resolver sends and the reading of answers, pure
// logic (bytes in, values out) shared by the resolver's UDP and TCP paths and the fuzz target.

/// The DNS record types the resolver asks for: A (RFC 1035 §3.2.2), AAAA (RFC 3596 §2.1), SRV
/// (RFC 2782) and NAPTR (RFC 3403 §4) for RFC 3263 server location.
public enum DNSRecordType: UInt16, Equatable, Sendable, CustomStringConvertible {
    case a = 1
    case aaaa = 28
    case srv = 33
    case naptr = 35

    public var description: String {
        switch self {
        case .a: return "A"
        case .aaaa: return "AAAA"
        case .srv: return "SRV"
        case .naptr: return "NAPTR"
        }
    }
}

/// One answer record the resolver understood (class IN). Names are as on the wire, without the
/// final dot; the root name (SRV "service not available", NAPTR "no replacement") is "".
public enum DNSRecord: Equatable, Sendable, CustomStringConvertible {
    /// An A (4 bytes) or AAAA (16 bytes) address in network order.
    case address([UInt8])
    /// SRV (RFC 2782): lower priority first; weight for the random choice among equal priorities.
    case service(priority: UInt16, weight: UInt16, port: UInt16, target: String)
    /// NAPTR (RFC 3403 §4.1): lower order first, then lower preference.
    case naming(order: UInt16, preference: UInt16, flags: String, service: String, regexp: String, replacement: String)

    public var description: String {
        switch self {
        case .address(let bytes):
            return SocketAddress(bytes: bytes, port: 0)?.plainHostText ?? "address of " + String(bytes.count) + " bytes"
        case .service(let priority, let weight, let port, let target):
            return "SRV " + String(priority) + " " + String(weight) + " " + String(port) + " " + target
        case .naming(let order, let preference, let flags, let service, _, let replacement):
            return "NAPTR " + String(order) + " " + String(preference) + " \"" + flags + "\" \"" + service + "\" "
                + replacement
        }
    }
}

/// What one DNS response says about the question asked.
enum DNSAnswer: Equatable {
    /// Not an answer to this query (wrong id, not a response): keep waiting.
    case ignore
    /// The records of the type asked for (at least one) and the smallest TTL among them, seconds.
    case records([DNSRecord], ttl: UInt32)
    /// The name exists but has no record of this type.
    case noData
    /// NXDOMAIN.
    case notFound
    /// TC set (RFC 1035 §4.2.1): ask again over TCP.
    case truncated
    /// The server failed (SERVFAIL, REFUSED, malformed): try the next one.
    case failed(String)
}

/// The wire format: query packets and the answer reader.
enum DNSMessage {
    /// At most this many records are taken from one answer.
    static let recordLimit = 32

    static func queryPacket(id: UInt16, name: String, type: UInt16) -> [UInt8] {
        var p: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        p += DNSResolver.encodeName(name) ?? [0]
        p += [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        return p
    }

    /// Reads a DNS response (RFC 1035 §4.1): the answer records of `type` with class IN (CNAMEs
    /// and other types are skipped).
    static func parse(_ m: [UInt8], id: UInt16, type wanted: DNSRecordType) -> DNSAnswer {
        guard m.count >= 12 else { return .ignore }
        guard UInt16(m[0]) << 8 | UInt16(m[1]) == id, m[2] & 0x80 != 0 else { return .ignore }
        if m[2] & 0x02 != 0 { return .truncated }
        let rcode = m[3] & 0x0f
        if rcode == 3 { return .notFound }
        if rcode != 0 { return .failed("DNS server error (rcode " + String(rcode) + ")") }
        let questions = Int(m[4]) << 8 | Int(m[5])
        let answers = Int(m[6]) << 8 | Int(m[7])
        var i = 12
        for _ in 0..<questions {
            guard let next = skipName(m, i), next + 4 <= m.count else { return .failed("malformed DNS answer") }
            i = next + 4
        }
        var records: [DNSRecord] = []
        var ttl = UInt32.max
        for _ in 0..<answers {
            guard let next = skipName(m, i), next + 10 <= m.count else { return .failed("malformed DNS answer") }
            let rtype = UInt16(m[next]) << 8 | UInt16(m[next + 1])
            let rclass = UInt16(m[next + 2]) << 8 | UInt16(m[next + 3])
            let recordTTL = UInt32(m[next + 4]) << 24 | UInt32(m[next + 5]) << 16 | UInt32(m[next + 6]) << 8
                | UInt32(m[next + 7])
            let length = Int(m[next + 8]) << 8 | Int(m[next + 9])
            let data = next + 10
            let end = data + length
            guard end <= m.count else { return .failed("malformed DNS answer") }
            i = end
            guard rtype == wanted.rawValue && rclass == 1 else { continue }
            guard let record = readRecord(m, type: wanted, from: data, to: end) else {
                return .failed("malformed " + wanted.description + " record in DNS answer")
            }
            if records.count < recordLimit { records.append(record) }
            // RFC 2181 §8: a TTL with the top bit set counts as 0.
            ttl = min(ttl, recordTTL & 0x8000_0000 != 0 ? 0 : recordTTL)
        }
        return records.isEmpty ? .noData : .records(records, ttl: ttl)
    }

    /// The RDATA at `data..<end` as a record of `type`, nil when malformed.
    static func readRecord(_ m: [UInt8], type: DNSRecordType, from data: Int, to end: Int) -> DNSRecord? {
        switch type {
        case .a, .aaaa:
            guard end - data == (type == .a ? 4 : 16) else { return nil }
            return .address(Array(m[data..<end]))
        case .srv:
            guard end - data >= 7, let (target, after) = readName(m, data + 6), after <= end else { return nil }
            return .service(
                priority: uint16(m, data), weight: uint16(m, data + 2), port: uint16(m, data + 4), target: target)
        case .naptr:
            guard end - data >= 7 else { return nil }
            var i = data + 4
            var texts: [String] = []
            for _ in 0..<3 {
                guard i < end, i + 1 + Int(m[i]) <= end else { return nil }
                let count = Int(m[i])
                texts.append(ASCIIText.printable(m[(i + 1)..<(i + 1 + count)]))
                i += 1 + count
            }
            guard let (replacement, after) = readName(m, i), after <= end else { return nil }
            return .naming(
                order: uint16(m, data), preference: uint16(m, data + 2), flags: texts[0], service: texts[1],
                regexp: texts[2], replacement: replacement)
        }
    }

    static func uint16(_ m: [UInt8], _ i: Int) -> UInt16 { UInt16(m[i]) << 8 | UInt16(m[i + 1]) }

    /// The index after a (possibly compressed) name at `i`, nil when malformed.
    static func skipName(_ m: [UInt8], _ start: Int) -> Int? {
        var i = start
        var labels = 0
        while i < m.count {
            let length = m[i]
            if length == 0 { return i + 1 }
            if length & 0xC0 == 0xC0 { return i + 2 <= m.count ? i + 2 : nil }  // pointer ends the name here
            if length & 0xC0 != 0 { return nil }
            i += 1 + Int(length)
            labels += 1
            if labels > 127 { return nil }
        }
        return nil
    }

    /// The name at `start` (labels joined by dots, compression pointers followed) and the index
    /// after it in the record; nil when malformed. Every pointer must point before the previous
    /// jump, so a loop cannot be followed; a name over 255 bytes is refused (RFC 1035 §3.1).
    static func readName(_ m: [UInt8], _ start: Int) -> (String, Int)? {
        var i = start
        var end: Int? = nil
        var out: [UInt8] = []
        var wireLength = 1
        var bound = start
        while i < m.count {
            let length = Int(m[i])
            if length == 0 {
                return (String(decoding: out, as: UTF8.self), end ?? i + 1)
            }
            if length & 0xC0 == 0xC0 {
                guard i + 1 < m.count else { return nil }
                let target = (length & 0x3F) << 8 | Int(m[i + 1])
                // Each pointer must point before the previous one's target (and before the
                // name's start): the jumps go strictly backwards, so no loop can be followed.
                guard target < min(i, bound) else { return nil }
                if end == nil { end = i + 2 }
                bound = target
                i = target
                continue
            }
            guard length & 0xC0 == 0, i + 1 + length <= m.count else { return nil }
            wireLength += 1 + length
            guard wireLength <= 255 else { return nil }
            if !out.isEmpty { out.append(46) }
            for c in m[(i + 1)..<(i + 1 + length)] {
                // Keep names printable in log lines; a byte that a host name cannot hold becomes '?'
                // (the name then fails `DNSResolver.encodeName` when it is looked up).
                out.append(c > 32 && c < 127 && c != 46 ? c : 63)
            }
            i += 1 + length
        }
        return nil
    }
}
