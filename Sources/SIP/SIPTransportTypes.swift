// Small value types shared by the transports and the transaction layer (RFC 3261 §18).

/// A SIP transport protocol. UDP is unreliable (retransmissions on, Timer D/K/I/J non-zero);
/// TCP is reliable (RFC 3261 §17, §18).
public enum SIPTransportProtocol: UInt8, Equatable, Hashable, Sendable, CustomStringConvertible {
    case udp
    case tcp

    /// The Via transport token: `UDP` or `TCP`.
    public var name: String {
        switch self {
        case .udp: return "UDP"
        case .tcp: return "TCP"
        }
    }

    /// Reliable transports take no retransmissions (RFC 3261 §17.1.1.2).
    public var isReliable: Bool { self == .tcp }

    public var description: String { name }
}

/// An IPv4 or IPv6 address and a port: the literal endpoint of a socket. Names are resolved
/// before they get here (a phone's proxy is configured as an address or resolved once).
public struct SIPSocketAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
    public let address: [UInt8]
    public let port: UInt16

    public var isIPv6: Bool { address.count == 16 }

    /// IPv4 from four octets.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        self.address = [a, b, c, d]
        self.port = port
    }

    /// From raw network-order bytes (4 or 16 of them); nil for any other length.
    public init?(bytes: [UInt8], port: UInt16) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.address = bytes
        self.port = port
    }

    /// The host part as it appears in a Via sent-by or a URI: `192.0.2.1` or `[2001:db8::1]`.
    public var hostText: String {
        if !isIPv6 {
            return "\(address[0]).\(address[1]).\(address[2]).\(address[3])"
        }
        return "[" + SIPSocketAddress.ipv6Text(address) + "]"
    }

    public var description: String { "\(hostText):\(port)" }

    /// RFC 5952 text of a 16-byte IPv6 address (longest run of zero groups compressed).
    static func ipv6Text(_ b: [UInt8]) -> String {
        var groups = [Int](repeating: 0, count: 8)
        for i in 0..<8 { groups[i] = Int(b[2 * i]) << 8 | Int(b[2 * i + 1]) }
        var bestStart = -1
        var bestLength = 0
        var i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLength && j - i >= 2 {
                    bestStart = i
                    bestLength = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        var text = ""
        i = 0
        while i < 8 {
            if i == bestStart {
                text += "::"
                i += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += hex(groups[i])
            i += 1
        }
        return text
    }

    private static func hex(_ value: Int) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        if value == 0 { return "0" }
        var v = value
        var out: [Character] = []
        while v > 0 {
            out.append(digits[v & 15])
            v >>= 4
        }
        return String(out.reversed())
    }
}

/// Where a message came from or goes to: the transport, the remote socket address and, for
/// TCP, the connection it arrived on (responses go back on the same connection, §18.2.2).
public struct SIPPeer: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var transport: SIPTransportProtocol
    public var remote: SIPSocketAddress
    /// The transport layer's id of the TCP connection, nil for UDP or "any/new connection".
    public var connection: Int?

    public init(transport: SIPTransportProtocol, remote: SIPSocketAddress, connection: Int? = nil) {
        self.transport = transport
        self.remote = remote
        self.connection = connection
    }

    public var description: String { "\(transport.name) \(remote)" }
}
