// The TCP side of the SIP transport layer (RFC 3261 §18.3; RFC 5626 §3.5.1 keep-alive pongs):
// one connection's state, accepting, connecting with a timeout, the connection limit with
// eviction of idle or silent connections, reading through the stream framer, queued writes,
// and the idle/slow-sender sweep.

import CLinux
import Net
import Reactor

/// One TCP connection of the transport layer (RFC 3261 §18.3): its socket, the framer of its
/// input, the queue of its output and its timing; for TLS (§26.2.1) also its session, with
/// `output` holding ciphertext and `plaintextQueue` the SIP bytes waiting for the handshake.
final class SIPTransportConnection {
    let id: Int
    let fd: Int32
    let remote: SIPSocketAddress
    /// `.tcp`, or `.tls` with `tls` set.
    let transport: SIPTransportProtocol
    let tls: (any SIPTLSSession)?
    /// The TLS handshake is done (always false for TCP).
    var secured = false
    /// SIP bytes queued before the TLS handshake completed.
    var plaintextQueue: [UInt8] = []
    /// We opened it (client role: lone CRLFs are pongs).
    let outbound: Bool
    var connected: Bool
    var watch: WatchID? = nil
    var connectTimer: TimerID? = nil
    var framer: SIPStreamFramer
    var output: [UInt8] = []
    var outputSent = 0
    var lastActivity: Int64
    /// When it was accepted or opened.
    let opened: Int64
    /// Whole SIP messages received on it.
    var messagesReceived = 0
    /// When the first bytes of a still incomplete message arrived.
    var partialSince: Int64? = nil
    /// UDP forms of large requests switched to this connection (RFC 3261 §18.1.1), sent as
    /// datagrams instead if the connection is refused; dropped once it is established.
    var udpFallback: [[UInt8]] = []

    init(
        id: Int, fd: Int32, remote: SIPSocketAddress, outbound: Bool, connected: Bool, limits: SIPStreamFramer.Limits,
        now: Int64, tls: (any SIPTLSSession)? = nil
    ) {
        self.id = id
        self.fd = fd
        self.remote = remote
        self.tls = tls
        self.transport = tls == nil ? .tcp : .tls
        self.outbound = outbound
        self.connected = connected
        self.framer = SIPStreamFramer(limits: limits, reportsPongs: outbound)
        self.lastActivity = now
        self.opened = now
    }

    var queuedBytes: Int { output.count - outputSent + plaintextQueue.count }

    /// Connected, and for TLS past the handshake.
    var isReady: Bool { connected && (tls == nil || secured) }

    /// Accepted, and no whole message has come in on it yet.
    var isSilentInbound: Bool { !outbound && messagesReceived == 0 }

    var peer: SIPPeer { SIPPeer(transport: transport, remote: remote, connection: id) }
}

extension SIPTransportLayer {
    // MARK: TCP connections

    func acceptPending() {
        var budget = 64
        while budget > 0 && listenFD >= 0 {
            budget -= 1
            var family: Int32 = 0
            var port: UInt16 = 0
            var address = (UInt64(0), UInt64(0))
            let fd = withUnsafeMutableBytes(of: &address) { a in
                cl_socket_accept(listenFD, &family, a.baseAddress!.assumingMemoryBound(to: UInt8.self), &port)
            }
            if fd < 0 {
                // EAGAIN: done. Out of descriptors or memory: the listener stays readable, so
                // rest it for a moment rather than spin the loop.
                if fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM { pauseListener() }
                return
            }
            guard let remote = SIPTransportLayer.socketAddress(family: family, address, port: port),
                connections.count < configuration.maxConnections || evictIdleConnection()
            else {
                counters.connectionsRejected += 1
                _ = cl_close(fd)
                continue
            }
            if configuration.noDelay { _ = cl_socket_set_nodelay(fd, 1) }
            let c = SIPTransportConnection(
                id: takeConnectionID(), fd: fd, remote: remote, outbound: false,
                connected: true, limits: configuration.limits, now: reactor.now)
            guard register(c, events: .readable) else { continue }
            counters.connectionsAccepted += 1
        }
    }

    /// Stops accepting for 100 ms (descriptor exhaustion), then resumes.
    func pauseListener() {
        guard let watch = listenWatch else { return }
        counters.connectionsRejected += 1
        do {
            try reactor.update(watch, events: [])
        } catch {
            return
        }
        reactor.after(100_000_000) { [self] in
            if let current = self.listenWatch, current == watch { try? self.reactor.update(watch, events: .readable) }
        }
    }

    func takeConnectionID() -> Int {
        let id = nextConnectionID
        nextConnectionID += 1
        return id
    }

    /// Adds a connection to the tables and the reactor; closes its fd on failure.
    func register(_ c: SIPTransportConnection, events: IOEvents) -> Bool {
        let id = c.id
        do {
            c.watch = try reactor.watch(c.fd, for: events) { [self] ready in
                self.connectionReady(id, ready)
            }
        } catch {
            _ = cl_close(c.fd)
            report(c.peer, .system(call: "watch", errno: error.errno))
            return false
        }
        connections[id] = c
        if c.tls != nil {
            tlsConnectionByRemote[c.remote] = id
        } else {
            connectionByRemote[c.remote] = id
        }
        startSweeping()
        return true
    }

