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

    /// Replaces `path` with `bytes` so that a power cut or a kill leaves the old file or the new
    /// one, never half of one: written to `path.tmp`, fsynced, renamed over `path`, and the
    /// directory fsynced (so the rename itself is on the disk).
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(ConfigError) {
        let temporary = path + ".tmp"
        let fd = cl_open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw ConfigError(temporary, 0, "cannot create: " + String(cString: cl_strerror(-fd))) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { cl_write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 {
                _ = cl_close(fd)
                _ = cl_unlink(temporary)
                throw ConfigError(temporary, 0, "write failed: " + String(cString: cl_strerror(Int32(-n))))
            }
            offset += n
        }
        let synced = cl_fsync(fd)
        _ = cl_close(fd)
        if synced < 0 {
            _ = cl_unlink(temporary)
            throw ConfigError(temporary, 0, "fsync failed: " + String(cString: cl_strerror(-synced)))
        }
        let renamed = cl_rename(temporary, path)
        if renamed < 0 {
            _ = cl_unlink(temporary)
            throw ConfigError(path, 0, "rename failed: " + String(cString: cl_strerror(-renamed)))
        }
        let directory = ConfigFile.resolve(".", from: path)
        let dirFD = cl_open(directory, O_RDONLY, 0)
        if dirFD >= 0 {
            _ = cl_fsync(dirFD)
            _ = cl_close(dirFD)
        }
    }

    /// Whether `path` can be opened for reading.
    public static func exists(_ path: String) -> Bool {
        let fd = cl_open(path, O_RDONLY, 0)
        if fd < 0 { return false }
        _ = cl_close(fd)
        return true
    }
}
