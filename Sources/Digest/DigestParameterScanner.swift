// The auth-param grammar shared by challenges and credentials (RFC 3261 §25.1 and §22.4,
// RFC 7235 §2.1): `scheme LWS name EQUAL (token / quoted-string) *(COMMA name EQUAL ...)`,
// and a list of such challenges separated by commas. Byte-level, never traps, bounded.

/// One `name=value` of an auth-param list; `name` is lowercased.
struct DigestRawParameter {
    var name: String
    var value: String
    var quoted: Bool
    /// Byte offset of the name in the header value (for error messages).
    var offset: Int
}

/// One challenge or credentials value before interpretation: scheme plus parameters or token68.
struct DigestRawChallenge {
    var scheme: String
    var parameters: [DigestRawParameter] = []
    var token68: String? = nil
    var offset: Int

    var isDigest: Bool { DigestSyntax.lowercased(scheme) == "digest" }
}

/// Small text helpers of the digest parser and serializer.
enum DigestSyntax {
    /// Longest header value the parser looks at.
    static let maximumValueBytes = 16384
    /// Longest single parameter value (nonces of a few hundred bytes exist; 4 KiB is plenty).
    static let maximumParameterBytes = 4096
    /// Most parameters in one challenge or credentials value.
    static let maximumParameters = 32
    /// Most challenges in one header value.
    static let maximumChallenges = 16

    /// ASCII-only lowercasing (parameter names, tokens); other bytes are kept as they are.
    static func lowercased(_ text: String) -> String {
        var bytes = Array(text.utf8)
        var changed = false
        for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5a {
            bytes[index] += 0x20
            changed = true
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    /// RFC 3261 §25.1 token characters: alphanum and `-.!%*_+`'~`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5a, 0x61...0x7a: true
        case 0x2d, 0x2e, 0x21, 0x25, 0x2a, 0x5f, 0x2b, 0x60, 0x27, 0x7e: true
        default: false
        }
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    /// `text` as a quoted-string, with `"` and `\` escaped (RFC 3261 §25.1 quoted-pair).
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = [0x22]
        bytes.reserveCapacity(text.utf8.count + 2)
        for byte in text.utf8 {
            if byte == 0x22 || byte == 0x5c {
                bytes.append(0x5c)
            }
            bytes.append(byte)
        }
        bytes.append(0x22)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The byte for an error message: `'x'` when printable ASCII, `0xNN` otherwise.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7f {
            return "'" + String(decoding: [byte], as: UTF8.self) + "'"
        }
        return "0x" + HashEncoding.lowercaseHex([byte])
    }

    /// The value of a hex digit byte, or nil.
    static func hexDigitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// True if `text` is 1* hex digits.
    static func isHex(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { hexDigitValue($0) != nil }
    }

    /// The value of up to 8 hex digits (callers check `isHex` first; other bytes count as 0).
    static func hexValue(_ text: String) -> UInt32 {
        var value: UInt32 = 0
        for byte in text.utf8 {
            value = (value &<< 4) | UInt32(hexDigitValue(byte) ?? 0)
        }
        return value
    }
}

/// A cursor over the bytes of one header value.
struct DigestScanner {
    private let bytes: [UInt8]
    private var position = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    private var atEnd: Bool { position >= bytes.count }

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private func describeHere() -> String {
        guard let byte = peek() else { return "end of value" }
        return DigestSyntax.describe(byte) + " at byte " + String(position)
    }

