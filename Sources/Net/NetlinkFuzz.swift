// The libFuzzer entry for NETLINK_ROUTE datagrams (Tools/deskphone-fuzz, scripts/fuzz.sh). It
// traps (`fatalError`) only on a broken invariant, never on bad input.

/// The input as a netlink datagram: every address read is IPv4 or IPv6, no more events than
/// messages could fit, and the interfaces and policy take them in; the interfaces' own addresses
/// and links told again change nothing, and a decision never picks an address that is not usable.
public func netlinkFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let input = Array(bytes)
    let (events, _) = NetlinkMessage.parse(input)
    if events.count > max(1, input.count / NetlinkMessage.headerSize) || events.count > NetlinkMessage.eventLimit {
        fatalError("netlink: " + String(events.count) + " events from " + String(input.count) + " bytes")
    }
    var interfaces = NetworkInterfaces()
    for event in events {
        switch event {
        case .addressAdded(let a), .addressRemoved(let a):
            if a.address.family != 4 && a.address.family != 6 { fatalError("netlink address family") }
        default:
            break
        }
        interfaces.apply(event)
    }
    var again = interfaces
    for a in interfaces.addresses where again.apply(.addressAdded(a)) {
        fatalError("netlink: an address told again changed the interfaces")
    }
    for (_, l) in interfaces.links where again.apply(.linkChanged(l)) {
        fatalError("netlink: a link told again changed the interfaces")
    }
    let current = SocketAddress(ipv4: 192, 0, 2, 1, port: 0)
    if case .changed(_, let to) = NetworkAddressPolicy.decide(current: current, family: 4, interfaces: interfaces) {
        let usable = interfaces.addresses.contains { $0.address == to && interfaces.isUsable($0, loopback: false) }
        if !usable { fatalError("netlink: the policy chose " + to.plainHostText + ", not usable") }
    }
}
