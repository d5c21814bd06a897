// Byte-level building blocks of the SIP parser: character classes of the RFC 3261 §25.1
// grammar, number parsing with limits, quoted strings, comma lists and %-escapes.

/// Character classes and small scanners over raw bytes (RFC 3261 §25.1 basic rules).
enum SIPBytes {
    /// The text `build` writes as UTF-8 bytes (a header value's `description`).
    static func text(_ build: (inout [UInt8]) -> Void) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        build(&out)
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
    @inline(__always) static func isWS(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    /// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
    @inline(__always) static func isTokenByte(_ b: UInt8) -> Bool {
        if isAlnum(b) { return true }
        switch b {
        case 0x2D, 0x2E, 0x21, 0x25, 0x2A, 0x5F, 0x2B, 0x60, 0x27, 0x7E: return true
        default: return false
        }
    }

    /// mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"; unreserved = alphanum / mark
    @inline(__always) static func isUnreserved(_ b: UInt8) -> Bool {
        if isAlnum(b) { return true }
        switch b {
        case 0x2D, 0x5F, 0x2E, 0x21, 0x7E, 0x2A, 0x27, 0x28, 0x29: return true
        default: return false
        }
    }

    /// word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" /
    ///        "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}")
    @inline(__always) static func isWordByte(_ b: UInt8) -> Bool {
        if isTokenByte(b) { return true }
        switch b {
        case 0x28, 0x29, 0x3C, 0x3E, 0x3A, 0x5C, 0x22, 0x2F, 0x5B, 0x5D, 0x3F, 0x7B, 0x7D: return true
        default: return false
        }
    }

    static func isToken(_ p: UnsafeRawBufferPointer) -> Bool {
        if p.isEmpty { return false }
        for b in p where !isTokenByte(b) { return false }
        return true
    }

    @inline(__always) static func string(_ p: UnsafeRawBufferPointer) -> String {
        String(decoding: p, as: UTF8.self)
    }

    @inline(__always) static func slice(_ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: p[lo..<hi])
    }

    /// Exact byte comparison with an ASCII literal.
    @inline(__always) static func equals(_ p: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard p.count == s.utf8CodeUnitCount else { return false }
        let q = s.utf8Start
        for i in 0..<p.count where p[i] != q[i] { return false }
        return true
    }

    /// ASCII case-insensitive comparison with a lowercase ASCII literal.
    @inline(__always) static func equalsLower(_ p: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard p.count == s.utf8CodeUnitCount else { return false }
        let q = s.utf8Start
        for i in 0..<p.count where lower(p[i]) != q[i] { return false }
        return true
    }

    /// ASCII case-insensitive comparison of a string with a lowercase ASCII literal.
    @inline(__always) static func equalsLower(_ s: String, _ lit: StaticString) -> Bool {
        let u = s.utf8
        guard u.count == lit.utf8CodeUnitCount else { return false }
        if let r = u.withContiguousStorageIfAvailable({ equalsLower(UnsafeRawBufferPointer($0), lit) }) { return r }
        var i = 0
        let q = lit.utf8Start
        for b in u {
            if lower(b) != q[i] { return false }
            i += 1
        }
        return true
    }