    /// Skips LWS (SP, HTAB, and a line break followed by SP/HTAB: RFC 3261 §25.1). A bare line
    /// break is an error: it would end the header. Returns whether anything was skipped.
    @discardableResult
    private mutating func skipWhitespace() throws(DigestError) -> Bool {
        var skipped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x20 || byte == 0x09 {
                position += 1
                skipped = true
                continue
            }
            if byte == 0x0d || byte == 0x0a {
                var next = position + 1
                if byte == 0x0d && next < bytes.count && bytes[next] == 0x0a {
                    next += 1
                }
                if next < bytes.count && (bytes[next] == 0x20 || bytes[next] == 0x09) {
                    position = next
                    skipped = true
                    continue
                }
                throw DigestError(.syntax, "line break not followed by whitespace at byte " + String(position))
            }
            break
        }
        return skipped
    }

    private mutating func token() -> String? {
        let start = position
        while position < bytes.count && DigestSyntax.isTokenByte(bytes[position]) {
            position += 1
        }
        guard position > start else { return nil }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// A quoted-string starting at the opening quote; returns the unescaped content.
    private mutating func quotedString(of name: String) throws(DigestError) -> String {
        let start = position
        position += 1  // opening quote
        var content: [UInt8] = []
        while true {
            guard position < bytes.count else {
                throw DigestError(
                    .syntax, "unterminated quoted string for '" + name + "' starting at byte " + String(start))
            }
            let byte = bytes[position]
            switch byte {
            case 0x22:
                position += 1
                return String(decoding: content, as: UTF8.self)
            case 0x5c:
                guard position + 1 < bytes.count else {
                    throw DigestError(
                        .syntax, "unterminated quoted string for '" + name + "' starting at byte " + String(start))
                }
                let escaped = bytes[position + 1]
                guard escaped < 0x80 && escaped != 0x0a && escaped != 0x0d else {
                    throw DigestError(
                        .syntax,
                        "invalid escape \\" + DigestSyntax.describe(escaped) + " in '" + name + "' at byte "
                            + String(position))
                }
                content.append(escaped)
                position += 2
            case 0x0d, 0x0a:
                let before = position
                try skipWhitespace()  // a folded line inside the quotes counts as one space
                if position == before {
                    throw DigestError(.syntax, "line break inside '" + name + "' at byte " + String(position))
                }
                content.append(0x20)
            case 0x09, 0x20...0x7e, 0x80...0xff:
                content.append(byte)
                position += 1
            default:
                throw DigestError(
                    .syntax,
                    "control byte " + DigestSyntax.describe(byte) + " inside '" + name + "' at byte "
                        + String(position))
            }
            if content.count > DigestSyntax.maximumParameterBytes {
                throw DigestError(
                    .tooLong,
                    "value of '" + name + "' is over " + String(DigestSyntax.maximumParameterBytes) + " bytes")
            }
        }
    }

    /// token68 (RFC 7235 §2.1) after a non-Digest scheme, when it is the whole rest of the
    /// challenge; otherwise leaves the position alone and returns nil.
    private mutating func token68() throws(DigestError) -> String? {
        let start = position
        while let byte = peek(), DigestSyntax.isTokenByte(byte) || byte == 0x2f {
            position += 1
        }
        guard position > start else { return nil }
        while peek() == 0x3d {
            position += 1
        }
        let end = position
        try skipWhitespace()
        if atEnd || peek() == 0x2c {
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        position = start
        return nil
    }

    private mutating func parameter(into challenge: inout DigestRawChallenge) throws(DigestError) {
        let offset = position
        guard let rawName = token() else {
            throw DigestError(.syntax, "expected a parameter name, found " + describeHere())
        }
        let name = DigestSyntax.lowercased(rawName)
        try skipWhitespace()
        guard peek() == 0x3d else {
            throw DigestError(.syntax, "expected '=' after '" + rawName + "', found " + describeHere())
        }
        position += 1
        try skipWhitespace()
        let value: String
        let quoted: Bool
        if peek() == 0x22 {
            value = try quotedString(of: name)
            quoted = true
        } else if let text = token() {
            value = text
            quoted = false
        } else {
            throw DigestError(.syntax, "expected a value for '" + name + "', found " + describeHere())
        }
        if value.utf8.count > DigestSyntax.maximumParameterBytes {
            throw DigestError(
                .tooLong, "value of '" + name + "' is over " + String(DigestSyntax.maximumParameterBytes) + " bytes")
        }
        if challenge.parameters.count >= DigestSyntax.maximumParameters {
            throw DigestError(
                .tooLong, "more than " + String(DigestSyntax.maximumParameters) + " parameters in one challenge")
        }
        challenge.parameters.append(DigestRawParameter(name: name, value: value, quoted: quoted, offset: offset))
        try skipWhitespace()
    }

    /// True when the next list element is `token LWS "="`, i.e. a parameter of the current
    /// challenge rather than the scheme of a new one.
    private mutating func nextElementIsParameter() throws(DigestError) -> Bool {
        let start = position
        defer { position = start }
        guard token() != nil else { return true }  // not a scheme either: let parameter() report it
        try skipWhitespace()
        return peek() == 0x3d
    }

    /// Parses a whole header value into challenges (or one credentials value).
    static func challenges(in text: String) throws(DigestError) -> [DigestRawChallenge] {
        var scanner = DigestScanner(text)
        return try scanner.challengeList()
    }

    private mutating func skipCommas() throws(DigestError) {
        try skipWhitespace()
        while peek() == 0x2c {
            position += 1
            try skipWhitespace()
        }
    }

    private mutating func challengeList() throws(DigestError) -> [DigestRawChallenge] {
        if bytes.count > DigestSyntax.maximumValueBytes {
            throw DigestError(
                .tooLong,
                "header value is " + String(bytes.count) + " bytes, over the "
                    + String(DigestSyntax.maximumValueBytes) + "-byte limit")
        }
        try skipCommas()
        if atEnd {
            throw DigestError(.empty, "empty authentication header value")
        }
        var result: [DigestRawChallenge] = []
        while !atEnd {
            let offset = position
            guard let scheme = token() else {
                throw DigestError(.syntax, "expected an authentication scheme, found " + describeHere())
            }
            if result.count >= DigestSyntax.maximumChallenges {
                throw DigestError(
                    .tooLong, "more than " + String(DigestSyntax.maximumChallenges) + " challenges in one value")
            }
            var challenge = DigestRawChallenge(scheme: scheme, offset: offset)
            let spaced = try skipWhitespace()
            if !atEnd && peek() != 0x2c {
                guard spaced else {
                    throw DigestError(
                        .syntax, "expected whitespace after scheme '" + scheme + "', found " + describeHere())
                }
                if !challenge.isDigest, let text = try token68() {
                    challenge.token68 = text
                } else {
                    try parameter(into: &challenge)
                }
            }
            while !atEnd {
                guard peek() == 0x2c else {
                    throw DigestError(.syntax, "expected ',' between parameters, found " + describeHere())
                }
                try skipCommas()
                if atEnd {
                    break
                }
                let isParameter = try nextElementIsParameter()
                if !isParameter {
                    break
                }
                if challenge.token68 != nil {
                    throw DigestError(
                        .syntax, "parameter after the token68 of scheme '" + scheme + "' at byte " + String(position))
                }
                try parameter(into: &challenge)
            }
            result.append(challenge)
        }
        return result
    }
}

extension DigestRawChallenge {
    /// The parameters by name; a name seen twice is an error (RFC 7616 §3.3 / RFC 7235 §2.1:
    /// each parameter name MUST only occur once per challenge).
    func uniqueParameters() throws(DigestError) -> [String: DigestRawParameter] {
        var byName: [String: DigestRawParameter] = [:]
        for parameter in parameters {
            if let first = byName[parameter.name] {
                throw DigestError(
                    .duplicateParameter,
                    "parameter '" + parameter.name + "' appears twice (bytes " + String(first.offset) + " and "
                        + String(parameter.offset) + ")")
            }
            byName[parameter.name] = parameter
        }
        return byName
    }
}
