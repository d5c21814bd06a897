// The `application/simple-message-summary` body of the message-summary event package
// (RFC 3842 §5.2), sans-IO: bytes in, a summary or an error out. Bounded: at most
// `maximumBodySize` bytes and `maximumLines` lines are read; counts clamp at `maximumCount`.

/// One message class's counts (RFC 3842 §5.2 `msg-summary-line`): `new/old (urgent_new/urgent_old)`.
public struct SIPMessageCounts: Equatable, Sendable {
    public var new: Int
    public var old: Int
    public var urgentNew: Int
    public var urgentOld: Int

    public init(new: Int = 0, old: Int = 0, urgentNew: Int = 0, urgentOld: Int = 0) {
        self.new = new
        self.old = old
        self.urgentNew = urgentNew
        self.urgentOld = urgentOld
    }
}

/// A parsed message summary (RFC 3842 §5.2): whether messages wait, the account they wait in,
/// and the counts per message-context class (RFC 3458: voice, fax, pager, multimedia, text, none).
public struct SIPMessageSummary: Equatable, Sendable, CustomStringConvertible {
    /// `Messages-Waiting: yes`.
    public var waiting: Bool
    /// `Message-Account:` (a URI, as written), nil absent.
    public var account: String?
    /// The classes given, lower-cased names (`voice-message`), in the order written.
    public var classes: [(name: String, counts: SIPMessageCounts)]

    public static let maximumBodySize = 8192
    public static let maximumLines = 64
    /// Counts above this read as this (a server's absurd number never overflows anything).
    public static let maximumCount = 99_999
    /// The media type of the body (RFC 3842 §7.2).
    public static let mediaType = "application/simple-message-summary"
    /// The event package name (RFC 3842 §7.1).
    public static let eventPackage = "message-summary"

    public init(waiting: Bool, account: String? = nil, classes: [(name: String, counts: SIPMessageCounts)] = []) {
        self.waiting = waiting
        self.account = account
        self.classes = classes
    }

    public static func == (a: SIPMessageSummary, b: SIPMessageSummary) -> Bool {
        guard a.waiting == b.waiting, a.account == b.account, a.classes.count == b.classes.count else { return false }
        for i in a.classes.indices
        where a.classes[i].name != b.classes[i].name || a.classes[i].counts != b.classes[i].counts {
            return false
        }
        return true
    }

    /// The counts of class `name` (`voice-message`), nil when the body does not give them.
    public func counts(_ name: String) -> SIPMessageCounts? {
        for item in classes where item.name == name { return item.counts }
        return nil
    }

    /// New voice messages (urgent ones included, as RFC 3842 §5.2 counts them apart), nil when
    /// the body gives no Voice-Message line.
    public var newVoiceMessages: Int? {
        guard let voice = counts("voice-message") else { return nil }
        return min(SIPMessageSummary.maximumCount, voice.new)
    }

    /// `yes, voice-message 2/8 (0/0)` for the log.
    public var description: String {
        var text = waiting ? "yes" : "no"
        if let account { text += " for " + account }
        for item in classes {
            let c = item.counts
            text +=
                ", " + item.name + " " + String(c.new) + "/" + String(c.old) + " (" + String(c.urgentNew) + "/"
                + String(c.urgentOld) + ")"
        }
        return text
    }

    /// The body as a server writes it (CRLF lines).
    public var body: String {
        var text = "Messages-Waiting: " + (waiting ? "yes" : "no") + "\r\n"
        if let account { text += "Message-Account: " + account + "\r\n" }
        for item in classes {
            let c = item.counts
            text += SIPMessageSummary.headerName(item.name) + ": " + String(c.new) + "/" + String(c.old)
            if c.urgentNew != 0 || c.urgentOld != 0 {
                text += " (" + String(c.urgentNew) + "/" + String(c.urgentOld) + ")"
            }
            text += "\r\n"
        }
        return text
    }

    /// The known message-context classes (RFC 3458 §4.2), lower case.
    public static let knownClasses = [
        "voice-message", "fax-message", "pager-message", "multimedia-message", "text-message", "none",
    ]

    static func headerName(_ name: String) -> String {
        var out = ""
        var upper = true
        for c in name.unicodeScalars {
            if upper, c.value >= 0x61, c.value <= 0x7A {
                out.unicodeScalars.append(Unicode.Scalar(c.value - 32)!)
            } else {
                out.unicodeScalars.append(c)
            }
            upper = c == "-"
        }
        return out
    }

