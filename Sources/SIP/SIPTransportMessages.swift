// The message side of the transport layer: parsing what arrives and the Via rules of
// RFC 3261 §18.1.1, §18.1.2, §18.2.1, §18.2.2 and RFC 3581 (rport).

import Net

extension SIPTransportLayer {
    // MARK: receiving

    /// One whole received message (datagram or framed stream message): parse, apply the
    /// server-side Via rules to requests, check responses are ours, deliver.
    func received(_ bytes: [UInt8], from peer: SIPPeer) {
        var message: SIPMessage
        do throws(SIPError) {
            message = try SIPMessage.parse(bytes)
        } catch {
            countMalformed()
            answerMalformed(bytes, error: error, from: peer)
            return
        }
        if message.isRequest {
            guard var top = message.via.first else {
                countDropped()  // no Via: no response could ever reach the sender
                return
            }
            SIPTransportLayer.stampReceived(&top, source: peer.remote)
            var vias = message.via
            vias[0] = top
            message.via = vias
        } else {
            // RFC 3261 §18.1.2: a response whose top Via is not ours is silently discarded.
            guard let top = message.via.first, isOwnSentBy(top) else {
                countDropped()
                return
            }
        }
        guard let handler = onMessage else {
            countDropped()
            return
        }
        counters.messagesReceived += 1
        handler(message, peer)
    }

    /// RFC 3261 §18.2.1 and RFC 3581 §4: `received` when the sent-by host is not the packet's
    /// source address (always when rport was asked for), `rport` filled with the source port.
    static func stampReceived(_ via: inout SIPVia, source: SIPSocketAddress) {
        let wantsRport: Bool
        if case .some(.none) = via.rport { wantsRport = true } else { wantsRport = false }
        if wantsRport || !hostIs(via.host, source) {
            via.received = source.plainHostText
        }
        if wantsRport { via.rport = .some(Int(source.port)) }
    }

    /// Whether a Via host is the IP literal of `address`.
    static func hostIs(_ host: SIPHost, _ address: SIPSocketAddress) -> Bool {
        switch host {
        case .ipv4(let text), .ipv6(let text):
            return SIPSocketAddress(literal: text, port: address.port)?.hasSameHost(as: address) == true
        case .name:
            return false
        }
    }

    /// Whether a response's top Via carries a sent-by this layer puts into requests (§18.1.2).
    func isOwnSentBy(_ via: SIPVia) -> Bool {
        let port = via.port ?? 5060
        guard port == Int(sentByPort(for: .udp)) || port == Int(sentByPort(for: .tcp)) else { return false }
        let ours = sentByHost
        switch via.host {
        case .name(let name):
            return SIPTransportLayer.equalIgnoringCase(name, ours)
        case .ipv4(let text), .ipv6(let text):
            guard let address = SIPSocketAddress(literal: text, port: 0) else { return false }
            if let advertised = SIPSocketAddress(literal: ours, port: 0), advertised.hasSameHost(as: address) {
                return true
            }
            for transport in [SIPTransportProtocol.udp, .tcp] {
                if let local = localAddress(for: transport), local.hasSameHost(as: address) { return true }
            }
            return false
        }
    }

