// The SIP message parser (RFC 3261 §7, §7.3.1 folding, §7.5 framing, §18.3 datagram
// Content-Length, §25 grammar). Works on raw bytes: one pass to find lines, typed parsing of
// the core headers, every other header kept as (name, value) text.

extension SIPMessage {
    /// Parses one whole message (a datagram or a framed stream message). A Content-Length
    /// larger than the bytes after the headers is an error; a smaller one truncates the body
    /// (RFC 3261 §18.3); without Content-Length the body is the rest.
    public static func parse(_ bytes: [UInt8]) throws(SIPError) -> SIPMessage {
        let result: Result<SIPMessage, SIPError> = bytes.withUnsafeBytes { p in
            do throws(SIPError) {
                return .success(try SIPMessageParser.parse(p))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let m): return m
        case .failure(let e): throw e
        }
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SIPError) -> SIPMessage {
        try SIPMessageParser.parse(bytes)
    }
}

/// The byte-level message parser (RFC 3261 §7, §25).
enum SIPMessageParser {
    /// Largest Content-Length accepted (bodies of a phone are small; this bounds arithmetic).
    static let maxContentLength = 0x7FFF_FFFF

    static func parse(_ p: UnsafeRawBufferPointer) throws(SIPError) -> SIPMessage {
        do throws(SIPError) {
            return try parseMessage(p)
        } catch {
            // Nobody answers a broken response: it is dropped (RFC 3261 §18.1.2).
            if error.status != nil && startsWithVersion(p) { throw SIPError(error.message, status: nil) }
            throw error
        }
    }

    /// True when the first line (after leading CRLFs) begins with `SIP/`: a response.
    static func startsWithVersion(_ p: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < p.count && (p[i] == 0x0D || p[i] == 0x0A) { i += 1 }
        return p.count - i >= 4 && SIPBytes.equalsLower(SIPBytes.slice(p, i, i + 4), "sip/")
    }

