// SDP parser (RFC 8866 §5, §9 grammar), byte-level and trap-free on any input.
//
// Strict where a mistake changes the meaning: `v=0` first; exactly one `o=` with six fields and a
// numeric version; well-formed c=, b=, t=, m= lines; numbers bounded (ports 0...65535); single
// lines (o, s, i, u, c, z, k; i, k per media) not repeated; a line type RFC 8866 does not define
// is an error (§5: a description with a type letter the parser does not understand is not
// understood, so it is not half-used either); session-only lines after the first m= are errors.
// Lenient where real phones are: CRLF or bare LF line ends, empty lines skipped, runs of spaces
// between fields, `s=` empty or " " or missing (kept as written; missing reads as "-"), no `t=`
// (reads as `t=0 0`), m= without formats, lines of a section in any order (the serializer writes
// the RFC's order), attribute values not validated (RFC 8866 §5.13: an attribute that is not
// understood is ignored; typed accessors return nil for a malformed one).

extension SDPSession {
    /// Parses one session description (a SIP body).
    public init(parsing bytes: [UInt8]) throws(SDPError) {
        self = try SDPParser.parse(bytes)
    }

    /// Parses one session description.
    public static func parse(_ bytes: [UInt8]) throws(SDPError) -> SDPSession {
        try SDPSession(parsing: bytes)
    }

    /// Parses one session description from its text.
    public static func parse(_ text: String) throws(SDPError) -> SDPSession {
        try SDPSession(parsing: Array(text.utf8))
    }

    /// Parses one session description from raw bytes.
    public static func parse(_ buffer: UnsafeRawBufferPointer) throws(SDPError) -> SDPSession {
        try SDPParser.parse([UInt8](buffer))
    }
}

