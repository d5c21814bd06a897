// The libFuzzer entry for HTTP responses and record URLs (Tools/deskphone-fuzz, scripts/fuzz.sh);
// here because the parsers are internal to the module. It traps (`fatalError`) only on a broken
// invariant, never on bad input.

/// A deterministic stream of split sizes drawn from the input itself (FNV-1a seed, xorshift), so
/// one input always replays the same way.
public struct FuzzSplits {
    private var state: UInt64

    public init(_ bytes: UnsafeRawBufferPointer) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        state = h | 1
    }

    /// The next chunk length, 1...limit.
    public mutating func next(_ limit: Int) -> Int {
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
    if url.serverName.isEmpty { fatalError("URL without a name for the certificate check: " + printed) }
    if !printed.hasPrefix(url.origin) { fatalError("URL origin is not its prefix: " + printed) }
}