    static func parseMessage(_ p: UnsafeRawBufferPointer) throws(SIPError) -> SIPMessage {
        let n = p.count
        var i = 0
        // RFC 3261 §7.5: CRLFs before the start line are ignored.
        while i < n && (p[i] == 0x0D || p[i] == 0x0A) { i += 1 }
        guard i < n else { throw SIPError("empty message", status: nil) }

        // Start line
        var lineEnd = i
        while lineEnd < n && p[lineEnd] != 0x0A { lineEnd += 1 }
        guard lineEnd < n else { throw SIPError("message has no line end after the start line", status: nil) }
        var contentEnd = lineEnd
        if contentEnd > i && p[contentEnd - 1] == 0x0D { contentEnd -= 1 }
        let startLine = try parseStartLine(SIPBytes.slice(p, i, contentEnd))
        let isRequest: Bool
        if case .request = startLine { isRequest = true } else { isRequest = false }
        i = lineEnd + 1

        var fields: [SIPHeaderField] = []
        fields.reserveCapacity(16)
        var vias: [SIPVia] = []
        var from: SIPNameAddress? = nil
        var to: SIPNameAddress? = nil
        var callID: String? = nil
        var cseq: SIPCSeq? = nil
        var contentLength: Int? = nil
        var seenLow: UInt64 = 0
        var seenHigh: UInt64 = 0
        var lineNumber = 1
        var foldBuffer: [UInt8] = []

        // Header lines
        while true {
            guard i < n else {
                throw SIPError("headers are not terminated by an empty line")
            }
            lineNumber += 1
            // Empty line: end of headers.
            if p[i] == 0x0A {
                i += 1
                break
            }
            if p[i] == 0x0D {
                guard i + 1 < n && p[i + 1] == 0x0A else { throw SIPError("bare CR at line \(lineNumber)") }
                i += 2
                break
            }
            if SIPBytes.isWS(p[i]) {
                throw SIPError("line \(lineNumber) starts with whitespace but continues no header")
            }
            // Header name
            let nameStart = i
            while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
            let nameEnd = i
            while i < n && SIPBytes.isWS(p[i]) { i += 1 }
            guard i < n && p[i] == 0x3A && nameEnd > nameStart else {
                var e = nameStart
                while e < n && e < nameStart + 40 && p[e] != 0x0D && p[e] != 0x0A { e += 1 }
                throw SIPError(
                    "malformed header line \(lineNumber) '\(SIPBytes.string(SIPBytes.slice(p, nameStart, e)))'")
            }
            let nameBytes = SIPBytes.slice(p, nameStart, nameEnd)
            i += 1
            // Value: this line and any continuation lines (folding, §7.3.1).
            var valueStart = i
            var valueEnd = i
            var folded = false
            var nonASCII = false
            while true {
                // Scan one physical line from i.
                var j = i
                while true {
                    guard j < n else { throw SIPError("headers are not terminated by an empty line") }
                    let b = p[j]
                    if b >= 0x20 {
                        if b >= 0x7F {
                            if b == 0x7F && !(j > i && p[j - 1] == 0x5C) { throw controlCharacter(b, nameBytes) }
                            nonASCII = true
                        }
                        j += 1
                        continue
                    }
                    if b == 0x09 {
                        j += 1
                        continue
                    }
                    if b == 0x0A || (b == 0x0D && j + 1 < n && p[j + 1] == 0x0A) { break }
                    // A control character is only legal as a quoted-pair (RFC 3261 §25.1).
                    if b != 0x0D && j > i && p[j - 1] == 0x5C {
                        j += 1
                        continue
                    }
                    throw controlCharacter(b, nameBytes)
                }
                let physicalEnd = j
                let next = p[j] == 0x0D ? j + 2 : j + 1
                let continues = next < n && SIPBytes.isWS(p[next])
                if !folded && !continues {
                    valueEnd = physicalEnd
                    i = next
                    break
                }
                if !folded {
                    folded = true
                    foldBuffer.removeAll(keepingCapacity: true)
                }
                let piece = SIPBytes.trimmed(SIPBytes.slice(p, i, physicalEnd))
                if !piece.isEmpty {
                    if !foldBuffer.isEmpty { foldBuffer.append(0x20) }
                    foldBuffer.append(contentsOf: piece)
                }
                i = next
                lineNumber += continues ? 1 : 0
                if !continues { break }
            }
            var valueBytes = SIPBytes.slice(p, 0, 0)
            var value: String
            if folded {
                value = String(decoding: foldBuffer, as: UTF8.self)
                valueStart = 0
                valueEnd = 0
                if nonASCII {
                    let ok = foldBuffer.withUnsafeBytes { SIPBytes.isValidUTF8($0) }
                    guard ok else { throw SIPError("header \(SIPBytes.string(nameBytes)) is not valid UTF-8") }
                }
            } else {
                valueBytes = SIPBytes.trimmed(SIPBytes.slice(p, valueStart, valueEnd))
                if nonASCII && !SIPBytes.isValidUTF8(valueBytes) {
                    throw SIPError("header \(SIPBytes.string(nameBytes)) is not valid UTF-8")
                }
                value = SIPBytes.string(valueBytes)
            }

            let id = SIPHeaderName.lookup(nameBytes)
            if id != .other {
                // Duplicate single-value headers (RFC 3261 §7.3.1).
                let bit = UInt64(1) << UInt64(id.rawValue & 63)
                let seen = id.rawValue < 64 ? seenLow & bit != 0 : seenHigh & bit != 0
                if seen && id.isSingle {
                    throw SIPError("more than one \(id.canonical) header")
                }
                if id.rawValue < 64 { seenLow |= bit } else { seenHigh |= bit }
            }
            do throws(SIPError) {
                switch id {
                // Unfolded values are parsed straight from the message bytes.
                case .via:
                    if folded {
                        try withValueBytes(value) { q throws(SIPError) in try appendVias(q, to: &vias) }
                    } else {
                        try appendVias(valueBytes, to: &vias)
                    }
                case .from:
                    from =
                        folded
                        ? try withValueBytes(value) { q throws(SIPError) in try SIPNameAddress.parse(q) }
                        : try SIPNameAddress.parse(valueBytes)
                case .to:
                    to =
                        folded
                        ? try withValueBytes(value) { q throws(SIPError) in try SIPNameAddress.parse(q) }
                        : try SIPNameAddress.parse(valueBytes)
                case .callID:
                    guard isCallID(value) else { throw SIPError("invalid Call-ID '\(value)'") }
                    callID = value
                case .cseq:
                    cseq =
                        folded
                        ? try withValueBytes(value) { q throws(SIPError) in try SIPCSeq.parse(q) }
                        : try SIPCSeq.parse(valueBytes)
                case .contentLength:
                    guard let cl = SIPBytes.number(value, limit: maxContentLength) else {
                        throw SIPError("invalid Content-Length '\(value)'")
                    }
                    contentLength = cl
                    continue
                case .other:
                    break
                default:
                    try validate(id, value)
                }
            } catch {
                let name = id == .other ? SIPBytes.string(nameBytes) : id.canonical
                throw error.inHeader(name)
            }
            fields.append(
                SIPHeaderField(id: id, name: id == .other ? SIPBytes.string(nameBytes) : id.canonical, value: value))
        }

        guard !vias.isEmpty else { throw SIPError("missing Via header") }
        guard let from else { throw SIPError("missing From header") }
        guard let to else { throw SIPError("missing To header") }
        guard let callID else { throw SIPError("missing Call-ID header") }
        guard let cseq else { throw SIPError("missing CSeq header") }
        if case .request(let method, _) = startLine, cseq.method != method {
            throw SIPError("CSeq method \(cseq.method.name) does not match the request method \(method.name)")
        }

        let available = n - i
        var bodyCount = available
        if let contentLength {
            if contentLength > available {
                throw SIPError("Content-Length \(contentLength) exceeds the \(available) body bytes")
            }
            bodyCount = contentLength
        }
        let body = bodyCount == 0 ? [] : [UInt8](SIPBytes.slice(p, i, i + bodyCount))
        _ = isRequest
        return SIPMessage(
            startLine: startLine, fields: fields, body: body, via: vias, from: from, to: to, callID: callID,
            cseq: cseq)
    }

