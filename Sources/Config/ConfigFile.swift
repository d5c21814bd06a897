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
    /// An `include:config "file"` line is an error here (text has no directory to read from):
    /// `load(path:)` resolves includes.
    public init(text: String, path: String, requireVersionLine: Bool = true) throws(ConfigError) {
        try self.init(text: text, path: path, requireVersionLine: requireVersionLine, include: nil)
    }

    /// Parses `text`; each `include:config` line's file is read by `include` (its name as
    /// written, the line number) and its entries take that line's place, so lines after the
    /// include override it and lines before are overridden by it.
    public init(
        text: String, path: String, requireVersionLine: Bool,
        include: ((String, Int) throws(ConfigError) -> [Entry])?
    ) throws(ConfigError) {
        self.path = path
        var lineNumber = 0
        var sawContent = false
        let bytes = Array(text.utf8)
        var start = 0
        while start <= bytes.count {
            // Lines end at "\n", "\r\n" or a lone "\r".
            var end = start
            while end < bytes.count && bytes[end] != 10 && bytes[end] != 13 { end += 1 }
            let next = end < bytes.count && bytes[end] == 13 && end + 1 < bytes.count && bytes[end + 1] == 10 ? end + 2 : end + 1
            defer { start = next }
            lineNumber += 1
            let line = ConfigFile.trim(bytes[start..<end])
            if lineNumber == 1 && ConfigFile.starts(line, with: "#!version:") {
                sawContent = true
                continue
            }
            if line.isEmpty || line.first == UInt8(ascii: "#") {
                if start >= bytes.count { break }
                continue
            }
            if requireVersionLine && !sawContent {
                throw ConfigError(path, 1, "the first line must be '#!version:1.0.0.1'")
            }
            sawContent = true
            if ConfigFile.starts(line, with: "include:config") {
                let name = ConfigFile.includeName(line.dropFirst(14))
                guard !name.isEmpty else {
                    throw ConfigError(path, lineNumber, "include:config needs a file name: include:config \"file.cfg\"")
                }
                guard let include else {
                    throw ConfigError(path, lineNumber, "include:config is not allowed here")
                }
                entries.append(contentsOf: try include(name, lineNumber))
                continue
            }
            guard let eq = line.firstIndex(of: UInt8(ascii: "=")) else {
                throw ConfigError(path, lineNumber, "expected 'key = value', got '" + ConfigFile.text(line.prefix(60)) + "'")
            }
            let key = ConfigFile.trim(line[..<eq])
            var value = ConfigFile.trim(line[(eq + 1)...])
            if value.count >= 2 && value.first == UInt8(ascii: "\"") && value.last == UInt8(ascii: "\"") {
                value = value.dropFirst().dropLast()
            }
            if key.isEmpty { throw ConfigError(path, lineNumber, "empty key before '='") }
            for c in key where !ConfigFile.isKeyByte(c) {
                throw ConfigError(path, lineNumber, "invalid character in key '" + ConfigFile.text(key) + "'")
            }
            entries.append(Entry(key: ConfigFile.text(key), value: ConfigFile.text(value), file: path, line: lineNumber))
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

    /// How deep `include:config` may nest.
    public static let maximumIncludeDepth = 8

    /// Reads and parses a file, with its `include:config "file"` lines: a relative name is
    /// taken from the including file's directory; a file including itself (directly or
    /// through others), nesting deeper than `maximumIncludeDepth` and URLs are errors at the
    /// include's line.
    public static func load(path: String, requireVersionLine: Bool = true) throws(ConfigError) -> ConfigFile {
        try load(path: path, requireVersionLine: requireVersionLine, including: [])
    }

    private static func load(path: String, requireVersionLine: Bool, including: [String]) throws(ConfigError)
        -> ConfigFile
    {
        let text = try FileText.read(path)
        return try ConfigFile(
            text: text, path: path, requireVersionLine: requireVersionLine,
            include: { (name: String, line: Int) throws(ConfigError) -> [Entry] in
                if name.utf8.contains(UInt8(ascii: ":")) && name.utf8.first != UInt8(ascii: "/") {
                    throw ConfigError(path, line, "include:config \"" + name + "\": only local files can be included")
                }
                let target = ConfigFile.resolve(name, from: path)
                let chain = including + [path]
                if chain.contains(target) {
                    throw ConfigError(path, line, "include:config \"" + name + "\": includes itself")
                }
                if chain.count > maximumIncludeDepth {
                    throw ConfigError(
                        path, line,
                        "include:config \"" + name + "\": nested more than " + String(maximumIncludeDepth) + " deep")
                }
                do throws(ConfigError) {
                    return try load(path: target, requireVersionLine: requireVersionLine, including: chain).entries
                } catch {
                    // A file that cannot be read is the include line's problem.
                    if error.file == target && error.line == 0 {
                        throw ConfigError(path, line, "include:config \"" + name + "\": " + error.message)
                    }
                    throw error
                }
            })
    }

    /// `name` as seen from the file `from`: absolute names stay, relative ones are taken from
    /// `from`'s directory.
    static func resolve(_ name: String, from: String) -> String {
        if name.utf8.first == UInt8(ascii: "/") { return name }
        let bytes = Array(from.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return name }
        return String(decoding: bytes[...slash], as: UTF8.self) + name
    }

    /// The file name after `include:config`: quoted, in angle brackets, or bare.
    /// The file name of an include line: `line`'s text after `include:config`, trimmed, without
    /// its quotes or angle brackets (nil when `line` is not an include line).
    public static func includeName(line: String) -> String? {
        let bytes = Array(line.utf8)
        let trimmed = trim(bytes[...])
        guard starts(trimmed, with: "include:config") else { return nil }
        return includeName(trimmed.dropFirst(14))
    }

    static func includeName(_ rest: ArraySlice<UInt8>) -> String {
        var name = trim(rest)
        if name.count >= 2,
            (name.first == UInt8(ascii: "\"") && name.last == UInt8(ascii: "\""))
                || (name.first == UInt8(ascii: "<") && name.last == UInt8(ascii: ">"))
        {
            name = name.dropFirst().dropLast()
        }
        return text(trim(name))
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

    static func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var t = s
        while let c = t.first, c == 32 || c == 9 { t.removeFirst() }
        while let c = t.last, c == 32 || c == 9 { t.removeLast() }
        return t
    }

    static func starts(_ line: ArraySlice<UInt8>, with prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard line.count >= count else { return false }
        var i = line.startIndex
        for k in 0..<count {
            if line[i] != prefix.utf8Start[k] { return false }
            i += 1
        }
        return true
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    static func isKeyByte(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 46 || c == 95 || c == 45
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
