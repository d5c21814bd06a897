// Hand-built NETLINK_ROUTE datagrams (linux/netlink.h, linux/rtnetlink.h byte layouts, host
// order = little-endian), as the kernel sends them: for the parser's tests and the recorded
// network changes of the whole-phone tests.

/// Builders of netlink messages; concatenate them for a datagram.
public enum NetlinkBytes {
    public static let newLink: UInt16 = 16
    public static let deleteLink: UInt16 = 17
    public static let newAddress: UInt16 = 20
    public static let deleteAddress: UInt16 = 21

    /// One message: nlmsghdr (length, type, flags, sequence, port id 0) and the payload, padded
    /// to 4 bytes.
    public static func message(type: UInt16, sequence: UInt32 = 0, flags: UInt16 = 0, _ payload: [UInt8]) -> [UInt8] {
        var out = le32(UInt32(16 + payload.count)) + le16(type) + le16(flags) + le32(sequence) + le32(0) + payload
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    /// One rtattr, padded.
    public static func attribute(_ type: UInt16, _ data: [UInt8]) -> [UInt8] {
        var out = le16(UInt16(4 + data.count)) + le16(type) + data
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    /// RTM_NEWADDR / RTM_DELADDR: ifaddrmsg, IFA_ADDRESS and IFA_LOCAL (the same bytes) and for
    /// IPv4 IFA_LABEL. `address` is 4 or 16 bytes.
    public static func address(
        _ type: UInt16, _ address: [UInt8], prefix: UInt8 = 24, index: UInt32, flags: UInt8 = 0,
        scope: UInt8 = 0, label: String = "", sequence: UInt32 = 0
    ) -> [UInt8] {
        let family: UInt8 = address.count == 16 ? 10 : 2
        var payload: [UInt8] = [family, prefix, flags, scope] + le32(index)
        payload += attribute(1, address) + attribute(2, address)
        if !label.isEmpty { payload += attribute(3, Array(label.utf8) + [0]) }
        return message(type: type, sequence: sequence, payload)
    }

    /// RTM_NEWADDR (see above).
    public static func address(
        _ address: [UInt8], prefix: UInt8 = 24, index: UInt32, flags: UInt8 = 0, scope: UInt8 = 0, label: String = "",
        sequence: UInt32 = 0
    ) -> [UInt8] {
        self.address(
            newAddress, address, prefix: prefix, index: index, flags: flags, scope: scope, label: label,
            sequence: sequence)
    }

    /// RTM_NEWLINK / RTM_DELLINK: ifinfomsg with `flags` (IFF_UP 0x1, IFF_LOOPBACK 0x8,
    /// IFF_RUNNING 0x40) and IFLA_IFNAME.
    public static func link(
        _ type: UInt16 = newLink, index: UInt32, flags: UInt32, name: String, sequence: UInt32 = 0
    ) -> [UInt8] {
        let payload: [UInt8] = [0, 0] + le16(1) + le32(index) + le32(flags) + le32(0xFFFF_FFFF)
        return message(type: type, sequence: sequence, payload + attribute(3, Array(name.utf8) + [0]))
    }

    /// NLMSG_DONE closing the dump with `sequence`.
    public static func done(sequence: UInt32) -> [UInt8] { message(type: 3, sequence: sequence, le32(0)) }

    /// NLMSG_ERROR with `errno` (0: an acknowledgement) for the request `sequence`.
    public static func error(_ errno: Int32, sequence: UInt32) -> [UInt8] {
        message(type: 2, sequence: sequence, le32(UInt32(bitPattern: -errno)) + [UInt8](repeating: 0, count: 16))
    }

    /// A host's start-up state as the phone's monitor asks for it: the link dump (sequence 1:
    /// `lo` up, `eth0` up) and the address dump (sequence 2: 127.0.0.1 on lo and `addresses` on
    /// eth0, index 2).
    public static func startupDumps(eth0 addresses: [[UInt8]]) -> [[UInt8]] {
        let links =
            link(index: 1, flags: 0x49, name: "lo", sequence: 1)
            + link(index: 2, flags: 0x41, name: "eth0", sequence: 1)
            + done(sequence: 1)
        var addressDump = address([127, 0, 0, 1], prefix: 8, index: 1, scope: 254, label: "lo", sequence: 2)
        for a in addresses { addressDump += address(a, index: 2, label: a.count == 4 ? "eth0" : "", sequence: 2) }
        return [links, addressDump + done(sequence: 2)]
    }

    public static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

    public static func le32(_ v: UInt32) -> [UInt8] {
        [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }
}