    private static func controlCharacter(_ b: UInt8, _ name: UnsafeRawBufferPointer) -> SIPError {
        SIPError("control character 0x\(SIPURI.hex2(b)) in header \(SIPBytes.string(name))")
    }

    @inline(__always)
    static func withValueBytes<R>(
        _ value: String, _ body: (UnsafeRawBufferPointer) throws(SIPError) -> R
    ) throws(SIPError) -> R {
        try SIPBytes.withBytes(value, body)
    }

    static func appendVias(
        _ p: UnsafeRawBufferPointer, to vias: inout [SIPVia], anyVersion: Bool = false
    ) throws(SIPError) {
        if !SIPBytes.containsByte(p, 0x2C) {
            vias.append(try SIPVia.parse(p, anyVersion: anyVersion))
            return
        }
        for r in try SIPBytes.splitCommas(p) {
            let part = SIPBytes.slice(p, r.lowerBound, r.upperBound)
            guard !SIPBytes.trimmed(part).isEmpty else { throw SIPError("empty Via value in a comma list") }
            vias.append(try SIPVia.parse(part, anyVersion: anyVersion))
        }
    }

    static func parseVias(_ text: String, anyVersion: Bool = false) throws(SIPError) -> [SIPVia] {
        var vias: [SIPVia] = []
        try SIPBytes.withBytes(text) { p throws(SIPError) in try appendVias(p, to: &vias, anyVersion: anyVersion) }
        return vias
    }

    // MARK: start line

