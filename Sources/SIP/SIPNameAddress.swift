// From, To, Contact, Route and Record-Route values (RFC 3261 §20.10, §20.20, §20.30,
// §20.34, §20.39, §25.1 name-addr / addr-spec).

/// A name-address: `["display name"] <uri> *(;param)` or the bare `addr-spec *(;param)`
/// form. The display name is stored unquoted (quoted-pairs resolved; an unquoted display name
/// with its words joined by one space). `parameters` are the header parameters (tag,
/// expires, q, ...), values as written.
public struct SIPNameAddress: Hashable, Sendable, CustomStringConvertible {
    public var displayName: String?
    public var uri: SIPURI
    public var parameters: [SIPParameter]

    public init(displayName: String? = nil, uri: SIPURI, parameters: [SIPParameter] = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public init(parsing text: String) throws(SIPError) {
        self = try SIPBytes.withBytes(text) { p throws(SIPError) in try SIPNameAddress.parse(p) }
    }

    /// The dialog tag (RFC 3261 §19.3), nil when absent.
    public var tag: String? {
        get { parameters.lookup(StaticString("tag")) ?? nil }
        set { parameters.set("tag", newValue.map { .some($0) }) }
    }

    /// A header parameter by case-insensitive name: nil absent, `.some(nil)` valueless.
    public func parameter(_ name: String) -> String?? { parameters.lookup(name) }

    public var description: String { SIPBytes.text { append(to: &$0) } }

    func append(to out: inout [UInt8]) {
        if let displayName {
            out.append(0x22)
            for b in displayName.utf8 {
                if b == 0x22 || b == 0x5C || (b < 0x20 && b != 0x09 && b != 0x0D && b != 0x0A) || b == 0x7F {
                    out.append(0x5C)
                }
                // Line breaks cannot appear in a quoted-string: they become spaces.
                out.append(b == 0x0D || b == 0x0A ? 0x20 : b)
            }
            out.append(0x22)
            out.append(0x20)
        }
        out.append(0x3C)
        uri.append(to: &out)
        out.append(0x3E)
        SIPHeaderParameters.append(parameters, to: &out)
    }

    /// name-addr / addr-spec followed by header parameters.
    static func parse(_ p: UnsafeRawBufferPointer) throws(SIPError) -> SIPNameAddress {
        let n = p.count
        var i = SIPBytes.skipWS(p, 0)
        guard i < n else { throw SIPError("empty address") }
        var displayName: String? = nil
        var bracketed = false
        if p[i] == 0x22 {
            guard let e = SIPBytes.endOfQuoted(p, from: i) else {
                throw SIPError("unterminated quoted display name")
            }
            displayName = SIPBytes.unquote(SIPBytes.slice(p, i + 1, e - 1))
            i = SIPBytes.skipWS(p, e)
            guard i < n && p[i] == 0x3C else { throw SIPError("display name not followed by '<'") }
            bracketed = true
        } else {
            var lt = -1
            var k = i
            while k < n {
                if p[k] == 0x3C {
                    lt = k
                    break
                }
                if p[k] == 0x22 { break }
                k += 1
            }
            if lt >= 0 {
                // display-name = *(token LWS): words of token characters.
                var words: [UInt8] = []
                var k2 = i
                while k2 < lt {
                    let b = p[k2]
                    if SIPBytes.isWS(b) {
                        k2 += 1
                        continue
                    }
                    guard SIPBytes.isTokenByte(b) else {
                        throw SIPError("invalid character '\(Character(Unicode.Scalar(b)))' in unquoted display name")
                    }
                    if !words.isEmpty && SIPBytes.isWS(p[k2 - 1]) { words.append(0x20) }
                    words.append(b)
                    k2 += 1
                }
                if !words.isEmpty { displayName = String(decoding: words, as: UTF8.self) }
                i = lt
                bracketed = true
            }
        }
        var uri: SIPURI
        var paramStart: Int
        if bracketed {
            var gt = i + 1
            while gt < n && p[gt] != 0x3E { gt += 1 }
            guard gt < n else { throw SIPError("'<' without '>'") }
            let inner = SIPBytes.slice(p, i + 1, gt)
            for b in inner where SIPBytes.isWS(b) { throw SIPError("whitespace inside <URI>") }
            uri = try SIPURI.parse(inner, allowOtherSchemes: true)
            paramStart = gt + 1
        } else {
            // addr-spec: the URI ends at the first ';' (what follows are header parameters)
            // and may not contain ',', '?' or whitespace.
            var e = i
            while e < n && p[e] != 0x3B && !SIPBytes.isWS(p[e]) { e += 1 }
            let spec = SIPBytes.slice(p, i, e)
            for b in spec where b == 0x2C || b == 0x3F {
                throw SIPError("'\(Character(Unicode.Scalar(b)))' in an addr-spec outside '<' '>'")
            }
            uri = try SIPURI.parse(spec, allowOtherSchemes: true)
            paramStart = e
            let after = SIPBytes.skipWS(p, e)
            if after < n && p[after] != 0x3B {
                throw SIPError("whitespace inside the address '\(SIPBytes.string(SIPBytes.slice(p, i, n)))'")
            }
        }
        let params = try SIPHeaderParameters.parse(p, from: paramStart)
        return SIPNameAddress(displayName: displayName, uri: uri, parameters: params)
    }
}

/// One Contact value (RFC 3261 §20.10): the wildcard `*` (REGISTER removal) or an address
/// whose `expires` and `q` parameters are validated.
public struct SIPContact: Hashable, Sendable, CustomStringConvertible {
    /// nil for the wildcard `*`.
    public var address: SIPNameAddress?

