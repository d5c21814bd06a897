// The libFuzzer entry for DNS answers (Tools/deskphone-fuzz, scripts/fuzz.sh); here because the
// parser is internal to the module. It traps (`fatalError`) only on a broken invariant, never on
// bad input.

/// DNS answers (RFC 1035 §4.1) as `DNSResolver` reads them, for A, AAAA, SRV and NAPTR queries
/// with the id the message carries: an address is 4 or 16 bytes and makes a socket address; an
/// SRV target or NAPTR replacement is a name of at most 255 bytes; a message with another id or
/// without the response bit is ignored. Then the input's text as a host name: a name that
/// encodes gives a query whose question a well-formed answer echoes, with an SRV record whose
/// target points back at the question (compression).
public func dnsFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let m = Array(bytes)
    let id: UInt16 = m.count >= 2 ? UInt16(m[0]) << 8 | UInt16(m[1]) : 0
    for type in [DNSRecordType.a, .aaaa, .srv, .naptr] {
        let answer = DNSMessage.parse(m, id: id, type: type)
        if case .records(let records, _) = answer {
            if records.isEmpty || records.count > DNSMessage.recordLimit { fatalError("DNS records count out of bounds") }
            for record in records { dnsFuzzCheck(record, type: type) }
        }
        if m.count >= 12 {
            if DNSMessage.parse(m, id: id &+ 1, type: type) != .ignore {
                fatalError("DNS answer with another id is not ignored")
            }
            var query = m
            query[2] &= 0x7F
            if DNSMessage.parse(query, id: id, type: type) != .ignore {
                fatalError("DNS message without the response bit is not ignored")
            }
        }
    }
    // A host name from the same bytes: its query, answered by a server that echoes the question.
    let name = String(decoding: bytes.prefix(300), as: UTF8.self)
    guard let encoded = DNSResolver.encodeName(name) else { return }
    if encoded.count > 255 { fatalError("DNS name of " + String(encoded.count) + " bytes on the wire") }
    var answer = DNSMessage.queryPacket(id: 0x1234, name: name, type: 28)
    answer[2] = 0x81
    answer[3] = 0x80
    answer[7] = 1
    answer += [0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16] + [UInt8](repeating: 0x20, count: 15) + [1]
    guard case .records(let records, let ttl) = DNSMessage.parse(answer, id: 0x1234, type: .aaaa),
        ttl == 60, records.count == 1, case .address(let address) = records[0], address.count == 16, address.last == 1
    else {
        fatalError("DNS answer to the query for '" + name + "' is not read")
    }
    var srv = DNSMessage.queryPacket(id: 0x4321, name: name, type: 33)
    srv[2] = 0x81
    srv[3] = 0x80
    srv[7] = 1
    srv += [0xC0, 12, 0, 33, 0, 1, 0, 0, 0, 5, 0, 8, 0, 10, 0, 20, 0x13, 0xC4, 0xC0, 12]
    guard case .records(let services, _) = DNSMessage.parse(srv, id: 0x4321, type: .srv),
        case .service(10, 20, 5060, let target) = services.first,
        DNSResolver.encodeName(target) == encoded
    else {
        fatalError("SRV answer for '" + name + "' with a compressed target is not read back")
    }
}

private func dnsFuzzCheck(_ record: DNSRecord, type: DNSRecordType) {
    switch record {
    case .address(let address):
        if type != .a && type != .aaaa { fatalError("DNS address for type " + type.description) }
        if address.count != (type == .a ? 4 : 16) {
            fatalError("DNS address of " + String(address.count) + " bytes for type " + type.description)
        }
        if SocketAddress(bytes: address, port: 80) == nil { fatalError("DNS address is not one") }
    case .service(_, _, _, let target):
        if type != .srv { fatalError("SRV record for type " + type.description) }
        if target.utf8.count > 255 { fatalError("SRV target of " + String(target.utf8.count) + " bytes") }
    case .naming(_, _, let flags, let service, let regexp, let replacement):
        if type != .naptr { fatalError("NAPTR record for type " + type.description) }
        if replacement.utf8.count > 255 { fatalError("NAPTR replacement of " + String(replacement.utf8.count) + " bytes") }
        for text in [flags, service, regexp] where text.utf8.count > 4 * 255 + 3 {
            fatalError("NAPTR text of " + String(text.utf8.count) + " bytes")
        }
    }
}
