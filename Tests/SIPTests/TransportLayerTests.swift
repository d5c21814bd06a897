import CLinux
import Reactor
import TestSupport
import Testing

@testable import SIP

/// The byte-level transport machinery on real loopback sockets (RFC 3261 §18).
@Suite("SIP transport layer: sockets and connections")
struct TransportLayerTests {
    @Test("port 0 binds UDP and TCP to one free port, reported as sent-by")
    func boundPort() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        let udp = try #require(layer.localAddress(for: .udp))
        let tcp = try #require(layer.localAddress(for: .tcp))
        #expect(udp.port != 0 && udp.port == tcp.port)
        #expect(layer.sentBy(for: .udp) == "127.0.0.1:" + String(udp.port))
        // A second layer on the same port fails cleanly with EADDRINUSE.
        let reactor = try Reactor()
        let clash = SIPTransportLayer(reactor: reactor, configuration: .init(address: udp))
        #expect(throws: SIPTransportError.system(call: "bind TCP 127.0.0.1:" + String(udp.port), errno: EADDRINUSE)) {
            try clash.start()
        }
    }

    @Test("a UDP datagram arrives whole with its source address")
    func udpIn() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [([UInt8], SIPPeer)] = []
        layer.onRawMessage = { got.append(($0, $1)) }
        let peer = TransportTestPeer(udp: false)
        let request = sampleRequest()
        peer.sendTo(request, layer.localAddress(for: .udp)!)
        #expect(spin(layer.reactor) { !got.isEmpty })
        #expect(got.first?.0 == request)
        #expect(got.first?.1 == SIPPeer(transport: .udp, remote: peer.localAddress))
        layer.sendBytes(Array("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8), to: got[0].1)
        #expect(spin(layer.reactor) { peer.poll() > 0 || !peer.received.isEmpty })
        #expect(peer.receivedText.hasPrefix("SIP/2.0 200 OK"))
    }

    @Test("oversize and keep-alive datagrams are dropped, the next message still arrives")
    func udpOversize() throws {
        let layer = try makeLayer { $0.limits = .init(maxHeaderBytes: 1024, maxMessageBytes: 2000) }
        defer { layer.close() }
        var got: [[UInt8]] = []
        layer.onRawMessage = { bytes, _ in got.append(bytes) }
        layer.onMessage = { _, _ in }
        let peer = TransportTestPeer()
        let address = layer.localAddress(for: .udp)!
        peer.sendTo(sampleRequest(body: String(repeating: "x", count: 5000)), address)
        peer.sendTo(Array("\r\n\r\n".utf8), address)
        let good = sampleRequest(callID: "after")
        peer.sendTo(good, address)
        #expect(spin(layer.reactor) { !got.isEmpty })
        #expect(got == [good])
        #expect(layer.counters.dropped == 1)
    }

    @Test("TCP: a message written a few bytes at a time arrives once, whole")
    func tcpSplit() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [([UInt8], SIPPeer)] = []
        layer.onRawMessage = { got.append(($0, $1)) }
        let peer = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        #expect(spin(layer.reactor) { layer.connectionCount == 1 })
        let request = sampleRequest(via: "SIP/2.0/TCP 192.0.2.9:5070;branch=z9hG4bKs", body: "v=0\r\n")
        var offset = 0
        while offset < request.count {
            let end = min(request.count, offset + 7)
            peer.write(Array(request[offset..<end]))
            offset = end
            try layer.reactor.run(for: 1_000_000)
        }
        #expect(spin(layer.reactor) { !got.isEmpty })
        #expect(got.count == 1)
        #expect(got.first?.0 == request)
        #expect(got.first?.1.transport == .tcp)
        #expect(got.first?.1.remote == peer.localAddress)
        #expect(got.first?.1.connection != nil)
    }

    @Test("TCP: three messages in one write; the reply goes back on the same connection")
    func tcpThreeInOne() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [([UInt8], SIPPeer)] = []
        layer.onRawMessage = { got.append(($0, $1)) }
        let peer = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        let messages = (1...3).map { sampleRequest(via: "SIP/2.0/TCP h;branch=z9hG4bK\($0)", callID: "c\($0)") }
        peer.write(messages[0] + messages[1] + messages[2])
        #expect(spin(layer.reactor) { got.count == 3 })
        #expect(got.map { $0.0 } == messages)
        let reply = Array("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
        layer.sendBytes(reply, to: got[2].1)
        #expect(spin(layer.reactor) { peer.poll() >= 0 && peer.received.count >= reply.count })
        #expect(peer.received == reply)
        #expect(layer.counters.connectionsOpened == 0 && layer.connectionCount == 1)
    }

    @Test("TCP: CRLFCRLF ping is answered by a CRLF pong, and messages still flow")
    func pingPong() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [[UInt8]] = []
        layer.onRawMessage = { bytes, _ in got.append(bytes) }
        let peer = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        peer.write("\r\n\r\n")
        #expect(spin(layer.reactor) { peer.poll() >= 0 && peer.received.count >= 2 })
        #expect(peer.receivedText == "\r\n")
        #expect(layer.counters.pingsAnswered == 1)
        let request = sampleRequest(via: "SIP/2.0/TCP h;branch=z9hG4bKp")
        peer.write(Array("\r\n".utf8) + request)
        #expect(spin(layer.reactor) { !got.isEmpty })
        #expect(got == [request])
    }

    @Test("TCP: our keep-alive ping gets a pong from the far side")
    func ourPing() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        let listener = TransportTestListener()
        layer.sendKeepAlivePing(to: listener.address)
        var accepted: [TransportTestPeer] = []
        #expect(
            spin(layer.reactor) {
                accepted += listener.acceptAll()
                return accepted.first.map { $0.poll() >= 0 && $0.received.count >= 4 } ?? false
            })
        #expect(accepted[0].receivedText == "\r\n\r\n")
        accepted[0].write("\r\n")
        #expect(spin(layer.reactor) { layer.counters.pongsReceived == 1 })
    }

    @Test("TCP: requests to one remote reuse one connection, replies come back on it")
    func reuse() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [([UInt8], SIPPeer)] = []
        layer.onRawMessage = { got.append(($0, $1)) }
        let listener = TransportTestListener()
        let target = SIPPeer(transport: .tcp, remote: listener.address)
        let first = sampleRequest(via: "SIP/2.0/TCP h;branch=z9hG4bK1", callID: "one")
        let second = sampleRequest(via: "SIP/2.0/TCP h;branch=z9hG4bK2", callID: "two")
        layer.sendBytes(first, to: target)
        var accepted: [TransportTestPeer] = []
        #expect(
            spin(layer.reactor) {
                accepted += listener.acceptAll()
                return accepted.first.map { $0.poll() >= 0 && $0.received.count >= first.count } ?? false
            })
        layer.sendBytes(second, to: target)
        #expect(
            spin(layer.reactor) {
                accepted += listener.acceptAll()
                return accepted[0].poll() >= 0 && accepted[0].received.count >= first.count + second.count
            })
        #expect(accepted.count == 1)
        #expect(accepted[0].received == first + second)
        #expect(layer.counters.connectionsOpened == 1)
        accepted[0].write(Array("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: 0\r\n\r\n".utf8))
        #expect(spin(layer.reactor) { !got.isEmpty })
        #expect(got[0].1.connection == layer.connection(to: listener.address))
    }

    @Test("TCP: connection refused is reported with the peer")
    func tcpRefused() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var errors: [(SIPPeer, SIPTransportError)] = []
        layer.onError = { errors.append(($0, $1)) }
        let closedAddress = TransportTestListener().address  // listener closed again at once
        layer.sendBytes(sampleRequest(), to: SIPPeer(transport: .tcp, remote: closedAddress))
        #expect(spin(layer.reactor) { !errors.isEmpty })
        #expect(errors.first?.0.remote == closedAddress)
        #expect(errors.first?.0.transport == .tcp)
        #expect(errors.first?.1 == .connectionRefused)
        #expect(layer.connectionCount == 0)
    }

    @Test("TCP: a connection reset by the peer is reported")
    func reset() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var errors: [(SIPPeer, SIPTransportError)] = []
        layer.onError = { errors.append(($0, $1)) }
        let listener = TransportTestListener()
        layer.sendBytes(sampleRequest(), to: SIPPeer(transport: .tcp, remote: listener.address))
        var accepted: [TransportTestPeer] = []
        #expect(spin(layer.reactor) {
            accepted += listener.acceptAll()
            return !accepted.isEmpty && layer.counters.messagesSent == 1
        })
        try layer.reactor.run(for: 5_000_000)
        // Closing a socket with unread input sends a RST instead of a FIN.
        accepted.removeAll()
        #expect(spin(layer.reactor) { !errors.isEmpty })
        #expect(errors.first?.1 == .connectionReset)
        #expect(errors.first?.0.remote == listener.address && errors.first?.0.connection != nil)
        #expect(layer.connectionCount == 0)
    }

    @Test("TCP: a connect that never completes times out (virtual clock)")
    func connectTimeout() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        let layer = SIPTransportLayer(
            reactor: reactor,
            configuration: .init(address: TransportTestPeer.loopback(port: 0), connectTimeout: 2_000_000_000))
        try layer.start()
        defer { layer.close() }
        var errors: [(SIPPeer, SIPTransportError)] = []
        layer.onError = { errors.append(($0, $1)) }
        // A listener whose accept queue is full drops further SYNs: the connect stays pending.
        let listener = TransportTestListener(backlog: 0)
        let fillers = (0..<3).map { _ in TransportTestPeer(tcpTo: listener.address) }
        layer.sendBytes(sampleRequest(), to: SIPPeer(transport: .tcp, remote: listener.address))
        let start = reactor.now
        try reactor.run(for: 3_000_000_000)
        #expect(errors.count == 1)
        #expect(errors.first?.1 == .connectTimeout)
        #expect(errors.first?.0.remote == listener.address)
        #expect(layer.connectionCount == 0)
        #expect(reactor.now - start >= 2_000_000_000)
        _ = fillers
    }

    @Test("UDP: an ICMP port unreachable is reported for the destination")
    func udpRefused() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var errors: [(SIPPeer, SIPTransportError)] = []
        layer.onError = { errors.append(($0, $1)) }
        let closedAddress = TransportTestPeer(udp: false).localAddress  // socket closed again at once
        layer.sendBytes(sampleRequest(), to: SIPPeer(transport: .udp, remote: closedAddress))
        #expect(spin(layer.reactor) { !errors.isEmpty })
        #expect(errors.first?.0 == SIPPeer(transport: .udp, remote: closedAddress))
        #expect(errors.first?.1 == .connectionRefused)
        // The socket still works afterwards.
        var got: [[UInt8]] = []
        layer.onRawMessage = { bytes, _ in got.append(bytes) }
        let peer = TransportTestPeer()
        peer.sendTo(sampleRequest(), layer.localAddress(for: .udp)!)
        #expect(spin(layer.reactor) { !got.isEmpty })
    }

    @Test("TCP: a message without Content-Length closes the connection")
    func missingContentLength() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [[UInt8]] = []
        layer.onRawMessage = { bytes, _ in got.append(bytes) }
        let peer = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        peer.write("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\n\r\n")
        #expect(spin(layer.reactor) { peer.isClosedByPeer })
        #expect(got.isEmpty)
        #expect(layer.counters.malformed == 1 && layer.connectionCount == 0)
    }

    @Test("TCP: an oversize message closes the connection before its body arrives")
    func tcpOversize() throws {
        let layer = try makeLayer { $0.limits = .init(maxHeaderBytes: 1024, maxMessageBytes: 4096) }
        defer { layer.close() }
        let peer = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        peer.write("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nContent-Length: 1000000\r\n\r\nxyz")
        #expect(spin(layer.reactor) { peer.isClosedByPeer })
        #expect(layer.counters.malformed == 1)
    }

    @Test("TCP: a slow sender that never finishes its headers is cut off")
    func slowloris() throws {
        let layer = try makeLayer { $0.messageTimeout = 100_000_000 }
        defer { layer.close() }
        let peer = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        peer.write("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n")
        var closed = false
        #expect(
            spin(layer.reactor) {
                // Keep trickling header lines: activity alone must not keep the connection open.
                // (The layer may cut the connection between the poll and the write: a failed
                // write is the cut seen from this side.)
                if peer.poll() == -1 || !peer.tryWrite("X-Slow: 1\r\n") { closed = true }
                return closed
            })
        #expect(layer.counters.connectionsTimedOut == 1)
    }

    @Test("TCP: idle connections are closed")
    func idle() throws {
        let layer = try makeLayer { $0.idleTimeout = 50_000_000 }
        defer { layer.close() }
        let peer = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        #expect(spin(layer.reactor) { layer.connectionCount == 1 })
        #expect(spin(layer.reactor) { peer.isClosedByPeer })
        #expect(layer.connectionCount == 0 && layer.counters.connectionsTimedOut == 1)
    }

    @Test("TCP: a flood of connections is capped; the loop keeps serving")
    func flood() throws {
        let layer = try makeLayer { $0.maxConnections = 4 }
        defer { layer.close() }
        var got: [[UInt8]] = []
        layer.onRawMessage = { bytes, _ in got.append(bytes) }
        let address = layer.localAddress(for: .tcp)!
        let peers = (0..<12).map { _ in TransportTestPeer(tcpTo: address) }
        #expect(
            spin(layer.reactor) {
                layer.counters.connectionsAccepted + layer.counters.connectionsRejected == peers.count
            })
        // Silent connections give their place to newer ones: the newest four are kept.
        #expect(layer.connectionCount == 4)
        #expect(layer.counters.connectionsEvicted == 8 && layer.counters.connectionsRejected == 0)
        // UDP is unaffected.
        let udp = TransportTestPeer()
        udp.sendTo(sampleRequest(), layer.localAddress(for: .udp)!)
        #expect(spin(layer.reactor) { !got.isEmpty })
        withExtendedLifetime(peers) {}
    }

    @Test("TCP: 64 silent connections do not shut SIP over TCP: a talking client evicts one and is served")
    func silentConnectionsDoNotBlock() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [[UInt8]] = []
        layer.onRawMessage = { bytes, _ in got.append(bytes) }
        let address = layer.localAddress(for: .tcp)!
        let silent = (0..<layer.configuration.maxConnections).map { _ in TransportTestPeer(tcpTo: address) }
        #expect(spin(layer.reactor) { layer.counters.connectionsAccepted == silent.count })
        #expect(layer.connectionCount == layer.configuration.maxConnections)
        let client = TransportTestPeer(tcpTo: address)
        client.write(sampleRequest())
        #expect(spin(layer.reactor) { got.count == 1 })
        #expect(layer.counters.connectionsRejected == 0 && layer.counters.connectionsEvicted == 1)
        // A connection that has talked is kept over the silent ones: 8 more silent connections
        // evict only silent ones.
        let more = (0..<8).map { _ in TransportTestPeer(tcpTo: address) }
        #expect(spin(layer.reactor) { layer.counters.connectionsEvicted == 1 + more.count })
        client.write(sampleRequest())
        #expect(spin(layer.reactor) { got.count == 2 })
        #expect(!client.isClosedByPeer)
        withExtendedLifetime((silent, more)) {}  // the peers' sockets stay open to here
    }

    @Test("TCP: a connection that sends nothing is closed after the silent timeout, one that talks is kept")
    func silentTimeout() throws {
        let layer = try makeLayer {
            $0.silentTimeout = 50_000_000
            $0.idleTimeout = 60_000_000_000
        }
        defer { layer.close() }
        var got = 0
        layer.onRawMessage = { _, _ in got += 1 }
        let address = layer.localAddress(for: .tcp)!
        let talker = TransportTestPeer(tcpTo: address)
        talker.write(sampleRequest())
        let silent = TransportTestPeer(tcpTo: address)
        #expect(spin(layer.reactor) { got == 1 && layer.connectionCount == 2 })
        #expect(spin(layer.reactor) { silent.isClosedByPeer })
        #expect(layer.counters.connectionsTimedOut == 1 && layer.connectionCount == 1)
        talker.write(sampleRequest())
        #expect(spin(layer.reactor) { got == 2 })
        #expect(layer.connectionCount == 1)
    }

    @Test("IPv6 loopback: UDP and TCP on [::1]")
    func ipv6() throws {
        guard cl_ipv6_loopback_available() == 1 else {
            print("note: IPv6 loopback not available on this machine, test skipped")
            return
        }
        let layer = try makeLayer(ipv6: true)
        defer { layer.close() }
        #expect(layer.sentBy(for: .udp).hasPrefix("[::1]:"))
        var got: [([UInt8], SIPPeer)] = []
        layer.onRawMessage = { got.append(($0, $1)) }
        let udp = TransportTestPeer(udp: true)
        udp.sendTo(sampleRequest(), layer.localAddress(for: .udp)!)
        let tcp = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        tcp.write(sampleRequest(via: "SIP/2.0/TCP [2001:db8::9];branch=z9hG4bK6"))
        #expect(spin(layer.reactor) { got.count == 2 })
        #expect(Set(got.map { $0.1.transport }) == [.udp, .tcp])
        #expect(got.allSatisfy { $0.1.remote.isIPv6 })
        layer.sendBytes(
            Array("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8), to: got.first { $0.1.transport == .udp }!.1)
        #expect(spin(layer.reactor) { udp.poll() >= 0 && !udp.received.isEmpty })
    }

    @Test("IP literals parse to socket addresses")
    func literals() {
        #expect(SIPSocketAddress(literal: "192.0.2.1", port: 5060) == SIPSocketAddress(ipv4: 192, 0, 2, 1, port: 5060))
        #expect(SIPSocketAddress(literal: "[::1]", port: 1)?.hostText == "[::1]")
        #expect(SIPSocketAddress(literal: "2001:db8::9", port: 1)?.hostText == "[2001:db8::9]")
        #expect(
            SIPSocketAddress(literal: "::ffff:192.0.2.1", port: 1)?.address == [
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 1,
            ])
        #expect(SIPSocketAddress(literal: "1:2:3:4:5:6:7:8", port: 1)?.address.count == 16)
        for bad in ["example.com", "256.1.1.1", "1.2.3", "1::2::3", "1:2:3:4:5:6:7:8:9", "[::1", "", ":1", "1:"] {
            #expect(SIPSocketAddress(literal: bad, port: 1) == nil, "\(bad)")
        }
    }
}
