// Answers to requests that failed to parse (RFC 3261 §8.2.6, §21.4.1; RFC 4475 §3.1.2).

extension SIPTransportLayer {
    /// Builds the response to a request the parser rejected, from its raw bytes: the status
    /// line (`status`, its phrase and the parser's `detail`), the Via, From, To, Call-ID and
    /// CSeq lines copied as received (full or compact names, folded lines joined), a To tag
    /// when the To has none, and Content-Length 0. nil when the bytes are not a request, are an
    /// ACK (never answered) or lack one of those headers or carry control bytes in them, so no
    /// sensible response can be formed (the input is then dropped).
    static func malformedResponse(to bytes: [UInt8], status: Int, detail: String) -> [UInt8]? {
        let n = bytes.count
        var i = 0
        while i < n && (bytes[i] == 13 || bytes[i] == 10) { i += 1 }
        // Start line: METHOD SP Request-URI SP version; responses ("SIP/...") are never answered.
        var lineEnd = i
        while lineEnd < n && bytes[lineEnd] != 10 { lineEnd += 1 }
        var methodEnd = i
        while methodEnd < lineEnd && isTokenByte(bytes[methodEnd]) { methodEnd += 1 }
        guard methodEnd > i, methodEnd < lineEnd, bytes[methodEnd] == 32 else { return nil }
        let method = Array(bytes[i..<methodEnd])
        if method == Array("ACK".utf8) { return nil }
        if method.count >= 4 && Array(method[0..<4]) == Array("SIP/".utf8) { return nil }

        var vias: [ArraySlice<UInt8>] = []
        var from: ArraySlice<UInt8>? = nil
        var to: ArraySlice<UInt8>? = nil
        var callID: ArraySlice<UInt8>? = nil
        var cseq: ArraySlice<UInt8>? = nil
        var lineStart = lineEnd + 1
        while lineStart < n {
            var end = lineStart
            while end < n && bytes[end] != 10 { end += 1 }
            let contentEnd = end > lineStart && bytes[end - 1] == 13 ? end - 1 : end
            if contentEnd == lineStart { break }  // empty line: end of headers
            // A folded field continues on lines starting with SP or HT.
            var fieldEnd = contentEnd
            var next = end + 1
            while next < n && (bytes[next] == 32 || bytes[next] == 9) {
                var e = next
                while e < n && bytes[e] != 10 { e += 1 }
                fieldEnd = e > next && bytes[e - 1] == 13 ? e - 1 : e
                next = e + 1
            }
            var colon = lineStart
            while colon < contentEnd && bytes[colon] != 58 { colon += 1 }
            if colon < contentEnd {
                var nameEnd = colon
                while nameEnd > lineStart && (bytes[nameEnd - 1] == 32 || bytes[nameEnd - 1] == 9) { nameEnd -= 1 }
                let name = lowercased(bytes[lineStart..<nameEnd])
                let value = trimmed(bytes[(colon + 1)..<fieldEnd])
                switch name {
                case "via", "v": vias.append(value)
                case "from", "f": if from == nil { from = value }
                case "to", "t": if to == nil { to = value }
                case "call-id", "i": if callID == nil { callID = value }
                case "cseq": if cseq == nil { cseq = value }
                default: break
                }
            }
            lineStart = next
        }
        guard !vias.isEmpty, let from, let to, let callID, let cseq else { return nil }
        for value in vias + [from, to, callID, cseq] where value.isEmpty || !isPrintable(value) { return nil }

        var out: [UInt8] = []
        out.reserveCapacity(256 + bytes.count / 2)
        out += Array("SIP/2.0 ".utf8)
        out += Array(String(max(100, min(699, status))).utf8)
        out.append(32)
        out += Array(reasonPhrase(status).utf8)
        let cleanDetail = sanitized(detail)
        if !cleanDetail.isEmpty { out += Array(" (".utf8) + cleanDetail + [41] }
        out += [13, 10]
        for via in vias { appendField("Via", via, to: &out) }
        appendField("From", from, to: &out)
        var toValue = to
        if !containsTag(to) {
            toValue = ArraySlice(Array(to) + Array(";tag=".utf8) + tagFor(callID))
        }
        appendField("To", toValue, to: &out)
        appendField("Call-ID", callID, to: &out)
        appendField("CSeq", cseq, to: &out)
        out += Array("Content-Length: 0\r\n\r\n".utf8)
        return out
    }

