import CLinux
import Reactor
import TestSupport
import Testing

@testable import SIP

/// The message rules of the transport layer on loopback: RFC 3261 §18.1.1, §18.1.2, §18.2.1,
/// §18.2.2 and RFC 3581.
@Suite("SIP transport layer: messages, Via rules, malformed input")
struct TransportMessageTests {
    /// A response to `request` as the far end would send it back to us.
    static func parse(_ bytes: [UInt8]) throws -> SIPMessage {
        do throws(SIPError) {
            return try SIPMessage.parse(bytes)
        } catch {
            Issue.record("parse failed: \(error)")
            throw error
        }
    }

    /// Reads whole messages out of what a peer received (stream or datagrams).
    static func messages(in bytes: [UInt8]) -> [SIPMessage] {
        var framer = SIPStreamFramer()
        framer.append(bytes)
        var out: [SIPMessage] = []
        while let frame = try? framer.next() {
            if case .message(let m) = frame, let message = try? SIPMessage.parse(m) { out.append(message) }
        }
        return out
    }

    @Test("UDP request: received and rport are stamped; the response goes to the rport")
    func udpRequestAndResponse() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [(SIPMessage, SIPPeer)] = []
        layer.onMessage = { got.append(($0, $1)) }
        let peer = TransportTestPeer()
        peer.sendTo(
            sampleRequest(via: "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKu1;rport"), layer.localAddress(for: .udp)!)
        #expect(spin(layer.reactor) { !got.isEmpty })
        let (request, from) = try #require(got.first)
        let top = try #require(request.via.first)
        #expect(top.received == "127.0.0.1")
        #expect(top.rport == .some(Int(peer.localAddress.port)))
        #expect(top.port == 5070 && top.branch == "z9hG4bKu1")
        #expect(from == SIPPeer(transport: .udp, remote: peer.localAddress))
        #expect(layer.counters.messagesReceived == 1)