/// The line-by-line SDP parser behind `SDPSession.parse`.
enum SDPParser {
    static func parse(_ bytes: [UInt8]) throws(SDPError) -> SDPSession {
        var lineNumber = 0
        var start = 0
        var origin: SDPOrigin? = nil
        var sawVersion = false
        var sessionName: String? = nil
        var information: String? = nil
        var uri: String? = nil
        var emails: [String] = []
        var phones: [String] = []
        var connection: SDPConnection? = nil
        var bandwidths: [SDPBandwidth] = []
        var timings: [SDPTiming] = []
        var timeZones: String? = nil
        var encryptionKey: String? = nil
        var attributes: [SDPAttribute] = []
        var media: [SDPMedia] = []
        var mediaLine = 0

        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            let next = end + 1
            var lineEnd = end
            if lineEnd > start, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let line = bytes[start..<lineEnd]
            start = next
            if line.isEmpty { continue }
            for byte in line {
                if byte == 0x0D { throw SDPError(line: lineNumber, "CR not followed by LF") }
                if byte == 0 { throw SDPError(line: lineNumber, "NUL byte") }
            }
            guard line.count >= 2, line[line.startIndex + 1] == 0x3D else {
                throw SDPError(line: lineNumber, "expected '<type>=<value>', got '" + excerpt(line) + "'")
            }
            let type = line[line.startIndex]
            let value = line[(line.startIndex + 2)...]
            let typeName = String(decoding: [type], as: UTF8.self) + "="
            func error(_ message: String) -> SDPError { SDPError(line: lineNumber, message) }

            if !sawVersion {
                guard type == 0x76 else { throw error("the description must begin with 'v=0'") }
                guard value.elementsEqual([0x30]) else {
                    throw error("unsupported protocol version 'v=" + excerpt(value) + "' (only 0 is defined)")
                }
                sawVersion = true
                continue
            }

            if !media.isEmpty {
                // A media section: i=, c=, b=, k=, a= belong to the last m=; m= starts another.
                let index = media.count - 1
                switch type {
                case 0x6D:
                    media.append(try parseMediaLine(value, lineNumber))
                    mediaLine = lineNumber
                case 0x69:
                    guard media[index].information == nil else { throw error("second i= in a media section") }
                    media[index].information = text(value)
                case 0x63: media[index].connections.append(try parseConnection(value, lineNumber))
                case 0x62: media[index].bandwidths.append(try parseBandwidth(value, lineNumber))
                case 0x6B:
                    guard media[index].encryptionKey == nil else { throw error("second k= in a media section") }
                    media[index].encryptionKey = text(value)
                case 0x61: media[index].attributes.append(try parseAttribute(value, lineNumber))
                case 0x76, 0x6F, 0x73, 0x75, 0x65, 0x70, 0x74, 0x72, 0x7A:
                    throw error(
                        typeName + " is a session-level line and cannot follow the m= of line " + String(mediaLine))
                default:
                    throw error(unknownType(type))
                }
                continue
            }

            switch type {
            case 0x76: throw error("second v= line")
            case 0x6F:
                guard origin == nil else { throw error("second o= line") }
                origin = try parseOrigin(value, lineNumber)
            case 0x73:
                guard sessionName == nil else { throw error("second s= line") }
                sessionName = text(value)
            case 0x69:
                guard information == nil else { throw error("second session-level i= line") }
                information = text(value)
            case 0x75:
                guard uri == nil else { throw error("second u= line") }
                uri = text(value)
            case 0x65: emails.append(text(value))
            case 0x70: phones.append(text(value))
            case 0x63:
                guard connection == nil else { throw error("second session-level c= line") }
                connection = try parseConnection(value, lineNumber)
            case 0x62: bandwidths.append(try parseBandwidth(value, lineNumber))
            case 0x74: timings.append(try parseTiming(value, lineNumber))
            case 0x72:
                guard !timings.isEmpty else { throw error("r= before any t= line") }
                timings[timings.count - 1].repeats.append(text(value))
            case 0x7A:
                guard timeZones == nil else { throw error("second z= line") }
                timeZones = text(value)
            case 0x6B:
                guard encryptionKey == nil else { throw error("second session-level k= line") }
                encryptionKey = text(value)
            case 0x61: attributes.append(try parseAttribute(value, lineNumber))
            case 0x6D:
                guard origin != nil else { throw error("m= line before the o= line") }
                media.append(try parseMediaLine(value, lineNumber))
                mediaLine = lineNumber
            default:
                throw error(unknownType(type))
            }
        }
        guard sawVersion else { throw SDPError("empty session description (no v= line)") }
        guard let origin else { throw SDPError(line: lineNumber, "no o= line") }
        return SDPSession(
            origin: origin, sessionName: sessionName ?? "-", information: information, uri: uri, emails: emails,
            phones: phones, connection: connection, bandwidths: bandwidths,
            timings: timings.isEmpty ? [SDPTiming()] : timings, timeZones: timeZones, encryptionKey: encryptionKey,
            attributes: attributes, media: media)
    }

    static func unknownType(_ type: UInt8) -> String {
        if type >= 0x21, type < 0x7F {
            return "unknown line type '" + String(decoding: [type], as: UTF8.self)
                + "=' (RFC 8866 §5 defines v o s i u e p c b t r z k a m)"
        }
        return "unknown line type byte " + String(type)
    }

    /// A line's value as text (invalid UTF-8 is replaced by U+FFFD).
    static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// At most 40 bytes of `bytes` for an error message, control bytes shown as '?'.
    static func excerpt(_ bytes: ArraySlice<UInt8>) -> String {
        var shown: [UInt8] = []
        for byte in bytes.prefix(40) { shown.append(byte < 0x20 || byte == 0x7F || byte >= 0x80 ? 0x3F : byte) }
        return String(decoding: shown, as: UTF8.self) + (bytes.count > 40 ? "..." : "")
    }

    static func parseOrigin(_ value: ArraySlice<UInt8>, _ line: Int) throws(SDPError) -> SDPOrigin {
        let fields = SDPNumber.fields(value)
        guard fields.count == 6 else {
            throw SDPError(
                line: line,
                "o= needs 6 fields '<username> <sess-id> <sess-version> <nettype> <addrtype> <address>', got "
                    + String(fields.count))
        }
        guard let version = SDPNumber.parseUInt64(fields[2]) else {
            throw SDPError(line: line, "o= session version '" + excerpt(fields[2]) + "' is not a 64-bit number")
        }
        return SDPOrigin(
            username: text(fields[0]), sessionID: text(fields[1]), sessionVersion: version,
            networkType: text(fields[3]), addressType: text(fields[4]), address: text(fields[5]))
    }

    static func parseConnection(_ value: ArraySlice<UInt8>, _ line: Int) throws(SDPError) -> SDPConnection {
        let fields = SDPNumber.fields(value)
        guard fields.count == 3 else {
            throw SDPError(
                line: line, "c= needs '<nettype> <addrtype> <address>', got '" + excerpt(value) + "'")
        }
        guard SDPNumber.isToken(fields[0]), SDPNumber.isToken(fields[1]) else {
            throw SDPError(line: line, "c= network or address type is not a token: '" + excerpt(value) + "'")
        }
        let addressType = text(fields[1])
        if addressType == "IP4" || addressType == "IP6" {
            // RFC 8866 §9: an IP4/IP6 address is a host name or literal (with multicast suffixes),
            // never brackets or a colon in IP4.
            for byte in fields[2] where byte == 0x5B || byte == 0x5D || (addressType == "IP4" && byte == 0x3A) {
                throw SDPError(line: line, "c= " + addressType + " address '" + excerpt(fields[2]) + "' is malformed")
            }
        }
        return SDPConnection(networkType: text(fields[0]), addressType: addressType, address: text(fields[2]))
    }

    static func parseBandwidth(_ value: ArraySlice<UInt8>, _ line: Int) throws(SDPError) -> SDPBandwidth {
        guard let colon = value.firstIndex(of: 0x3A) else {
            throw SDPError(line: line, "b= needs '<bwtype>:<bandwidth>', got '" + excerpt(value) + "'")
        }
        let type = value[value.startIndex..<colon]
        guard SDPNumber.isToken(type) else {
            throw SDPError(line: line, "b= bandwidth type '" + excerpt(type) + "' is not a token")
        }
        guard let amount = SDPNumber.parseUInt64(value[(colon + 1)...]) else {
            throw SDPError(line: line, "b= bandwidth '" + excerpt(value[(colon + 1)...]) + "' is not a 64-bit number")
        }
        return SDPBandwidth(type: text(type), value: amount)
    }

    static func parseTiming(_ value: ArraySlice<UInt8>, _ line: Int) throws(SDPError) -> SDPTiming {
        let fields = SDPNumber.fields(value)
        guard fields.count == 2, let startTime = SDPNumber.parseUInt64(fields[0]),
            let stopTime = SDPNumber.parseUInt64(fields[1])
        else {
            throw SDPError(
                line: line, "t= needs '<start-time> <stop-time>' (two numbers), got '" + excerpt(value) + "'")
        }
        return SDPTiming(start: startTime, stop: stopTime)
    }

    static func parseAttribute(_ value: ArraySlice<UInt8>, _ line: Int) throws(SDPError) -> SDPAttribute {
        let colon = value.firstIndex(of: 0x3A)
        let name = value[value.startIndex..<(colon ?? value.endIndex)]
        guard SDPNumber.isToken(name) else {
            if name.isEmpty { throw SDPError(line: line, "a= without an attribute name") }
            throw SDPError(line: line, "attribute name '" + excerpt(name) + "' is not a token")
        }
        guard let colon else { return SDPAttribute(text(name)) }
        return SDPAttribute(text(name), text(value[(colon + 1)...]))
    }

    static func parseMediaLine(_ value: ArraySlice<UInt8>, _ line: Int) throws(SDPError) -> SDPMedia {
        let fields = SDPNumber.fields(value)
        guard fields.count >= 3 else {
            throw SDPError(
                line: line, "m= needs '<media> <port> <proto> <fmt> ...', got '" + excerpt(value) + "'")
        }
        guard SDPNumber.isToken(fields[0]) else {
            throw SDPError(line: line, "m= media type '" + excerpt(fields[0]) + "' is not a token")
        }
        let portParts = SDPNumber.split(fields[1], on: 0x2F)
        guard portParts.count <= 2, let port = SDPNumber.parse(portParts[0], max: 65535) else {
            throw SDPError(line: line, "m= port '" + excerpt(fields[1]) + "' is not 0...65535")
        }
        var portCount: Int? = nil
        if portParts.count == 2 {
            guard let count = SDPNumber.parse(portParts[1], max: 65535), count > 0 else {
                throw SDPError(line: line, "m= number of ports '" + excerpt(portParts[1]) + "' is not 1...65535")
            }
            portCount = count
        }
        for part in SDPNumber.split(fields[2], on: 0x2F) where !SDPNumber.isToken(part) {
            throw SDPError(line: line, "m= protocol '" + excerpt(fields[2]) + "' is not token/token")
        }
        var formats: [String] = []
        for format in fields[3...] {
            guard SDPNumber.isNonWhitespace(format) else {
                throw SDPError(line: line, "m= format '" + excerpt(format) + "' is malformed")
            }
            formats.append(text(format))
        }
        return SDPMedia(
            media: text(fields[0]), port: port, portCount: portCount, proto: text(fields[2]), formats: formats)
    }
}
