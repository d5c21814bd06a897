/// Reads the text a URL record server sends back for the LCD: the `<Text>` element of a
/// Yealink `<YealinkIPPhoneText>` XML object (e.g. `<YealinkIPPhoneText Beep="no">
/// <Title>Rec</Title><Text>recording started</Text></YealinkIPPhoneText>`). Tolerant of an
/// XML declaration, comments, attributes, whitespace, CDATA and the XML 1.0 §4.6 predefined
/// entities plus numeric references (`&#NN;`, `&#xHH;`); control characters are removed,
/// whitespace runs become one space and the text is cut to `maximumLength` characters for
/// the display. Anything else (HTML, JSON, another XML object, no `<Text>`) gives nil.
public enum PhoneTextXML {
    /// The most characters (Unicode scalars) returned.
    public static let maximumLength = 128

    public static func text(in body: [UInt8]) -> String? {
        var i = 0
        // UTF-8 byte order mark.
        if body.count >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF { i = 3 }
        // Prolog: whitespace, <?xml ...?>, comments, <!DOCTYPE ...>.
        while true {
            skipWhitespace(body, &i)
            guard i < body.count, body[i] == 60 else { return nil }  // "<"
            if hasPrefix(body, i, "<?") {
                guard let end = find(body, "?>", from: i + 2) else { return nil }
                i = end + 2
            } else if hasPrefix(body, i, "<!--") {
                guard let end = find(body, "-->", from: i + 4) else { return nil }
                i = end + 3
            } else if hasPrefix(body, i, "<!") {
                guard let end = find(body, ">", from: i + 2) else { return nil }
                i = end + 1
            } else {
                break
            }
        }
        // The root element must be YealinkIPPhoneText.
        guard let rootNameEnd = elementName(body, at: i, is: "YealinkIPPhoneText"),
            let rootTagEnd = tagEnd(body, from: rootNameEnd)
        else { return nil }
        if body[rootTagEnd - 1] == 47 { return nil }  // <YealinkIPPhoneText/>: no text
        guard let rootClose = find(body, "</YealinkIPPhoneText", from: rootTagEnd + 1) else { return nil }
        // Find <Text ...> inside the root, skipping comments and other elements.
        var j = rootTagEnd + 1
        while j < rootClose {
            guard let open = find(body, "<", from: j), open < rootClose else { return nil }
            if hasPrefix(body, open, "<!--") {
                guard let end = find(body, "-->", from: open + 4) else { return nil }
                j = end + 3
                continue
            }
            if let nameEnd = elementName(body, at: open, is: "Text"), let end = tagEnd(body, from: nameEnd) {
                if body[end - 1] == 47 { return "" }  // <Text/>
                guard let close = find(body, "</Text", from: end + 1), close <= rootClose else { return nil }
                return decode(body[(end + 1)..<close])
            }
            j = open + 1
        }
        return nil
    }

    // MARK: text

