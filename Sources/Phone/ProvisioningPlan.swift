// Provisioning from a server, sans-IO: which files to fetch (the desk-phone order: the model's
// common file, then `<mac>.cfg`, then the phone's local files; later wins), the conditional-GET
// validators that make an unchanged file one round trip, the check of a fetched set together with
// the local files, and the text of the stored last good set. `AutoProvisioner` carries it out.

import CLinux
import Config

/// The files one provisioning round fetches, in order (later wins): the board's common file
/// (`y000000000000.cfg` unless the board profile names another), then `<mac>.cfg` (lowercase hex,
/// no separators), both in the `auto_provision.server.url` directory.
public struct ProvisioningPlan: Equatable {
    /// The common file's name when the board profile has no `board.provision_common_file`.
    public static let defaultCommonFile = "y000000000000.cfg"
    /// The most redirects followed for one file.
    public static let maximumRedirects = 5
    /// The largest file accepted.
    public static let maximumFileBytes = 256 * 1024

    /// Absolute URLs, fetched in this order.
    public let urls: [String]

    /// `mac` in any case, with or without `:`/`-` separators.
    public init(serverURL: String, commonFile: String, mac: String) {
        var bytes: [UInt8] = []
        for c in serverURL.utf8 where c != 32 && c != 9 { bytes.append(c) }
        var base = String(decoding: bytes, as: UTF8.self)
        if !base.hasSuffix("/") { base += "/" }
        urls = [base + commonFile, base + ProvisioningPlan.macFileName(mac)]
    }

    /// `001565a1b2c3.cfg` for `00:15:65:A1:B2:C3`.
    public static func macFileName(_ mac: String) -> String {
        var name: [UInt8] = []
        for b in mac.utf8 where b != UInt8(ascii: ":") && b != UInt8(ascii: "-") {
            name.append(b >= 65 && b <= 90 ? b + 32 : b)
        }
        return String(decoding: name, as: UTF8.self) + ".cfg"
    }
}

/// One file as fetched: its URL and text, and the file that includes it (nil: a file of the plan).
public struct ProvisionedFile: Equatable, Sendable {
    public let url: String
    public let text: String
    public let includedBy: String?

    public init(url: String, text: String, includedBy: String? = nil) {
        self.url = url
        self.text = text
        self.includedBy = includedBy
    }
}

/// The validators of the files fetched before (RFC 9110 §13.1: `If-None-Match` from `ETag`,
/// `If-Modified-Since` from `Last-Modified`) and their texts, so that a `304 Not Modified`
/// costs one round trip and still gives the file.
public struct ProvisioningCache {
    private struct Copy {
        var etag: String?
        var lastModified: String?
        var text: String
    }
    private var copies: [String: Copy] = [:]

    public init() {}

    /// The conditional header fields for a GET of `url` (none for a file never fetched).
    public func conditionalHeaders(for url: String) -> [(name: String, value: String)] {
        guard let copy = copies[url] else { return [] }
        var fields: [(name: String, value: String)] = []
        if let etag = copy.etag { fields.append((name: "If-None-Match", value: etag)) }
        if let lastModified = copy.lastModified { fields.append((name: "If-Modified-Since", value: lastModified)) }
        return fields
    }

    /// What a response to `url` means: a 200's body (remembered with its validators), the
    /// remembered text for a 304, nil for anything else (or a 304 with nothing remembered).
    public mutating func text(for url: String, status: Int, etag: String?, lastModified: String?, body: [UInt8])
        -> String?
    {
        if status == 304 { return copies[url]?.text }
        guard status == 200 else { return nil }
        let text = String(decoding: body, as: UTF8.self)
        copies[url] = Copy(etag: etag, lastModified: lastModified, text: text)
        return text
    }

    /// Forgets `url` (it is gone from the server).
    public mutating func forget(_ url: String) { copies[url] = nil }
}

/// A fetched set checked together with the local files.
public struct ProvisioningCandidate {
    /// The phone's configuration once the set is stored (paths: the stored set, then the local files).
    public let provisioning: Provisioning
    /// The fetched files, parsed (each entry's file is its URL).
    public let files: [ConfigFile]

    /// Parses `fetched` (a bad line is refused as `URL:LINE: ...`) and checks it with the local
    /// files at `localPaths` by the phone's own checks (`Provisioning`); `storedPath` is where
    /// the set will be stored (the first of the new provisioning's paths).
    public static func check(
        _ fetched: [ProvisionedFile], storedPath: String?, localPaths: [String], hasRecordKey: Bool, lineKeys: Int?
    ) -> Result<ProvisioningCandidate, ConfigError> {
        var files: [ConfigFile] = []
        // Included files by URL: their entries take the include line's place (`ProvisioningInclude`).
        var texts: [String: String] = [:]
        for file in fetched where file.includedBy != nil { texts[file.url] = file.text }
        func parse(_ url: String, _ text: String, depth: Int) throws(ConfigError) -> ConfigFile {
            try ConfigFile(
                text: text, path: url, requireVersionLine: true,
                include: { (name: String, line: Int) throws(ConfigError) -> [ConfigFile.Entry] in
                    let target = ProvisioningInclude.resolve(name, against: url)
                    guard depth < ProvisioningInclude.maximumDepth else {
                        throw ConfigError(url, line, "include:config \"" + name + "\": nested too deep")
                    }
                    // Not fetched: the server did not have it (skipped as a 404 is).
                    guard let included = texts[target] else { return [] }
                    return try parse(target, included, depth: depth + 1).entries
                })
        }
        do throws(ConfigError) {
            for file in fetched where file.includedBy == nil {
                files.append(try parse(file.url, file.text, depth: 1))
            }
            var all = files
            for path in localPaths { all.append(try ConfigFile.load(path: path)) }
            let paths = (storedPath.map { [$0] } ?? []) + localPaths
            let provisioning = try Provisioning(
                paths: paths, merged: ConfigFile(merging: all), hasRecordKey: hasRecordKey, lineKeys: lineKeys)
            return .success(ProvisioningCandidate(provisioning: provisioning, files: files))
        } catch {
            return .failure(error)
        }
    }

