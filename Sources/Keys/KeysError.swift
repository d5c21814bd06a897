import CLinux

/// A key source that could not start: what, where and why
/// (`fifo /tmp/keys: open failed: ENOENT (No such file or directory)`).
public struct KeysError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    /// `call` failed with `errno` (negative values are accepted as returned by `cl_*`).
    public init(_ subject: String, _ call: String, errno: Int32) {
        message = subject + ": " + call + " failed: " + KeysError.errnoText(errno)
    }

    public var description: String { message }

    /// `ENOENT (No such file or directory)`.
    public static func errnoText(_ errno: Int32) -> String {
        let e = errno < 0 ? -errno : errno
        let name = cl_errno_name(e).map { String(cString: $0) } ?? ("errno " + String(e))
        return name + " (" + String(cString: cl_strerror(e)) + ")"
    }
}
