// SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966; RFC 5118 IPv6 references).

/// The host of a URI or Via sent-by (RFC 3261 §25.1 `host`). `ipv6` holds the address
/// without the brackets of an IPv6 reference; `name` is empty for tel: and opaque URIs.
public enum SIPHost: Hashable, Sendable, CustomStringConvertible {
    case name(String)
    case ipv4(String)
    case ipv6(String)

    /// Parses `hostname`, `IPv4address` or `[IPv6address]`.
    public init(parsing text: String) throws(SIPError) {
        self = try SIPBytes.withBytes(text) { p throws(SIPError) in try SIPHost.parse(p) }
    }

    /// The host as written in a URI: IPv6 in brackets.
    public var description: String {
        switch self {
        case .name(let s), .ipv4(let s): return s
        case .ipv6(let s): return "[" + s + "]"
        }
    }

    /// The text without IPv6 brackets.
    public var text: String {
        switch self {
        case .name(let s), .ipv4(let s), .ipv6(let s): return s
        }
    }

    func append(to out: inout [UInt8]) {
        switch self {
        case .name(let s), .ipv4(let s): SIPBytes.append(s, to: &out)
        case .ipv6(let s):
            out.append(0x5B)
            SIPBytes.append(s, to: &out)
            out.append(0x5D)
        }
    }

    /// host = hostname / IPv4address / IPv6reference
    static func parse(_ p: UnsafeRawBufferPointer) throws(SIPError) -> SIPHost {
        if p.isEmpty { throw SIPError("empty host") }
        if p[0] == 0x5B {
            guard p.count >= 2, p[p.count - 1] == 0x5D else {
                throw SIPError("IPv6 reference '\(SIPBytes.string(p))' lacks its closing ']'")
            }
            let inner = SIPBytes.slice(p, 1, p.count - 1)
            guard isIPv6(inner) else { throw SIPError("invalid IPv6 address '\(SIPBytes.string(inner))'") }
            return .ipv6(SIPBytes.string(inner))
        }
        if isIPv4(p) { return .ipv4(SIPBytes.string(p)) }
        guard isHostname(p) else {
            if SIPBytes.containsByte(p, 0x3A) {
                throw SIPError("IPv6 address '\(SIPBytes.string(p))' must be enclosed in '[' ']'")
            }
            throw SIPError("invalid host '\(SIPBytes.string(p))'")
        }
        return .name(SIPBytes.string(p))
    }

    /// IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each at most 255.
    static func isIPv4(_ p: UnsafeRawBufferPointer) -> Bool {
        var parts = 0
        var digits = 0
        var value = 0
        for b in p {
            if SIPBytes.isDigit(b) {
                digits += 1
                value = value * 10 + Int(b - 0x30)
                if digits > 3 || value > 255 { return false }
            } else if b == 0x2E {
                if digits == 0 { return false }
                parts += 1
                digits = 0
                value = 0
            } else {
                return false
            }
        }
        return parts == 3 && digits > 0
    }

    /// hostname = *( domainlabel "." ) toplabel [ "." ]; labels of alphanum and inner "-",
    /// the top label starting with a letter.
    static func isHostname(_ p: UnsafeRawBufferPointer) -> Bool {
        var end = p.count
        if end > 0 && p[end - 1] == 0x2E { end -= 1 }
        if end == 0 { return false }
        var previous: UInt8 = 0x2E  // a label starts after a dot
        var labelFirst: UInt8 = 0
        for i in 0..<end {
            let b = p[i]
            if b == 0x2E {
                if previous == 0x2E || previous == 0x2D { return false }
            } else if SIPBytes.isAlnum(b) {
                if previous == 0x2E { labelFirst = b }
            } else if b == 0x2D {
                if previous == 0x2E { return false }
            } else {
                return false
            }
            previous = b
        }
        // The last label must not end with "-" and the top label starts with a letter.
        return previous != 0x2D && previous != 0x2E && SIPBytes.isAlpha(labelFirst)
    }

