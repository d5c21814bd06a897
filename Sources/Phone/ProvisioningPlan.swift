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

/// One file as fetched: its URL and text.
public struct ProvisionedFile: Equatable, Sendable {
    public let url: String
    public let text: String

    public init(url: String, text: String) {
        self.url = url
        self.text = text
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
        do throws(ConfigError) {
            for file in fetched { files.append(try ConfigFile(text: file.text, path: file.url)) }
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