    static func parseStartLine(_ p: UnsafeRawBufferPointer) throws(SIPError) -> SIPMessage.StartLine {
        let n = p.count
        for b in p where b < 0x20 && b != 0x09 || b == 0x7F {
            throw SIPError("control character 0x\(SIPURI.hex2(b)) in the start line", status: nil)
        }
        if n >= 4 && SIPBytes.equalsLower(SIPBytes.slice(p, 0, 4), "sip/") {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            var i = 4
            while i < n && p[i] != 0x20 { i += 1 }
            let version = SIPBytes.slice(p, 0, i)
            guard isVersion(version) else {
                throw SIPError("malformed SIP version in the Status-Line", status: nil)
            }
            guard SIPBytes.equals(SIPBytes.slice(version, 4, version.count), "2.0") else {
                throw SIPError("unsupported SIP version \(SIPBytes.string(version))", status: nil)
            }
            var codeEnd = Swift.min(i + 1, n)
            while codeEnd < n && p[codeEnd] != 0x20 { codeEnd += 1 }
            let codeBytes = SIPBytes.slice(p, Swift.min(i + 1, n), codeEnd)
            guard codeBytes.count == 3, SIPBytes.number(codeBytes, limit: 999) != nil else {
                let shown = SIPBytes.string(SIPBytes.slice(codeBytes, 0, Swift.min(codeBytes.count, 24)))
                throw SIPError("status code '\(shown)' is not three digits", status: nil)
            }
            let code = Int(p[i + 1] - 0x30) * 100 + Int(p[i + 2] - 0x30) * 10 + Int(p[i + 3] - 0x30)
            guard code >= 100 && code <= 699 else {
                throw SIPError("status code \(code) is outside 100-699", status: nil)
            }
            let reasonBytes = i + 5 <= n ? SIPBytes.slice(p, i + 5, n) : SIPBytes.slice(p, n, n)
            if !SIPBytes.isValidUTF8(reasonBytes) { throw SIPError("reason phrase is not valid UTF-8", status: nil) }
            return .response(status: code, reason: SIPBytes.string(reasonBytes))
        }
        // Request-Line = Method SP Request-URI SP SIP-Version
        var i = 0
        while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
        guard i > 0 else { throw SIPError("malformed Request-Line: no method token") }
        guard i < n && p[i] == 0x20 else {
            throw SIPError("malformed Request-Line: method not followed by a single space")
        }
        let method = SIPMethod(validBytes: SIPBytes.slice(p, 0, i))
        let uriStart = i + 1
        guard uriStart < n && !SIPBytes.isWS(p[uriStart]) else {
            throw SIPError("extra whitespace in the Request-Line before the Request-URI")
        }
        var last = n
        while last > uriStart && p[last - 1] != 0x20 { last -= 1 }
        guard last > uriStart else { throw SIPError("malformed Request-Line: no SIP version") }
        let versionBytes = SIPBytes.slice(p, last, n)
        var uriEnd = last - 1
        guard isVersion(versionBytes) else {
            if versionBytes.isEmpty || SIPBytes.isWS(p[n - 1]) {
                throw SIPError("trailing whitespace after the SIP version in the Request-Line")
            }
            throw SIPError("malformed SIP version '\(SIPBytes.string(versionBytes))' in the Request-Line")
        }
        // Whitespace inside the Request-URI or around its separators.
        var k = uriStart
        while k < uriEnd {
            if SIPBytes.isWS(p[k]) {
                var allWS = true
                for m in k..<uriEnd where !SIPBytes.isWS(p[m]) { allWS = false }
                if allWS { throw SIPError("extra whitespace in the Request-Line after the Request-URI") }
                throw SIPError("whitespace inside the Request-URI")
            }
            k += 1
        }
        if uriEnd > uriStart && p[uriEnd - 1] == 0x09 { uriEnd -= 1 }
        let uriBytes = SIPBytes.slice(p, uriStart, uriEnd)
        if uriBytes.first == 0x3C {
            throw SIPError("Request-URI is enclosed in '<' '>'")
        }
        guard SIPBytes.equals(SIPBytes.slice(versionBytes, 4, versionBytes.count), "2.0") else {
            throw SIPError("unsupported SIP version \(SIPBytes.string(versionBytes))", status: 505)
        }
        let uri: SIPURI
        do throws(SIPError) {
            uri = try SIPURI.parse(uriBytes, allowOtherSchemes: false)
        } catch {
            throw SIPError("invalid Request-URI: " + error.message, status: error.status)
        }
        if !uri.headers.isEmpty {
            throw SIPError("Request-URI carries headers ('?...'), which RFC 3261 §19.1.1 forbids there")
        }
        return .request(method: method, uri: uri)
    }

