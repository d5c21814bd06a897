import CLinux
import Reactor

/// A failed socket call: which call (with its subject, `bind UDP 0.0.0.0:5060`) and the errno.
public struct SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// `bind UDP 0.0.0.0:5060: EADDRINUSE (Address already in use)`.
    public var description: String { ReactorError(call: call, errno: errno).description }

    /// The errors an ICMP message (or the route lookup) gives a UDP socket (RFC 1122 §4.1.3.3):
    /// they concern an earlier datagram and wait in the socket's error queue.
    public static func isICMPError(_ err: Int32) -> Bool {
        err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN
    }

    /// Words for a socket errno fit for a user's screen: "connection refused", "host
    /// unreachable", ..., else `call failed: ENAME`.
    public static func text(errno err: Int32, call: String) -> String {
        switch err {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by the server"
        case ETIMEDOUT: return "connection timed out"
        case EHOSTUNREACH: return "host unreachable"
        case ENETUNREACH: return "network unreachable"
        case EPIPE: return "connection closed by the server"
        default: return call + " failed: " + ReactorError(call: call, errno: err).errnoName
        }
    }
}
