// Header parameters: `*( SEMI generic-param )` of Via, From/To, Contact, Route, Content-Type
// (RFC 3261 §7.3.1, §25.1 generic-param).

enum SIPHeaderParameters {
    /// Parses `*( SEMI generic-param )` from `p[i...]` to the end of `p`.
    /// generic-param = token [ EQUAL gen-value ]; gen-value = token / host / quoted-string.
    static func parse(_ p: UnsafeRawBufferPointer, from start: Int) throws(SIPError) -> [SIPParameter] {
        var params: [SIPParameter] = []
        var i = SIPBytes.skipWS(p, start)
        let n = p.count
        while i < n {
            guard p[i] == 0x3B else {
                throw SIPError(
                    "unexpected '\(SIPBytes.string(SIPBytes.slice(p, i, Swift.min(n, i + 1))))' "
                        + "where a ';' parameter was expected")
            }
            i = SIPBytes.skipWS(p, i + 1)
            let nameStart = i
            while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
            guard i > nameStart else { throw SIPError("empty parameter name") }
            let name = SIPBytes.string(SIPBytes.slice(p, nameStart, i))
            i = SIPBytes.skipWS(p, i)
            if i < n && p[i] == 0x3D {
                i = SIPBytes.skipWS(p, i + 1)
                let valueStart = i
                if i < n && p[i] == 0x22 {
                    guard let e = SIPBytes.endOfQuoted(p, from: i) else {
                        throw SIPError("unterminated quoted value of parameter '\(name)'")
                    }
                    i = e
                } else {
                    while i < n && (SIPBytes.isTokenByte(p[i]) || p[i] == 0x3A || p[i] == 0x5B || p[i] == 0x5D) {
                        i += 1
                    }
                    guard i > valueStart else { throw SIPError("parameter '\(name)' has an empty value") }
                }
                params.append(SIPParameter(name: name, value: SIPBytes.string(SIPBytes.slice(p, valueStart, i))))
                i = SIPBytes.skipWS(p, i)
            } else {
                params.append(SIPParameter(name: name, value: nil))
            }
        }
        return params
    }

    static func append(_ params: [SIPParameter], to out: inout [UInt8]) {
        for p in params {
            out.append(0x3B)
            SIPBytes.append(p.name, to: &out)
            if let v = p.value {
                out.append(0x3D)
                SIPBytes.append(v, to: &out)
            }
        }
    }

    /// True when `s` is a valid gen-value (token / host / quoted-string) for output.
    static func isValidValue(_ s: String) -> Bool {
        var text = s
        return text.withUTF8 { q in
            let p = UnsafeRawBufferPointer(q)
            if p.isEmpty { return false }
            if p[0] == 0x22 { return SIPBytes.endOfQuoted(p, from: 0) == p.count && !hasLineBreak(p) }
            for b in p where !(SIPBytes.isTokenByte(b) || b == 0x3A || b == 0x5B || b == 0x5D) { return false }
            return true
        }
    }

    static func hasLineBreak(_ p: UnsafeRawBufferPointer) -> Bool {
        for b in p where b == 0x0D || b == 0x0A { return true }
        return false
    }
}
