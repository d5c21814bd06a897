// libFuzzer entries for what the record path reads from the network: HTTP responses (and record
// URLs), DNS answers and the server's <YealinkIPPhoneText> body. Tools/deskphone-fuzz calls them
// (scripts/fuzz.sh); they live here because the parsers are internal to the module. Each feeds
// arbitrary bytes to a parser and traps (`fatalError`) only on a broken invariant, never on bad
// input.

import SIP

/// A deterministic stream of split sizes drawn from the input itself (FNV-1a seed, xorshift), so
/// one input always replays the same way.
struct FuzzSplits {
    private var state: UInt64

    init(_ bytes: UnsafeRawBufferPointer) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        state = h | 1
    }

    /// The next chunk length, 1...limit.
    mutating func next(_ limit: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return 1 + Int(state % UInt64(max(1, limit)))
    }
}

/// HTTP response parser (RFC 9112): the whole input in one piece and again in random splits must
/// give the same outcome and the same response; a complete response respects the limits. Then
/// the input as a record URL: a URL that parses prints as a URL that parses to the same value.
public func httpFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let whole = httpFuzzParse(bytes, splits: nil)
    var splits = FuzzSplits(bytes)
    let split = httpFuzzParse(bytes, splits: &splits)
    if whole.progress != split.progress {
        fatalError(
            "HTTP outcome depends on the split: " + httpFuzzDescribe(whole.progress) + " vs "
                + httpFuzzDescribe(split.progress))
    }
    if whole.progress == .complete {
        let a = whole.parser
        let b = split.parser
        if a.status != b.status || a.reason != b.reason || a.body != b.body || a.headers.count != b.headers.count {
            fatalError(
                "HTTP response depends on the split: " + a.response.description + " vs " + b.response.description)
        }
        for (x, y) in zip(a.headers, b.headers) where x.name != y.name || x.value != y.value {
            fatalError("HTTP header depends on the split: " + x.name + " vs " + y.name)
        }
        if a.status < 200 || a.status > 999 { fatalError("HTTP final status " + String(a.status)) }
        if a.body.count > a.limits.bodyBytes { fatalError("HTTP body over the limit: " + String(a.body.count)) }
        if a.headers.count > a.limits.headerCount { fatalError("HTTP header count over the limit") }
        _ = a.response.header("content-type")
        _ = a.response.description
    }
    // Record URLs come from provisioning, but the same bytes are a cheap second parser to try.
    if bytes.count <= HTTPURL.maximumLength + 16 {
        httpURLFuzz(String(decoding: bytes, as: UTF8.self))
    }
}

private func httpFuzzParse(_ bytes: UnsafeRawBufferPointer, splits: UnsafeMutablePointer<FuzzSplits>?)
    -> (progress: HTTPResponseParser.Progress, parser: HTTPResponseParser)
{
    var parser = HTTPResponseParser()
    var progress = HTTPResponseParser.Progress.incomplete
    var i = 0
    while i < bytes.count && progress == .incomplete {
        let n = splits.map { min(bytes.count - i, $0.pointee.next(64)) } ?? bytes.count
        progress = parser.append(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + n)]))
        i += n
    }
    if progress == .incomplete { progress = parser.finish() }
    // After the end, more bytes or another end change nothing.
    let again = parser.finish()
    if again != progress { fatalError("HTTP finish() changed the outcome: " + httpFuzzDescribe(again)) }
    return (progress, parser)
}

private func httpFuzzDescribe(_ p: HTTPResponseParser.Progress) -> String {
    switch p {
    case .incomplete: return "incomplete"
    case .complete: return "complete"
    case .failed(let why): return "failed(" + why + ")"
    }
}

