// NETLINK_ROUTE messages (RFC 3549; linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h,
// linux/if_link.h) read sans-IO: a datagram's bytes in, address and link events out. Every
// length is checked against what is left; a bad one ends the datagram with a problem noted.

/// An interface address from RTM_NEWADDR / RTM_DELADDR (`struct ifaddrmsg` + IFA_* attributes).
public struct NetlinkAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The address (IFA_LOCAL, else IFA_ADDRESS), port 0.
    public var address: SocketAddress
    public var prefixLength: UInt8
    /// The interface index (`ifa_index`).
    public var interfaceIndex: UInt32
    /// IFA_F_* flags (`ifa_flags`, widened by IFA_FLAGS).
    public var flags: UInt32
    /// RT_SCOPE_*: 0 universe, 200 site, 253 link, 254 host.
    public var scope: UInt8
    /// IFA_LABEL (IPv4 only), empty when absent.
    public var label: String

    public init(
        address: SocketAddress, prefixLength: UInt8 = 24, interfaceIndex: UInt32, flags: UInt32 = 0, scope: UInt8 = 0,
        label: String = ""
    ) {
        self.address = address
        self.prefixLength = prefixLength
        self.interfaceIndex = interfaceIndex
        self.flags = flags
        self.scope = scope
        self.label = label
    }

    /// Not yet usable (IPv6 duplicate address detection running or failed).
    public var isTentative: Bool { flags & (NetlinkMessage.addressTentative | NetlinkMessage.addressDADFailed) != 0 }

    public var description: String {
        address.hostText + "/" + String(prefixLength) + " on if" + String(interfaceIndex)
            + (label.isEmpty ? "" : " (" + label + ")")
    }
}

/// A network interface from RTM_NEWLINK / RTM_DELLINK (`struct ifinfomsg` + IFLA_IFNAME).
public struct NetlinkLink: Equatable, Sendable, CustomStringConvertible {
    public var index: UInt32
    /// IFF_* flags.
    public var flags: UInt32
    /// IFLA_IFNAME, empty when absent.
    public var name: String

    public init(index: UInt32, flags: UInt32, name: String = "") {
        self.index = index
        self.flags = flags
        self.name = name
    }

    /// Administratively up and with a carrier (IFF_UP and IFF_RUNNING).
    public var isUp: Bool { flags & NetlinkMessage.linkUp != 0 && flags & NetlinkMessage.linkRunning != 0 }
    public var isLoopback: Bool { flags & NetlinkMessage.linkLoopback != 0 }

    public var description: String {
        (name.isEmpty ? "if" + String(index) : name) + (isUp ? " up" : " down")
    }
}

/// One thing a NETLINK_ROUTE datagram says.
public enum NetlinkEvent: Equatable, Sendable, CustomStringConvertible {
    /// RTM_NEWADDR.
    case addressAdded(NetlinkAddress)
    /// RTM_DELADDR.
    case addressRemoved(NetlinkAddress)
    /// RTM_NEWLINK (a new interface or a change of its flags).
    case linkChanged(NetlinkLink)
    /// RTM_DELLINK.
    case linkRemoved(NetlinkLink)
    /// NLMSG_DONE: the end of a dump; `sequence` is the request's.
    case done(sequence: UInt32)
    /// NLMSG_ERROR: `errno` 0 is an acknowledgement.
    case error(sequence: UInt32, errno: Int32)

    public var description: String {
        switch self {
        case .addressAdded(let a): return "address added " + a.description
        case .addressRemoved(let a): return "address removed " + a.description
        case .linkChanged(let l): return "link " + l.description
        case .linkRemoved(let l): return "link removed " + l.description
        case .done(let s): return "done (seq " + String(s) + ")"
        case .error(let s, let e): return "error " + String(e) + " (seq " + String(s) + ")"
        }
    }
}

/// The reader and writer of NETLINK_ROUTE datagrams (host byte order: little-endian on every
/// board the firmware runs on).
public enum NetlinkMessage {
    public static let headerSize = 16
    static let typeError: UInt16 = 2
    static let typeDone: UInt16 = 3
    public static let newLink: UInt16 = 16
    public static let deleteLink: UInt16 = 17
    public static let getLink: UInt16 = 18
    public static let newAddress: UInt16 = 20
    public static let deleteAddress: UInt16 = 21
    public static let getAddress: UInt16 = 22
    /// IFF_UP, IFF_LOOPBACK, IFF_RUNNING.
    public static let linkUp: UInt32 = 0x1
    public static let linkLoopback: UInt32 = 0x8
    public static let linkRunning: UInt32 = 0x40
    /// IFA_F_DADFAILED, IFA_F_TENTATIVE.
    public static let addressDADFailed: UInt32 = 0x08
    public static let addressTentative: UInt32 = 0x40
    /// Multicast groups: RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR.
    public static let groups: UInt32 = 0x1 | 0x10 | 0x100
    /// At most this many events from one datagram (a dump of a large host fits; more is noted).
    public static let eventLimit = 1024