    func openConnection(
        to remote: SIPSocketAddress, transport: SIPTransportProtocol = .tcp, udpFallback: [UInt8]?
    ) -> SIPTransportConnection? {
        let peer = SIPPeer(transport: transport, remote: remote)
        if connections.count >= configuration.maxConnections && !evictIdleConnection() {
            report(peer, .tooManyConnections)
            return nil
        }
        var session: (any SIPTLSSession)? = nil
        if transport == .tls {
            guard let started = startTLSSession(to: remote) else { return nil }
            session = started
        }
        let fd: Int32
        let rc: Int32
        switch TCPConnect.start(to: remote) {
        case .connected(let connected):
            fd = connected
            rc = 0
        case .inProgress(let connecting):
            fd = connecting
            rc = -EINPROGRESS
        case .socketFailed(let errno):
            session?.close()
            report(peer, .system(call: "socket", errno: errno))
            return nil
        case .connectFailed(let errno):
            session?.close()
            if let udpFallback, SIPTransportLayer.allowsUDPRetry(errno) {
                sendDatagram(udpFallback, to: remote)
            } else {
                report(peer, SIPTransportError.from(errno: errno, call: "connect " + remote.description))
            }
            return nil
        }
        let c = SIPTransportConnection(
            id: takeConnectionID(), fd: fd, remote: remote, outbound: true,
            connected: rc == 0, limits: configuration.limits, now: reactor.now, tls: session)
        guard register(c, events: rc == 0 ? .readable : [.readable, .writable]) else {
            session?.close()
            return nil
        }
        counters.connectionsOpened += 1
        // The connect timeout covers the TLS handshake too.
        let id = c.id
        c.connectTimer = reactor.after(configuration.connectTimeout) { [self] in
            guard let c = self.connections[id], !c.isReady else { return }
            c.connectTimer = nil
            self.report(c.peer, c.connected ? .tls("no handshake within the connect timeout") : .connectTimeout)
            self.closeConnection(id)
        }
        if rc == 0 { connectionEstablished(c) }
        return c
    }

    /// Makes room for a new connection at the limit: closes the oldest inbound connection
    /// that never sent a whole message, else the least recently active connection with
    /// nothing queued and no message half received; false if every connection is busy.
    func evictIdleConnection() -> Bool {
        var victim: SIPTransportConnection? = nil
        for c in connections.values where c.connected && c.queuedBytes == 0 && c.partialSince == nil {
            guard let current = victim else {
                victim = c
                continue
            }
            if c.isSilentInbound != current.isSilentInbound {
                if c.isSilentInbound { victim = c }
            } else if c.lastActivity < current.lastActivity {
                victim = c
            }
        }
        guard let victim else { return false }
        counters.connectionsEvicted += 1
        closeConnection(victim.id)
        return true
    }

    /// The connect failures after which a large request goes out over UDP after all (§18.1.1:
    /// ICMP protocol not supported, or a TCP reset).
    static func allowsUDPRetry(_ err: Int32) -> Bool {
        err == ECONNREFUSED || err == ECONNRESET || err == EPROTONOSUPPORT || err == ENOPROTOOPT
    }

    func connectionEstablished(_ c: SIPTransportConnection) {
        c.connected = true
        c.udpFallback = []
        if configuration.noDelay { _ = cl_socket_set_nodelay(c.fd, 1) }
        c.lastActivity = reactor.now
        if c.tls != nil {
            _ = advanceTLS(c)  // the ClientHello (the timer waits for the handshake)
            return
        }
        if let timer = c.connectTimer { reactor.cancel(timer) }
        c.connectTimer = nil
        flush(c)
    }

    func connectionReady(_ id: Int, _ events: IOEvents) {
        guard let c = connections[id] else { return }
        if !c.connected {
            let err = TCPConnect.result(c.fd)
            if err < 0 {
                let fallback = c.udpFallback
                closeConnection(id)
                if !fallback.isEmpty && SIPTransportLayer.allowsUDPRetry(-err) {
                    // RFC 3261 §18.1.1: a large request refused over TCP is retried over UDP.
                    for datagram in fallback { sendDatagram(datagram, to: c.remote) }
                } else {
                    report(c.peer, SIPTransportError.from(errno: -err, call: "connect " + c.remote.description))
                }
                return
            }
            if events.contains(.writable) {
                connectionEstablished(c)
            } else if !events.isDisjoint(with: [.error, .hangUp]) {
                report(c.peer, .connectionRefused)
                closeConnection(id)
            }
            return
        }
        if !events.isDisjoint(with: [.readable, .hangUp, .error, .readHangUp]) {
            readAvailable(c)
        }
        if events.contains(.writable), connections[id] === c {
            flush(c)
        }
    }

