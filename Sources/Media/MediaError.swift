import CLinux

// Errors of the media layer: a socket that would not open or bind, a codec the negotiated
// stream names that cannot be built, an address that is not a literal.

/// A media-layer failure in words a log can print as is (`bind UDP 0.0.0.0:40000: EADDRINUSE`).
public struct MediaError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    /// The errno behind it, 0 when none.
    public let errno: Int32

    public init(_ message: String, errno: Int32 = 0) {
        self.message = message
        self.errno = errno
    }

    public var description: String {
        errno == 0 ? message : message + ": " + MediaError.errnoText(errno)
    }

    static func errnoText(_ errno: Int32) -> String {
        if let name = cl_errno_name(errno) { return String(cString: name) + " (" + String(errno) + ")" }
        return "errno " + String(errno)
    }
}