    static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        for i in 0..<x.count where lower(x[i]) != lower(y[i]) { return false }
        return true
    }

    private static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

    // MARK: sending

    /// Sends a message. Requests go to `peer` (over TCP when a UDP request exceeds
    /// `udpSizeThreshold`, RFC 3261 §18.1.1, with the top Via rewritten to TCP; if that
    /// connection is refused, the request goes out over UDP unchanged); responses go
    /// where RFC 3261 §18.2.2 and RFC 3581 say: TCP on the request's connection while it is
    /// open, else a new connection to `received` (or the sent-by host) and the rport or
    /// sent-by port; UDP to `received`/sent-by host and the rport or sent-by port. Failures
    /// are reported to `onError` from a later reactor callback.
    public func send(_ message: SIPMessage, to peer: SIPPeer) {
        if message.isRequest {
            sendRequest(message, to: peer)
        } else {
            sendResponse(message, to: peer)
        }
    }

    private func sendRequest(_ message: SIPMessage, to peer: SIPPeer) {
        let bytes = message.serialized()
        let threshold = configuration.udpSizeThreshold
        if peer.transport == .udp && threshold > 0 && bytes.count > threshold && configuration.tcp
            && bytes.count <= configuration.limits.maxMessageBytes
        {
            var switched = message
            var vias = switched.via
            if !vias.isEmpty {
                vias[0].transport = "TCP"
                vias[0].port = Int(sentByPort(for: .tcp))
                switched.via = vias
            }
            // Refused over TCP, it goes out as the original datagram after all (§18.1.1).
            sendStream(switched.serialized(), to: peer.remote, connection: nil, udpFallback: bytes)
            return
        }
        sendBytes(bytes, to: peer)
    }

    private func sendResponse(_ message: SIPMessage, to peer: SIPPeer) {
        let bytes = message.serialized()
        if peer.transport.isStream, let id = peer.connection, isConnectionOpen(id) {
            sendBytes(bytes, to: peer)
            return
        }
        let destination = message.via.first.flatMap { responseDestination($0, transport: peer.transport) }
        sendBytes(bytes, to: SIPPeer(transport: peer.transport, remote: destination ?? peer.remote))
    }

    /// Where a response goes by its top Via (RFC 3261 §18.2.2, RFC 3581 §4): the `received`
    /// address (else the sent-by host when it is an IP literal) and, on UDP, the `rport`;
    /// otherwise the sent-by port, else 5060. (On TCP the rport is the far end's ephemeral
    /// source port, where nothing listens once that connection is gone.) nil when the Via
    /// names a host that is not an address.
    func responseDestination(_ via: SIPVia, transport: SIPTransportProtocol) -> SIPSocketAddress? {
        var port = via.port ?? 5060
        if transport == .udp, case .some(.some(let rport)) = via.rport { port = rport }
        guard port > 0 && port <= 65535 else { return nil }
        if let received = via.received {
            return SIPSocketAddress(literal: received, port: UInt16(port))
        }
        switch via.host {
        case .ipv4(let text), .ipv6(let text): return SIPSocketAddress(literal: text, port: UInt16(port))
        case .name: return nil
        }
    }

    /// A Via for a request this layer sends over `transport`: our sent-by and `branch`.
    public func via(for transport: SIPTransportProtocol, branch: String) -> SIPVia {
        let text = sentByHost
        let host: SIPHost
        if let address = SIPSocketAddress(literal: text, port: 0) {
            host = address.isIPv6 ? .ipv6(address.plainHostText) : .ipv4(address.plainHostText)
        } else {
            host = .name(text)
        }
        return SIPTransportLayer.requestVia(transport, host: host, port: sentByPort(for: transport), branch: branch)
    }

    /// A request's Via: `rport` asked for on UDP (RFC 3581 §3); `alias` on TLS (RFC 5923 §5:
    /// the server may send its requests for our sent-by down this connection, since the phone
    /// has no TLS listener; Kamailio honours it with `tcp_accept_aliases`).
    static func requestVia(_ transport: SIPTransportProtocol, host: SIPHost, port: UInt16, branch: String) -> SIPVia {
        var via = SIPVia(transport: transport.name, host: host, port: Int(port), branch: branch)
        if transport == .udp { via.rport = .some(nil) }
        if transport == .tls { via.parameters.append(SIPParameter(name: "alias", value: nil)) }
        return via
    }

    // MARK: malformed requests

    /// Answers a request that failed to parse with the status its error names (400, 505,
    /// 416), built by `SIPMessage.rejection(of:error:)` from the headers the bytes still hold
    /// (RFC 3261 §8.2.6), with a To tag derived from the Call-ID (the same for every
    /// retransmission); otherwise (responses, ACKs, garbage, missing headers) drops it. The
    /// answer goes back to the packet's source (for TCP on its connection).
    func answerMalformed(_ bytes: [UInt8], error: SIPError, from peer: SIPPeer) {
        guard var response = SIPMessage.rejection(of: bytes, error: error) else {
            countDropped()
            return
        }
        if response.to.tag == nil {
            var to = response.to
            to.tag = SIPTransportLayer.statelessTag(response.callID)
            response.to = to
        }
        countMalformedAnswered()
        sendBytes(response.serialized(), to: peer)
    }

    /// A stable To tag for a stateless answer: FNV-1a of the Call-ID, in hex.
    static func statelessTag(_ callID: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for b in callID.utf8 { hash = (hash ^ UInt32(b)) &* 16_777_619 }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((hash >> UInt32(shift)) & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