    /// Whether a To value has a `;tag=` parameter (any case, whitespace not considered).
    private static func containsTag(_ value: ArraySlice<UInt8>) -> Bool {
        let needle = Array(";tag=".utf8)
        let bytes = Array(value)
        guard bytes.count >= needle.count else { return false }
        for i in 0...(bytes.count - needle.count) {
            var match = true
            for k in 0..<needle.count where (bytes[i + k] | 0x20) != (needle[k] | 0x20) {
                match = false
                break
            }
            if match { return true }
        }
        return false
    }

    private static func appendField(_ name: String, _ value: ArraySlice<UInt8>, to out: inout [UInt8]) {
        out += Array(name.utf8)
        out += [58, 32]
        for b in value where b != 13 && b != 10 { out.append(b) }  // folding: the SP/HT remains
        out += [13, 10]
    }

    /// The phrases of the statuses a parser error can ask for (RFC 3261 §21).
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 413: return "Request Entity Too Large"
        case 414: return "Request-URI Too Long"
        case 415: return "Unsupported Media Type"
        case 416: return "Unsupported URI Scheme"
        case 420: return "Bad Extension"
        case 483: return "Too Many Hops"
        case 505: return "Version Not Supported"
        case 513: return "Message Too Large"
        default: return "Bad Request"
        }
    }

    /// A stable To tag for a stateless answer: FNV-1a of the Call-ID in hex.
    private static func tagFor(_ callID: ArraySlice<UInt8>) -> [UInt8] {
        var hash: UInt32 = 2_166_136_261
        for b in callID { hash = (hash ^ UInt32(b)) &* 16_777_619 }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((hash >> UInt32(shift)) & 15)]) }
        return out
    }

    /// The parser's message as reason-phrase text: printable ASCII only, at most 120 bytes.
    private static func sanitized(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for b in text.utf8 {
            if out.count >= 120 { break }
            out.append(b >= 32 && b < 127 ? b : 63)
        }
        return out
    }

    private static func isTokenByte(_ b: UInt8) -> Bool {
        if b >= 48 && b <= 57 || b >= 65 && b <= 90 || b >= 97 && b <= 122 { return true }
        switch b {
        case 45, 46, 33, 37, 42, 95, 43, 96, 39, 126: return true  // - . ! % * _ + ` ' ~
        default: return false
        }
    }

    /// No control bytes other than HT and the CRLF of folded lines (NUL, DEL, a bare CR: no).
    private static func isPrintable(_ value: ArraySlice<UInt8>) -> Bool {
        var i = value.startIndex
        while i < value.endIndex {
            let b = value[i]
            if b == 13 && (i + 1 == value.endIndex || value[i + 1] != 10) { return false }
            if (b < 32 && b != 9 && b != 13 && b != 10) || b == 127 { return false }
            i += 1
        }
        return true
    }

    private static func trimmed(_ value: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = value.startIndex
        var e = value.endIndex
        while s < e && (value[s] == 32 || value[s] == 9 || value[s] == 13 || value[s] == 10) { s += 1 }
        while e > s && (value[e - 1] == 32 || value[e - 1] == 9 || value[e - 1] == 13 || value[e - 1] == 10) { e -= 1 }
        return value[s..<e]
    }

    private static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes { out.append(b >= 65 && b <= 90 ? b + 32 : b) }
        return String(decoding: out, as: UTF8.self)
    }
}