    /// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT
    static func isVersion(_ p: UnsafeRawBufferPointer) -> Bool {
        guard p.count >= 7, SIPBytes.equalsLower(SIPBytes.slice(p, 0, 4), "sip/") else { return false }
        var i = 4
        let s = i
        while i < p.count && SIPBytes.isDigit(p[i]) { i += 1 }
        guard i > s, i < p.count, p[i] == 0x2E else { return false }
        i += 1
        let t = i
        while i < p.count && SIPBytes.isDigit(p[i]) { i += 1 }
        return i > t && i == p.count
    }

    // MARK: value grammars

    /// callid = word [ "@" word ]
    static func isCallID(_ s: String) -> Bool {
        SIPBytes.withBytesNoThrow(s) { isCallID($0) }
    }

    static func isCallID(_ p: UnsafeRawBufferPointer) -> Bool {
        var at = false
        var wordLength = 0
        for b in p {
            if b == 0x40 {
                if at || wordLength == 0 { return false }
                at = true
                wordLength = 0
            } else if SIPBytes.isWordByte(b) {
                wordLength += 1
            } else {
                return false
            }
        }
        return wordLength > 0
    }

    static func isToken(_ s: String) -> Bool {
        if s.isEmpty { return false }
        for b in s.utf8 where !SIPBytes.isTokenByte(b) { return false }
        return true
    }

    /// Validates the value of a known header other than Via/From/To/Call-ID/CSeq.
    static func validate(_ id: SIPHeaderName, _ value: String) throws(SIPError) {
        switch id {
        case .via: _ = try parseVias(value)
        case .from, .to: _ = try SIPNameAddress(parsing: value)
        case .callID: guard isCallID(value) else { throw SIPError("invalid Call-ID '\(value)'") }
        case .cseq: _ = try SIPCSeq(parsing: value)
        case .maxForwards:
            guard SIPBytes.number(value, limit: 255) != nil else {
                throw SIPError("Max-Forwards '\(value)' is not a number 0-255")
            }
        case .expires, .minExpires:
            guard SIPBytes.saturatingNumber(value, limit: SIPBytes.deltaSecondsLimit) != nil else {
                throw SIPError("'\(value)' is not delta-seconds")
            }
        case .contentType:
            try SIPBytes.withBytes(value) { p throws(SIPError) in try validateMediaType(p) }
        case .contact:
            try SIPBytes.withBytes(value) { p throws(SIPError) in
                let parts = try SIPBytes.splitCommas(p)
                var wildcard = false
                for r in parts {
                    let part = SIPBytes.slice(p, r.lowerBound, r.upperBound)
                    guard !SIPBytes.trimmed(part).isEmpty else { throw SIPError("empty value in a comma list") }
                    let c = try SIPContact.parse(part)
                    if c.isWildcard { wildcard = true }
                }
                if wildcard && parts.count > 1 { throw SIPError("'*' must be the only Contact") }
            }
        case .route, .recordRoute:
            try SIPBytes.withBytes(value) { p throws(SIPError) in
                for r in try SIPBytes.splitCommas(p) {
                    let part = SIPBytes.slice(p, r.lowerBound, r.upperBound)
                    guard !SIPBytes.trimmed(part).isEmpty else { throw SIPError("empty value in a comma list") }
                    _ = try SIPNameAddress.parse(part)
                }
            }
        case .date:
            try SIPBytes.withBytes(value) { p throws(SIPError) in try validateDate(p) }
        case .authorization, .proxyAuthorization, .wwwAuthenticate, .proxyAuthenticate:
            try SIPBytes.withBytes(value) { p throws(SIPError) in try validateCredentials(p) }
        case .allow, .supported, .require, .proxyRequire, .unsupported:
            try SIPBytes.withBytes(value) { p throws(SIPError) in try validateTokenList(p, allowEmpty: id == .supported)
            }
        default:
            break
        }
    }

    /// media-type = m-type SLASH m-subtype *(SEMI m-parameter)
    static func validateMediaType(_ p: UnsafeRawBufferPointer) throws(SIPError) {
        let n = p.count
        var i = SIPBytes.skipWS(p, 0)
        let s = i
        while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
        guard i > s else { throw SIPError("media type has no type") }
        i = SIPBytes.skipWS(p, i)
        guard i < n && p[i] == 0x2F else { throw SIPError("media type lacks '/'") }
        i = SIPBytes.skipWS(p, i + 1)
        let t = i
        while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
        guard i > t else { throw SIPError("media type has no subtype") }
        _ = try SIPHeaderParameters.parse(p, from: i)
    }

