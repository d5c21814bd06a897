// The thin edge of network-change handling: a NETLINK_ROUTE socket on the reactor whose
// datagrams feed `NetworkInterfaces`, and a debounce timer after which `NetworkAddressPolicy`
// decides about the phone's SIP address.

import CLinux
import Reactor

/// Watches the host's addresses and links (an AF_NETLINK socket bound to RTMGRP_LINK,
/// RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR; a link dump, then an address dump, gives the state
/// at start) and reports what a change means for the address the phone uses, once the changes
/// have settled for `debounce` ns. Tests feed recorded datagrams to `receive` on a virtual clock.
///
/// The address is followed only when the address dump showed it on an interface (an address
/// given for a NAT's port forwarding is on none) and it is not loopback.
public final class NetworkMonitor {
    public let reactor: Reactor
    public let debounce: Int64
    /// The interfaces as netlink last described them.
    public private(set) var interfaces = NetworkInterfaces()
    /// The address in use (nil after a loss).
    public private(set) var current: SocketAddress?
    /// Whether the start-up dumps are complete.
    public private(set) var ready = false
    /// Whether changes of `current` are followed (see the type's comment).
    public private(set) var following = false
    /// A decision other than `.unchanged`, after the debounce.
    public var onDecision: ((NetworkDecision) -> Void)?
    public var onLog: ((String) -> Void)?

    private var socket: OwnedDescriptor?
    private var family: Int32
    private var settleTimer: TimerID?
    private var buffer = [UInt8](repeating: 0, count: 32 * 1024)
    static let linkDumpSequence: UInt32 = 1
    static let addressDumpSequence: UInt32 = 2

    public init(reactor: Reactor, current: SocketAddress, debounce: Int64 = 1_000_000_000) {
        self.reactor = reactor
        self.current = current
        self.family = current.family
        self.debounce = debounce
    }

    deinit { close() }

    /// Opens the netlink socket, watches it and asks for the link dump.
    public func start() throws(SocketError) {
        let fd = cl_netlink_open(NetlinkMessage.groups)
        guard fd >= 0 else { throw SocketError(call: "netlink socket", errno: -fd) }
        let owned = OwnedDescriptor(fd, reactor: reactor)
        do {
            try owned.watch(for: .readable) { [self] _ in readReady() }
        } catch {
            owned.close()
            throw SocketError(call: "watch netlink", errno: error.errno)
        }
        socket = owned
        request(NetlinkMessage.getLink, NetworkMonitor.linkDumpSequence)
    }

    /// Closes the socket and cancels the timer; idempotent.
    public func close() {
        socket?.close()
        socket = nil
        if let settleTimer { reactor.cancel(settleTimer) }
        settleTimer = nil
        onDecision = nil
        onLog = nil
    }

    /// The phone now uses `address` (it took a decision's address, or was configured anew).
    public func use(_ address: SocketAddress?) {
        current = address
        if let address { family = address.family }
    }

    /// One netlink datagram (from the socket, or recorded).
    public func receive(_ bytes: [UInt8]) {
        let (events, problem) = NetlinkMessage.parse(bytes)
        if let problem { log(problem) }
        var changed = false
        for event in events {
            switch event {
            case .done(let sequence) where sequence == NetworkMonitor.linkDumpSequence:
                request(NetlinkMessage.getAddress, NetworkMonitor.addressDumpSequence)
            case .done(let sequence) where sequence == NetworkMonitor.addressDumpSequence:
                dumpComplete()
            case .error(let sequence, let errno) where errno != 0:
                log("netlink error " + String(errno) + " for request " + String(sequence))
            default:
                if interfaces.apply(event) { changed = true }
            }
        }
        if changed && following { settleLater() }
    }

    private func dumpComplete() {
        ready = true
        guard let current else { return }
        if NetworkAddressPolicy.isLoopback(current) {
            log("watching the network; " + current.plainHostText + " is loopback: not following address changes")
        } else if interfaces.contains(current) {
            following = true
            log("watching the network; SIP address " + current.plainHostText)
            settleLater()
        } else {
            log("watching the network; " + current.plainHostText + " is on no interface: not following address changes")
        }
    }

    private func settleLater() {
        if let settleTimer { reactor.cancel(settleTimer) }
        settleTimer = reactor.after(debounce) { [self] in
            settleTimer = nil
            settle()
        }
    }

    private func settle() {
        let decision = NetworkAddressPolicy.decide(current: current, family: family, interfaces: interfaces)
        switch decision {
        case .unchanged: return
        case .changed(_, let to): use(to)
        case .lost: current = nil
        }
        onDecision?(decision)
    }

    private func request(_ type: UInt16, _ sequence: UInt32) {
        guard let socket, socket.isOpen else { return }
        let bytes = NetlinkMessage.dumpRequest(type: type, sequence: sequence)
        let n = bytes.withUnsafeBytes { cl_netlink_send(socket.fd, $0.baseAddress, $0.count) }
        if n < 0 { log("netlink dump request failed (errno " + String(-n) + ")") }
    }

    private func readReady() {
        guard let socket else { return }
        // A bounded number of datagrams per wake-up, so a flood cannot hold the loop.
        for _ in 0..<64 {
            let n = buffer.withUnsafeMutableBytes { cl_socket_receive(socket.fd, $0.baseAddress, $0.count) }
            if n == -Int(EAGAIN) || n == -Int(EWOULDBLOCK) || n == 0 { return }
            if n == -Int(ENOBUFS) {
                // The kernel dropped messages (RFC 3549 §2.3.2.1 overrun): ask for the whole state again.
                log("netlink overrun: reading the interfaces again")
                interfaces = NetworkInterfaces()
                request(NetlinkMessage.getLink, NetworkMonitor.linkDumpSequence)
                return
            }
            if n < 0 {
                log("netlink receive failed (errno " + String(-n) + ")")
                return
            }
            receive(Array(buffer[0..<min(n, buffer.count)]))
        }
    }

    private func log(_ line: String) { onLog?("NET " + line) }
}
