/// String helpers that need neither Foundation nor the string-processing library (neither
/// exists in Embedded Swift).
enum TextUtil {
    /// Whether `needle` occurs in `text`.
    static func contains(_ needle: String, in text: String) -> Bool {
        find(Array(needle.utf8), in: Array(text.utf8), from: 0) != nil
    }

    /// `text` with every `needle` replaced by `replacement`.
    static func replacing(_ needle: String, with replacement: String, in text: String) -> String {
        let n = Array(needle.utf8)
        let t = Array(text.utf8)
        if n.isEmpty { return text }
        var out: [UInt8] = []
        var i = 0
        while let at = find(n, in: t, from: i) {
            out.append(contentsOf: t[i..<at])
            out.append(contentsOf: replacement.utf8)
            i = at + n.count
        }
        out.append(contentsOf: t[i...])
        return String(decoding: out, as: UTF8.self)
    }

    static func find(_ needle: [UInt8], in text: [UInt8], from start: Int) -> Int? {
        if needle.isEmpty || text.count < needle.count { return nil }
        var i = start
        while i + needle.count <= text.count {
            var match = true
            for j in 0..<needle.count where text[i + j] != needle[j] {
                match = false
                break
            }
            if match { return i }
            i += 1
        }
        return nil
    }

    /// `text` split at `separator` bytes, each piece trimmed of spaces and tabs.
    static func split(_ text: String, _ separator: UInt8) -> [String] {
        var pieces: [String] = []
        var current: [UInt8] = []
        for b in text.utf8 {
            if b == separator {
                pieces.append(trim(current))
                current = []
            } else {
                current.append(b)
            }
        }
        pieces.append(trim(current))
        return pieces
    }

    static func trim(_ bytes: [UInt8]) -> String {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// `text` left-justified (or truncated) to exactly `width` characters (ASCII widths).
    static func pad(_ text: String, _ width: Int) -> String {
        var bytes = Array(text.utf8.prefix(width))
        while bytes.count < width { bytes.append(0x20) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
