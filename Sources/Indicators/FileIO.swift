import CLinux

/// Small file helpers over the CLinux shim for the backends (sysfs attributes, devices, logs).
enum FileIO {
    /// Opens `path`, writes all of `bytes` and closes it (how sysfs attributes are written).
    /// Returns nil or the error.
    static func writeWhole(_ path: String, _ text: String, create: Bool = false) -> IndicatorError? {
        var flags = O_WRONLY | O_TRUNC
        if create { flags |= O_CREAT }
        let fd = cl_open(path, flags, 0o644)
        if fd < 0 { return IndicatorError("open " + path, errno: -fd) }
        var bytes = Array(text.utf8)
        let n = bytes.withUnsafeMutableBytes { cl_write_all(fd, $0.baseAddress, $0.count) }
        let rc = cl_close(fd)
        if n < 0 { return IndicatorError("write " + path, errno: Int32(-n)) }
        if rc < 0 { return IndicatorError("close " + path, errno: -rc) }
        return nil
    }

    /// The first line of a small file (sysfs `max_brightness`), or nil.
    static func readLine(_ path: String) -> String? {
        let fd = cl_open(path, O_RDONLY, 0)
        if fd < 0 { return nil }
        defer { _ = cl_close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return nil }
        var end = 0
        while end < n && buffer[end] != 0x0A && buffer[end] != 0x0D { end += 1 }
        return String(decoding: buffer[0..<end], as: UTF8.self)
    }

    /// Writes all of `bytes` to `fd`. Returns nil or the error, described with `what`.
    static func write(_ fd: Int32, _ bytes: [UInt8], what: String) -> IndicatorError? {
        var copy = bytes
        let n = copy.withUnsafeMutableBytes { cl_write_all(fd, $0.baseAddress, $0.count) }
        if n < 0 { return IndicatorError(what, errno: Int32(-n)) }
        return nil
    }
}

extension FileIO {
    /// Creates or truncates `path` and writes `bytes`. Returns nil or the error.
    static func writeBytes(_ path: String, _ bytes: [UInt8]) -> IndicatorError? {
        let fd = cl_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { return IndicatorError("open " + path, errno: -fd) }
        let e = write(fd, bytes, what: "write " + path)
        let rc = cl_close(fd)
        if let e { return e }
        if rc < 0 { return IndicatorError("close " + path, errno: -rc) }
        return nil
    }
}
