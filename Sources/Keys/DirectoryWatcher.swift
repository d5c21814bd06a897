import CLinux
import Reactor

/// Names appearing, changing and disappearing in one directory (inotify on the reactor), for
/// hot-plug of input devices under `/dev/input`.
public final class DirectoryWatcher {
    /// What happened to a name.
    public enum Change: Equatable, Sendable {
        /// Created, moved in, or its attributes changed (udev fixing permissions).
        case appeared
        case removed
        /// The kernel's queue overflowed: rescan everything.
        case overflow
    }

    /// The directory watched.
    public let directory: String
    private let reactor: Reactor
    private var fd: Int32 = -1
    private var watchID: WatchID? = nil
    private var handler: ((String, Change) -> Void)?
    private var buffer: [UInt8]

    /// Starts watching. Fails when inotify is unavailable or the directory cannot be watched.
    public init(directory: String, reactor: Reactor, handler: @escaping (String, Change) -> Void) throws(KeysError) {
        self.directory = directory
        self.reactor = reactor
        self.handler = handler
        buffer = [UInt8](repeating: 0, count: 4096)
        let ifd = cl_inotify_init()
        if ifd < 0 { throw KeysError("inotify", "inotify_init1", errno: ifd) }
        let mask = UInt32(CL_IN_CREATE | CL_IN_DELETE | CL_IN_ATTRIB | CL_IN_MOVED_TO | CL_IN_MOVED_FROM)
        let wd = cl_inotify_add_watch(ifd, directory, mask)
        if wd < 0 {
            _ = cl_close(ifd)
            throw KeysError("inotify " + directory, "inotify_add_watch", errno: wd)
        }
        fd = ifd
        do {
            watchID = try reactor.watch(ifd, for: .readable) { [self] _ in self.readable() }
        } catch {
            _ = cl_close(ifd)
            fd = -1
            throw KeysError("inotify " + directory, "epoll_ctl", errno: error.errno)
        }
    }

    /// Stops watching and closes the inotify descriptor.
    public func close() {
        if let w = watchID { reactor.cancel(w) }
        watchID = nil
        if fd >= 0 { _ = cl_close(fd) }
        fd = -1
        handler = nil
    }

    private func readable() {
        while fd >= 0 {
            let n = buffer.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            var changes: [(String, Change)] = []
            buffer.withUnsafeBytes { raw in
                // struct inotify_event { int wd; u32 mask; u32 cookie; u32 len; char name[len]; }
                var offset = 0
                while offset + 16 <= n {
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let len = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameStart = offset + 16
                    let nameEnd = min(n, nameStart + len)
                    var end = nameStart
                    while end < nameEnd && raw[end] != 0 { end += 1 }
                    let name = String(decoding: UnsafeRawBufferPointer(rebasing: raw[nameStart..<end]), as: UTF8.self)
                    if mask & UInt32(CL_IN_Q_OVERFLOW) != 0 {
                        changes.append(("", .overflow))
                    } else if mask & UInt32(CL_IN_DELETE | CL_IN_MOVED_FROM) != 0 {
                        changes.append((name, .removed))
                    } else if mask & UInt32(CL_IN_CREATE | CL_IN_ATTRIB | CL_IN_MOVED_TO) != 0 {
                        changes.append((name, .appeared))
                    }
                    offset = nameStart + len
                }
            }
            for (name, change) in changes { handler?(name, change) }
        }
    }
}
