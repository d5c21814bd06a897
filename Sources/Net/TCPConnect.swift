import CLinux

/// The start of a non-blocking TCP connect (the SIP transport's and the HTTP client's):
/// a socket of the address's family, `connect` under way or done. Completion shows as
/// writability; `TCPConnect.result(fd)` then says how it ended.
public enum TCPConnect {
    /// What `start` did.
    public enum Start {
        /// Connected at once (loopback can): the descriptor, ready to use.
        case connected(Int32)
        /// EINPROGRESS: watch the descriptor for writability.
        case inProgress(Int32)
        /// `socket` failed with `errno`; nothing is open.
        case socketFailed(errno: Int32)
        /// `connect` failed at once with `errno` (ECONNREFUSED, ENETUNREACH, ...); the socket is closed.
        case connectFailed(errno: Int32)
    }

    /// Opens a non-blocking stream socket and starts connecting it to `address`.
    public static func start(to address: SocketAddress) -> Start {
        let fd = cl_socket_open(address.family, Int32(CL_SOCK_STREAM))
        if fd < 0 { return .socketFailed(errno: -fd) }
        let rc = address.withAddressPointer { cl_socket_connect(fd, address.family, $0, address.port) }
        if rc == 0 { return .connected(fd) }
        if rc == -EINPROGRESS { return .inProgress(fd) }
        _ = cl_close(fd)
        return .connectFailed(errno: -rc)
    }

    /// How a connect under way ended: 0 when connected (or still going), else -errno (SO_ERROR).
    public static func result(_ fd: Int32) -> Int32 { cl_socket_error(fd) }
}