private func httpURLFuzz(_ text: String) {
    guard case .success(let url) = HTTPURL.parse(text) else { return }
    let printed = url.description
    guard case .success(let again) = HTTPURL.parse(printed) else {
        fatalError("record URL prints as one that does not parse: " + printed)
    }
    if again != url { fatalError("record URL changes on a round trip: " + printed + " -> " + again.description) }
    if url.target.utf8.first != 47 { fatalError("record URL target does not start with '/': " + url.target) }
    for b in url.target.utf8 where b <= 32 || b >= 127 {
        fatalError("record URL target has an unencoded byte: " + printed)
    }
    if (url.address == nil) == (url.hostName == nil) { fatalError("record URL has both or neither host kinds") }
}

/// DNS answers (RFC 1035 §4.1) as `HTTPHostResolver` reads them, for an A and an AAAA query with
/// the id the message carries: an address is 4 or 16 bytes and makes a socket address; a message
/// with another id or without the response bit is ignored. Then the input's text as a host name:
/// a name that encodes gives a query whose question a well-formed answer echoes.
public func dnsFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let m = Array(bytes)
    let id: UInt16 = m.count >= 2 ? UInt16(m[0]) << 8 | UInt16(m[1]) : 0
    for type: UInt16 in [1, 28] {
        let answer = HTTPHostResolver.parseAnswer(m, id: id, type: type)
        if case .address(let address) = answer {
            if address.count != (type == 1 ? 4 : 16) {
                fatalError("DNS address of " + String(address.count) + " bytes for type " + String(type))
            }
            if SIPSocketAddress(bytes: address, port: 80) == nil { fatalError("DNS address is not one") }
        }
        if m.count >= 12 {
            if HTTPHostResolver.parseAnswer(m, id: id &+ 1, type: type) != .ignore {
                fatalError("DNS answer with another id is not ignored")
            }
            var query = m
            query[2] &= 0x7F
            if HTTPHostResolver.parseAnswer(query, id: id, type: type) != .ignore {
                fatalError("DNS message without the response bit is not ignored")
            }
        }
    }
    // A host name from the same bytes: its query, answered by a server that echoes the question.
    let name = String(decoding: bytes.prefix(300), as: UTF8.self)
    guard let encoded = HTTPHostResolver.encodeName(name) else { return }
    if encoded.count > 255 { fatalError("DNS name of " + String(encoded.count) + " bytes on the wire") }
    var answer = HTTPHostResolver.queryPacket(id: 0x1234, name: name, type: 28)
    answer[2] = 0x81
    answer[3] = 0x80
    answer[7] = 1
    answer += [0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16] + [UInt8](repeating: 0x20, count: 15) + [1]
    guard case .address(let address) = HTTPHostResolver.parseAnswer(answer, id: 0x1234, type: 28),
        address.count == 16, address.last == 1
    else {
        fatalError("DNS answer to the query for '" + name + "' is not read")
    }
}

/// `<YealinkIPPhoneText>` bodies: the text found is at most `maximumLength` scalars, has no
/// control characters, no leading, trailing or double spaces, and reads back the same when
/// wrapped (escaped) in a minimal object of its own.
public func phoneTextFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    guard let text = PhoneTextXML.text(in: Array(bytes)) else { return }
    var count = 0
    var previousSpace = false
    for scalar in text.unicodeScalars {
        let v = scalar.value
        if v < 32 || (v >= 0x7F && v < 0xA0) { fatalError("phone text has control character " + String(v)) }
        if v == 32 && (count == 0 || previousSpace) { fatalError("phone text has a leading or double space") }
        previousSpace = v == 32
        count += 1
    }
    if previousSpace { fatalError("phone text ends in a space") }
    if count > PhoneTextXML.maximumLength { fatalError("phone text of " + String(count) + " scalars") }
    var wrapped = Array("<YealinkIPPhoneText><Text>".utf8)
    for b in text.utf8 {
        switch b {
        case 38: wrapped += Array("&amp;".utf8)
        case 60: wrapped += Array("&lt;".utf8)
        default: wrapped.append(b)
        }
    }
    wrapped += Array("</Text></YealinkIPPhoneText>".utf8)
    guard let again = PhoneTextXML.text(in: wrapped), again == text else {
        fatalError("phone text does not read back: '" + text + "'")
    }
}