    /// Authorization / WWW-Authenticate: a scheme token followed by parameters or a token68;
    /// the parameters themselves are checked by the digest layer.
    static func validateCredentials(_ p: UnsafeRawBufferPointer) throws(SIPError) {
        var i = 0
        while i < p.count && SIPBytes.isTokenByte(p[i]) { i += 1 }
        guard i > 0 else { throw SIPError("missing authentication scheme") }
        var inQuote = false
        var k = i
        while k < p.count {
            if p[k] == 0x22 {
                guard let e = SIPBytes.endOfQuoted(p, from: k) else { throw SIPError("unterminated quoted string") }
                k = e
                continue
            }
            k += 1
        }
        _ = inQuote
        inQuote = false
    }

    /// 1*(token) separated by commas (Allow, Require, ...); Supported may be empty.
    static func validateTokenList(_ p: UnsafeRawBufferPointer, allowEmpty: Bool) throws(SIPError) {
        if SIPBytes.trimmed(p).isEmpty {
            if allowEmpty { return }
            throw SIPError("empty token list")
        }
        var i = 0
        let n = p.count
        while true {
            i = SIPBytes.skipWS(p, i)
            let s = i
            while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
            guard i > s else { throw SIPError("expected a token in '\(SIPBytes.string(p))'") }
            i = SIPBytes.skipWS(p, i)
            if i == n { return }
            guard p[i] == 0x2C else { throw SIPError("expected ',' between tokens in '\(SIPBytes.string(p))'") }
            i += 1
        }
    }

    /// rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 §20.17)
    static func validateDate(_ p: UnsafeRawBufferPointer) throws(SIPError) {
        let days: [StaticString] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        let months: [StaticString] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ]
        let t = SIPBytes.trimmed(p)
        // "Sat, 13 Nov 2010 23:29:00 GMT" is 29 bytes.
        guard t.count == 29 else { throw SIPError("Date '\(SIPBytes.string(t))' is not an RFC 1123 date in GMT") }
        var ok = days.contains { SIPBytes.equalsLower(SIPBytes.slice(t, 0, 3), $0) }
        ok = ok && t[3] == 0x2C && t[4] == 0x20 && t[7] == 0x20 && t[11] == 0x20 && t[16] == 0x20
        ok = ok && SIPBytes.isDigit(t[5]) && SIPBytes.isDigit(t[6])
        ok = ok && months.contains { SIPBytes.equalsLower(SIPBytes.slice(t, 8, 11), $0) }
        for k in 12..<16 { ok = ok && SIPBytes.isDigit(t[k]) }
        ok = ok && t[19] == 0x3A && t[22] == 0x3A && t[25] == 0x20
        for k in [17, 18, 20, 21, 23, 24] { ok = ok && SIPBytes.isDigit(t[k]) }
        guard ok else { throw SIPError("Date '\(SIPBytes.string(t))' is not an RFC 1123 date") }
        guard SIPBytes.equals(SIPBytes.slice(t, 26, 29), "GMT") else {
            throw SIPError("Date '\(SIPBytes.string(t))' is not in GMT")
        }
    }

    /// Checks a header name and value given through the API; returns the id, canonical name
    /// and trimmed value.
    static func checkField(_ name: String, _ value: String) throws(SIPError) -> (SIPHeaderName, String, String) {
        guard isToken(name) else { throw SIPError("header name '\(name)' is not a token") }
        let id = SIPHeaderName.lookup(name)
        let canonical = id == .other ? name : id.canonical
        let text: String = try SIPBytes.withBytes(value) { p throws(SIPError) in
            for b in p where (b < 0x20 && b != 0x09) || b == 0x7F {
                throw SIPError("control character or line break in the \(canonical) value")
            }
            return SIPBytes.string(SIPBytes.trimmed(p))
        }
        if id == .contentLength { throw SIPError("Content-Length is computed from the body") }
        do throws(SIPError) {
            try validate(id, text)
        } catch {
            throw error.inHeader(canonical)
        }
        return (id, canonical, text)
    }
}
