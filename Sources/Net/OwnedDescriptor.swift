import CLinux
import Reactor

/// A file descriptor with at most one reactor watch, owned by one object: `close()` cancels the
/// watch, then closes the descriptor, exactly once (later calls do nothing; `deinit` closes a
/// descriptor still open). The watch handler usually captures the owner, which holds this:
/// call `close()` to break that cycle (Embedded Swift has no weak references).
public final class OwnedDescriptor {
    public let reactor: Reactor
    /// The descriptor, -1 once closed.
    public private(set) var fd: Int32
    /// The watch, while there is one.
    public private(set) var watchID: WatchID? = nil

    /// Takes ownership of `fd` (which must be open).
    public init(_ fd: Int32, reactor: Reactor) {
        self.fd = fd
        self.reactor = reactor
    }

    deinit { close() }

    public var isOpen: Bool { fd >= 0 }

    /// Watches the descriptor (replacing any watch it had). On failure nothing is watched and
    /// the descriptor stays open.
    public func watch(for events: IOEvents, _ handler: @escaping (IOEvents) -> Void) throws(ReactorError) {
        guard fd >= 0 else { throw ReactorError(call: "watch closed descriptor", errno: EBADF) }
        if let watchID { reactor.cancel(watchID) }
        watchID = nil
        watchID = try reactor.watch(fd, for: events, handler)
    }

    /// Changes the readiness the watch asks for.
    public func update(_ events: IOEvents) throws(ReactorError) {
        guard let watchID else { throw ReactorError(call: "update unwatched descriptor", errno: ENOENT) }
        try reactor.update(watchID, events: events)
    }

    /// Cancels the watch and closes the descriptor; idempotent.
    public func close() {
        if let watchID { reactor.cancel(watchID) }
        watchID = nil
        if fd >= 0 { _ = cl_close(fd) }
        fd = -1
    }
}
