import CLinux
import Reactor
import Testing

@testable import Net

/// NETLINK_ROUTE datagrams (`NetlinkMessage`) from hand-built bytes, the interfaces they
/// describe (`NetworkInterfaces`), the address choice (`NetworkAddressPolicy`) and the monitor
/// on the virtual clock and on a real socket (`NetworkMonitor`).
@Suite("netlink: parser, address policy, monitor")
struct NetlinkMessageTests {
    typealias B = NetlinkBytes
    static let v4 = SocketAddress(ipv4: 10, 0, 0, 2, port: 0)
    static let v4b = SocketAddress(ipv4: 10, 0, 0, 3, port: 0)
    static let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [5]

    @Test("a dump datagram: links with names and flags, addresses with labels, done")
    func dump() {
        let datagram = B.startupDumps(eth0: [[10, 0, 0, 2], Self.v6]).joined()
        let (events, problem) = NetlinkMessage.parse(Array(datagram))
        #expect(problem == nil)
        #expect(events.count == 7)
        #expect(events[0] == .linkChanged(NetlinkLink(index: 1, flags: 0x49, name: "lo")))
        #expect(events[1] == .linkChanged(NetlinkLink(index: 2, flags: 0x41, name: "eth0")))
        #expect(events[2] == .done(sequence: 1))
        guard case .addressAdded(let lo) = events[3], case .addressAdded(let eth) = events[4],
            case .addressAdded(let six) = events[5]
        else {
            Issue.record("addresses expected: \(events)")
            return
        }
        #expect(lo.address.plainHostText == "127.0.0.1" && lo.prefixLength == 8 && lo.scope == 254 && lo.label == "lo")
        #expect(eth.address == Self.v4 && eth.interfaceIndex == 2 && eth.label == "eth0")
        #expect(six.address.plainHostText == "2001:db8::5" && six.address.isIPv6)
        #expect(events[6] == .done(sequence: 2))
    }

    @Test("removals, link changes, errors and acknowledgements")
    func changes() {
        let bytes =
            B.address(B.deleteAddress, [10, 0, 0, 2], index: 2) + B.link(index: 2, flags: 0x1, name: "eth0")
            + B.link(B.deleteLink, index: 3, flags: 0, name: "wlan0") + B.error(16, sequence: 7)
            + B.error(0, sequence: 8)
        let (events, problem) = NetlinkMessage.parse(bytes)
        #expect(problem == nil)
        #expect(events.count == 5)
        if case .addressRemoved(let a) = events[0] {
            #expect(a.address == Self.v4)
        } else {
            Issue.record("\(events[0])")
        }
        #expect(events[1] == .linkChanged(NetlinkLink(index: 2, flags: 0x1, name: "eth0")))
        #expect(!NetlinkLink(index: 2, flags: 0x1).isUp && NetlinkLink(index: 2, flags: 0x41).isUp)
        #expect(events[2] == .linkRemoved(NetlinkLink(index: 3, flags: 0, name: "wlan0")))
        #expect(events[3] == .error(sequence: 7, errno: 16))
        #expect(events[4] == .error(sequence: 8, errno: 0))
    }

