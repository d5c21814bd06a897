// The Via header value (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5118 IPv6).

/// One Via header value: `SIP/2.0/<transport> host[:port] *(;param)`. `parameters` holds ALL
/// parameters in order, branch/received/rport/maddr/ttl included; the named properties read
/// and write them. Transport is stored uppercase.
public struct SIPVia: Hashable, Sendable, CustomStringConvertible {
    public var transport: String
    public var host: SIPHost
    public var port: Int?
    public var parameters: [SIPParameter]

    public init(transport: String, host: SIPHost, port: Int? = nil, branch: String? = nil) {
        self.transport = transport.uppercasedASCII()
        self.host = host
        self.port = port.map { Swift.max(0, Swift.min(65535, $0)) }
        self.parameters = []
        if let branch { self.parameters.append(SIPParameter(name: "branch", value: branch)) }
    }

    public init(parsing text: String) throws(SIPError) {
        self = try SIPBytes.withBytes(text) { p throws(SIPError) in try SIPVia.parse(p) }
    }

    /// The transaction id of RFC 3261 §17.2.3 (`z9hG4bK...`), nil absent.
    public var branch: String? {
        get { parameters.lookup(StaticString("branch")) ?? nil }
        set { parameters.set("branch", newValue.map { .some($0) }) }
    }

    /// The source address the sent-by differed from (§18.2.1).
    public var received: String? {
        get { parameters.lookup(StaticString("received")) ?? nil }
        set { parameters.set("received", newValue.map { .some($0) }) }
    }

    /// RFC 3581: nil absent, `.some(nil)` requested (no value), `.some(port)` filled in.
    public var rport: Int?? {
        get {
            guard let v = parameters.lookup(StaticString("rport")) else { return nil }
            guard let text = v else { return .some(nil) }
            return .some(SIPBytes.number(text, limit: 65535))
        }
        set {
            switch newValue {
            case .none: parameters.set("rport", nil)
            case .some(.none): parameters.set("rport", .some(nil))
            case .some(.some(let port)): parameters.set("rport", .some(String(port)))
            }
        }
    }

    public var maddr: String? {
        get { parameters.lookup(StaticString("maddr")) ?? nil }
        set { parameters.set("maddr", newValue.map { .some($0) }) }
    }

    public var ttl: Int? {
        get { (parameters.lookup(StaticString("ttl")) ?? nil).flatMap { SIPBytes.number($0, limit: 255) } }
        set { parameters.set("ttl", newValue.map { .some(String(Swift.max(0, Swift.min(255, $0)))) }) }
    }

    /// The value of any parameter by case-insensitive name: nil absent, `.some(nil)` valueless.
    public func parameter(_ name: String) -> String?? { parameters.lookup(name) }

    public var description: String { SIPBytes.text { append(to: &$0) } }

    func append(to out: inout [UInt8]) {
        out.append(contentsOf: "SIP/2.0/".utf8)
        SIPBytes.append(transport, to: &out)
        out.append(0x20)
        host.append(to: &out)
        if let port {
            out.append(0x3A)
            SIPBytes.appendDecimal(port, to: &out)
        }
        SIPHeaderParameters.append(parameters, to: &out)
    }

