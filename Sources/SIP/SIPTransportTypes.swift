// Small value types shared by the transports and the transaction layer (RFC 3261 §18).

import Net

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

    /// Whether the transport encrypts what it carries (only then are SDES keys safe, RFC 4568 §8.3).
    public var isEncrypted: Bool {
        switch self {
        case .udp, .tcp: return false
        }
    }

    /// Reliable transports take no retransmissions (RFC 3261 §17.1.1.2).
    public var isReliable: Bool { self == .tcp }

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