    /// The stored form of the fetched files: one `.cfg` file, each file's entries under a
    /// comment naming its URL, in order (so later still wins), values quoted so they read back
    /// exactly.
    public var storedText: String {
        var text = "#!version:1.0.0.1\n# The last good set fetched by auto provisioning (written by the phone).\n"
        for file in files {
            text += "# from " + file.path + "\n"
            for entry in file.entries { text += entry.key + " = \"" + entry.value + "\"\n" }
        }
        return text
    }
}

/// Where the last good fetched set lives on the device: `provisioned.cfg` in the directory
/// given by `--provision-dir` or the board profile's `board.provision_dir`, replaced atomically.
public struct ProvisioningStore: Equatable, Sendable {
    public let directory: String
    public var path: String { directory + (directory.hasSuffix("/") ? "" : "/") + "provisioned.cfg" }

    public init(directory: String) { self.directory = directory }

    /// Whether a set was stored before.
    public var hasSet: Bool { FileText.exists(path) }

    /// Stores `text` (the directory and its parents are created if needed); a power cut leaves the old set or the new one.
    public func save(_ text: String) throws(ConfigError) {
        // The directory and any missing parents (mkdir -p).
        let bytes = Array(directory.utf8)
        for (i, b) in bytes.enumerated() where (b == UInt8(ascii: "/") && i > 0) || i == bytes.count - 1 {
            let prefix = String(decoding: bytes[...(b == UInt8(ascii: "/") ? i - 1 : i)], as: UTF8.self)
            let made = cl_mkdir(prefix, 0o755)
            if made < 0 {
                throw ConfigError(directory, 0, "cannot create " + prefix + ": " + String(cString: cl_strerror(-made)))
            }
        }
        try FileText.writeAtomically(path, Array(text.utf8))
    }
}

/// `include:config "URL"` lines in a fetched file (the desk-phone convention): each names another
/// file fetched the same way (HTTP or TFTP) whose keys take the include line's place, as a local
/// include's do (lines below it override it). At most `maximumDepth` files deep and `maximumFiles` included
/// files in one round; a file that includes itself, directly or not, is refused.
public enum ProvisioningInclude {
    public static let maximumDepth = 8
    public static let maximumFiles = 32

    /// The URLs of `text`'s include lines (`include:config "URL"`, `<URL>` or a bare URL, as a
    /// local include is written), resolved against `base`, the file's own URL.
    public static func urls(in text: String, base: String) -> [String] {
        var urls: [String] = []
        for line in text.utf8.split(whereSeparator: { $0 == 10 || $0 == 13 }) {
            guard let name = ConfigFile.includeName(line: String(decoding: line, as: UTF8.self)), !name.isEmpty else {
                continue
            }
            urls.append(resolve(name, against: base))
        }
        return urls
    }

    /// `reference` against `base` (RFC 3986 §5.2 for the forms a provisioning file uses): a URL
    /// with a scheme as it is; `/path` on the base's scheme and host; anything else in the
    /// base's directory.
    public static func resolve(_ reference: String, against base: String) -> String {
        let ref = Array(reference.utf8)
        for (i, b) in ref.enumerated() {
            if b == UInt8(ascii: ":") {
                if i > 0 && i + 2 < ref.count && ref[i + 1] == UInt8(ascii: "/") && ref[i + 2] == UInt8(ascii: "/") {
                    return reference
                }
                break
            }
            if b == UInt8(ascii: "/") { break }
        }
        let bytes = Array(base.utf8)
        // The end of `scheme://authority`.
        var authorityEnd = bytes.count
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon + 2 < bytes.count,
            bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        {
            authorityEnd = bytes[(colon + 3)...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
        }
        if ref.first == UInt8(ascii: "/") {
            return String(decoding: bytes[..<authorityEnd], as: UTF8.self) + reference
        }
        var directoryEnd = authorityEnd
        if let slash = bytes.lastIndex(of: UInt8(ascii: "/")), slash >= authorityEnd { directoryEnd = slash + 1 }
        let directory = String(decoding: bytes[..<directoryEnd], as: UTF8.self)
        return directory + (directoryEnd == authorityEnd ? "/" : "") + reference
    }
}