    /// ASCII case-insensitive comparison of two strings.
    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        if let r = x.withContiguousStorageIfAvailable({ p in
            y.withContiguousStorageIfAvailable { q in
                for i in 0..<p.count where lower(p[i]) != lower(q[i]) { return false }
                return true
            }
        }), let r {
            return r
        }
        var i = x.startIndex
        var j = y.startIndex
        while i != x.endIndex {
            if lower(x[i]) != lower(y[j]) { return false }
            i = x.index(after: i)
            j = y.index(after: j)
        }
        return true
    }

    /// Runs `body` over the UTF-8 bytes of `text` (contiguous, no copy for native strings).
    static func withBytes<R>(
        _ text: String, _ body: (UnsafeRawBufferPointer) throws(SIPError) -> R
    ) throws(SIPError) -> R {
        var s = text
        let result: Result<R, SIPError> = s.withUTF8 { p in
            do throws(SIPError) {
                return .success(try body(UnsafeRawBufferPointer(p)))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let r): return r
        case .failure(let e): throw e
        }
    }

    /// A decimal number of at most `limit`; nil for empty, non-digit or too large input.
    static func number(_ p: UnsafeRawBufferPointer, limit: Int) -> Int? {
        if p.isEmpty { return nil }
        var n = 0
        for b in p {
            guard isDigit(b) else { return nil }
            n = n &* 10 &+ Int(b &- 0x30)
            if n > limit { return nil }
        }
        return n
    }

    static func number(_ s: String, limit: Int) -> Int? {
        var n = 0
        if s.isEmpty { return nil }
        for b in s.utf8 {
            guard isDigit(b) else { return nil }
            n = n &* 10 &+ Int(b &- 0x30)
            if n > limit { return nil }
        }
        return n
    }

    /// The largest delta-seconds value (RFC 3261 §25.1: up to 2^32 - 1), as an `Int`: `Int` is
    /// 32-bit on armv7, where `Int(UInt32.max)` would trap.
    static let deltaSecondsLimit = Int(exactly: UInt32.max) ?? Int.max

    /// A decimal number, values above `limit` read as `limit` (RFC 3261 §20.19: a too large
    /// delta-seconds is the largest one); nil for empty or non-digit input.
    static func saturatingNumber(_ s: String, limit: Int) -> Int? {
        if s.isEmpty { return nil }
        var n = 0
        for b in s.utf8 {
            guard isDigit(b) else { return nil }
            n = Swift.min(limit, n &* 10 &+ Int(b &- 0x30))
        }
        return n
    }

    /// Index after leading SP/HTAB from `i`.
    @inline(__always) static func skipWS(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int {
        var j = i
        while j < p.count && isWS(p[j]) { j += 1 }
        return j
    }

    /// Bounds of `p` without leading and trailing SP/HTAB.
    @inline(__always) static func trimmed(_ p: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var lo = 0
        var hi = p.count
        while lo < hi && isWS(p[lo]) { lo += 1 }
        while hi > lo && isWS(p[hi - 1]) { hi -= 1 }
        return slice(p, lo, hi)
    }

    /// The index after the quoted string starting at `p[i] == DQUOTE`, or nil when unterminated
    /// (RFC 3261 quoted-string with quoted-pair escapes).
    static func endOfQuoted(_ p: UnsafeRawBufferPointer, from i: Int) -> Int? {
        var j = i + 1
        while j < p.count {
            let b = p[j]
            if b == 0x5C {
                j += 2
                continue
            }
            if b == 0x22 { return j + 1 }
            j += 1
        }
        return nil
    }

    /// The content of a quoted string (without the quotes), quoted-pairs resolved.
    static func unquote(_ p: UnsafeRawBufferPointer) -> String {
        var hasEscape = false
        for b in p where b == 0x5C { hasEscape = true; break }
        if !hasEscape { return string(p) }
        var out = [UInt8]()
        out.reserveCapacity(p.count)
        var i = 0
        while i < p.count {
            if p[i] == 0x5C && i + 1 < p.count { i += 1 }
            out.append(p[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Top-level comma positions split `p` into elements; commas inside quoted strings and
    /// <...> do not split. Throws on an unterminated quote or angle bracket.
    static func splitCommas(_ p: UnsafeRawBufferPointer) throws(SIPError) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = 0
        var i = 0
        var inAngle = false
        while i < p.count {
            let b = p[i]
            if b == 0x22 {
                guard let e = endOfQuoted(p, from: i) else { throw SIPError("unterminated quoted string") }
                i = e
                continue
            }
            if b == 0x3C {
                inAngle = true
            } else if b == 0x3E {
                inAngle = false
            } else if b == 0x2C && !inAngle {
                parts.append(start..<i)
                start = i + 1
            }
            i += 1
        }
        if inAngle { throw SIPError("unterminated '<'") }
        parts.append(start..<p.count)
        return parts
    }

    /// True when `p` contains a top-level comma (fast pre-check for splitting).
    @inline(__always) static func containsByte(_ p: UnsafeRawBufferPointer, _ c: UInt8) -> Bool {
        for b in p where b == c { return true }
        return false
    }

    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8 {
        isDigit(b) ? b &- 0x30 : (b | 0x20) &- 0x61 &+ 10
    }

    /// Validates that `p` is well-formed UTF-8 (RFC 3629; no overlongs or surrogates).
    static func isValidUTF8(_ p: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = p.count
        while i < n {
            let b = p[i]
            if b < 0x80 {
                i += 1
                continue
            }
            var need = 0
            var min: UInt32 = 0
            var cp: UInt32 = 0
            if b & 0xE0 == 0xC0 {
                need = 1; min = 0x80; cp = UInt32(b & 0x1F)
            } else if b & 0xF0 == 0xE0 {
                need = 2; min = 0x800; cp = UInt32(b & 0x0F)
            } else if b & 0xF8 == 0xF0 {
                need = 3; min = 0x10000; cp = UInt32(b & 0x07)
            } else {
                return false
            }
            for k in 1...need {
                if i + k >= n { return false }
                let c = p[i + k]
                guard c & 0xC0 == 0x80 else { return false }
                cp = cp << 6 | UInt32(c & 0x3F)
            }
            if cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) { return false }
            i += need + 1
        }
        return true
    }

    /// Appends `value` as decimal digits.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 {
            out.append(0x2D)
            appendDecimal(0 &- value, to: &out)
            return
        }
        if value < 10 {
            out.append(UInt8(value) &+ 0x30)
            return
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 && n < 20 {
                d[n] = UInt8(v % 10) &+ 0x30
                v /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                out.append(d[n])
            }
        }
    }

    /// Appends the UTF-8 bytes of `s` (one memcpy for native strings).
    @inline(__always) static func append(_ s: String, to out: inout [UInt8]) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { out.append(contentsOf: $0) }
        if done == nil { out.append(contentsOf: s.utf8) }
    }
}
