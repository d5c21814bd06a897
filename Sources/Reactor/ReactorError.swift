import CLinux

/// A failed system call inside the reactor: which call, on what, and the errno it gave.
///
/// Watching a closed or invalid descriptor, for example, gives
/// `epoll_ctl(ADD) on fd 42: EBADF (Bad file descriptor)`; the loop itself keeps running.
public struct ReactorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call that failed, with its subject (`epoll_ctl(ADD) on fd 42`).
    public let call: String
    /// The errno value the kernel returned.
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// The symbolic errno name (`EBADF`), or `errno N` when unknown.
    public var errnoName: String { ReactorError.errnoName(errno) }

    public var description: String {
        call + ": " + errnoName + " (" + String(cString: cl_strerror(errno)) + ")"
    }

    static func errnoName(_ value: Int32) -> String {
        if let name = cl_errno_name(value) { return String(cString: name) }
        return "errno " + String(value)
    }
}
