import CLinux
import Foundation
import Reactor
import Testing

@testable import Net

@Suite("UDP sockets and their ICMP error queue; owned descriptors")
struct UDPSocketTests {
    /// A loopback UDP port that was free a moment ago (bound, read, closed).
    func closedPort(_ reactor: Reactor) throws -> SocketAddress {
        let socket = try UDPSocket(reactor: reactor, bind: SocketAddress(ipv4: 127, 0, 0, 1, port: 0), v6Only: true)
        defer { socket.close() }
        return try #require(socket.localAddress)
    }

    @Test("a datagram to a closed port: the ICMP error is read with its address, and a send it surfaces on is retried")
    func icmpErrors() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let socket = try UDPSocket(reactor: reactor, bind: SocketAddress(ipv4: 127, 0, 0, 1, port: 0), v6Only: true)
        defer { socket.close() }
        let peer = try UDPSocket(reactor: reactor, bind: SocketAddress(ipv4: 127, 0, 0, 1, port: 0), v6Only: true)
        defer { peer.close() }
        let closed = try closedPort(reactor)
        let payload: [UInt8] = [1, 2, 3]
        var errors: [(SocketAddress, Int32)] = []
        #expect(payload.withUnsafeBytes { socket.send($0, to: closed) { errors.append(($0, $1)) } } == 3)
        let deadline = Date().addingTimeInterval(2)
        while errors.isEmpty && Date() < deadline {
            socket.drainErrors { errors.append(($0, $1)) }
            if errors.isEmpty { usleep(1000) }
        }
        #expect(errors.count == 1)
        #expect(errors.first?.0 == closed)
        #expect(errors.first?.1 == ECONNREFUSED)

        // The next ICMP error is pending when a datagram to a live peer goes out: that send
        // reports it and still leaves.
        errors = []
        #expect(payload.withUnsafeBytes { socket.send($0, to: closed) { errors.append(($0, $1)) } } == 3)
        usleep(20_000)
        let to = try #require(peer.localAddress)
        #expect(payload.withUnsafeBytes { socket.send($0, to: to) { errors.append(($0, $1)) } } == 3)
        #expect(errors.count == 1)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { buffer.deallocate() }
        var received: (count: Int, source: SocketAddress)? = nil
        for _ in 0..<200 where received == nil {
            received = peer.receive(into: buffer, attempts: 4) { _, _ in }
            if received == nil { usleep(1000) }
        }
        #expect(received?.count == 3)
        #expect(received?.source == socket.localAddress)
    }

    @Test("an owned descriptor cancels its watch and closes once")
    func ownedDescriptor() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let socket = try UDPSocket(reactor: reactor, bind: SocketAddress(ipv4: 127, 0, 0, 1, port: 0), v6Only: true)
        try socket.watch { _ in }
        #expect(reactor.watchCount == 1)
        #expect(socket.fd >= 0)
        socket.close()
        #expect(reactor.watchCount == 0)
        #expect(socket.fd == -1)
        socket.close()
        #expect(socket.localAddress == nil)
        #expect(throws: ReactorError.self) { try socket.watch { _ in } }
    }

    @Test("TCP connect to a closed port fails with ECONNREFUSED, at once or on completion")
    func tcpConnectRefused() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let closed = try closedPort(reactor)
        switch TCPConnect.start(to: closed) {
        case .connectFailed(let errno):
            #expect(errno == ECONNREFUSED)
        case .socketFailed(let errno):
            Issue.record("socket failed: \(errno)")
        case .connected(let fd):
            _ = cl_close(fd)
            Issue.record("connected to a closed port")
        case .inProgress(let fd):
            let descriptor = OwnedDescriptor(fd, reactor: reactor)
            defer { descriptor.close() }
            var result: Int32? = nil
            try descriptor.watch(for: .writable) { _ in if result == nil { result = TCPConnect.result(fd) } }
            try runUntil(reactor) { result != nil }
            #expect(result == -ECONNREFUSED)
        }
        #expect(SocketError.text(errno: ECONNREFUSED, call: "connect") == "connection refused")
        #expect(SocketError.text(errno: EACCES, call: "socket") == "socket failed: EACCES")
    }
}
