import CLinux

/// Readiness of a file descriptor, as asked for in a watch and as reported to its handler.
public struct IOEvents: OptionSet, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Data can be read (or a listening socket can accept).
    public static let readable = IOEvents(rawValue: UInt32(CL_EPOLLIN))
    /// Data can be written without blocking.
    public static let writable = IOEvents(rawValue: UInt32(CL_EPOLLOUT))
    /// Urgent data (rarely used; evdev and ALSA do not).
    public static let priority = IOEvents(rawValue: UInt32(CL_EPOLLPRI))
    /// An error condition on the descriptor; always reported, never needs asking for.
    public static let error = IOEvents(rawValue: UInt32(CL_EPOLLERR))
    /// The peer hung up (or the device went away); always reported.
    public static let hangUp = IOEvents(rawValue: UInt32(CL_EPOLLHUP))
    /// The peer shut its writing half down (stream sockets).
    public static let readHangUp = IOEvents(rawValue: UInt32(CL_EPOLLRDHUP))

    public var description: String {
        var parts = ""
        func add(_ flag: IOEvents, _ name: String) {
            guard contains(flag) else { return }
            parts += parts.isEmpty ? name : "|" + name
        }
        add(.readable, "in")
        add(.writable, "out")
        add(.priority, "pri")
        add(.error, "err")
        add(.hangUp, "hup")
        add(.readHangUp, "rdhup")
        return parts.isEmpty ? "none" : parts
    }
}
