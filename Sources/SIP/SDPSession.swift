// SDP session description model and its canonical serializer (RFC 8866, which obsoletes
// RFC 4566). The parser is in SDPParser.swift, offer/answer in SDPOfferAnswer.swift.

/// A malformed session description (RFC 8866 §9 grammar) or a failed negotiation (RFC 3264): one
/// line, with the 1-based line of the description it concerns (0 when it concerns no single line).
public struct SDPError: Error, Equatable, CustomStringConvertible {
    /// 1-based line number in the parsed text, 0 when not tied to one line.
    public var line: Int
    /// What is wrong, e.g. "m= port '70000' is not 0...65535".
    public var message: String

    public init(line: Int = 0, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line " + String(line) + ": " + message : message }
}

/// The `o=` line (RFC 8866 §5.2): who created the session and which version of it this is.
public struct SDPOrigin: Equatable {
    /// The user name, "-" when there is none.
    public var username: String
    /// Session id: a numeric string kept as written (it only has to stay unique).
    public var sessionID: String
    /// Session version: increases with every changed description (RFC 3264 §8).
    public var sessionVersion: UInt64
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(
        username: String = "-", sessionID: String, sessionVersion: UInt64, networkType: String = "IN",
        addressType: String, address: String
    ) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }
}

/// A `c=` line (RFC 8866 §5.7): where media is sent, e.g. `IN IP4 192.0.2.1` or `IN IP6 2001:db8::1`.
public struct SDPConnection: Equatable {
    public var networkType: String
    /// "IP4" or "IP6" (others are kept as written).
    public var addressType: String
    /// The connection address as written, multicast "/ttl/count" suffixes included.
    public var address: String

