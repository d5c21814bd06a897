// What a network change means for the phone's SIP address: sans-IO, the interfaces' addresses
// and links (from netlink) and the address in use in, one decision out.

/// The phone's view of the host's interfaces: links by index and the addresses on them, kept up
/// to date from netlink events (`apply`).
public struct NetworkInterfaces: Equatable, Sendable {
    public private(set) var links: [UInt32: NetlinkLink] = [:]
    /// Addresses in the order they appeared.
    public private(set) var addresses: [NetlinkAddress] = []

    public init() {}

    /// Takes one event in; true when it changed something.
    @discardableResult
    public mutating func apply(_ event: NetlinkEvent) -> Bool {
        switch event {
        case .addressAdded(let a):
            if let i = addresses.firstIndex(where: { $0.address == a.address && $0.interfaceIndex == a.interfaceIndex })
            {
                if addresses[i] == a { return false }
                addresses[i] = a
            } else {
                addresses.append(a)
            }
            return true
        case .addressRemoved(let a):
            let before = addresses.count
            addresses.removeAll { $0.address == a.address && $0.interfaceIndex == a.interfaceIndex }
            return addresses.count != before
        case .linkChanged(let l):
            if links[l.index] == l { return false }
            links[l.index] = l
            return true
        case .linkRemoved(let l):
            let had = links.removeValue(forKey: l.index) != nil
            let before = addresses.count
            addresses.removeAll { $0.interfaceIndex == l.index }
            return had || addresses.count != before
        case .done, .error:
            return false
        }
    }

    /// Whether `address` is on an interface (whatever its state).
    public func contains(_ address: SocketAddress) -> Bool {
        addresses.contains { $0.address.hasSameHost(as: address) }
    }

    /// Whether `a` can carry SIP now: its link (when known) is up and running, it is not
    /// tentative, not link-local (scope link: an fe80:: or 169.254 address needs a zone), and
    /// not loopback unless `loopback` allows it.
    public func isUsable(_ a: NetlinkAddress, loopback: Bool) -> Bool {
        if a.isTentative || a.scope == 253 { return false }
        let link = links[a.interfaceIndex]
        if let link, !link.isUp { return false }
        let isLoopback = a.scope == 254 || (link?.isLoopback ?? false) || NetworkAddressPolicy.isLoopback(a.address)
        return loopback || !isLoopback
    }
}

/// What the phone should do about its SIP address after a network change.
public enum NetworkDecision: Equatable, Sendable, CustomStringConvertible {
    /// The address in use is still there (or the phone is not following an address).
    case unchanged
    /// The address in use vanished (or is on a link that went down) and `to` is usable;
    /// `from` is nil when the phone had none (the network came back).
    case changed(from: SocketAddress?, to: SocketAddress)
    /// The address in use vanished and no usable address is left.
    case lost(SocketAddress)

    public var description: String {
        switch self {
        case .unchanged: return "unchanged"
        case .changed(let from, let to): return "address " + (from?.plainHostText ?? "none") + " -> " + to.plainHostText
        case .lost(let a): return "lost " + a.plainHostText
        }
    }
}

/// The choice of the SIP address (issue 16 item 4): keep the address in use while it is usable;
/// when it goes, take another usable one, the same family first (the one the phone used), in
/// interface order, then the order the addresses appeared; loopback only when the phone uses
/// loopback.
public enum NetworkAddressPolicy {
    /// `current`: the address in use, nil after a loss; `family`: the family to prefer (4 or 6,
    /// the last one in use) when `current` is nil.
    public static func decide(current: SocketAddress?, family: Int32, interfaces: NetworkInterfaces) -> NetworkDecision
    {
        let loopback = current.map(isLoopback) ?? false
        if let current,
            interfaces.addresses.contains(where: {
                $0.address.hasSameHost(as: current) && interfaces.isUsable($0, loopback: true)
            })
        {
            return .unchanged
        }
        let usable = interfaces.addresses.filter { interfaces.isUsable($0, loopback: loopback) }
        let preferred = current?.family ?? family
        let ordered =
            usable.filter { $0.address.family == preferred }.sorted { $0.interfaceIndex < $1.interfaceIndex }
            + usable.filter { $0.address.family != preferred }.sorted { $0.interfaceIndex < $1.interfaceIndex }
        if let next = ordered.first { return .changed(from: current, to: next.address) }
        if let current { return .lost(current) }
        return .unchanged
    }

    /// 127.0.0.0/8 and ::1.
    public static func isLoopback(_ a: SocketAddress) -> Bool {
        let bytes = a.address
        if !a.isIPv6 { return bytes.first == 127 }
        return bytes.prefix(15).allSatisfy { $0 == 0 } && bytes.last == 1
    }
}
