// Socket addresses of the firmware: one value type for IPv4 and IPv6, with no heap storage, and
// the IP-literal parser that goes with it (RFC 791 dotted quad, RFC 4291 §2.2 text, RFC 5952
// output). SIP's `SIPSocketAddress` and Media's `RTPEndpoint` are this type.

/// An IPv4 or IPv6 address and a port: the literal endpoint of a socket. A plain value (no heap
/// storage), so receive paths can compare a datagram's source without allocating. Names are
/// resolved before they get here (`DNSResolver`).
public struct SocketAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// 4 or 6 (the `CLinux` socket calls' family numbers; 0 for a source the kernel could not name).
    public var family: Int32
    /// Network-order address bytes: the first 4 (IPv4) or all 16 (IPv6); the rest are zero.
    public var bytes: (UInt64, UInt64)
    public var port: UInt16

    /// From the values the `CLinux` socket calls give (family 4 or 6, 16 raw bytes, port).
    public init(family: Int32, bytes: (UInt64, UInt64), port: UInt16) {
        self.family = family
        self.bytes = bytes
        self.port = port
    }

    /// IPv4 from four octets.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        var raw = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &raw) { r in
            r[0] = a
            r[1] = b
            r[2] = c
            r[3] = d
        }
        self.init(family: 4, bytes: raw, port: port)
    }

    /// From raw network-order bytes (4 or 16 of them); nil for any other length.
    public init?<Bytes: Collection>(bytes: Bytes, port: UInt16) where Bytes.Element == UInt8 {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        var raw = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &raw) { r in
            for (i, b) in bytes.enumerated() { r[i] = b }
        }
        self.init(family: bytes.count == 16 ? 6 : 4, bytes: raw, port: port)
    }

    /// The address bytes in network order: 4 for IPv4, 16 for IPv6 (a new array).
    public var address: [UInt8] {
        withUnsafeBytes(of: bytes) { Array($0[0..<(family == 6 ? 16 : 4)]) }
    }

    public var isIPv6: Bool { family == 6 }

    /// The unspecified address of the same family (0.0.0.0 or ::).
    public var isAnyAddress: Bool { bytes.0 == 0 && bytes.1 == 0 }

    /// Same as `isAnyAddress` (an SDP `c=` of 0.0.0.0 or `::`).
    public var isUnspecified: Bool { isAnyAddress }

    /// The same address with another port (RTCP beside RTP).
    public func with(port: UInt16) -> SocketAddress { SocketAddress(family: family, bytes: bytes, port: port) }

    /// Whether `other` is the same host (family and bytes), whatever the ports.
    public func hasSameHost(as other: SocketAddress) -> Bool {
        family == other.family && bytes.0 == other.bytes.0 && bytes.1 == other.bytes.1
    }

    /// Calls `body` with the 16 address bytes (what the `CLinux` socket calls take).
    public func withAddressPointer<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeBytes(of: bytes) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }

    public static func == (a: SocketAddress, b: SocketAddress) -> Bool {
        a.hasSameHost(as: b) && a.port == b.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(bytes.0)
        hasher.combine(bytes.1)
        hasher.combine(port)
    }

    /// The host part as it appears in a Via sent-by or a URI: `192.0.2.1` or `[2001:db8::1]`.
    public var hostText: String {
        var out: [UInt8] = []
        appendHost(to: &out, brackets: true)
        return String(decoding: out, as: UTF8.self)
    }

    /// The address without brackets (`192.0.2.1`, `2001:db8::1`), as in Via `received`.
    public var plainHostText: String {
        var out: [UInt8] = []
        appendHost(to: &out, brackets: false)
        return String(decoding: out, as: UTF8.self)
    }

    /// `192.0.2.1:4000` or `[2001:db8::1]:4000`.
    public var description: String {
        var out: [UInt8] = []
        appendHost(to: &out, brackets: true)
        out.append(58)  // ":"
        SocketAddress.appendDecimal(Int(port), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Dotted IPv4, or RFC 5952 IPv6 text (longest run of two or more zero groups compressed).
    func appendHost(to out: inout [UInt8], brackets: Bool) {
        withUnsafeBytes(of: bytes) { b in
            if !isIPv6 {
                for i in 0..<4 {
                    if i > 0 { out.append(46) }  // "."
                    SocketAddress.appendDecimal(Int(b[i]), to: &out)
                }
                return
            }
            var groups = (0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &groups) { g in
                let words = g.bindMemory(to: Int.self)
                for i in 0..<8 { words[i] = Int(b[2 * i]) << 8 | Int(b[2 * i + 1]) }
                var bestStart = -1
                var bestLength = 0
                var i = 0
                while i < 8 {
                    if words[i] == 0 {
                        var j = i
                        while j < 8 && words[j] == 0 { j += 1 }
                        if j - i > bestLength && j - i >= 2 {
                            bestStart = i
                            bestLength = j - i
                        }
                        i = j
                    } else {
                        i += 1
                    }
                }
                if brackets { out.append(91) }  // "["
                i = 0
                while i < 8 {
                    if i == bestStart {
                        out += [58, 58]  // "::"
                        i += bestLength
                        continue
                    }
                    if i > 0 && i != bestStart + bestLength { out.append(58) }
                    SocketAddress.appendHex(words[i], to: &out)
                    i += 1
                }
                if brackets { out.append(93) }  // "]"
            }
        }
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(48 + UInt8(value % 10))
    }

    static func appendHex(_ value: Int, to out: inout [UInt8]) {
        if value >= 16 { appendHex(value >> 4, to: &out) }
        let d = UInt8(value & 15)
        out.append(d < 10 ? 48 + d : 87 + d)
    }
}

extension SocketAddress {
    /// Parses an IP literal: dotted IPv4 (`192.0.2.1`) or IPv6 text with or without brackets
    /// (`[2001:db8::1]`, `::ffff:192.0.2.1`); nil for names or malformed text.
    public init?(literal text: String, port: UInt16) {
        var bytes = Array(text.utf8)
        if bytes.first == 91 {  // "["
            guard bytes.last == 93, bytes.count > 2 else { return nil }
            bytes = Array(bytes[1..<bytes.count - 1])
        }
        if let v4 = SocketAddress.parseIPv4(bytes[...]) {
            self.init(bytes: v4, port: port)
        } else if let v6 = SocketAddress.parseIPv6(bytes) {
            self.init(bytes: v6, port: port)
        } else {
            return nil
        }
    }

    static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var value = 0
        var digits = 0
        for c in text {
            if c >= 48 && c <= 57 {
                value = value * 10 + Int(c - 48)
                digits += 1
                if digits > 3 || value > 255 { return nil }
            } else if c == 46 {  // "."
                if digits == 0 || out.count == 3 { return nil }
                out.append(UInt8(value))
                value = 0
                digits = 0
            } else {
                return nil
            }
        }
        if digits == 0 || out.count != 3 { return nil }
        out.append(UInt8(value))
        return out
    }

    static func parseIPv6(_ text: [UInt8]) -> [UInt8]? {
        if text.isEmpty || text.count > 45 { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var i = 0
        let n = text.count
        if n >= 2 && text[0] == 58 && text[1] == 58 {
            sawGap = true
            i = 2
        } else if text[0] == 58 {
            return nil
        }
        var embedded: [UInt8]? = nil
        while i < n {
            // One group: hex digits, or a trailing dotted IPv4.
            var j = i
            var value = 0
            while j < n, let d = SocketAddress.hexValue(text[j]) {
                value = value * 16 + d
                j += 1
                if j - i > 4 { return nil }
            }
            if j < n && text[j] == 46 {  // "." : embedded IPv4 ends the address
                guard let v4 = parseIPv4(text[i...]) else { return nil }
                embedded = v4
                i = n
                break
            }
            if j == i { return nil }
            if sawGap { tail.append(UInt16(value)) } else { head.append(UInt16(value)) }
            if j == n {
                i = n
                break
            }
            guard text[j] == 58 else { return nil }
            if j + 1 < n && text[j + 1] == 58 {
                if sawGap { return nil }
                sawGap = true
                i = j + 2
                if i == n { break }
            } else {
                i = j + 1
                if i == n { return nil }
            }
        }
        let groups = head.count + tail.count + (embedded == nil ? 0 : 2)
        if sawGap ? groups > 7 : groups != 8 { return nil }
        var out: [UInt8] = []
        for g in head { out += [UInt8(g >> 8), UInt8(g & 0xff)] }
        out += [UInt8](repeating: 0, count: 16 - 2 * groups)
        for g in tail { out += [UInt8(g >> 8), UInt8(g & 0xff)] }
        if let embedded { out += embedded }
        return out
    }

    private static func hexValue(_ c: UInt8) -> Int? {
        if c >= 48 && c <= 57 { return Int(c - 48) }
        if c >= 97 && c <= 102 { return Int(c - 87) }
        if c >= 65 && c <= 70 { return Int(c - 55) }
        return nil
    }
}
