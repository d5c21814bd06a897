import CLinux

/// A transport failure reported to the transaction layer, which fails the transaction it
/// belongs to (RFC 3261 §17.1.4, §18.4); also what `SIPTransportLayer.start()` throws.
public enum SIPTransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// TCP: the peer refused the connection (RST). UDP: an ICMP port unreachable came back
    /// for a datagram we sent (RFC 3261 §18.4).
    case connectionRefused
    /// TCP: the connection was not established within the connect timeout.
    case connectTimeout
    /// TCP: an established connection failed (reset, broken pipe) or the peer closed it while
    /// messages were still queued for it.
    case connectionReset
    /// The network or host cannot be reached (ICMP unreachable, EHOSTUNREACH, ENETUNREACH);
    /// `errno` is the kernel's reason.
    case unreachable(errno: Int32)
    /// The message is larger than the configured maximum message size and was not sent.
    case messageTooLarge(size: Int)
    /// No connection could be opened: the configured maximum is reached.
    case tooManyConnections
    /// The peer does not read: more bytes are queued for it than the configured maximum.
    case sendQueueFull
    /// The message asks for a transport this layer does not run (not configured or closed).
    case transportUnavailable(SIPTransportProtocol)
    /// A system call failed (socket, bind, listen, send, ...).
    case system(call: String, errno: Int32)
    /// TLS: the handshake or the session failed, or no session could be made; the text is the
    /// engine's reason (a refused certificate names why).
    case tls(String)

    public var description: String {
        switch self {
        case .connectionRefused: return "connection refused"
        case .connectTimeout: return "connect timeout"
        case .connectionReset: return "connection reset"
        case .unreachable(let errno): return "unreachable: " + SIPTransportError.errnoText(errno)
        case .messageTooLarge(let size): return "message of " + String(size) + " bytes is too large"
        case .tooManyConnections: return "too many connections"
        case .sendQueueFull: return "send queue full"
        case .transportUnavailable(let transport): return transport.name + " transport not available"
        case .system(let call, let errno): return call + ": " + SIPTransportError.errnoText(errno)
        case .tls(let reason): return "TLS: " + reason
        }
    }

    /// Maps a socket errno to the error the transaction layer sees.
    static func from(errno value: Int32, call: String) -> SIPTransportError {
        switch value {
        case ECONNREFUSED: return .connectionRefused
        case ETIMEDOUT: return .connectTimeout
        case ECONNRESET, EPIPE, ECONNABORTED, ENOTCONN: return .connectionReset
        case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN, EADDRNOTAVAIL: return .unreachable(errno: value)
        case EMSGSIZE: return .messageTooLarge(size: 0)
        default: return .system(call: call, errno: value)
        }
    }

    /// `ECONNREFUSED (Connection refused)`, or `errno N (text)` for names the shim lacks.
    static func errnoText(_ value: Int32) -> String {
        let text = String(cString: cl_strerror(value))
        if let name = cl_errno_name(value) { return String(cString: name) + " (" + text + ")" }
        return "errno " + String(value) + " (" + text + ")"
    }
}

/// What the transport layer (RFC 3261 §18) has seen and done, for diagnostics and tests.
public struct SIPTransportCounters: Equatable, Sendable, CustomStringConvertible {
    /// Whole messages handed to the message handler.
    public var messagesReceived = 0
    /// Messages written to a socket (or queued on a connection).
    public var messagesSent = 0
    /// Input that could not be parsed or framed (garbage datagrams, broken streams).
    public var malformed = 0
    /// Input dropped without an answer: malformed input no response can be formed for,
    /// responses whose Via is not ours (§18.1.2), oversize datagrams, messages for which the
    /// handler is missing.
    public var dropped = 0
    /// 400 (or other) responses sent for malformed requests.
    public var malformedAnswered = 0
    /// CRLFCRLF pings answered and CRLF pongs seen (RFC 5626 §3.5.1).
    public var pingsAnswered = 0
    public var pongsReceived = 0
    /// TCP connections we opened, accepted, refused to accept (limit) and closed.
    public var connectionsOpened = 0
    public var connectionsAccepted = 0
    public var connectionsRejected = 0
    public var connectionsClosed = 0
    /// Connections closed for idleness, silence or a message that did not complete in time.
    public var connectionsTimedOut = 0
    /// Idle connections closed to make room for a new one at the limit.
    public var connectionsEvicted = 0
    /// Transport errors reported to the error handler.
    public var errorsReported = 0
    /// TLS handshakes completed and TLS sessions failed (handshake or later).
    public var tlsHandshakes = 0
    public var tlsFailures = 0

