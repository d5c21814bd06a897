import CLinux
import Net
import Reactor

/// The SIP transport layer (RFC 3261 §18, RFC 3581, RFC 5626 §3.5.1) on the reactor: a UDP
/// socket and a TCP listener on one address and port, outbound TCP connections with connect
/// timeout, reuse by remote address, idle and slow-sender timeouts and a connection limit.
/// Received datagrams and framed stream messages go to the message layer
/// (`SIPTransportLayer+Messages`); transport failures go to `onError`.
///
/// Single-threaded like the reactor. Handlers may call `send` or `close` freely; errors
/// are always reported from a fresh reactor callback, never from inside `send`. The reactor's
/// watches and timers hold the layer strongly (Embedded Swift has no weak references): call
/// `close()` when done with it.
public final class SIPTransportLayer {
    public let reactor: Reactor
    /// How it listens; `advertisedHost` changes with the phone's address (`changeAdvertisedHost`).
    public private(set) var configuration: SIPTransportConfiguration
    public internal(set) var counters = SIPTransportCounters()

    /// Every received message that survived the transport checks: requests with `received`
    /// and `rport` stamped into their top Via (RFC 3261 §18.2.1, RFC 3581 §4), responses whose
    /// top Via is ours (§18.1.2). `peer` is where it came from; pass it back to `send` for the
    /// response (TCP: the same connection, §18.2.2).
    public var onMessage: ((SIPMessage, SIPPeer) -> Void)? = nil
    /// Transport failures (refused, timeout, reset, ICMP unreachable) with the peer they
    /// concern: `transport` and `remote` are where we tried to send; `connection` is set for
    /// TCP. The transaction layer fails its transactions to that remote (RFC 3261 §17.1.4).
    public var onError: ((SIPPeer, SIPTransportError) -> Void)? = nil
    /// STUN datagrams on the UDP port (RFC 5626 §4.4.2 keep-alive responses), apart from SIP.
    public var onSTUN: (([UInt8], SIPPeer) -> Void)? = nil
    /// Every whole message as bytes, before parsing (tracing, tests).
    public var onRawMessage: (([UInt8], SIPPeer) -> Void)? = nil

    var udp: UDPSocket? = nil
    var listenFD: Int32 = -1
    var listenWatch: WatchID? = nil
    private var udpLocal: SIPSocketAddress? = nil
    private var tcpLocal: SIPSocketAddress? = nil

    var connections: [Int: SIPTransportConnection] = [:]
    /// Outbound and accepted TCP connections by remote, and TLS ones apart (one per server).
    var connectionByRemote: [SIPSocketAddress: Int] = [:]
    var tlsConnectionByRemote: [SIPSocketAddress: Int] = [:]
    /// Makes the TLS session of a new outbound TLS connection (remote, the name to check the
    /// server's certificate against); nil: TLS is unavailable (`.transportUnavailable(.tls)`).
    public var makeTLSSession: ((SIPSocketAddress, String) -> SIPTLSSessionStart)? = nil
    /// The SIP domain each TLS target was located for (RFC 5922 §4), see `setTLSServerName`.
    var tlsServerNames: [SIPSocketAddress: String] = [:]
    var nextConnectionID = 1
    var sweepTimer: TimerID? = nil

    /// Receive buffer, shared by all sockets (the loop is single-threaded).
    let scratch: UnsafeMutableRawBufferPointer
    let scratchSize: Int

