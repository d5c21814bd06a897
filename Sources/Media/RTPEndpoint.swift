import CLinux
import SIP

/// An IPv4 or IPv6 address and a UDP port as a plain value with no heap storage, so the
/// receive path can compare a packet's source with the latched far end (RFC 4961 symmetric
/// RTP) without allocating. Convertible from and to the SIP layer's `SIPSocketAddress`.
public struct RTPEndpoint: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// 4 or 6.
    public var family: Int32
    /// Network-order address bytes: the first 4 (IPv4) or all 16 (IPv6).
    public var bytes: (UInt64, UInt64)
    public var port: UInt16

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

    /// Parses an IPv4 or IPv6 literal (brackets allowed around IPv6); nil for anything else.
    public init?(host: String, port: UInt16) {
        var text = host
        if text.utf8.first == UInt8(ascii: "[") && text.utf8.last == UInt8(ascii: "]") {
            text = String(decoding: Array(text.utf8.dropFirst().dropLast()), as: UTF8.self)
        }
        let isV6 = text.utf8.contains(UInt8(ascii: ":"))
        var raw = (UInt64(0), UInt64(0))
        let rc = text.withCString { cText in
            withUnsafeMutableBytes(of: &raw) { r in inet_pton(isV6 ? 10 : 2, cText, r.baseAddress) }
        }
        guard rc == 1 else { return nil }
        self.init(family: isV6 ? 6 : 4, bytes: raw, port: port)
    }

    /// From the SIP layer's address type.
    public init?(_ address: SIPSocketAddress) {
        guard address.address.count == 4 || address.address.count == 16 else { return nil }
        var raw = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &raw) { r in
            for i in 0..<address.address.count { r[i] = address.address[i] }
        }
        self.init(family: address.isIPv6 ? 6 : 4, bytes: raw, port: address.port)
    }

    /// The SIP layer's address type for this endpoint.
    public var socketAddress: SIPSocketAddress {
        withUnsafeBytes(of: bytes) { r in
            SIPSocketAddress(bytes: Array(r[0..<(family == 6 ? 16 : 4)]), port: port)!
        }
    }

    /// The same address with another port (RTCP beside RTP).
    public func with(port: UInt16) -> RTPEndpoint { RTPEndpoint(family: family, bytes: bytes, port: port) }

    /// True for 0.0.0.0 and `::`.
    public var isUnspecified: Bool { bytes.0 == 0 && bytes.1 == 0 }

    public static func == (a: RTPEndpoint, b: RTPEndpoint) -> Bool {
        a.family == b.family && a.bytes.0 == b.bytes.0 && a.bytes.1 == b.bytes.1 && a.port == b.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(bytes.0)
        hasher.combine(bytes.1)
        hasher.combine(port)
    }

    /// `192.0.2.1:4000` or `[2001:db8::1]:4000`.
    public var description: String { socketAddress.description }
}