    func readAvailable(_ c: SIPTransportConnection) {
        let id = c.id
        var budget = 8
        while budget > 0 {
            budget -= 1
            let n = cl_socket_receive(c.fd, scratch.baseAddress, scratchSize)
            if n == 0 {
                // The peer closed. Queued output is lost: tell the transaction layer.
                if c.queuedBytes > 0 { report(c.peer, .connectionReset) }
                if c.framer.hasPartialMessage { counters.dropped += 1 }
                closeConnection(id)
                return
            }
            if n < 0 {
                let err = Int32(-n)
                if err == EAGAIN || err == EWOULDBLOCK { break }
                report(c.peer, SIPTransportError.from(errno: err, call: "recv " + c.remote.description))
                closeConnection(id)
                return
            }
            c.lastActivity = reactor.now
            let input = UnsafeRawBufferPointer(rebasing: scratch[0..<Int(n)])
            if let session = c.tls {
                session.receiveCiphertext(input)
                if !advanceTLS(c) { return }
                continue
            }
            c.framer.append(input)
            if !drainFrames(c) { return }
        }
        if connections[id] === c {
            c.partialSince = c.framer.hasPartialMessage ? (c.partialSince ?? reactor.now) : nil
        }
    }

    /// Hands the complete frames to the message layer. Returns false once the connection is
    /// gone (closed for a framing error, or by a handler).
    func drainFrames(_ c: SIPTransportConnection) -> Bool {
        let id = c.id
        while connections[id] === c {
            let frame: SIPStreamFrame?
            do {
                frame = try c.framer.next()
            } catch {
                counters.malformed += 1
                closeConnection(id)
                return false
            }
            guard let frame else { return true }
            switch frame {
            case .message(let bytes):
                c.partialSince = nil
                c.messagesReceived += 1
                deliver(bytes, from: c.peer)
            case .ping:
                counters.pingsAnswered += 1
                sendStream([13, 10], to: c.remote, connection: id, countsAsMessage: false, transport: c.transport)
            case .pong:
                counters.pongsReceived += 1
            }
        }
        return false
    }

    func flush(_ c: SIPTransportConnection) {
        let id = c.id
        while c.outputSent < c.output.count {
            let n = c.output.withUnsafeBytes { buffer in
                cl_socket_send(c.fd, buffer.baseAddress! + c.outputSent, buffer.count - c.outputSent)
            }
            if n < 0 {
                let err = Int32(-n)
                if err == EAGAIN || err == EWOULDBLOCK { break }
                report(c.peer, SIPTransportError.from(errno: err, call: "send " + c.remote.description))
                closeConnection(id)
                return
            }
            c.outputSent += Int(n)
        }
        let pending = c.outputSent < c.output.count
        if !pending {
            c.output.removeAll(keepingCapacity: true)
            c.outputSent = 0
        }
        if let watch = c.watch {
            do {
                try reactor.update(watch, events: pending ? [.readable, .writable] : .readable)
            } catch {
                report(c.peer, .system(call: "watch", errno: error.errno))
                closeConnection(id)
            }
        }
    }

    func closeConnection(_ id: Int) {
        guard let c = connections.removeValue(forKey: id) else { return }
        if connectionByRemote[c.remote] == id { connectionByRemote.removeValue(forKey: c.remote) }
        if tlsConnectionByRemote[c.remote] == id { tlsConnectionByRemote.removeValue(forKey: c.remote) }
        c.tls?.close()
        if let watch = c.watch { reactor.cancel(watch) }
        if let timer = c.connectTimer { reactor.cancel(timer) }
        c.watch = nil
        c.connectTimer = nil
        _ = cl_close(c.fd)
        counters.connectionsClosed += 1
        if connections.isEmpty, let timer = sweepTimer {
            reactor.cancel(timer)
            sweepTimer = nil
        }
    }

    /// Closes a TCP connection now (queued output is dropped).
    public func closeConnection(to peer: SIPPeer) {
        if let id = peer.connection ?? connection(to: peer.remote, transport: peer.transport) { closeConnection(id) }
    }

    // MARK: timeouts

    func startSweeping() {
        guard sweepTimer == nil else { return }
        let shortest = min(configuration.idleTimeout, configuration.messageTimeout, configuration.silentTimeout)
        let period = max(1_000_000, min(1_000_000_000, shortest / 4))
        sweepTimer = reactor.every(period) { [self] in self.sweep() }
    }

    /// Closes idle connections and those whose current message is overdue (slow senders).
    func sweep() {
        let now = reactor.now
        var expired: [Int] = []
        for c in connections.values where c.connected {
            if let since = c.partialSince, now - since >= configuration.messageTimeout {
                expired.append(c.id)
            } else if c.isSilentInbound && c.partialSince == nil && now - c.opened >= configuration.silentTimeout {
                expired.append(c.id)
            } else if c.queuedBytes == 0 && now - c.lastActivity >= configuration.idleTimeout {
                expired.append(c.id)
            }
        }
        for id in expired {
            counters.connectionsTimedOut += 1
            if let c = connections[id], c.partialSince != nil { counters.dropped += 1 }
            closeConnection(id)
        }
    }
}