    public init(networkType: String = "IN", addressType: String, address: String) {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    /// A connection to a unicast address, "IP6" when it contains a colon.
    public init(address: String) {
        self.init(addressType: address.utf8.contains(0x3A) ? "IP6" : "IP4", address: address)
    }

    /// The address without a multicast "/ttl/count" suffix.
    public var host: String {
        var bytes: [UInt8] = []
        for byte in address.utf8 {
            if byte == 0x2F { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True for the RFC 2543 "hold" address 0.0.0.0 (and its IPv6 twin `::`): send nothing here.
    public var isUnspecified: Bool { host == "0.0.0.0" || host == "::" }

    var line: String { networkType + " " + addressType + " " + address }
}

/// A `b=` line (RFC 8866 §5.8), e.g. `b=AS:64`.
public struct SDPBandwidth: Equatable {
    public var type: String
    /// kbit/s for AS and CT, bit/s for TIAS (RFC 3890).
    public var value: UInt64

    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }
}

/// A `t=` line with the `r=` lines that follow it (RFC 8866 §5.9, §5.10). `t=0 0` is a permanent session.
public struct SDPTiming: Equatable {
    public var start: UInt64
    public var stop: UInt64
    /// The `r=` values as written.
    public var repeats: [String]

    public init(start: UInt64 = 0, stop: UInt64 = 0, repeats: [String] = []) {
        self.start = start
        self.stop = stop
        self.repeats = repeats
    }
}

/// An `a=` line (RFC 8866 §5.13): `a=<name>` (a flag) or `a=<name>:<value>`, value kept as written.
public struct SDPAttribute: Equatable {
    public var name: String
    /// nil for a property attribute (`a=sendrecv`); the text after the first ':' otherwise.
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    var line: String {
        guard let value else { return name }
        return name + ":" + value
    }
}

/// The media direction attributes (RFC 8866 §6.7, RFC 3264 §5.1): what the describing side does.
public enum SDPDirection: Equatable, CustomStringConvertible {
    case sendrecv, sendonly, recvonly, inactive

    public init?(attributeName: String) {
        switch attributeName {
        case "sendrecv": self = .sendrecv
        case "sendonly": self = .sendonly
        case "recvonly": self = .recvonly
        case "inactive": self = .inactive
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .sendrecv: return "sendrecv"
        case .sendonly: return "sendonly"
        case .recvonly: return "recvonly"
        case .inactive: return "inactive"
        }
    }

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    public init(sends: Bool, receives: Bool) {
        switch (sends, receives) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    /// The same stream seen from the other side: sendonly ↔ recvonly.
    public var reversed: SDPDirection { SDPDirection(sends: receives, receives: sends) }
}

/// An `a=rtpmap:<pt> <name>/<rate>[/<channels>]` value (RFC 8866 §6.6).
public struct SDPRTPMap: Equatable, CustomStringConvertible {
    public var payloadType: Int
    public var encodingName: String
    public var clockRate: Int
    /// nil when not written (one channel for audio).
    public var channels: Int?

    public init(payloadType: Int, encodingName: String, clockRate: Int, channels: Int? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    /// The attribute value: "0 PCMU/8000", "111 opus/48000/2".
    public var description: String {
        var text = String(payloadType) + " " + encodingName + "/" + String(clockRate)
        if let channels { text += "/" + String(channels) }
        return text
    }

    /// Parses an rtpmap value, nil when it is malformed.
    public init?(value: String) {
        let fields = SDPNumber.fields(Array(value.utf8)[...])
        guard fields.count == 2, let pt = SDPNumber.parse(fields[0], max: 127) else { return nil }
        let parts = SDPNumber.split(fields[1], on: 0x2F)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty,
            SDPNumber.isToken(parts[0]),
            let rate = SDPNumber.parse(parts[1], max: 100_000_000)
        else { return nil }
        var channels: Int? = nil
        if parts.count == 3 {
            guard let c = SDPNumber.parse(parts[2], max: 255) else { return nil }
            channels = c
        }
        self.init(
            payloadType: pt, encodingName: String(decoding: parts[0], as: UTF8.self), clockRate: rate,
            channels: channels)
    }

    /// The RFC 3551 table 4 mapping of the static audio payload types a phone meets.
    public static func staticPayloadType(_ pt: Int) -> SDPRTPMap? {
        switch pt {
        case 0: return SDPRTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000)
        case 3: return SDPRTPMap(payloadType: 3, encodingName: "GSM", clockRate: 8000)
        case 4: return SDPRTPMap(payloadType: 4, encodingName: "G723", clockRate: 8000)
        case 8: return SDPRTPMap(payloadType: 8, encodingName: "PCMA", clockRate: 8000)
        case 9: return SDPRTPMap(payloadType: 9, encodingName: "G722", clockRate: 8000)
        case 13: return SDPRTPMap(payloadType: 13, encodingName: "CN", clockRate: 8000)
        case 18: return SDPRTPMap(payloadType: 18, encodingName: "G729", clockRate: 8000)
        default: return nil
        }
    }
}

/// An `a=rtcp:<port> [<nettype> <addrtype> <address>]` value (RFC 3605).
public struct SDPRTCPAddress: Equatable {
    public var port: Int
    public var connection: SDPConnection?
}

/// One `m=` section (RFC 8866 §5.14) with its own i=, c=, b=, k= and a= lines.
public struct SDPMedia: Equatable {
    /// "audio", "video", "application", ...
    public var media: String
    /// 0 rejects or disables the stream (RFC 3264 §6).
    public var port: Int
    /// The "/<number of ports>" of the m= line, nil when not written.
    public var portCount: Int?
    /// Transport protocol, "RTP/AVP" for plain RTP audio.
    public var proto: String
    /// Formats in preference order: RTP payload type numbers for RTP profiles.
    public var formats: [String]
    public var information: String?
    /// Media-level `c=` lines (several only for layered multicast).
    public var connections: [SDPConnection]
    public var bandwidths: [SDPBandwidth]
    public var encryptionKey: String?
    public var attributes: [SDPAttribute]

    public init(
        media: String, port: Int, portCount: Int? = nil, proto: String = "RTP/AVP", formats: [String],
        information: String? = nil, connections: [SDPConnection] = [], bandwidths: [SDPBandwidth] = [],
        encryptionKey: String? = nil, attributes: [SDPAttribute] = []
    ) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.information = information
        self.connections = connections
        self.bandwidths = bandwidths
        self.encryptionKey = encryptionKey
        self.attributes = attributes
    }

    /// The value of the first attribute `name` (nil: absent; .some(nil): a flag without value).
    public func attribute(_ name: String) -> String?? {
        for attribute in attributes where attribute.name == name { return .some(attribute.value) }
        return nil
    }

    /// Every value of the attributes called `name`, in order (flags give no value).
    public func attributeValues(_ name: String) -> [String] {
        var values: [String] = []
        for attribute in attributes where attribute.name == name {
            if let value = attribute.value { values.append(value) }
        }
        return values
    }

    /// The payload type numbers of the formats (formats that are not 0...127 are left out).
    public var payloadTypes: [Int] {
        var types: [Int] = []
        for format in formats {
            if let pt = SDPNumber.parse(Array(format.utf8)[...], max: 127) { types.append(pt) }
        }
        return types
    }

    /// Every well-formed `a=rtpmap` of this section.
    public var rtpMaps: [SDPRTPMap] {
        var maps: [SDPRTPMap] = []
        for value in attributeValues("rtpmap") {
            if let map = SDPRTPMap(value: value) { maps.append(map) }
        }
        return maps
    }

    /// The mapping of payload type `pt`: its `a=rtpmap`, else the RFC 3551 static one, else nil.
    public func rtpMap(for pt: Int) -> SDPRTPMap? {
        for map in rtpMaps where map.payloadType == pt { return map }
        return pt < 96 ? SDPRTPMap.staticPayloadType(pt) : nil
    }

    /// The `a=fmtp` parameters of payload type `pt` (the text after "<pt> "), or nil.
    public func formatParameters(for pt: Int) -> String? {
        for value in attributeValues("fmtp") {
            let bytes = Array(value.utf8)
            let end = bytes.firstIndex(of: 0x20) ?? bytes.count
            guard SDPNumber.parse(bytes[0..<end], max: 127) == pt else { continue }
            var start = end
            while start < bytes.count, bytes[start] == 0x20 { start += 1 }
            return String(decoding: bytes[start...], as: UTF8.self)
        }
        return nil
    }

    /// `a=ptime` in ms (RFC 8866 §6.4), nil when absent or not a whole number (a fraction is truncated).
    public var ptime: Int? { millisecondsAttribute("ptime") }
    /// `a=maxptime` in ms (RFC 8866 §6.5).
    public var maxptime: Int? { millisecondsAttribute("maxptime") }

    /// The direction written in this section, nil when none (the session's then applies).
    public var direction: SDPDirection? {
        for attribute in attributes where attribute.value == nil {
            if let direction = SDPDirection(attributeName: attribute.name) { return direction }
        }
        return nil
    }

    /// Replaces every direction attribute of this section by `direction`.
    public mutating func setDirection(_ direction: SDPDirection) {
        attributes.removeAll { $0.value == nil && SDPDirection(attributeName: $0.name) != nil }
        attributes.append(SDPAttribute(direction.description))
    }

    /// `a=rtcp` (RFC 3605), nil when absent or malformed.
    public var rtcp: SDPRTCPAddress? {
        guard case .some(.some(let value)) = attribute("rtcp") else { return nil }
        let fields = SDPNumber.fields(Array(value.utf8)[...])
        guard fields.count == 1 || fields.count == 4, let port = SDPNumber.parse(fields[0], max: 65535) else {
            return nil
        }
        guard fields.count == 4 else { return SDPRTCPAddress(port: port, connection: nil) }
        let connection = SDPConnection(
            networkType: String(decoding: fields[1], as: UTF8.self),
            addressType: String(decoding: fields[2], as: UTF8.self),
            address: String(decoding: fields[3], as: UTF8.self))
        return SDPRTCPAddress(port: port, connection: connection)
    }

    private func millisecondsAttribute(_ name: String) -> Int? {
        guard case .some(.some(let value)) = attribute(name) else { return nil }
        var bytes = Array(value.utf8)[...]
        while let last = bytes.last, last == 0x20 { bytes = bytes.dropLast() }
        if let dot = bytes.firstIndex(of: 0x2E) { bytes = bytes[..<dot] }
        return SDPNumber.parse(bytes, max: 100_000)
    }
}

/// A whole session description (RFC 8866 §5): the session-level lines and the m= sections.
/// `serialized()` writes the canonical form: the RFC's line order, CRLF line ends.
public struct SDPSession: Equatable, CustomStringConvertible {
    /// `v=`, always 0.
    public var version: Int
    public var origin: SDPOrigin
    /// `s=`: " " or "-" when there is no name (RFC 8866 §5.3); kept as written.
    public var sessionName: String
    public var information: String?
    public var uri: String?
    public var emails: [String]
    public var phones: [String]
    public var connection: SDPConnection?
    public var bandwidths: [SDPBandwidth]
    /// At least one `t=`; a description without one parses as `t=0 0`.
    public var timings: [SDPTiming]
    /// `z=` as written.
    public var timeZones: String?
    public var encryptionKey: String?
    public var attributes: [SDPAttribute]
    public var media: [SDPMedia]

    public init(
        origin: SDPOrigin, sessionName: String = "-", information: String? = nil, uri: String? = nil,
        emails: [String] = [], phones: [String] = [], connection: SDPConnection? = nil,
        bandwidths: [SDPBandwidth] = [], timings: [SDPTiming] = [SDPTiming()], timeZones: String? = nil,
        encryptionKey: String? = nil, attributes: [SDPAttribute] = [], media: [SDPMedia] = []
    ) {
        self.version = 0
        self.origin = origin
        self.sessionName = sessionName
        self.information = information
        self.uri = uri
        self.emails = emails
        self.phones = phones
        self.connection = connection
        self.bandwidths = bandwidths
        self.timings = timings
        self.timeZones = timeZones
        self.encryptionKey = encryptionKey
        self.attributes = attributes
        self.media = media
    }

    /// The session-level direction, nil when none is written (sendrecv then, RFC 8866 §6.7).
    public var direction: SDPDirection? {
        for attribute in attributes where attribute.value == nil {
            if let direction = SDPDirection(attributeName: attribute.name) { return direction }
        }
        return nil
    }

    /// The direction in force for m= section `index`: its own, else the session's, else sendrecv.
    public func direction(ofMedia index: Int) -> SDPDirection {
        guard index >= 0, index < media.count else { return .sendrecv }
        return media[index].direction ?? direction ?? .sendrecv
    }

    /// The connection in force for m= section `index`: its first c=, else the session's c=.
    public func connection(ofMedia index: Int) -> SDPConnection? {
        guard index >= 0, index < media.count else { return nil }
        return media[index].connections.first ?? connection
    }

    /// The session-level value of the first attribute `name` (see `SDPMedia.attribute`).
    public func attribute(_ name: String) -> String?? {
        for attribute in attributes where attribute.name == name { return .some(attribute.value) }
        return nil
    }

    /// The canonical text, CRLF line ends.
    public var description: String { String(decoding: serialized(), as: UTF8.self) }

    /// The canonical wire form (RFC 8866 §5 order, CRLF line ends).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        func line(_ type: UInt8, _ value: String) {
            out.append(type)
            out.append(0x3D)
            out.append(contentsOf: value.utf8)
            out.append(0x0D)
            out.append(0x0A)
        }
        line(0x76, String(version))
        line(
            0x6F,
            origin.username + " " + origin.sessionID + " " + String(origin.sessionVersion) + " "
                + origin.networkType + " " + origin.addressType + " " + origin.address)
        line(0x73, sessionName)
        if let information { line(0x69, information) }
        if let uri { line(0x75, uri) }
        for email in emails { line(0x65, email) }
        for phone in phones { line(0x70, phone) }
        if let connection { line(0x63, connection.line) }
        for bandwidth in bandwidths { line(0x62, bandwidth.type + ":" + String(bandwidth.value)) }
        for timing in timings {
            line(0x74, String(timing.start) + " " + String(timing.stop))
            for repeatValue in timing.repeats { line(0x72, repeatValue) }
        }
        if let timeZones { line(0x7A, timeZones) }
        if let encryptionKey { line(0x6B, encryptionKey) }
        for attribute in attributes { line(0x61, attribute.line) }
        for section in media {
            var mline = section.media + " " + String(section.port)
            if let count = section.portCount { mline += "/" + String(count) }
            mline += " " + section.proto
            for format in section.formats { mline += " " + format }
            line(0x6D, mline)
            if let information = section.information { line(0x69, information) }
            for connection in section.connections { line(0x63, connection.line) }
            for bandwidth in section.bandwidths { line(0x62, bandwidth.type + ":" + String(bandwidth.value)) }
            if let key = section.encryptionKey { line(0x6B, key) }
            for attribute in section.attributes { line(0x61, attribute.line) }
        }
        return out
    }
}

/// Bounded number and token scanning over bytes, shared by the SDP parser and accessors.
enum SDPNumber {
    /// Decimal digits only, value ≤ max; nil for empty, non-digit or too large input.
    static func parse(_ bytes: ArraySlice<UInt8>, max: Int) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
            if value > max { return nil }
        }
        return value
    }

    /// Decimal digits only, fitting in UInt64.
    static func parseUInt64(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard !bytes.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    /// Splits on `separator`, keeping empty parts.
    static func split(_ bytes: ArraySlice<UInt8>, on separator: UInt8) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == separator {
                parts.append(bytes[start..<index])
                start = index + 1
            }
            index += 1
        }
        parts.append(bytes[start..<bytes.endIndex])
        return parts
    }

    /// Space-separated fields; runs of spaces (and tabs) count as one separator.
    static func fields(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var start: Int? = nil
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 {
                if let s = start { parts.append(bytes[s..<index]) }
                start = nil
            } else if start == nil {
                start = index
            }
            index += 1
        }
        if let s = start { parts.append(bytes[s..<bytes.endIndex]) }
        return parts
    }

    /// RFC 8866 token-char: alphanumerics and ! # $ % & ' * + - . ^ _ ` { | } ~.
    static func isToken(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        for byte in bytes {
            switch byte {
            case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7E: continue
            default: return false
            }
        }
        return true
    }

    /// Visible non-space bytes (RFC 8866 non-ws-string: VCHAR and UTF-8 bytes ≥ 0x80).
    static func isNonWhitespace(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        for byte in bytes where byte <= 0x20 || byte == 0x7F { return false }
        return true
    }
}
