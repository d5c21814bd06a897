// Small value types shared by the transports and the transaction layer (RFC 3261 §18).

import Net

/// A SIP transport protocol. UDP is unreliable (retransmissions on, Timer D/K/I/J non-zero);
/// TCP and TLS over TCP are reliable (RFC 3261 §17, §18, §26.2.1).
public enum SIPTransportProtocol: UInt8, Equatable, Hashable, Sendable, CustomStringConvertible {
    case udp
    case tcp
    /// TLS over TCP (RFC 3261 §26.2.1; `sips:` URIs, RFC 5630).
    case tls

    /// The Via transport token: `UDP`, `TCP` or `TLS`.
    public var name: String {
        switch self {
        case .udp: return "UDP"
        case .tcp: return "TCP"
        case .tls: return "TLS"
        }
    }

    /// The URI `transport` parameter value: `udp`, `tcp` or `tls` (RFC 3261 §19.1.1).
    public var parameterValue: String {
        switch self {
        case .udp: return "udp"
        case .tcp: return "tcp"
        case .tls: return "tls"
        }
    }

    /// The transport a URI `transport` parameter names (any case), nil for others (sctp, ws).
    public init?(parameterValue text: String) {
        switch ConfigFileText.asciiLowercase(text) {
        case "udp": self = .udp
        case "tcp": self = .tcp
        case "tls": self = .tls
        default: return nil
        }
    }

    /// The port when none is given: 5061 for TLS, 5060 otherwise (RFC 3261 §19.1.2, RFC 3263 §4.2).
    public var defaultPort: UInt16 { self == .tls ? 5061 : 5060 }

    /// Whether the transport encrypts what it carries (only then are SDES keys safe, RFC 4568 §8.3).
    public var isEncrypted: Bool {
        switch self {
        case .udp, .tcp: return false
        case .tls: return true
        }
    }

    /// Reliable transports take no retransmissions (RFC 3261 §17.1.1.2).
    public var isReliable: Bool { self != .udp }

    /// Runs over a TCP connection (TCP itself, or TLS on it): framed, CRLF keep-alive pings.
    public var isStream: Bool { self != .udp }

    public var description: String { name }
}

/// The socket address type of the transports (`Net.SocketAddress`: IPv4 or IPv6 and a port).
public typealias SIPSocketAddress = SocketAddress

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