    /// IPv6address (RFC 3261 §25.1 / RFC 4291 text form): up to 8 hex groups, one "::",
    /// an optional trailing IPv4 address.
    static func isIPv6(_ p: UnsafeRawBufferPointer) -> Bool {
        // RFC 5118 §4.10: RFC 3261's ABNF admits "x::" ":" IPv4address (three colons); accept it
        // as the RFC 4291 form with two.
        var k = 0
        while k + 3 < p.count {
            if p[k] == 0x3A && p[k + 1] == 0x3A && p[k + 2] == 0x3A {
                guard isIPv4(SIPBytes.slice(p, k + 3, p.count)) else { return false }
                var fixed = [UInt8](SIPBytes.slice(p, 0, k + 2))
                fixed.append(contentsOf: SIPBytes.slice(p, k + 3, p.count))
                return fixed.withUnsafeBytes { isIPv6Strict($0) }
            }
            k += 1
        }
        return isIPv6Strict(p)
    }

    static func isIPv6Strict(_ p: UnsafeRawBufferPointer) -> Bool {
        let n = p.count
        if n < 2 { return false }
        var groups = 0
        var sawDoubleColon = false
        var i = 0
        if p[0] == 0x3A {
            guard p[1] == 0x3A else { return false }
            sawDoubleColon = true
            i = 2
            if i == n { return true }
        }
        while i < n {
            var j = i
            while j < n && SIPBytes.isHex(p[j]) { j += 1 }
            if j < n && p[j] == 0x2E {
                // A trailing IPv4 address takes two groups.
                guard isIPv4(SIPBytes.slice(p, i, n)) else { return false }
                groups += 2
                i = n
                break
            }
            let len = j - i
            if len == 0 || len > 4 { return false }
            groups += 1
            if j == n { i = n; break }
            guard p[j] == 0x3A else { return false }
            if j + 1 < n && p[j + 1] == 0x3A {
                if sawDoubleColon { return false }
                sawDoubleColon = true
                i = j + 2
                if i == n { break }
            } else {
                i = j + 1
                if i == n { return false }
            }
        }
        return sawDoubleColon ? groups <= 7 : groups == 8
    }
}

/// A `name[=value]` parameter of a URI, Via or name-address (RFC 3261 §19.1.1, §25.1
/// generic-param). In URIs names and values are stored %-decoded; in header parameters the
/// value is kept as written (a quoted-string value keeps its quotes).
public struct SIPParameter: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }

    public var description: String {
        guard let value else { return name }
        return name + "=" + value
    }
}

extension Array where Element == SIPParameter {
    /// The parameter's value by case-insensitive name: nil absent, `.some(nil)` valueless.
    /// The parameter's value by a lowercase literal name: nil absent, `.some(nil)` valueless.
    func lookup(_ name: StaticString) -> String?? {
        for p in self where SIPBytes.equalsLower(p.name, name) { return .some(p.value) }
        return nil
    }

    func lookup(_ name: String) -> String?? {
        for p in self where SIPBytes.equalsIgnoringCase(p.name, name) { return .some(p.value) }
        return nil
    }

    /// Sets (or with nil value and `remove`, deletes) a parameter by case-insensitive name.
    mutating func set(_ name: String, _ value: String??) {
        let index = firstIndex { SIPBytes.equalsIgnoringCase($0.name, name) }
        guard let value else {
            if let index { remove(at: index) }
            return
        }
        if let index {
            self[index].value = value
        } else {
            append(SIPParameter(name: name, value: value))
        }
    }
}

/// A SIP or SIPS URI (RFC 3261 §19.1), a tel URI (RFC 3966: the number is in `user`, host
/// is `.name("")`) or, inside name-addresses only, another absolute URI whose text after
/// `scheme:` is kept in `opaque` (RFC 3261 §20.10 allows any absoluteURI in From/To/Contact).
/// User, password, parameters and headers are stored %-decoded and re-escaped on output.
public struct SIPURI: Hashable, Sendable, CustomStringConvertible {
    /// Lowercase scheme: "sip", "sips", "tel" (or another scheme with `opaque` set).
    public var scheme: String
    public var user: String?
    public var password: String?
    public var host: SIPHost
    public var port: Int?
    public var parameters: [SIPParameter]
    public var headers: [SIPParameter]
    /// For a scheme other than sip/sips/tel: everything after `scheme:`, as written.
    public var opaque: String?