        // The response follows the Via (received + rport), not the sent-by 192.0.2.9:5070.
        let response = SIPMessage.response(to: request, status: 200, toTag: "b1")
        layer.send(response, to: from)
        #expect(spin(layer.reactor) { peer.poll() > 0 || !peer.received.isEmpty })
        let answer = try Self.parse(peer.received)
        #expect(answer.status == 200)
        #expect(answer.via.first?.received == "127.0.0.1")
        #expect(answer.to.tag == "b1")
    }

    @Test("a sent-by equal to the source gets no received; a name always does")
    func receivedRules() {
        let source = SIPSocketAddress(ipv4: 192, 0, 2, 9, port: 5070)
        var same = SIPVia(transport: "UDP", host: .ipv4("192.0.2.9"), port: 5070, branch: "z9hG4bK1")
        SIPTransportLayer.stampReceived(&same, source: source)
        #expect(same.received == nil && same.rport == nil)
        var named = SIPVia(transport: "UDP", host: .name("pc33.example.com"), port: nil, branch: "z9hG4bK1")
        SIPTransportLayer.stampReceived(&named, source: source)
        #expect(named.received == "192.0.2.9")
        var v6 = SIPVia(transport: "UDP", host: .ipv6("2001:db8::1"), port: nil, branch: "z9hG4bK1")
        v6.rport = .some(nil)
        let v6Source = SIPSocketAddress(literal: "2001:db8::2", port: 6000)!
        SIPTransportLayer.stampReceived(&v6, source: v6Source)
        #expect(v6.received == "2001:db8::2" && v6.rport == .some(6000))
        // With rport, received goes in even when the host matches (RFC 3581 §4).
        var asked = SIPVia(transport: "UDP", host: .ipv4("192.0.2.9"), port: 5070, branch: "z9hG4bK1")
        asked.rport = .some(nil)
        SIPTransportLayer.stampReceived(&asked, source: source)
        #expect(asked.received == "192.0.2.9" && asked.rport == .some(5070))
    }

    @Test("responses: ours are delivered, a foreign top Via is dropped and counted")
    func responseViaCheck() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [SIPMessage] = []
        layer.onMessage = { message, _ in got.append(message) }
        let peer = TransportTestPeer()
        let ours = layer.via(for: .udp, branch: "z9hG4bKmine").description
        #expect(ours == "SIP/2.0/UDP " + layer.sentBy(for: .udp) + ";branch=z9hG4bKmine;rport")
        func response(_ via: String) -> [UInt8] {
            Array(
                ("SIP/2.0 200 OK\r\nVia: " + via + "\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\n"
                    + "Call-ID: r1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").utf8)
        }
        let address = layer.localAddress(for: .udp)!
        peer.sendTo(response("SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bKother"), address)
        peer.sendTo(response("SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKwrongport"), address)
        peer.sendTo(response(ours + ";received=127.0.0.1"), address)
        #expect(spin(layer.reactor) { !got.isEmpty })
        #expect(got.count == 1 && got.first?.via.first?.branch == "z9hG4bKmine")
        #expect(layer.counters.dropped == 2)
    }

    @Test("garbage is dropped, a malformed request gets a 400, then valid traffic still flows")
    func malformed() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [SIPMessage] = []
        layer.onMessage = { message, _ in got.append(message) }
        let peer = TransportTestPeer()
        let address = layer.localAddress(for: .udp)!
        peer.sendTo([0, 1, 2, 3, 255, 254, 13, 10, 13, 10], address)
        var bad = sampleRequest(callID: "bad1")
        // Break Max-Forwards: a parse error with a 400, and the headers to answer with.
        let text = String(decoding: bad, as: UTF8.self)
        bad = Array(
            text.split(separator: "\r\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("Max-Forwards:") ? "Max-Forwards: -1" : String($0) }
                .joined(separator: "\r\n").utf8)
        peer.sendTo(bad, address)
        #expect(spin(layer.reactor) { peer.poll() > 0 || !peer.received.isEmpty })
        let answer = try Self.parse(peer.received)
        #expect(answer.status == 400)
        #expect(answer.callID == "bad1")
        #expect(answer.via.first?.branch == "z9hG4bKt1")
        #expect(answer.to.tag == SIPTransportLayer.statelessTag("bad1"))
        #expect(layer.counters.malformed == 2)
        #expect(layer.counters.malformedAnswered == 1)
        #expect(layer.counters.dropped == 1)
        peer.sendTo(sampleRequest(callID: "good"), address)
        #expect(spin(layer.reactor) { !got.isEmpty })
        #expect(got.first?.callID == "good")
    }

    @Test("TCP: the response goes on the request's connection; once closed, to the sent-by port")
    func tcpResponse() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [(SIPMessage, SIPPeer)] = []
        layer.onMessage = { got.append(($0, $1)) }
        // The far end listens on its sent-by port and sends from an ephemeral one.
        let listener = TransportTestListener()
        let via = "SIP/2.0/TCP 127.0.0.1:" + String(listener.address.port) + ";branch=z9hG4bKc"
        let client = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        client.write(sampleRequest(via: via, callID: "t1") + sampleRequest(via: via + "2", callID: "t2"))
        #expect(spin(layer.reactor) { got.count == 2 })
        layer.send(SIPMessage.response(to: got[0].0, status: 180), to: got[0].1)
        #expect(spin(layer.reactor) { client.poll() >= 0 && !Self.messages(in: client.received).isEmpty })
        #expect(Self.messages(in: client.received).first?.status == 180)

        // The client goes away: the second response opens a connection to the sent-by.
        let oldConnection = try #require(got[1].1.connection)
        _ = cl_socket_shutdown(client.fd)
        #expect(spin(layer.reactor) { !layer.isConnectionOpen(oldConnection) })
        layer.send(SIPMessage.response(to: got[1].0, status: 200, toTag: "x"), to: got[1].1)
        var accepted: [TransportTestPeer] = []
        #expect(
            spin(layer.reactor) {
                accepted += listener.acceptAll()
                return accepted.contains { $0.poll() >= 0 && !Self.messages(in: $0.received).isEmpty }
            })
        let second = Self.messages(in: accepted[0].received)
        #expect(second.first?.status == 200 && second.first?.callID == "t2")
        #expect(layer.counters.connectionsOpened == 1)
    }

    @Test("TCP: a parse error in a framed message is answered on the connection")
    func tcpMalformed() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var got: [SIPMessage] = []
        layer.onMessage = { message, _ in got.append(message) }
        let client = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        let bad = Array(
            ("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKm\r\n"
                + "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: m1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: many\r\n"
                + "Content-Length: 0\r\n\r\n").utf8)
        client.write(bad + sampleRequest(via: "SIP/2.0/TCP h;branch=z9hG4bKok", callID: "ok"))
        #expect(
            spin(layer.reactor) { !got.isEmpty && client.poll() >= 0 && !Self.messages(in: client.received).isEmpty })
        #expect(Self.messages(in: client.received).first?.status == 400)
        #expect(got.first?.callID == "ok")
    }

    @Test("a UDP request over 1300 bytes goes over TCP with its Via rewritten (§18.1.1)")
    func largeRequestSwitchesToTCP() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        let listener = TransportTestListener()
        let uri = try SIPURI(parsing: "sip:bob@127.0.0.1:" + String(listener.address.port))
        var request = SIPMessage.request(
            method: .invite, uri: uri, from: SIPNameAddress(uri: try SIPURI(parsing: "sip:alice@127.0.0.1")),
            to: SIPNameAddress(uri: uri), callID: "big1", cseq: 1, via: layer.via(for: .udp, branch: "z9hG4bKbig"))
        request.body = Array(String(repeating: "a=x\r\n", count: 400).utf8)
        try request.setHeader("Content-Type", "application/sdp")
        layer.send(request, to: SIPPeer(transport: .udp, remote: listener.address))
        var accepted: [TransportTestPeer] = []
        #expect(
            spin(layer.reactor) {
                accepted += listener.acceptAll()
                return accepted.contains { $0.poll() >= 0 && !Self.messages(in: $0.received).isEmpty }
            })
        let sent = try #require(Self.messages(in: accepted[0].received).first)
        #expect(sent.via.first?.transport == "TCP")
        #expect(sent.via.first?.port == Int(layer.sentByPort(for: .tcp)))
        #expect(sent.body.count == 2000)
    }

    @Test("random garbage on UDP and TCP never stops the loop; valid traffic still flows after")
    func garbageStorm() throws {
        let layer = try makeLayer { $0.limits = .init(maxHeaderBytes: 2048, maxMessageBytes: 8192) }
        defer { layer.close() }
        var got: [SIPMessage] = []
        layer.onMessage = { message, _ in got.append(message) }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random() -> UInt64 {
            seed ^= seed << 13
            seed ^= seed >> 7
            seed ^= seed << 17
            return seed
        }
        let prefixes = ["", "INVITE sip:a@b SIP/2.0\r\n", "SIP/2.0 200 OK\r\n", "\r\n\r\n", "l: 5\r\n\r\n"]
        func garbage() -> [UInt8] {
            var bytes = Array(prefixes[Int(random() % UInt64(prefixes.count))].utf8)
            let count = Int(random() % 300)
            for _ in 0..<count {
                // Mostly header-ish text with line ends, colons and digits; sometimes any byte.
                let r = random()
                let alphabet = Array("Via: SIP/2.0/UDP h;branch=z9hG4bK\r\nContent-Length: 12\r\n\t ,;@<>\"0".utf8)
                bytes.append(
                    r % 4 == 0 ? UInt8(truncatingIfNeeded: r >> 8) : alphabet[Int((r >> 8) % UInt64(alphabet.count))])
            }
            return bytes
        }
        let udp = TransportTestPeer()
        let udpAddress = layer.localAddress(for: .udp)!
        for _ in 0..<300 { udp.sendTo(garbage(), udpAddress) }
        let streams = (0..<6).map { _ in TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!) }
        #expect(spin(layer.reactor) { layer.counters.connectionsAccepted == streams.count })
        for round in 0..<20 {
            for stream in streams where stream.poll() >= 0 {
                let chunk = garbage()
                _ = chunk.withUnsafeBytes { cl_socket_send(stream.fd, $0.baseAddress, $0.count) }
            }
            try layer.reactor.run(for: 1_000_000 * Int64(round % 3))
        }
        try layer.reactor.run(for: 20_000_000)
        #expect(layer.counters.malformed > 0)
        udp.sendTo(sampleRequest(callID: "after-udp"), udpAddress)
        let fresh = TransportTestPeer(tcpTo: layer.localAddress(for: .tcp)!)
        fresh.write(sampleRequest(via: "SIP/2.0/TCP h;branch=z9hG4bKz", callID: "after-tcp"))
        #expect(
            spin(layer.reactor) {
                got.contains { $0.callID == "after-udp" } && got.contains { $0.callID == "after-tcp" }
            })
    }

    @Test("a large request refused over TCP is retried over UDP unchanged (§18.1.1)")
    func largeRequestFallsBackToUDP() throws {
        let layer = try makeLayer()
        defer { layer.close() }
        var errors: [(SIPPeer, SIPTransportError)] = []
        layer.onError = { errors.append(($0, $1)) }
        let peer = TransportTestPeer()  // UDP only: nothing listens on its TCP port
        let uri = try SIPURI(parsing: "sip:bob@127.0.0.1:" + String(peer.localAddress.port))
        var request = SIPMessage.request(
            method: .message, uri: uri, from: SIPNameAddress(uri: try SIPURI(parsing: "sip:alice@127.0.0.1")),
            to: SIPNameAddress(uri: uri), callID: "big2", cseq: 1, via: layer.via(for: .udp, branch: "z9hG4bKfb"))
        request.body = Array(String(repeating: "0123456789", count: 200).utf8)
        try request.setHeader("Content-Type", "text/plain")
        layer.send(request, to: SIPPeer(transport: .udp, remote: peer.localAddress))
        #expect(spin(layer.reactor) { peer.poll() > 0 || !peer.received.isEmpty })
        let sent = try Self.parse(peer.received)
        #expect(sent.via.first?.transport == "UDP")
        #expect(sent.body.count == 2000)
        #expect(errors.isEmpty)
    }
}
