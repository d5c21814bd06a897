// The libFuzzer entry for DNS answers (Tools/deskphone-fuzz, scripts/fuzz.sh); here because the
// parser is internal to the module. It traps (`fatalError`) only on a broken invariant, never on
// bad input.

/// DNS answers (RFC 1035 §4.1) as `DNSResolver` reads them, for an A and an AAAA query with
/// the id the message carries: an address is 4 or 16 bytes and makes a socket address; a message
/// with another id or without the response bit is ignored. Then the input's text as a host name:
/// a name that encodes gives a query whose question a well-formed answer echoes.
public func dnsFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let m = Array(bytes)
    let id: UInt16 = m.count >= 2 ? UInt16(m[0]) << 8 | UInt16(m[1]) : 0
    for type in [DNSRecordType.a, .aaaa] {
        let answer = DNSResolver.parseAnswer(m, id: id, type: type)
        if case .record(.address(let address)) = answer {
            if address.count != (type == .a ? 4 : 16) {
                fatalError("DNS address of " + String(address.count) + " bytes for type " + String(type.rawValue))
            }
            if SocketAddress(bytes: address, port: 80) == nil { fatalError("DNS address is not one") }
        }
        if m.count >= 12 {
            if DNSResolver.parseAnswer(m, id: id &+ 1, type: type) != .ignore {
                fatalError("DNS answer with another id is not ignored")
            }
            var query = m
            query[2] &= 0x7F
            if DNSResolver.parseAnswer(query, id: id, type: type) != .ignore {
                fatalError("DNS message without the response bit is not ignored")
            }
        }
    }
    // A host name from the same bytes: its query, answered by a server that echoes the question.
    let name = String(decoding: bytes.prefix(300), as: UTF8.self)
    guard let encoded = DNSResolver.encodeName(name) else { return }
    if encoded.count > 255 { fatalError("DNS name of " + String(encoded.count) + " bytes on the wire") }
    var answer = DNSResolver.queryPacket(id: 0x1234, name: name, type: 28)
    answer[2] = 0x81
    answer[3] = 0x80
    answer[7] = 1
    answer += [0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16] + [UInt8](repeating: 0x20, count: 15) + [1]
    guard case .record(.address(let address)) = DNSResolver.parseAnswer(answer, id: 0x1234, type: .aaaa),
        address.count == 16, address.last == 1
    else {
        fatalError("DNS answer to the query for '" + name + "' is not read")
    }
}