    public init(
        scheme: String = "sip", user: String? = nil, password: String? = nil, host: SIPHost,
        port: Int? = nil, parameters: [SIPParameter] = [], headers: [SIPParameter] = []
    ) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port.map { Swift.max(0, Swift.min(65535, $0)) }
        self.parameters = parameters
        self.headers = headers
        self.opaque = nil
    }

    /// Parses a sip:, sips: or tel: URI. Any other scheme is an error with status 416.
    public init(parsing text: String) throws(SIPError) {
        self = try SIPBytes.withBytes(text) { p throws(SIPError) in
            try SIPURI.parse(p, allowOtherSchemes: false)
        }
    }

    /// The parameter's value by case-insensitive name: nil absent, `.some(nil)` valueless.
    public func parameter(_ name: String) -> String?? { parameters.lookup(name) }

    /// Sets a URI parameter (`.some(nil)` for a valueless one, nil to remove).
    public mutating func setParameter(_ name: String, _ value: String??) { parameters.set(name, value) }

    /// `sips:` or a sip: URI with `transport=tls`.
    public var isSecure: Bool { scheme == "sips" }

    public var description: String {
        var out = [UInt8]()
        out.reserveCapacity(48)
        append(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: parsing

    static func parse(_ p: UnsafeRawBufferPointer, allowOtherSchemes: Bool) throws(SIPError) -> SIPURI {
        var colon = -1
        for i in 0..<p.count where p[i] == 0x3A {
            colon = i
            break
        }
        guard colon > 0 else { throw SIPError("URI '\(SIPBytes.string(p))' has no scheme") }
        let schemeBytes = SIPBytes.slice(p, 0, colon)
        let rest = SIPBytes.slice(p, colon + 1, p.count)
        if SIPBytes.equalsLower(schemeBytes, "sip") {
            return try parseSIP(rest, scheme: "sip")
        }
        if SIPBytes.equalsLower(schemeBytes, "sips") {
            return try parseSIP(rest, scheme: "sips")
        }
        if SIPBytes.equalsLower(schemeBytes, "tel") {
            return try parseTel(rest)
        }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        var schemeOK = SIPBytes.isAlpha(schemeBytes[0])
        for b in schemeBytes where !(SIPBytes.isAlnum(b) || b == 0x2B || b == 0x2D || b == 0x2E) {
            schemeOK = false
        }
        guard schemeOK else { throw SIPError("invalid URI scheme '\(SIPBytes.string(schemeBytes))'") }
        var scheme = ""
        for b in schemeBytes { scheme.unicodeScalars.append(Unicode.Scalar(SIPBytes.lower(b))) }
        guard allowOtherSchemes else {
            throw SIPError("unsupported URI scheme '\(scheme)'", status: 416)
        }
        guard !rest.isEmpty else { throw SIPError("empty \(scheme): URI") }
        for b in rest where b <= 0x20 || b >= 0x7F || b == 0x3C || b == 0x3E || b == 0x22 {
            throw SIPError("invalid character in \(scheme): URI")
        }
        var uri = SIPURI(scheme: scheme, host: .name(""))
        uri.opaque = SIPBytes.string(rest)
        return uri
    }

    private static func parseSIP(_ p: UnsafeRawBufferPointer, scheme: String) throws(SIPError) -> SIPURI {
        var uri = SIPURI(scheme: scheme, host: .name(""))
        let n = p.count
        var at = -1
        for i in 0..<n where p[i] == 0x40 {
            at = i
            break
        }
        var i = 0
        if at >= 0 {
            var colon = at
            for k in 0..<at where p[k] == 0x3A {
                colon = k
                break
            }
            guard colon > 0 else { throw SIPError("empty user part in URI") }
            uri.user = try decode(SIPBytes.slice(p, 0, colon), allowed: isUserByte, what: "user")
            if colon < at {
                uri.password = try decode(
                    SIPBytes.slice(p, colon + 1, at), allowed: isPasswordByte, what: "password")
            }
            i = at + 1
        }
        // host
        let hostStart = i
        if i < n && p[i] == 0x5B {
            while i < n && p[i] != 0x5D { i += 1 }
            guard i < n else { throw SIPError("IPv6 reference in URI lacks its closing ']'") }
            i += 1
        } else {
            while i < n && p[i] != 0x3A && p[i] != 0x3B && p[i] != 0x3F { i += 1 }
        }
        do throws(SIPError) {
            uri.host = try SIPHost.parse(SIPBytes.slice(p, hostStart, i))
        } catch {
            // sip:2001:db8::10 (RFC 5118 §4.2): an IPv6 address needs its brackets.
            var e = hostStart
            while e < n && p[e] != 0x3B && p[e] != 0x3F { e += 1 }
            if SIPHost.isIPv6(SIPBytes.slice(p, hostStart, e)) {
                let address = SIPBytes.string(SIPBytes.slice(p, hostStart, e))
                throw SIPError("IPv6 address '\(address)' in a URI must be enclosed in '[' ']'")
            }
            throw error
        }
        if i < n && p[i] == 0x3A {
            let portStart = i + 1
            i = portStart
            while i < n && SIPBytes.isDigit(p[i]) { i += 1 }
            guard let port = SIPBytes.number(SIPBytes.slice(p, portStart, i), limit: 65535) else {
                throw SIPError("invalid port in URI '\(SIPBytes.string(p))'")
            }
            uri.port = port
        }
        while i < n && p[i] == 0x3B {
            let start = i + 1
            i = start
            while i < n && p[i] != 0x3B && p[i] != 0x3F { i += 1 }
            uri.parameters.append(try parseParameter(SIPBytes.slice(p, start, i), allowed: isParamByte))
        }
        if i < n && p[i] == 0x3F {
            i += 1
            while true {
                let start = i
                while i < n && p[i] != 0x26 { i += 1 }
                let h = try parseParameter(SIPBytes.slice(p, start, i), allowed: isHeaderByte)
                guard h.value != nil else { throw SIPError("URI header '\(h.name)' has no '='") }
                uri.headers.append(h)
                if i >= n { break }
                i += 1
            }
        }
        if i < n {
            throw SIPError("unexpected '\(Character(Unicode.Scalar(p[i])))' in URI '\(SIPBytes.string(p))'")
        }
        return uri
    }

    private static func parseTel(_ p: UnsafeRawBufferPointer) throws(SIPError) -> SIPURI {
        var uri = SIPURI(scheme: "tel", host: .name(""))
        var i = 0
        while i < p.count && p[i] != 0x3B {
            let b = p[i]
            guard
                SIPBytes.isHex(b) || b == 0x2B || b == 0x2D || b == 0x2E || b == 0x28 || b == 0x29
                    || b == 0x2A || b == 0x23 || b == 0x70 || b == 0x77
            else { throw SIPError("invalid character in tel: number") }
            i += 1
        }
        guard i > 0 else { throw SIPError("empty tel: number") }
        uri.user = SIPBytes.string(SIPBytes.slice(p, 0, i))
        while i < p.count && p[i] == 0x3B {
            let start = i + 1
            i = start
            while i < p.count && p[i] != 0x3B { i += 1 }
            uri.parameters.append(try parseParameter(SIPBytes.slice(p, start, i), allowed: isParamByte))
        }
        return uri
    }

    private static func parseParameter(
        _ p: UnsafeRawBufferPointer, allowed: (UInt8) -> Bool
    ) throws(SIPError) -> SIPParameter {
        var eq = -1
        for i in 0..<p.count where p[i] == 0x3D {
            eq = i
            break
        }
        if eq < 0 {
            guard !p.isEmpty else { throw SIPError("empty URI parameter") }
            return SIPParameter(name: try decode(p, allowed: allowed, what: "parameter"))
        }
        guard eq > 0 else { throw SIPError("URI parameter without a name") }
        let name = try decode(SIPBytes.slice(p, 0, eq), allowed: allowed, what: "parameter")
        let value = try decode(SIPBytes.slice(p, eq + 1, p.count), allowed: allowed, what: "parameter")
        return SIPParameter(name: name, value: value)
    }

    /// %-decodes `p`, checking every literal byte against `allowed`.
    static func decode(
        _ p: UnsafeRawBufferPointer, allowed: (UInt8) -> Bool, what: String
    ) throws(SIPError) -> String {
        var hasEscape = false
        for b in p {
            if b == 0x25 {
                hasEscape = true
            } else if !allowed(b) {
                throw SIPError("invalid character 0x\(hex2(b)) in URI \(what)")
            }
        }
        if !hasEscape { return SIPBytes.string(p) }
        var out = [UInt8]()
        out.reserveCapacity(p.count)
        var i = 0
        while i < p.count {
            if p[i] == 0x25 {
                guard i + 2 < p.count, SIPBytes.isHex(p[i + 1]), SIPBytes.isHex(p[i + 2]) else {
                    throw SIPError("invalid %-escape in URI \(what)")
                }
                out.append(SIPBytes.hexValue(p[i + 1]) << 4 | SIPBytes.hexValue(p[i + 2]))
                i += 3
            } else {
                out.append(p[i])
                i += 1
            }
        }
        let ok = out.withUnsafeBytes { SIPBytes.isValidUTF8($0) }
        guard ok else { throw SIPError("%-escaped URI \(what) is not UTF-8") }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex2(_ b: UInt8) -> String {
        let d: StaticString = "0123456789ABCDEF"
        let s = d.utf8Start
        var r = ""
        r.unicodeScalars.append(Unicode.Scalar(s[Int(b >> 4)]))
        r.unicodeScalars.append(Unicode.Scalar(s[Int(b & 15)]))
        return r
    }

    // user = 1*( unreserved / escaped / "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" )
    static func isUserByte(_ b: UInt8) -> Bool {
        if SIPBytes.isUnreserved(b) { return true }
        switch b {
        case 0x26, 0x3D, 0x2B, 0x24, 0x2C, 0x3B, 0x3F, 0x2F: return true
        default: return false
        }
    }

    // password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
    static func isPasswordByte(_ b: UInt8) -> Bool {
        if SIPBytes.isUnreserved(b) { return true }
        switch b {
        case 0x26, 0x3D, 0x2B, 0x24, 0x2C: return true
        default: return false
        }
    }

    // paramchar = param-unreserved / unreserved / escaped; "[" / "]" / "/" / ":" / "&" / "+" / "$"
    static func isParamByte(_ b: UInt8) -> Bool {
        if SIPBytes.isUnreserved(b) { return true }
        switch b {
        case 0x5B, 0x5D, 0x2F, 0x3A, 0x26, 0x2B, 0x24: return true
        default: return false
        }
    }

    // hnv-unreserved / unreserved / escaped; "[" / "]" / "/" / "?" / ":" / "+" / "$"
    static func isHeaderByte(_ b: UInt8) -> Bool {
        if SIPBytes.isUnreserved(b) { return true }
        switch b {
        case 0x5B, 0x5D, 0x2F, 0x3F, 0x3A, 0x2B, 0x24: return true
        default: return false
        }
    }

    // MARK: serialization

    func append(to out: inout [UInt8]) {
        SIPBytes.append(scheme, to: &out)
        out.append(0x3A)
        if let opaque {
            SIPBytes.append(opaque, to: &out)
            return
        }
        if scheme == "tel" {
            if let user { SIPBytes.append(user, to: &out) }
        } else {
            if let user {
                SIPURI.appendEscaped(user, allowed: SIPURI.isUserByte, to: &out)
                if let password {
                    out.append(0x3A)
                    SIPURI.appendEscaped(password, allowed: SIPURI.isPasswordByte, to: &out)
                }
                out.append(0x40)
            }
            host.append(to: &out)
            if let port {
                out.append(0x3A)
                SIPBytes.appendDecimal(port, to: &out)
            }
        }
        for p in parameters {
            out.append(0x3B)
            SIPURI.appendEscaped(p.name, allowed: SIPURI.isParamByte, to: &out)
            if let v = p.value {
                out.append(0x3D)
                SIPURI.appendEscaped(v, allowed: SIPURI.isParamByte, to: &out)
            }
        }
        var first = true
        for h in headers {
            out.append(first ? 0x3F : 0x26)
            first = false
            SIPURI.appendEscaped(h.name, allowed: SIPURI.isHeaderByte, to: &out)
            out.append(0x3D)
            SIPURI.appendEscaped(h.value ?? "", allowed: SIPURI.isHeaderByte, to: &out)
        }
    }

    static func appendEscaped(_ s: String, allowed: (UInt8) -> Bool, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789ABCDEF"
        let h = hex.utf8Start
        for b in s.utf8 {
            if allowed(b) {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(h[Int(b >> 4)])
                out.append(h[Int(b & 15)])
            }
        }
    }
}