    public init() {}

    public var description: String {
        "in " + String(messagesReceived) + ", out " + String(messagesSent) + ", malformed " + String(malformed)
            + ", dropped " + String(dropped) + ", answered " + String(malformedAnswered) + ", connections +"
            + String(connectionsOpened) + "/+" + String(connectionsAccepted) + "/-" + String(connectionsClosed)
            + " (rejected " + String(connectionsRejected) + ", timed out " + String(connectionsTimedOut)
            + ", evicted " + String(connectionsEvicted) + "), errors " + String(errorsReported) + ", TLS "
            + String(tlsHandshakes) + " up/" + String(tlsFailures) + " failed"
    }
}

/// How a `SIPTransportLayer` listens and the limits it enforces (RFC 3261 §18).
public struct SIPTransportConfiguration: Sendable {
    /// Where to listen: an IPv4 or IPv6 address (all zeros = any) and a port (0 = any free
    /// port, the same one for UDP and TCP; read the result from `localAddress(for:)`).
    public var address: SIPSocketAddress
    public var udp: Bool
    public var tcp: Bool
    /// The host written into Via sent-by (and checked in responses, §18.1.2). Default: the
    /// listening address; set it when listening on the any-address.
    public var advertisedHost: String?
    /// An IPv6 any-address socket also serves IPv4 (IPV6_V6ONLY off).
    public var dualStack: Bool
    /// Message size limits, for streams and datagrams alike.
    public var limits: SIPStreamFramer.Limits
    /// At most this many TCP connections (in and out). At the limit a new one takes the place
    /// of an idle one (first an inbound connection that never sent a whole message, then the
    /// least recently active); only when every connection is busy is it refused.
    public var maxConnections: Int
    /// A TCP connect that does not complete in this time fails with `.connectTimeout` (ns).
    public var connectTimeout: Int64
    /// A connection with no traffic for this long is closed (ns).
    public var idleTimeout: Int64
    /// An inbound connection that has not sent a whole SIP message (only a keep-alive CRLF
    /// at most) in this long after it was accepted is closed (ns): a scanner's or a flood's
    /// silent connections are reclaimed long before `idleTimeout`.
    public var silentTimeout: Int64
    /// A message whose first bytes arrived must be complete within this time, else the
    /// connection is closed (slow senders, ns).
    public var messageTimeout: Int64
    /// Requests larger than this go over TCP instead of UDP (RFC 3261 §18.1.1; 0 = never).
    public var udpSizeThreshold: Int
    /// At most this many bytes wait in one connection's send queue.
    public var maxQueuedBytes: Int
    /// Enable TCP_NODELAY on connections.
    public var noDelay: Bool

    public init(
        address: SIPSocketAddress, udp: Bool = true, tcp: Bool = true, advertisedHost: String? = nil,
        dualStack: Bool = false, limits: SIPStreamFramer.Limits = .init(), maxConnections: Int = 64,
        connectTimeout: Int64 = 10_000_000_000, idleTimeout: Int64 = 300_000_000_000,
        messageTimeout: Int64 = 32_000_000_000, udpSizeThreshold: Int = 1300, maxQueuedBytes: Int = 256 * 1024,
        noDelay: Bool = true, silentTimeout: Int64 = 10_000_000_000
    ) {
        self.silentTimeout = silentTimeout
        self.address = address
        self.udp = udp
        self.tcp = tcp
        self.advertisedHost = advertisedHost
        self.dualStack = dualStack
        self.limits = limits
        self.maxConnections = maxConnections
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.messageTimeout = messageTimeout
        self.udpSizeThreshold = udpSizeThreshold
        self.maxQueuedBytes = maxQueuedBytes
        self.noDelay = noDelay
    }
}