    /// via-parm = sent-protocol LWS sent-by *( SEMI via-params )
    static func parse(_ p: UnsafeRawBufferPointer, anyVersion: Bool = false) throws(SIPError) -> SIPVia {
        let n = p.count
        var i = SIPBytes.skipWS(p, 0)
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport
        var tokens: [Range<Int>] = []
        tokens.reserveCapacity(3)
        for k in 0..<3 {
            let s = i
            while i < n && SIPBytes.isTokenByte(p[i]) { i += 1 }
            guard i > s else { throw SIPError("malformed sent-protocol") }
            tokens.append(s..<i)
            i = SIPBytes.skipWS(p, i)
            if k < 2 {
                guard i < n && p[i] == 0x2F else { throw SIPError("malformed sent-protocol (expected '/')") }
                i = SIPBytes.skipWS(p, i + 1)
            }
        }
        let proto = SIPBytes.slice(p, tokens[0].lowerBound, tokens[0].upperBound)
        let version = SIPBytes.slice(p, tokens[1].lowerBound, tokens[1].upperBound)
        guard SIPBytes.equalsLower(proto, "sip"), anyVersion || SIPBytes.equals(version, "2.0") else {
            throw SIPError("unsupported protocol '\(SIPBytes.string(proto))/\(SIPBytes.string(version))'")
        }
        let transportBytes = SIPBytes.slice(p, tokens[2].lowerBound, tokens[2].upperBound)
        var transport = ""
        if SIPBytes.equalsLower(transportBytes, "udp") {
            transport = "UDP"
        } else if SIPBytes.equalsLower(transportBytes, "tcp") {
            transport = "TCP"
        } else if SIPBytes.equalsLower(transportBytes, "tls") {
            transport = "TLS"
        } else {
            transport = SIPBytes.string(transportBytes).uppercasedASCII()
        }
        guard i < n else { throw SIPError("missing sent-by") }
        // sent-by = host [ COLON port ]
        let hostStart = i
        if p[i] == 0x5B {
            while i < n && p[i] != 0x5D { i += 1 }
            guard i < n else { throw SIPError("IPv6 reference in sent-by lacks its closing ']'") }
            i += 1
        } else {
            while i < n && (SIPBytes.isAlnum(p[i]) || p[i] == 0x2D || p[i] == 0x2E) { i += 1 }
        }
        let host = try SIPHost.parse(SIPBytes.slice(p, hostStart, i))
        var port: Int? = nil
        i = SIPBytes.skipWS(p, i)
        if i < n && p[i] == 0x3A {
            i = SIPBytes.skipWS(p, i + 1)
            let s = i
            while i < n && SIPBytes.isDigit(p[i]) { i += 1 }
            guard let value = SIPBytes.number(SIPBytes.slice(p, s, i), limit: 65535) else {
                throw SIPError("invalid sent-by port")
            }
            port = value
        }
        var via = SIPVia(transport: transport, host: host, port: port)
        via.parameters = try SIPHeaderParameters.parse(p, from: i)
        try via.validateParameters()
        return via
    }

    func validateParameters() throws(SIPError) {
        for param in parameters {
            let name = param.name
            if SIPBytes.equalsLower(name, "ttl") {
                guard let v = param.value, SIPBytes.number(v, limit: 255) != nil else {
                    throw SIPError("ttl must be 0-255")
                }
            } else if SIPBytes.equalsLower(name, "rport") {
                if let v = param.value, SIPBytes.number(v, limit: 65535) == nil {
                    throw SIPError("rport must be a port number")
                }
            } else if SIPBytes.equalsLower(name, "received") {
                guard let v = param.value else { throw SIPError("received needs an address") }
                let ok = SIPBytes.withBytesNoThrow(v) { q in
                    if SIPHost.isIPv4(q) || SIPHost.isIPv6(q) { return true }
                    // RFC 5118 §4.5: accept the bracketed form too.
                    if q.count > 2 && q[0] == 0x5B && q[q.count - 1] == 0x5D {
                        return SIPHost.isIPv6(SIPBytes.slice(q, 1, q.count - 1))
                    }
                    return false
                }
                guard ok else { throw SIPError("received '\(v)' is not an IP address") }
            } else if SIPBytes.equalsLower(name, "branch") || SIPBytes.equalsLower(name, "maddr") {
                guard param.value != nil else { throw SIPError("\(name) needs a value") }
            }
        }
    }
}

extension String {
    func uppercasedASCII() -> String {
        var needs = false
        for b in utf8 where b &- 0x61 < 26 { needs = true; break }
        if !needs { return self }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        for b in utf8 { out.append(b &- 0x61 < 26 ? b - 0x20 : b) }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SIPBytes {
    static func withBytesNoThrow<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var s = text
        return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