    /// Parses a message-summary body. Header names and `yes`/`no` are case-insensitive; unknown
    /// headers and classes are skipped (RFC 3842 §5.2 allows extensions); the optional message
    /// headers after an empty line are ignored. Throws (status 400) on a missing or malformed
    /// `Messages-Waiting`, a malformed count line of a known class, or a body over the bounds.
    public static func parse(_ body: [UInt8]) throws(SIPError) -> SIPMessageSummary {
        guard body.count <= maximumBodySize else {
            throw SIPError(
                "message-summary body of " + String(body.count) + " bytes (at most " + String(maximumBodySize) + ")")
        }
        var waiting: Bool? = nil
        var account: String? = nil
        var classes: [(name: String, counts: SIPMessageCounts)] = []
        var lineNumber = 0
        var start = 0
        while start < body.count {
            var end = start
            while end < body.count && body[end] != 0x0A { end += 1 }
            var last = end
            if last > start && body[last - 1] == 0x0D { last -= 1 }
            let line = body[start..<last]
            start = end + 1
            lineNumber += 1
            if lineNumber > maximumLines {
                throw SIPError("message-summary body has more than " + String(maximumLines) + " lines")
            }
            if line.isEmpty {
                if waiting == nil && classes.isEmpty && account == nil { continue }  // leading empty lines
                break  // the message headers follow (RFC 3842 §5.2): not ours to read
            }
            guard let colon = line.firstIndex(of: 0x3A) else {
                throw SIPError("message-summary line " + String(lineNumber) + " has no ':'")
            }
            let name = lowercase(trim(line[line.startIndex..<colon]))
            let value = trim(line[(colon + 1)..<line.endIndex])
            if name.isEmpty { throw SIPError("message-summary line " + String(lineNumber) + " has no header name") }
            switch name {
            case "messages-waiting":
                switch lowercase(value) {
                case "yes": waiting = true
                case "no": waiting = false
                default:
                    throw SIPError("message-summary line " + String(lineNumber) + ": Messages-Waiting is not yes or no")
                }
            case "message-account":
                // Measured as decoded (an invalid byte reads as U+FFFD, three bytes written back).
                let text = String(decoding: value, as: UTF8.self)
                guard !value.isEmpty, text.utf8.count <= 256 else {
                    throw SIPError("message-summary line " + String(lineNumber) + ": unusable Message-Account")
                }
                account = text
            default:
                guard knownClasses.contains(name) else { continue }
                guard let counts = parseCounts(value) else {
                    throw SIPError("message-summary line " + String(lineNumber) + ": malformed counts for " + name)
                }
                if let i = classes.firstIndex(where: { $0.name == name }) {
                    classes[i].counts = counts
                } else {
                    classes.append((name: name, counts: counts))
                }
            }
        }
        guard let waiting else { throw SIPError("message-summary body without Messages-Waiting") }
        return SIPMessageSummary(waiting: waiting, account: account, classes: classes)
    }

    /// `new/old` with an optional `(urgent_new/urgent_old)`; spaces around the parts allowed.
    static func parseCounts(_ value: ArraySlice<UInt8>) -> SIPMessageCounts? {
        var i = value.startIndex
        func skipSpace() { while i < value.endIndex && (value[i] == 0x20 || value[i] == 0x09) { i += 1 } }
        func number() -> Int? {
            skipSpace()
            let first = i
            var n = 0
            while i < value.endIndex, value[i] >= 0x30, value[i] <= 0x39 {
                n = min(maximumCount, n * 10 + Int(value[i] - 0x30))
                i += 1
            }
            return i > first ? n : nil
        }
        func expect(_ c: UInt8) -> Bool {
            skipSpace()
            guard i < value.endIndex, value[i] == c else { return false }
            i += 1
            return true
        }
        guard let new = number(), expect(0x2F), let old = number() else { return nil }
        var counts = SIPMessageCounts(new: new, old: old)
        skipSpace()
        if i < value.endIndex {
            guard expect(0x28), let urgentNew = number(), expect(0x2F), let urgentOld = number(), expect(0x29) else {
                return nil
            }
            counts.urgentNew = urgentNew
            counts.urgentOld = urgentOld
            skipSpace()
            guard i == value.endIndex else { return nil }
        }
        return counts
    }

    static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var a = bytes.startIndex
        var b = bytes.endIndex
        while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
        while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
        return bytes[a..<b]
    }

    static func lowercase(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for c in bytes { out.append(c >= 0x41 && c <= 0x5A ? c + 32 : c) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// libFuzzer entry for the message-summary parser: any bytes parse or throw, never trap; a
/// summary that parses writes back as a body that parses to the same summary, counts in bounds.
public func messageSummaryFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let body = Array(bytes)
    let summary: SIPMessageSummary
    do throws(SIPError) {
        summary = try SIPMessageSummary.parse(body)
    } catch {
        _ = error.description
        return
    }
    for item in summary.classes {
        let c = item.counts
        for n in [c.new, c.old, c.urgentNew, c.urgentOld] where n < 0 || n > SIPMessageSummary.maximumCount {
            fatalError("message-summary count out of bounds")
        }
    }
    if let account = summary.account, account.utf8.contains(0x0A) || account.utf8.contains(0x0D) { return }
    do throws(SIPError) {
        let again = try SIPMessageSummary.parse(Array(summary.body.utf8))
        if again != summary { fatalError("message-summary round trip changed it: " + summary.description) }
    } catch {
        fatalError("message-summary written form does not parse: " + error.description)
    }
}