    /// Entities and CDATA decoded, controls removed, whitespace collapsed, length capped.
    static func decode(_ raw: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var scalars = 0
        var pendingSpace = false
        var i = raw.startIndex

        func emit(_ bytes: [UInt8]) {
            guard scalars < maximumLength else { return }
            if pendingSpace && !out.isEmpty {
                // No room for the space and what follows it: stop here, without a trailing space.
                guard scalars + 1 < maximumLength else {
                    scalars = maximumLength
                    return
                }
                out.append(32)
                scalars += 1
            }
            pendingSpace = false
            out += bytes
            scalars += 1
        }

        func emitScalar(_ value: UInt32) {
            if value == 9 || value == 10 || value == 13 || value == 32 {
                pendingSpace = true
                return
            }
            // C0, DEL and C1 controls, surrogates and out-of-range values are dropped.
            if value < 32 || (value >= 0x7F && value < 0xA0) || (value >= 0xD800 && value < 0xE000)
                || value > 0x10FFFF
            {
                return
            }
            emit(utf8(value))
        }

        while i < raw.endIndex && scalars < maximumLength {
            let c = raw[i]
            if c == 38 {  // "&"
                if let semicolon = raw[i..<min(raw.endIndex, i + 12)].firstIndex(of: 59),
                    let value = entity(raw[(i + 1)..<semicolon])
                {
                    emitScalar(value)
                    i = semicolon + 1
                    continue
                }
                emit([38])
                i += 1
                continue
            }
            if c == 60, hasPrefix(raw, i, "<![CDATA[") {  // literal text
                let start = i + 9
                let end = find(raw, "]]>", from: start) ?? raw.endIndex
                var k = start
                while k < end { k = emitUTF8(raw, at: k, end: end, emitScalar) }
                i = min(raw.endIndex, end + 3)
                continue
            }
            if c == 60 {  // markup inside the text (<br/>, ...): dropped, taken as a space
                if let close = raw[i...].firstIndex(of: 62) {
                    pendingSpace = true
                    i = close + 1
                    continue
                }
            }
            i = emitUTF8(raw, at: i, end: raw.endIndex, emitScalar)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes one UTF-8 sequence at `i` (an invalid byte becomes U+FFFD) and returns the next index.
    static func emitUTF8(
        _ b: ArraySlice<UInt8>, at i: Int, end: Int, _ emitScalar: (UInt32) -> Void
    ) -> Int {
        let c = b[i]
        var length = 0
        var value: UInt32 = 0
        switch c {
        case 0..<0x80:
            emitScalar(UInt32(c))
            return i + 1
        case 0xC2..<0xE0: length = 2; value = UInt32(c & 0x1F)
        case 0xE0..<0xF0: length = 3; value = UInt32(c & 0x0F)
        case 0xF0..<0xF5: length = 4; value = UInt32(c & 0x07)
        default:
            emitScalar(0xFFFD)
            return i + 1
        }
        guard i + length <= end else {
            emitScalar(0xFFFD)
            return end
        }
        for k in 1..<length {
            let d = b[i + k]
            guard d & 0xC0 == 0x80 else {
                emitScalar(0xFFFD)
                return i + k
            }
            value = value << 6 | UInt32(d & 0x3F)
        }
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        emitScalar(value < minimum ? 0xFFFD : value)
        return i + length
    }

    /// The scalar an entity reference stands for (without `&` and `;`), nil if unknown.
    static func entity(_ name: ArraySlice<UInt8>) -> UInt32? {
        let text = Array(name)
        switch text {
        case Array("amp".utf8): return 38
        case Array("lt".utf8): return 60
        case Array("gt".utf8): return 62
        case Array("quot".utf8): return 34
        case Array("apos".utf8): return 39
        default: break
        }
        guard text.count >= 2, text[0] == 35 else { return nil }  // "#"
        var value: UInt32 = 0
        let hex = text[1] == 120 || text[1] == 88  // "x"
        let digits = text[(hex ? 2 : 1)...]
        if digits.isEmpty || digits.count > 8 { return nil }
        for d in digits {
            let v: UInt32
            if d >= 48 && d <= 57 {
                v = UInt32(d - 48)
            } else if hex && d >= 97 && d <= 102 {
                v = UInt32(d - 87)
            } else if hex && d >= 65 && d <= 70 {
                v = UInt32(d - 55)
            } else {
                return nil
            }
            value = value * (hex ? 16 : 10) + v
        }
        return value
    }

    static func utf8(_ v: UInt32) -> [UInt8] {
        if v < 0x80 { return [UInt8(v)] }
        if v < 0x800 { return [UInt8(0xC0 | v >> 6), UInt8(0x80 | v & 0x3F)] }
        if v < 0x10000 {
            return [UInt8(0xE0 | v >> 12), UInt8(0x80 | (v >> 6) & 0x3F), UInt8(0x80 | v & 0x3F)]
        }
        return [
            UInt8(0xF0 | v >> 18), UInt8(0x80 | (v >> 12) & 0x3F), UInt8(0x80 | (v >> 6) & 0x3F),
            UInt8(0x80 | v & 0x3F),
        ]
    }

    // MARK: scanning

    private static func skipWhitespace(_ b: [UInt8], _ i: inout Int) {
        while i < b.count && (b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13) { i += 1 }
    }

    private static func hasPrefix<C: RandomAccessCollection>(_ b: C, _ i: Int, _ prefix: StaticString) -> Bool
    where C.Element == UInt8, C.Index == Int {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        guard i >= b.startIndex, i + p.count <= b.endIndex else { return false }
        for k in 0..<p.count where b[i + k] != p[k] { return false }
        return true
    }

    private static func find<C: RandomAccessCollection>(_ b: C, _ needle: StaticString, from start: Int) -> Int?
    where C.Element == UInt8, C.Index == Int {
        var i = max(start, b.startIndex)
        while i < b.endIndex {
            if hasPrefix(b, i, needle) { return i }
            i += 1
        }
        return nil
    }

    /// The index after the element name when `<name` starts at `i` and the name ends there
    /// (followed by whitespace, `>` or `/`); nil otherwise.
    private static func elementName(_ b: [UInt8], at i: Int, is name: StaticString) -> Int? {
        guard i < b.count, b[i] == 60 else { return nil }
        let count = name.utf8CodeUnitCount
        guard hasPrefix(b, i + 1, name), i + 1 + count < b.count else { return nil }
        let next = b[i + 1 + count]
        guard next == 62 || next == 47 || next == 32 || next == 9 || next == 10 || next == 13 else { return nil }
        return i + 1 + count
    }

    /// The index of the `>` ending a start tag whose attributes begin at `i` (quoted
    /// attribute values may contain `>`).
    private static func tagEnd(_ b: [UInt8], from start: Int) -> Int? {
        var i = start
        var quote: UInt8 = 0
        while i < b.count {
            let c = b[i]
            if quote != 0 {
                if c == quote { quote = 0 }
            } else if c == 34 || c == 39 {
                quote = c
            } else if c == 62 {
                return i
            }
            i += 1
        }
        return nil
    }
}
