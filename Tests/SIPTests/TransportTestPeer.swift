import CLinux
import Reactor

@testable import SIP

/// A plain socket on the far side of the transport layer under test, driven with
/// non-blocking CLinux calls from the test (the layer runs on the reactor).
final class TransportTestPeer {
    let fd: Int32
    let family: Int32
    var received: [UInt8] = []

    /// A UDP socket bound to the loopback address of the family, any port.
    init(udp ipv6: Bool = false) {
        family = ipv6 ? 6 : 4
        fd = cl_socket_open(family, Int32(CL_SOCK_DGRAM))
        precondition(fd >= 0)
        let rc = TransportTestPeer.loopback(ipv6: ipv6, port: 0).address.withUnsafeBufferPointer {
            cl_socket_bind(fd, family, $0.baseAddress, 0, 1)
        }
        precondition(rc == 0)
    }

    /// A TCP socket connecting to `remote` (completes while the test spins the reactor).
    init(tcpTo remote: SIPSocketAddress) {
        family = remote.isIPv6 ? 6 : 4
        fd = cl_socket_open(family, Int32(CL_SOCK_STREAM))
        precondition(fd >= 0)
        let rc = remote.address.withUnsafeBufferPointer { cl_socket_connect(fd, family, $0.baseAddress, remote.port) }
        precondition(rc == 0 || rc == -EINPROGRESS)
    }

    /// An accepted stream socket.
    init(accepted fd: Int32, family: Int32) {
        self.fd = fd
        self.family = family
    }

    deinit { _ = cl_close(fd) }

    static func loopback(ipv6: Bool = false, port: UInt16) -> SIPSocketAddress {
        ipv6
            ? SIPSocketAddress(bytes: [UInt8](repeating: 0, count: 15) + [1], port: port)!
            : SIPSocketAddress(ipv4: 127, 0, 0, 1, port: port)
    }

    var localAddress: SIPSocketAddress {
        socketLocalAddress(fd)
    }

    func sendTo(_ bytes: [UInt8], _ remote: SIPSocketAddress) {
        let n = bytes.withUnsafeBytes { b in
            remote.address.withUnsafeBufferPointer { a in
                cl_socket_send_to(fd, b.baseAddress, b.count, remote.isIPv6 ? 6 : 4, a.baseAddress, remote.port)
            }
        }
        precondition(n == bytes.count, "sendto failed: \(n)")
    }

    /// Writes on the stream; the test's messages are small, so one send takes them all.
    func write(_ bytes: [UInt8]) {
        let n = bytes.withUnsafeBytes { cl_socket_send(fd, $0.baseAddress, $0.count) }
        precondition(n == bytes.count, "send failed: \(n)")
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    /// Writes on a stream the far side may have closed meanwhile: false when the send failed
    /// (EPIPE/ECONNRESET: the layer cut the connection between our poll and this write).
    func tryWrite(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { cl_socket_send(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    /// Reads whatever is waiting (datagram or stream bytes) into `received`; returns the
    /// datagram's source for UDP. -1 = end of stream seen.
    @discardableResult
    func poll() -> Int {
        var buffer = [UInt8](repeating: 0, count: 70_000)
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { cl_socket_receive(fd, $0.baseAddress, $0.count) }
            if n == 0 { return -1 }
            if n < 0 { return total }
            received += buffer[0..<Int(n)]
            total += Int(n)
        }
    }

    /// Whether the other side closed the stream (reads until EOF or EAGAIN).
    var isClosedByPeer: Bool {
        poll() == -1
    }

    var receivedText: String { String(decoding: received, as: UTF8.self) }
}

/// A TCP listener for the layer's outbound connections.
final class TransportTestListener {
    let fd: Int32
    let family: Int32

    init(ipv6: Bool = false, backlog: Int32 = 16) {
        family = ipv6 ? 6 : 4
        fd = cl_socket_open(family, Int32(CL_SOCK_STREAM))
        precondition(fd >= 0)
        let rc = TransportTestPeer.loopback(ipv6: ipv6, port: 0).address.withUnsafeBufferPointer {
            cl_socket_bind(fd, family, $0.baseAddress, 0, 1)
        }
        precondition(rc == 0 && cl_socket_listen(fd, backlog) == 0)
    }

    deinit { _ = cl_close(fd) }

    var address: SIPSocketAddress {
        socketLocalAddress(fd)
    }

    /// Accepts every pending connection.
    func acceptAll() -> [TransportTestPeer] {
        var peers: [TransportTestPeer] = []
        while true {
            var family: Int32 = 0
            var port: UInt16 = 0
            var bytes = [UInt8](repeating: 0, count: 16)
            let fd = bytes.withUnsafeMutableBufferPointer { cl_socket_accept(self.fd, &family, $0.baseAddress, &port) }
            if fd < 0 { return peers }
            peers.append(TransportTestPeer(accepted: fd, family: family))
        }
    }
}


/// A transport layer on 127.0.0.1 (or ::1), any port, with a reactor on the real clock.
func makeLayer(
    ipv6: Bool = false, _ adjust: (inout SIPTransportConfiguration) -> Void = { _ in }
) throws -> SIPTransportLayer {
    let reactor = try Reactor()
    var configuration = SIPTransportConfiguration(address: TransportTestPeer.loopback(ipv6: ipv6, port: 0))
    adjust(&configuration)
    let layer = SIPTransportLayer(reactor: reactor, configuration: configuration)
    try layer.start()
    return layer
}

/// A minimal request with a Content-Length, as bytes.
func sampleRequest(
    _ method: String = "OPTIONS", via: String = "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKt1;rport",
    body: String = "", callID: String = "a84b4c76e66710"
) -> [UInt8] {
    let text =
        method + " sip:bob@127.0.0.1 SIP/2.0\r\n"
        + "Via: " + via + "\r\n"
        + "Max-Forwards: 70\r\n"
        + "To: <sip:bob@127.0.0.1>\r\n"
        + "From: <sip:alice@192.0.2.9>;tag=1928301774\r\n"
        + "Call-ID: " + callID + "\r\n"
        + "CSeq: 1 " + method + "\r\n"
        + "Content-Length: " + String(body.utf8.count) + "\r\n\r\n" + body
    return Array(text.utf8)
}

/// The address a socket is bound to (getsockname).
func socketLocalAddress(_ fd: Int32) -> SIPSocketAddress {
    let bound = socketBoundAddress(fd)!
    return SIPSocketAddress(bytes: bound.bytes, port: bound.port)!
}