    /// The events of one datagram and, when part of it was unreadable, what was wrong (the
    /// events before the fault are kept).
    public static func parse(_ bytes: [UInt8]) -> (events: [NetlinkEvent], problem: String?) {
        var events: [NetlinkEvent] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= headerSize else {
                return (events, "netlink: " + String(bytes.count - offset) + " trailing bytes, no header")
            }
            let length = Int(u32(bytes, offset))
            guard length >= headerSize, length <= bytes.count - offset else {
                return (events, "netlink: message length " + String(length) + " at byte " + String(offset))
            }
            guard events.count < eventLimit else {
                return (events, "netlink: more than " + String(eventLimit) + " messages")
            }
            let type = u16(bytes, offset + 4)
            let sequence = u32(bytes, offset + 8)
            let body = offset + headerSize
            let end = offset + length
            switch type {
            case typeDone:
                events.append(.done(sequence: sequence))
            case typeError:
                guard end - body >= 4 else { return (events, "netlink: error message of " + String(length) + " bytes") }
                events.append(.error(sequence: sequence, errno: 0 &- Int32(bitPattern: u32(bytes, body))))
            case newAddress, deleteAddress:
                guard let address = parseAddress(bytes, body, end) else {
                    return (events, "netlink: malformed address message at byte " + String(offset))
                }
                if let address { events.append(type == newAddress ? .addressAdded(address) : .addressRemoved(address)) }
            case newLink, deleteLink:
                guard let link = parseLink(bytes, body, end) else {
                    return (events, "netlink: malformed link message at byte " + String(offset))
                }
                events.append(type == newLink ? .linkChanged(link) : .linkRemoved(link))
            default:
                break  // NLMSG_NOOP, NLMSG_OVERRUN, routes...: not ours
            }
            // NLMSG_ALIGN: messages start on 4-byte boundaries; length >= 16 so this advances.
            offset += (length + 3) & ~3
        }
        return (events, nil)
    }

    /// A dump request (NLM_F_REQUEST | NLM_F_DUMP) for `type` (RTM_GETLINK, RTM_GETADDR) of every
    /// family: the header and a zeroed 16-byte family message (ifinfomsg's size; the kernel
    /// reads the family from its first byte).
    public static func dumpRequest(type: UInt16, sequence: UInt32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: headerSize + 16)
        put32(&out, 0, UInt32(out.count))
        out[4] = UInt8(type & 0xFF)
        out[5] = UInt8(type >> 8)
        out[6] = 0x01  // NLM_F_REQUEST
        out[7] = 0x03  // NLM_F_ROOT | NLM_F_MATCH (NLM_F_DUMP)
        put32(&out, 8, sequence)
        return out
    }

    /// nil: malformed; .some(nil): well formed but carries no address of ours (another family).
    private static func parseAddress(_ b: [UInt8], _ start: Int, _ end: Int) -> NetlinkAddress?? {
        guard end - start >= 8 else { return nil }
        let family = b[start]
        var result = NetlinkAddress(
            address: SocketAddress(ipv4: 0, 0, 0, 0, port: 0), prefixLength: b[start + 1],
            interfaceIndex: u32(b, start + 4), flags: UInt32(b[start + 2]), scope: b[start + 3])
        var local: SocketAddress? = nil
        var peer: SocketAddress? = nil
        let ok = attributes(b, start + 8, end) { type, from, to in
            switch type {
            case 1, 2:  // IFA_ADDRESS, IFA_LOCAL
                guard let a = SocketAddress(bytes: b[from..<to], port: 0) else { return false }
                if type == 2 { local = a } else { peer = a }
            case 3:  // IFA_LABEL, NUL-terminated
                result.label = String(decoding: b[from..<to].prefix(while: { $0 != 0 }).prefix(16), as: UTF8.self)
            case 8:  // IFA_FLAGS
                guard to - from >= 4 else { return false }
                result.flags = u32(b, from)
            default:
                break
            }
            return true
        }
        guard ok else { return nil }
        guard family == 2 || family == 10 else { return .some(nil) }  // AF_INET, AF_INET6
        guard let address = local ?? peer, address.isIPv6 == (family == 10) else { return .some(nil) }
        result.address = address
        return .some(result)
    }

    private static func parseLink(_ b: [UInt8], _ start: Int, _ end: Int) -> NetlinkLink? {
        guard end - start >= 16 else { return nil }
        var link = NetlinkLink(index: u32(b, start + 4), flags: u32(b, start + 8))
        let ok = attributes(b, start + 16, end) { type, from, to in
            if type == 3 {  // IFLA_IFNAME
                link.name = String(decoding: b[from..<to].prefix(while: { $0 != 0 }).prefix(16), as: UTF8.self)
            }
            return true
        }
        return ok ? link : nil
    }

    /// Walks the rtattr list in `start..<end`, calling `body(type, payloadStart, payloadEnd)`;
    /// false when an attribute's length is bad or `body` refused one.
    private static func attributes(
        _ b: [UInt8], _ start: Int, _ end: Int, _ body: (UInt16, Int, Int) -> Bool
    ) -> Bool {
        var at = start
        while end - at >= 4 {
            let length = Int(u16(b, at))
            guard length >= 4, length <= end - at else { return false }
            // The nested flag (bit 15) and byte-order flag (bit 14) are not part of the type.
            if !body(u16(b, at + 2) & 0x3FFF, at + 4, at + length) { return false }
            at += (length + 3) & ~3  // RTA_ALIGN; length >= 4 so this advances
        }
        return true
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }

    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    static func put32(_ b: inout [UInt8], _ at: Int, _ value: UInt32) {
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}