    public init(reactor: Reactor, configuration: SIPTransportConfiguration) {
        self.reactor = reactor
        self.configuration = configuration
        // One byte more than the largest allowed message, so oversize datagrams are seen.
        scratchSize = max(configuration.limits.maxMessageBytes + 1, 2048)
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: scratchSize, alignment: 8)
    }

    deinit {
        close()
        scratch.deallocate()
    }

    // MARK: lifecycle

    /// Opens the UDP socket and the TCP listener. Throws the failing call (bind: EADDRINUSE).
    /// With port 0 the UDP socket takes the port the kernel gave TCP; when that UDP port is
    /// taken (UDP binds are exclusive), another TCP port is tried, a few times.
    public func start() throws(SIPTransportError) {
        var attempts = configuration.address.port == 0 && configuration.tcp && configuration.udp ? 8 : 1
        while true {
            attempts -= 1
            do throws(SIPTransportError) {
                return try startOnce()
            } catch {
                guard attempts > 0, case .system(_, let errno) = error, errno == EADDRINUSE, udp == nil else {
                    throw error
                }
            }
        }
    }

    private func startOnce() throws(SIPTransportError) {
        let address = configuration.address
        var port = address.port
        if configuration.tcp {
            let fd = try openSocket(kind: Int32(CL_SOCK_STREAM), port: port)
            let rc = cl_socket_listen(fd, 128)
            if rc < 0 {
                _ = cl_close(fd)
                throw .system(call: "listen " + address.description, errno: -rc)
            }
            listenFD = fd
            tcpLocal = localAddress(of: fd)
            // Port 0: UDP takes the port the kernel gave TCP, so both share one sent-by port.
            if port == 0, let bound = tcpLocal { port = bound.port }
            do {
                listenWatch = try reactor.watch(fd, for: .readable) { [self] _ in self.acceptPending() }
            } catch {
                close()
                throw .system(call: "watch", errno: error.errno)
            }
        }
        if configuration.udp {
            let fd: Int32
            do {
                fd = try openSocket(kind: Int32(CL_SOCK_DGRAM), port: port)
            } catch {
                close()
                throw error
            }
            let socket = UDPSocket(adopting: fd, reactor: reactor, errorBudget: 64)
            udp = socket
            udpLocal = socket.localAddress
            do {
                try socket.watch { [self] events in self.udpReady(events) }
            } catch {
                close()
                throw .system(call: "watch", errno: error.errno)
            }
        }
    }

    /// Closes every socket and connection and cancels every timer. Idempotent.
    public func close() {
        for id in Array(connections.keys) { closeConnection(id) }
        udp?.close()
        udp = nil
        if let watch = listenWatch { reactor.cancel(watch) }
        if listenFD >= 0 { _ = cl_close(listenFD) }
        listenWatch = nil
        listenFD = -1
        if let timer = sweepTimer { reactor.cancel(timer) }
        sweepTimer = nil
    }

    private func openSocket(kind: Int32, port: UInt16) throws(SIPTransportError) -> Int32 {
        let address = configuration.address
        do throws(SocketError) {
            return try UDPSocket.openBound(kind: kind, address.with(port: port), v6Only: !configuration.dualStack)
        } catch {
            let name = (kind == Int32(CL_SOCK_STREAM) ? "TCP " : "UDP ") + address.hostText + ":" + String(port)
            throw .system(call: error.call + " " + name, errno: error.errno)
        }
    }

    private func localAddress(of fd: Int32) -> SIPSocketAddress? { SocketAddress(localAddressOf: fd) }

    // MARK: addresses

    /// The bound address of a transport (the real port when configured with port 0); nil when
    /// the transport is not running.
    /// TLS connections are outbound only: their Via sent-by is the TCP listener's.
    public func localAddress(for transport: SIPTransportProtocol) -> SIPSocketAddress? {
        transport == .udp ? udpLocal : tcpLocal
    }

    /// The host for Via sent-by: the advertised host, else the listening address.
    public var sentByHost: String {
        if let host = configuration.advertisedHost { return host }
        return (udpLocal ?? tcpLocal ?? configuration.address).hostText
    }

    /// The phone's address changed (a network change): Via sent-by says `host` from now on, and
    /// every TCP/TLS connection is closed, since its local end was the old address (the next
    /// request opens a new one). The listening sockets stay: they are bound to the any-address.
    /// Several accounts' user agents share the transport and each passes the change on: only the
    /// first changes anything, so a connection another account has just opened on the new
    /// address stays.
    public func changeAdvertisedHost(_ host: String) {
        guard configuration.advertisedHost != host else { return }
        configuration.advertisedHost = host
        closeConnections()
    }

    /// Closes every TCP/TLS connection (queued output is dropped).
    public func closeConnections() {
        for id in Array(connections.keys) { closeConnection(id) }
    }

    /// The port for Via sent-by on `transport` (the listening port).
    public func sentByPort(for transport: SIPTransportProtocol) -> UInt16 {
        (localAddress(for: transport) ?? udpLocal ?? tcpLocal ?? configuration.address).port
    }

    /// The Via sent-by text, `host:port`, for `transport` (RFC 3261 §18.1.1).
    public func sentBy(for transport: SIPTransportProtocol) -> String {
        sentByHost + ":" + String(sentByPort(for: transport))
    }

    /// Number of open or opening TCP connections.
    public var connectionCount: Int { connections.count }

    /// The id of the connection to `remote` that a send would reuse, if any.
    public func connection(to remote: SIPSocketAddress, transport: SIPTransportProtocol = .tcp) -> Int? {
        transport == .tls ? tlsConnectionByRemote[remote] : connectionByRemote[remote]
    }

    /// TLS connections to `remote` check the server certificate against `name` (a SIP domain,
    /// RFC 5922 §4.1), not against the address.
    public func setTLSServerName(_ name: String, for remote: SIPSocketAddress) {
        tlsServerNames[remote] = name
    }

    /// Whether the connection is still open (or opening).
    public func isConnectionOpen(_ id: Int) -> Bool { connections[id] != nil }

    // MARK: errors

    func report(_ peer: SIPPeer, _ error: SIPTransportError) {
        counters.errorsReported += 1
        reactor.runSoon { [self] in self.onError?(peer, error) }
    }

    func countDropped() { counters.dropped += 1 }
    func countMalformed() { counters.malformed += 1 }
    func countMalformedAnswered() { counters.malformedAnswered += 1 }

    // MARK: sending bytes

    /// Sends one datagram; failures go to `onError`. Returns whether it left.
    @discardableResult
    func sendDatagram(_ bytes: [UInt8], to remote: SIPSocketAddress) -> Bool {
        let peer = SIPPeer(transport: .udp, remote: remote)
        guard let udp, udp.fd >= 0 else {
            report(peer, .transportUnavailable(.udp))
            return false
        }
        // An ICMP error for an earlier datagram surfaces on this send: the socket reports that
        // one to its own peer and tries again (once).
        let n = bytes.withUnsafeBytes { buffer in udp.send(buffer, to: remote) { self.reportICMPError($0, $1) } }
        if n >= 0 {
            counters.messagesSent += 1
            return true
        }
        let err = Int32(-n)
        if err == EAGAIN || err == EWOULDBLOCK {
            counters.dropped += 1  // socket buffer full: UDP retransmission covers it
            return false
        }
        report(peer, SIPTransportError.from(errno: err, call: "sendto " + remote.description))
        return false
    }

    /// Queues bytes on a TCP connection: the given one when still open, else the one to
    /// `remote`, else a new one. Returns the connection id, or nil after reporting a failure.
    @discardableResult
    func sendStream(
        _ bytes: [UInt8], to remote: SIPSocketAddress, connection preferred: Int?, countsAsMessage: Bool = true,
        udpFallback: [UInt8]? = nil, transport: SIPTransportProtocol = .tcp
    )
        -> Int?
    {
        // TLS connections are outbound only (the phone has no server certificate): they need no
        // TCP listener.
        guard configuration.tcp || transport == .tls else {
            report(SIPPeer(transport: .tcp, remote: remote, connection: preferred), .transportUnavailable(.tcp))
            return nil
        }
        var target: SIPTransportConnection? = nil
        if let preferred, let c = connections[preferred] {
            target = c
        } else if let id = connection(to: remote, transport: transport), let c = connections[id] {
            target = c
        }
        if target == nil { target = openConnection(to: remote, transport: transport, udpFallback: udpFallback) }
        guard let c = target else { return nil }
        if let udpFallback, !c.connected { c.udpFallback.append(udpFallback) }
        if c.queuedBytes + bytes.count > configuration.maxQueuedBytes {
            report(c.peer, .sendQueueFull)
            return nil
        }
        queueOutput(c, bytes)
        if countsAsMessage { counters.messagesSent += 1 }
        c.lastActivity = reactor.now
        if c.connected { flush(c) }
        return c.id
    }

    /// Sends a CRLFCRLF keep-alive ping on the TCP (or TLS) connection to `remote` (RFC 5626
    /// §3.5.1), opening one if needed; a CRLF pong counts in `counters.pongsReceived`.
    public func sendKeepAlivePing(to remote: SIPSocketAddress, transport: SIPTransportProtocol = .tcp) {
        sendStream([13, 10, 13, 10], to: remote, connection: nil, countsAsMessage: false, transport: transport)
    }

    /// Sends raw bytes (one whole message) to a peer: UDP datagram or TCP stream, reusing the
    /// peer's connection. Failures go to `onError`.
    public func sendBytes(_ bytes: [UInt8], to peer: SIPPeer) {
        if bytes.count > configuration.limits.maxMessageBytes {
            report(peer, .messageTooLarge(size: bytes.count))
            return
        }
        switch peer.transport {
        case .udp: sendDatagram(bytes, to: peer.remote)
        case .tcp, .tls: sendStream(bytes, to: peer.remote, connection: peer.connection, transport: peer.transport)
        }
    }

    // MARK: UDP

    private func udpReady(_ events: IOEvents) {
        guard let udp else { return }
        if events.contains(.error) { udp.drainErrors { self.reportICMPError($0, $1) } }
        var budget = 64
        while budget > 0 && udp.fd >= 0 {
            budget -= 1
            let received = udp.receive(into: scratch, attempts: 64) { self.reportICMPError($0, $1) }
            guard let (length, source) = received else {
                return  // EAGAIN, or nothing more to do this round
            }
            guard source.family == 4 || source.family == 6 else {
                counters.dropped += 1
                continue
            }
            if length > configuration.limits.maxMessageBytes {
                counters.dropped += 1  // oversize (truncated by the kernel): never half-parse it
                continue
            }
            if SIPTransportLayer.isOnlyLineEnds(scratch, length) {
                continue  // a CRLF keep-alive on UDP: nothing to answer
            }
            let datagram = UnsafeRawBufferPointer(rebasing: scratch[0..<length])
            if STUNMessage.isSTUN(datagram) {
                onSTUN?(Array(datagram), SIPPeer(transport: .udp, remote: source))
                continue  // never parsed as SIP
            }
            let bytes = Array(UnsafeRawBufferPointer(rebasing: scratch[0..<length]))
            deliver(bytes, from: SIPPeer(transport: .udp, remote: source))
        }
    }

    /// Reports an ICMP error read from the UDP socket's error queue to the peer it concerns.
    private func reportICMPError(_ remote: SocketAddress, _ error: Int32) {
        if remote.family == 4 || remote.family == 6, error != 0 {
            report(SIPPeer(transport: .udp, remote: remote), SIPTransportError.from(errno: error, call: "ICMP"))
        }
    }

    static func socketAddress(family: Int32, _ address: (UInt64, UInt64), port: UInt16) -> SIPSocketAddress? {
        family == 4 || family == 6 ? SocketAddress(family: family, bytes: address, port: port) : nil
    }

    static func isOnlyLineEnds(_ buffer: UnsafeMutableRawBufferPointer, _ length: Int) -> Bool {
        if length == 0 { return true }
        for i in 0..<length where buffer[i] != 13 && buffer[i] != 10 { return false }
        return true
    }

    // MARK: delivery

    func deliver(_ bytes: [UInt8], from peer: SIPPeer) {
        onRawMessage?(bytes, peer)
        received(bytes, from: peer)
    }
}