    public static let wildcard = SIPContact(wildcardMarker: ())

    private init(wildcardMarker: Void) { address = nil }

    public init(_ address: SIPNameAddress) { self.address = address }

    public init(parsing text: String) throws(SIPError) {
        self = try SIPBytes.withBytes(text) { p throws(SIPError) in try SIPContact.parse(p) }
    }

    public var isWildcard: Bool { address == nil }

    /// The expires parameter in seconds (RFC 3261 §20.10), nil absent.
    public var expires: Int? {
        get {
            (address?.parameters.lookup(StaticString("expires")) ?? nil).flatMap {
                SIPBytes.saturatingNumber($0, limit: SIPBytes.deltaSecondsLimit)
            }
        }
        set { address?.parameters.set("expires", newValue.map { .some(String(Swift.max(0, $0))) }) }
    }

    /// The q parameter in thousandths (q=0.7 is 700), nil absent.
    public var qThousandths: Int? {
        guard let text = address?.parameters.lookup(StaticString("q")) ?? nil else { return nil }
        return SIPContact.qValue(text)
    }

    /// The q parameter (0...1), nil absent.
    public var q: Double? { qThousandths.map { Double($0) / 1000 } }

    public var description: String { address?.description ?? "*" }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
    static func qValue(_ s: String) -> Int? {
        let b = Array(s.utf8)
        guard !b.isEmpty, b[0] == 0x30 || b[0] == 0x31 else { return nil }
        var value = Int(b[0] - 0x30) * 1000
        if b.count == 1 { return value }
        guard b[1] == 0x2E, b.count <= 5 else { return nil }
        var scale = 100
        for d in b[2...] {
            guard SIPBytes.isDigit(d) else { return nil }
            value += Int(d - 0x30) * scale
            scale /= 10
        }
        return value <= 1000 ? value : nil
    }

    static func parse(_ p: UnsafeRawBufferPointer) throws(SIPError) -> SIPContact {
        let t = SIPBytes.trimmed(p)
        if t.count == 1 && t[0] == 0x2A { return .wildcard }
        let a = try SIPNameAddress.parse(p)
        let contact = SIPContact(a)
        if let e = a.parameters.lookup(StaticString("expires")) {
            guard let text = e, SIPBytes.saturatingNumber(text, limit: SIPBytes.deltaSecondsLimit) != nil else {
                throw SIPError("Contact expires must be delta-seconds")
            }
        }
        if let q = a.parameters.lookup(StaticString("q")) {
            guard let text = q, qValue(text) != nil else { throw SIPError("Contact q must be a qvalue 0-1") }
        }
        return contact
    }
}

/// The CSeq header value (RFC 3261 §20.16): a sequence number below 2^31 and a method.
public struct SIPCSeq: Hashable, Sendable, CustomStringConvertible {
    public var number: UInt32
    public var method: SIPMethod

    public init(number: UInt32, method: SIPMethod) {
        self.number = Swift.min(number, 0x7FFF_FFFF)
        self.method = method
    }

    public init(parsing text: String) throws(SIPError) {
        self = try SIPBytes.withBytes(text) { p throws(SIPError) in try SIPCSeq.parse(p) }
    }

    public var description: String { String(number) + " " + method.name }

    static func parse(_ p: UnsafeRawBufferPointer) throws(SIPError) -> SIPCSeq {
        let n = p.count
        var i = SIPBytes.skipWS(p, 0)
        let s = i
        while i < n && SIPBytes.isDigit(p[i]) { i += 1 }
        guard i > s else { throw SIPError("CSeq has no sequence number") }
        guard let number = SIPBytes.number(SIPBytes.slice(p, s, i), limit: 0x7FFF_FFFF) else {
            throw SIPError("CSeq number \(SIPBytes.string(SIPBytes.slice(p, s, i))) exceeds 2^31-1")
        }
        let afterNumber = i
        i = SIPBytes.skipWS(p, i)
        guard i > afterNumber else { throw SIPError("CSeq number not followed by a space and a method") }
        let m = i
        while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
        guard i > m else { throw SIPError("CSeq has no method") }
        let method = SIPMethod(validBytes: SIPBytes.slice(p, m, i))
        guard SIPBytes.skipWS(p, i) == n else { throw SIPError("trailing characters after the CSeq method") }
        return SIPCSeq(number: UInt32(number), method: method)
    }
}
