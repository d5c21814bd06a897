// STUN binding requests and responses (RFC 5389 §6, §7, §15.1, §15.2) as RFC 5626 §4.4.2 uses
// them: the keep-alive of an outbound flow over UDP. The phone sends a binding request to the
// registrar's SIP port and expects a success response with the same transaction id; the
// address the response reports (XOR-MAPPED-ADDRESS, or the classic MAPPED-ADDRESS) is the flow's
// NAT mapping, and a change of it is a flow failure (§4.4.2). No authentication, no FINGERPRINT
// check (RFC 5626 §8.2 sends the bare request). The parser reads network input: anything
// malformed is a `SIPError` naming what is wrong, never a trap (fuzzed as `stun`).

import Net

/// One STUN message as the phone reads it (RFC 5389 §6): its type, transaction id and the
/// mapped address of a binding response (nil when it has none).
public struct STUNMessage: Equatable, Sendable, CustomStringConvertible {
    public static let magicCookie: UInt32 = 0x2112_A442
    public static let bindingRequestType: UInt16 = 0x0001
    public static let bindingSuccessType: UInt16 = 0x0101
    public static let bindingErrorType: UInt16 = 0x0111
    static let mappedAddressAttribute: UInt16 = 0x0001
    static let xorMappedAddressAttribute: UInt16 = 0x0020

    public var type: UInt16
    /// 12 bytes.
    public var transactionID: [UInt8]
    /// XOR-MAPPED-ADDRESS when present, else MAPPED-ADDRESS.
    public var mapped: SocketAddress?

    public init(type: UInt16, transactionID: [UInt8], mapped: SocketAddress? = nil) {
        self.type = type
        self.transactionID = transactionID
        self.mapped = mapped
    }

    public var description: String {
        "STUN type 0x" + String(type, radix: 16) + (mapped.map { " mapped " + $0.description } ?? "")
    }

    /// Whether a datagram looks like STUN rather than SIP (RFC 7983 §7, RFC 5389 §6): at least a
    /// header, the first two bits zero, the magic cookie at bytes 4...7.
    public static func isSTUN(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 20 && bytes[0] < 4 && bytes[4] == 0x21 && bytes[5] == 0x12 && bytes[6] == 0xA4
            && bytes[7] == 0x42
    }

    /// A binding request with no attributes (RFC 5626 §8.2) and the given 12-byte transaction id.
    public static func bindingRequest(transactionID: [UInt8]) -> [UInt8] {
        header(type: bindingRequestType, length: 0, transactionID: transactionID)
    }

    /// A binding success response carrying `mapped` as XOR-MAPPED-ADDRESS (what a STUN server
    /// answers; tests and the fuzz round trip use it).
    public static func bindingSuccess(transactionID: [UInt8], mapped: SocketAddress) -> [UInt8] {
        let address = mapped.address
        var value: [UInt8] = [0, mapped.isIPv6 ? 2 : 1]
        let port = mapped.port ^ UInt16(magicCookie >> 16)
        value += [UInt8(port >> 8), UInt8(port & 0xFF)]
        let mask = cookieBytes + transactionID
        for (i, byte) in address.enumerated() { value.append(byte ^ mask[i]) }
        var out = header(type: bindingSuccessType, length: 4 + value.count, transactionID: transactionID)
        out += [UInt8(xorMappedAddressAttribute >> 8), UInt8(xorMappedAddressAttribute & 0xFF), 0, UInt8(value.count)]
        out += value
        return out
    }

    static let cookieBytes: [UInt8] = [0x21, 0x12, 0xA4, 0x42]

    private static func header(type: UInt16, length: Int, transactionID: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(length >> 8), UInt8(length & 0xFF)]
        out += cookieBytes
        out += transactionID.count == 12 ? transactionID : Array(repeating: 0, count: 12)
        return out
    }

    /// Parses one datagram (RFC 5389 §6, §15): the header must be whole, the length a multiple of
    /// 4 that matches the datagram, the attributes must fit; unknown attributes are skipped, a
    /// malformed address attribute is an error.
    public static func parse(_ bytes: [UInt8]) throws(SIPError) -> STUNMessage {
        guard bytes.count >= 20 else {
            throw SIPError("STUN: " + String(bytes.count) + " bytes, shorter than a header")
        }
        guard bytes[0] & 0xC0 == 0 else { throw SIPError("STUN: the first two bits are not zero") }
        guard Array(bytes[4..<8]) == cookieBytes else { throw SIPError("STUN: no magic cookie") }
        let type = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        guard length % 4 == 0 else { throw SIPError("STUN: length " + String(length) + " not a multiple of 4") }
        guard 20 + length == bytes.count else {
            throw SIPError(
                "STUN: length " + String(length) + " but " + String(bytes.count - 20) + " bytes follow the header")
        }
        var message = STUNMessage(type: type, transactionID: Array(bytes[8..<20]))
        var plain: SocketAddress?
        var offset = 20
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else { throw SIPError("STUN: attribute header cut at " + String(offset)) }
            let kind = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let size = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let start = offset + 4
            guard start + size <= bytes.count else {
                throw SIPError(
                    "STUN: attribute 0x" + String(kind, radix: 16) + " of " + String(size)
                        + " bytes overruns the message")
            }
            let value = Array(bytes[start..<(start + size)])
            if kind == xorMappedAddressAttribute {
                message.mapped = try address(value, xor: cookieBytes + message.transactionID)
            } else if kind == mappedAddressAttribute {
                plain = try address(value, xor: nil)
            }
            offset = start + (size + 3) / 4 * 4
        }
        if message.mapped == nil { message.mapped = plain }
        return message
    }

    /// A (XOR-)MAPPED-ADDRESS value (RFC 5389 §15.1, §15.2): family 1 (IPv4, 4 bytes) or 2 (IPv6, 16).
    private static func address(_ value: [UInt8], xor mask: [UInt8]?) throws(SIPError) -> SocketAddress {
        guard value.count >= 4 else { throw SIPError("STUN: address attribute of " + String(value.count) + " bytes") }
        let count: Int
        switch value[1] {
        case 1: count = 4
        case 2: count = 16
        default: throw SIPError("STUN: address family " + String(value[1]))
        }
        guard value.count == 4 + count else {
            throw SIPError(
                "STUN: address attribute of " + String(value.count) + " bytes for family " + String(value[1]))
        }
        var port = UInt16(value[2]) << 8 | UInt16(value[3])
        var raw = Array(value[4...])
        if let mask {
            port ^= UInt16(magicCookie >> 16)
            for i in raw.indices { raw[i] ^= mask[i] }
        }
        guard let address = SocketAddress(bytes: raw, port: port) else { throw SIPError("STUN: address length") }
        return address
    }
}