    @Test("bad input: truncated, bad lengths, zero lengths, bad attributes; no crash, a problem named")
    func badInput() {
        let good = B.address([10, 0, 0, 2], index: 2)
        // Every truncation of two messages: the first survives when whole, a problem is named.
        let two = good + B.link(index: 2, flags: 0x41, name: "eth0")
        for cut in 1..<two.count {
            let (events, problem) = NetlinkMessage.parse(Array(two[0..<cut]))
            #expect(problem != nil || cut == good.count, "cut at \(cut)")
            #expect(events.count == (cut >= good.count ? 1 : 0), "cut at \(cut)")
        }
        // A zero length (would loop forever if trusted), a length past the end, below a header.
        for length: UInt32 in [0, 15, 1000] {
            var bytes = good
            bytes.replaceSubrange(0..<4, with: B.le32(length))
            let (events, problem) = NetlinkMessage.parse(bytes)
            #expect(events.isEmpty && problem != nil, "length \(length)")
        }
        // An attribute of length 0 and one past its message.
        for attributeLength: UInt16 in [0, 2, 200] {
            var bytes = good
            bytes.replaceSubrange(24..<26, with: B.le16(attributeLength))
            let (events, problem) = NetlinkMessage.parse(bytes)
            #expect(events.isEmpty && problem != nil, "attribute length \(attributeLength)")
        }
        // An address of 5 bytes; an IPv4 message carrying 16 bytes (ignored, not an error).
        #expect(NetlinkMessage.parse(B.address([1, 2, 3, 4, 5], index: 2)).problem != nil)
        var mixed = B.address(Self.v6, index: 2)
        mixed[16] = 2  // AF_INET with an IPv6 address
        #expect(NetlinkMessage.parse(mixed) == ([], nil))
        // Another family (AF_PACKET) and an unknown message type are skipped.
        var packet = good
        packet[16] = 17
        let other = B.message(type: 24, [1, 2, 3, 4])
        #expect(NetlinkMessage.parse(packet + other) == ([], nil))
        // An error code of Int32.min (found by the fuzzer: negating it overflowed).
        #expect(
            NetlinkMessage.parse(B.message(type: 2, sequence: 3, B.le32(0x8000_0000))).events == [
                .error(sequence: 3, errno: Int32.min)
            ])
        // Error message too short for its code.
        #expect(NetlinkMessage.parse(B.message(type: 2, [1, 2])).problem != nil)
    }

    @Test("a dump request: header, NLM_F_REQUEST|NLM_F_DUMP, sequence")
    func dumpRequest() {
        let request = NetlinkMessage.dumpRequest(type: NetlinkMessage.getAddress, sequence: 2)
        #expect(request.count == 32)
        #expect(Array(request[0..<10]) == B.le32(32) + B.le16(22) + [0x01, 0x03] + B.le16(2))
    }

    static func interfaces(_ datagrams: [[UInt8]]) -> NetworkInterfaces {
        var interfaces = NetworkInterfaces()
        for d in datagrams { for e in NetlinkMessage.parse(d).events { interfaces.apply(e) } }
        return interfaces
    }

    @Test("policy: unchanged, changed (same family first), lost, back")
    func policy() {
        let start = Self.interfaces(B.startupDumps(eth0: [Self.v6, [10, 0, 0, 2]]))
        #expect(NetworkAddressPolicy.decide(current: Self.v4, family: 4, interfaces: start) == .unchanged)
        // 10.0.0.2 goes, 10.0.0.3 comes: IPv4 preferred over the IPv6 address that was there first.
        var moved = start
        moved.apply(.addressRemoved(NetlinkAddress(address: Self.v4, interfaceIndex: 2)))
        moved.apply(.addressAdded(NetlinkAddress(address: Self.v4b, interfaceIndex: 2)))
        #expect(
            NetworkAddressPolicy.decide(current: Self.v4, family: 4, interfaces: moved)
                == .changed(from: Self.v4, to: Self.v4b))
        // Only the IPv6 one left: that one (another family, but usable).
        var sixOnly = start
        sixOnly.apply(.addressRemoved(NetlinkAddress(address: Self.v4, interfaceIndex: 2)))
        guard case .changed(_, let to) = NetworkAddressPolicy.decide(current: Self.v4, family: 4, interfaces: sixOnly)
        else {
            Issue.record("changed expected")
            return
        }
        #expect(to.isIPv6)
        // eth0 down: its addresses are unusable; loopback is not taken: lost.
        var down = start
        down.apply(.linkChanged(NetlinkLink(index: 2, flags: 0x1, name: "eth0")))
        #expect(NetworkAddressPolicy.decide(current: Self.v4, family: 4, interfaces: down) == .lost(Self.v4))
        // Nothing in use and nothing usable: unchanged; eth0 up again: back on 10.0.0.2.
        #expect(NetworkAddressPolicy.decide(current: nil, family: 4, interfaces: down) == .unchanged)
        #expect(
            NetworkAddressPolicy.decide(current: nil, family: 4, interfaces: start) == .changed(from: nil, to: Self.v4))
        // Tentative and link-local addresses are not usable.
        var tentative = down
        tentative.apply(.addressAdded(NetlinkAddress(address: Self.v4b, interfaceIndex: 1, flags: 0x40)))
        tentative.apply(.addressAdded(NetlinkAddress(address: Self.v4b, interfaceIndex: 4, scope: 253)))
        #expect(NetworkAddressPolicy.decide(current: nil, family: 4, interfaces: tentative) == .unchanged)
        // A phone on loopback keeps loopback.
        let lo = SocketAddress(ipv4: 127, 0, 0, 1, port: 0)
        #expect(NetworkAddressPolicy.decide(current: lo, family: 4, interfaces: down) == .unchanged)
        // A removed link takes its addresses with it.
        var gone = start
        gone.apply(.linkRemoved(NetlinkLink(index: 2, flags: 0)))
        #expect(!gone.contains(Self.v4) && gone.links[2] == nil)
    }

    @Test("monitor on the virtual clock: follows after 1 s of quiet, a burst is one decision")
    func monitorVirtual() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        let monitor = NetworkMonitor(reactor: reactor, current: Self.v4)
        defer { monitor.close() }
        var decisions: [NetworkDecision] = []
        var logs: [String] = []
        monitor.onDecision = { decisions.append($0) }
        monitor.onLog = { logs.append($0) }
        for d in B.startupDumps(eth0: [[10, 0, 0, 2]]) { monitor.receive(d) }
        #expect(monitor.ready && monitor.following)
        #expect(logs.contains("NET watching the network; SIP address 10.0.0.2"))
        reactor.advanceVirtualClock(by: 2_000_000_000)
        _ = try reactor.runUntilIdle()
        #expect(decisions.isEmpty)
        // Remove, then add 0.5 s later: one decision, 1 s after the last change.
        monitor.receive(B.address(B.deleteAddress, [10, 0, 0, 2], index: 2))
        reactor.advanceVirtualClock(by: 500_000_000)
        _ = try reactor.runUntilIdle()
        monitor.receive(B.address([10, 0, 0, 3], index: 2))
        reactor.advanceVirtualClock(by: 900_000_000)
        _ = try reactor.runUntilIdle()
        #expect(decisions.isEmpty)
        reactor.advanceVirtualClock(by: 200_000_000)
        _ = try reactor.runUntilIdle()
        #expect(decisions == [.changed(from: Self.v4, to: Self.v4b)])
        #expect(monitor.current == Self.v4b)
        // The link goes down: lost; up again: back.
        monitor.receive(B.link(index: 2, flags: 0x1, name: "eth0"))
        reactor.advanceVirtualClock(by: 1_100_000_000)
        _ = try reactor.runUntilIdle()
        #expect(decisions.last == .lost(Self.v4b))
        #expect(monitor.current == nil)
        monitor.receive(B.link(index: 2, flags: 0x41, name: "eth0"))
        reactor.advanceVirtualClock(by: 1_100_000_000)
        _ = try reactor.runUntilIdle()
        #expect(decisions.last == .changed(from: nil, to: Self.v4b))
        #expect(decisions.count == 3)
        // Garbage is logged, not followed.
        monitor.receive([1, 2, 3])
        #expect(logs.last?.hasPrefix("NET netlink:") == true)
    }

    @Test("monitor: an address on no interface (NAT forwarding) or loopback is not followed")
    func monitorNotFollowing() throws {
        let reactor = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { reactor.close() }
        for (address, word) in [
            (SocketAddress(ipv4: 198, 51, 100, 7, port: 0), "no interface"),
            (SocketAddress(ipv4: 127, 0, 0, 1, port: 0), "loopback"),
        ] {
            let monitor = NetworkMonitor(reactor: reactor, current: address)
            var logs: [String] = []
            monitor.onLog = { logs.append($0) }
            for d in B.startupDumps(eth0: [[10, 0, 0, 2]]) { monitor.receive(d) }
            #expect(monitor.ready && !monitor.following)
            #expect(logs.last?.contains(word) == true)
            monitor.close()
        }
    }

    @Test("a real netlink socket: the start-up dumps list the loopback address")
    func realDump() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        let monitor = NetworkMonitor(reactor: reactor, current: SocketAddress(ipv4: 127, 0, 0, 1, port: 0))
        defer { monitor.close() }
        try monitor.start()
        try runUntil(reactor, seconds: 5) { monitor.ready }
        let loopback = monitor.interfaces.addresses.first { $0.address.plainHostText == "127.0.0.1" }
        #expect(loopback != nil)
        #expect(loopback.map { monitor.interfaces.links[$0.interfaceIndex]?.isLoopback == true } == true)
        #expect(monitor.interfaces.links.values.contains { $0.name == "lo" && $0.isUp })
    }
}
