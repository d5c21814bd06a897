import CLinux

/// Whole-file reads for configuration (Embedded Swift has no Foundation).
public enum FileText {
    /// The file's bytes as UTF-8 text (invalid sequences replaced). At most 1 MiB.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(ConfigError) -> String {
        String(decoding: try bytes(path, limit: limit), as: UTF8.self)
    }

    /// The file's bytes, at most `limit` of them.
    public static func bytes(_ path: String, limit: Int = 1 << 20) throws(ConfigError) -> [UInt8] {
        let fd = cl_open(path, O_RDONLY, 0)
        if fd < 0 { throw ConfigError(path, 0, "cannot open: " + String(cString: cl_strerror(-fd))) }
        defer { _ = cl_close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw ConfigError(path, 0, "read failed: " + String(cString: cl_strerror(Int32(-n)))) }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit { throw ConfigError(path, 0, "larger than " + String(limit) + " bytes") }
        }
        return bytes
    }
}
