/// A parsed provisioning-style file: a `#!version:1.0.0.1` first line, then `key = value`
/// lines, `#` comments and blank lines, as desk phones' `.cfg` files are written. Board
/// profiles and provisioning files share this format. Every value remembers its file and
/// line, so a module that rejects a value can say where it came from.
public struct ConfigFile {
    /// One `key = value` line.
    public struct Entry: Equatable, Sendable {
        public let key: String
        public let value: String
        public let file: String
        public let line: Int

        /// `file:line`, for messages.
        public var location: String { file + ":" + String(line) }
    }

    /// The file's name as given (used in messages).
    public let path: String
    /// Entries in file order; a key set twice keeps both (the later one wins in lookups).
    public private(set) var entries: [Entry] = []

    /// Parses `text`. Fails on a missing version line or a line that is not `key = value`.
    public init(text: String, path: String, requireVersionLine: Bool = true) throws(ConfigError) {
        self.path = path
        var lineNumber = 0
        var sawContent = false
        // "\r\n" is one Character in Swift, so split on every line ending, not just "\n".
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for raw in lines {
            lineNumber += 1
            let line = ConfigFile.trim(Substring(raw))
            if lineNumber == 1 && line.hasPrefix("#!version:") {
                sawContent = true
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if requireVersionLine && !sawContent {
                throw ConfigError(path, 1, "the first line must be '#!version:1.0.0.1'")
            }
            sawContent = true
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError(path, lineNumber, "expected 'key = value', got '" + String(line.prefix(60)) + "'")
            }
            let key = ConfigFile.trim(line[..<eq])
            var value = ConfigFile.trim(line[line.index(after: eq)...])
            if value.count >= 2 && value.first == "\"" && value.last == "\"" {
                value = value.dropFirst().dropLast()
            }
            if key.isEmpty { throw ConfigError(path, lineNumber, "empty key before '='") }
            for c in key.unicodeScalars where !(ConfigFile.isKeyCharacter(c)) {
                throw ConfigError(path, lineNumber, "invalid character in key '" + String(key) + "'")
            }
            entries.append(Entry(key: String(key), value: String(value), file: path, line: lineNumber))
        }
        if requireVersionLine && !sawContent {
            throw ConfigError(path, 1, "empty file: the first line must be '#!version:1.0.0.1'")
        }
    }

    /// Several files as one: entries in order, so a key set in a later file wins (provisioning
    /// files layered, e.g. a common file then a per-phone file). Each entry keeps its own file
    /// and line for messages; `path` is the last file's.
    public init(merging files: [ConfigFile]) {
        path = files.last?.path ?? ""
        for file in files { entries.append(contentsOf: file.entries) }
    }

    /// Reads and parses a file.
    public static func load(path: String, requireVersionLine: Bool = true) throws(ConfigError) -> ConfigFile {
        let text = try FileText.read(path)
        return try ConfigFile(text: text, path: path, requireVersionLine: requireVersionLine)
    }

    /// The last entry for `key`.
    public func entry(_ key: String) -> Entry? {
        var found: Entry? = nil
        for e in entries where e.key == key { found = e }
        return found
    }

    /// The value for `key`, if set.
    public func string(_ key: String) -> String? { entry(key)?.value }

    /// An integer value within `range`, or `defaultValue` when unset.
    public func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let e = entry(key) else { return defaultValue }
        guard let v = Int(e.value), range.contains(v) else {
            throw ConfigError(
                e.file, e.line,
                key + " = '" + e.value + "': expected a whole number from "
                    + String(range.lowerBound) + " to " + String(range.upperBound))
        }
        return v
    }

    /// A 0/1 value (also accepts true/false, on/off), or `defaultValue` when unset.
    public func bool(_ key: String, default defaultValue: Bool) throws(ConfigError) -> Bool {
        guard let e = entry(key) else { return defaultValue }
        switch e.value {
        case "1", "true", "on", "yes": return true
        case "0", "false", "off", "no": return false
        default: throw ConfigError(e.file, e.line, key + " = '" + e.value + "': expected 0 or 1")
        }
    }

    /// Entries whose key starts with `prefix` (last one per key wins), in file order.
    public func entries(withPrefix prefix: String) -> [Entry] {
        var result: [Entry] = []
        for e in entries where e.key.hasPrefix(prefix) {
            if let i = result.firstIndex(where: { $0.key == e.key }) { result.remove(at: i) }
            result.append(e)
        }
        return result
    }

    /// An error at the line that set `key` (or at the file when unset).
    public func error(_ key: String, _ message: String) -> ConfigError {
        if let e = entry(key) { return ConfigError(e.file, e.line, message) }
        return ConfigError(path, 0, message)
    }

    static func trim(_ s: Substring) -> Substring {
        var t = s
        while let c = t.first, c == " " || c == "\t" || c == "\r" { t.removeFirst() }
        while let c = t.last, c == " " || c == "\t" || c == "\r" { t.removeLast() }
        return t
    }

    static func isKeyCharacter(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "." || c == "_"
            || c == "-"
    }
}

/// A configuration problem, located: `board/sim.cfg:12: keymap.KEY_FOO: unknown key code`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    /// 1-based line; 0 when the problem is not at one line (a missing key, an unreadable file).
    public let line: Int
    public let message: String

    public init(_ file: String, _ line: Int, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        line > 0 ? file + ":" + String(line) + ": " + message : file + ": " + message
    }
}
