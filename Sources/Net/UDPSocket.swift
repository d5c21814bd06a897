import CLinux
import Reactor

/// A bound, non-blocking UDP socket on the reactor with its ICMP error queue (IP_RECVERR):
/// an ICMP error about an earlier datagram (port unreachable, host unreachable) is read from
/// the queue with the address it concerns, wherever it surfaces (epoll's error event, a
/// failing `sendto` or `recvfrom`). The SIP transport and the RTP session send and receive
/// through it; each decides what an ICMP error means (a transport error, a counter).
/// No allocation per datagram.
public final class UDPSocket {
    /// The descriptor and its watch; `close()` releases both.
    public let descriptor: OwnedDescriptor
    /// At most this many error-queue entries are read per drain.
    public var errorBudget: Int

    /// Opens a UDP socket of `address`'s family bound to it (port 0: any free port).
    /// `v6Only` keeps an IPv6 socket off IPv4 (IPV6_V6ONLY). Throws the failing call
    /// (`socket` or `bind`) with its errno.
    public convenience init(reactor: Reactor, bind address: SocketAddress, v6Only: Bool, errorBudget: Int = 16)
        throws(SocketError)
    {
        let fd = try UDPSocket.openBound(kind: Int32(CL_SOCK_DGRAM), address, v6Only: v6Only)
        self.init(adopting: fd, reactor: reactor, errorBudget: errorBudget)
    }

    /// Takes ownership of a UDP descriptor opened by `openBound` (or `cl_socket_open`).
    public init(adopting fd: Int32, reactor: Reactor, errorBudget: Int = 16) {
        descriptor = OwnedDescriptor(fd, reactor: reactor)
        self.errorBudget = errorBudget
    }

    /// Opens a non-blocking socket (`CL_SOCK_DGRAM` or `CL_SOCK_STREAM`, SO_REUSEADDR) of
    /// `address`'s family bound to it. Throws the failing call (`socket` or `bind`).
    public static func openBound(kind: Int32, _ address: SocketAddress, v6Only: Bool) throws(SocketError) -> Int32 {
        let fd = cl_socket_open(address.family, kind)
        if fd < 0 { throw SocketError(call: "socket", errno: -fd) }
        let rc = address.withAddressPointer { cl_socket_bind(fd, address.family, $0, address.port, v6Only ? 1 : 0) }
        if rc < 0 {
            _ = cl_close(fd)
            throw SocketError(call: "bind", errno: -rc)
        }
        return fd
    }

    /// The descriptor, -1 once closed.
    public var fd: Int32 { descriptor.fd }

    /// The bound address (the real port when bound to port 0); nil once closed.
    public var localAddress: SocketAddress? { SocketAddress(localAddressOf: fd) }

    /// Watches the socket for readability (errors and hang-ups are always reported).
    public func watch(_ handler: @escaping (IOEvents) -> Void) throws(ReactorError) {
        try descriptor.watch(for: .readable, handler)
    }

    /// Cancels the watch and closes the socket; idempotent.
    public func close() { descriptor.close() }

    /// Sends one datagram. An ICMP error of an earlier datagram that surfaces on this send is
    /// drained (each queued error goes to `icmpError`) and the send tried once more (a route
    /// error that is this datagram's own fails the same way again). Returns the bytes sent, or
    /// -errno.
    public func send(
        _ bytes: UnsafeRawBufferPointer, to remote: SocketAddress, icmpError: (SocketAddress, Int32) -> Void
    ) -> Int {
        var attempt = 0
        while true {
            guard fd >= 0 else { return -Int(EBADF) }
            let n = remote.withAddressPointer { address in
                cl_socket_send_to(fd, bytes.baseAddress, bytes.count, remote.family, address, remote.port)
            }
            if n >= 0 { return n }
            if attempt == 0 && SocketError.isICMPError(Int32(-n)) {
                drainErrors(icmpError)
                attempt += 1
                continue
            }
            return n
        }
    }

    /// Receives one datagram into `buffer`: its length (larger than the buffer when the kernel
    /// truncated it) and source. ICMP errors that surface instead are drained through
    /// `icmpError`, at most `attempts` times. Nil when nothing is waiting (or another error).
    public func receive(
        into buffer: UnsafeMutableRawBufferPointer, attempts: Int, icmpError: (SocketAddress, Int32) -> Void
    ) -> (count: Int, source: SocketAddress)? {
        var budget = attempts
        while budget > 0 && fd >= 0 {
            budget -= 1
            var family: Int32 = 0
            var port: UInt16 = 0
            var raw = (UInt64(0), UInt64(0))
            let n = withUnsafeMutableBytes(of: &raw) { r in
                cl_socket_receive_from(
                    fd, buffer.baseAddress, buffer.count, &family, r.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    &port)
            }
            if n < 0 {
                if SocketError.isICMPError(Int32(-n)) {
                    drainErrors(icmpError)
                    continue
                }
                return nil
            }
            return (Int(n), SocketAddress(family: family, bytes: raw, port: port))
        }
        return nil
    }

    /// Reads the error queue, at most `errorBudget` entries: each ICMP error with the address
    /// of the datagram it concerns (family 0 when the kernel gave none) goes to `icmpError`.
    /// Returns how many entries were read.
    @discardableResult
    public func drainErrors(_ icmpError: (SocketAddress, Int32) -> Void) -> Int {
        UDPSocket.drainErrors(of: fd, budget: errorBudget, icmpError)
    }

    /// Reads the error queue of any UDP descriptor opened by `cl_socket_open` (IP_RECVERR on),
    /// at most `budget` entries, as `drainErrors` does. Returns how many entries were read.
    @discardableResult
    public static func drainErrors(of fd: Int32, budget: Int, _ icmpError: (SocketAddress, Int32) -> Void) -> Int {
        var count = 0
        var budget = budget
        while budget > 0 && fd >= 0 {
            budget -= 1
            var error: Int32 = 0
            var family: Int32 = 0
            var port: UInt16 = 0
            var raw = (UInt64(0), UInt64(0))
            let rc = withUnsafeMutableBytes(of: &raw) { r in
                cl_socket_receive_error(fd, &error, &family, r.baseAddress!.assumingMemoryBound(to: UInt8.self), &port)
            }
            if rc <= 0 { break }
            count += 1
            icmpError(SocketAddress(family: family, bytes: raw, port: port), error)
        }
        return count
    }
}

extension SocketAddress {
    /// The address a socket is bound to (getsockname); nil for a closed or unbound descriptor.
    public init?(localAddressOf fd: Int32) {
        var family: Int32 = 0
        var port: UInt16 = 0
        var raw = (UInt64(0), UInt64(0))
        let rc = withUnsafeMutableBytes(of: &raw) { r in
            cl_socket_local_address(fd, &family, r.baseAddress!.assumingMemoryBound(to: UInt8.self), &port)
        }
        if rc < 0 { return nil }
        self.init(family: family, bytes: raw, port: port)
    }
}
