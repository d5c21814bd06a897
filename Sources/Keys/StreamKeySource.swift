import CLinux
import Reactor

/// Kernel-format `struct input_event` records from a FIFO (`fifo:PATH`) or a file
/// (`file:PATH`), for tests, automation and replays. Reads are non-blocking and may split
/// records anywhere. A FIFO is created when missing and opened read-write, so writers can
/// come and go without an end of file. A regular file (which epoll cannot watch) is replayed
/// on timers with the recorded spacing between events (`paced`, gaps capped at 10 s) or as
/// fast as the loop allows; anything pollable named by `file:` (a pipe, a terminal) is read as
/// it arrives. `onEnd` runs once at the end of a file or on a read error, after keys still
/// held have been released.
public final class StreamKeySource {
    /// Which kind of stream.
    public enum Kind: Equatable, Sendable {
        case fifo, file
    }

    /// Where the records come from.
    public let path: String
    public let kind: Kind
    private let reactor: Reactor
    private let router: KeyRouter
    private var decoder: InputEventDecoder
    private let paced: Bool
    private var onEnd: (() -> Void)?
    private var log: (String) -> Void
    private var fd: Int32 = -1
    private var watchID: WatchID? = nil
    private var buffer: [UInt8]
    // Replay of a regular file.
    private var queue: [InputEvent] = []
    private var queueHead = 0
    private var replayTimer: TimerID? = nil
    private var replayStarted = false
    private var headDue: Int64? = nil
    private var lastRecorded: Int64 = 0
    private var lastDue: Int64 = 0
    private var atEOF = false

    /// Bytes read so far.
    public private(set) var bytesRead = 0
    /// Whether the source has ended (end of file, read error or `close()`).
    public private(set) var ended = false

    /// Opens the stream and starts reading on `reactor`.
    public init(
        path: String, kind: Kind, layout: InputEventLayout = .native, reactor: Reactor, router: KeyRouter,
        paced: Bool = true, log: @escaping (String) -> Void = keysLogToStandardError,
        onEnd: @escaping () -> Void = {}
    ) throws(KeysError) {
        self.path = path
        self.kind = kind
        self.reactor = reactor
        self.router = router
        self.decoder = InputEventDecoder(layout: layout)
        self.paced = paced
        self.onEnd = onEnd
        self.log = log
        buffer = [UInt8](repeating: 0, count: 4096)
        let subject = (kind == .fifo ? "fifo " : "file ") + path
        if kind == .fifo {
            var isFIFO = cl_is_fifo(path)
            if isFIFO == -ENOENT {
                let rc = cl_mkfifo(path, 0o600)
                if rc < 0 && rc != -EEXIST { throw KeysError(subject, "mkfifo", errno: rc) }
                isFIFO = 1
            }
            if isFIFO < 0 { throw KeysError(subject, "stat", errno: isFIFO) }
            // Read-write keeps a writer open, so the FIFO never reports end of file.
            fd = cl_open(path, (isFIFO == 1 ? O_RDWR : O_RDONLY) | O_NONBLOCK, 0)
        } else {
            fd = cl_open(path, O_RDONLY | O_NONBLOCK, 0)
        }
        if fd < 0 {
            let e = fd
            fd = -1
            throw KeysError(subject, "open", errno: e)
        }
        do {
            watchID = try reactor.watch(fd, for: .readable) { [self] events in self.readable(events) }
        } catch {
            if kind == .file && error.errno == EPERM {
                // A regular file: replay it on timers.
                queue.reserveCapacity(256)
                replayTimer = reactor.after(0) { [self] in self.replayStep() }
            } else {
                _ = cl_close(fd)
                fd = -1
                throw KeysError(subject, "epoll_ctl", errno: error.errno)
            }
        }
    }

    /// Stops reading and closes the descriptor (releases nothing: the router stays usable).
    public func close() {
        if let w = watchID { reactor.cancel(w) }
        watchID = nil
        if let t = replayTimer { reactor.cancel(t) }
        replayTimer = nil
        if fd >= 0 { _ = cl_close(fd) }
        fd = -1
        ended = true
        onEnd = nil
        log = { _ in }
    }

    // MARK: pollable streams

    private func readable(_ events: IOEvents) {
        // Level-triggered: one bounded batch per wake-up keeps the loop fair under a flood.
        var rounds = 0
        while rounds < 16 && fd >= 0 {
            rounds += 1
            let n = buffer.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytesRead += n
                buffer.withUnsafeBytes { raw in
                    decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { router.handle($0) }
                }
                if n < buffer.count { return }
                continue
            }
            if n == -Int(EAGAIN) || n == -Int(EINTR) { return }
            if n < 0 { log(path + ": read failed: " + KeysError.errnoText(Int32(-n))) }
            finish()
            return
        }
    }

    private func finish() {
        if let w = watchID { reactor.cancel(w) }
        watchID = nil
        if decoder.partialCount > 0 {
            log(path + ": " + String(decoder.partialCount) + " trailing bytes (not a whole record) ignored")
        }
        if fd >= 0 { _ = cl_close(fd) }
        fd = -1
        ended = true
        // Nothing can release a key after the end: do it now (no stuck repeat or hook).
        router.resolver.releaseAll()
        let end = onEnd
        onEnd = nil
        end?()
    }

    // MARK: regular-file replay

    private func replayStep() {
        replayTimer = nil
        while fd >= 0 {
            if queueHead == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
                if atEOF {
                    finish()
                    return
                }
                fill()
                if !paced && queueHead < queue.count {
                    // Unpaced: one chunk per timer pass, so the loop is never starved.
                    while queueHead < queue.count {
                        router.handle(queue[queueHead])
                        queueHead += 1
                    }
                    replayTimer = reactor.after(0) { [self] in self.replayStep() }
                    return
                }
                continue
            }
            let event = queue[queueHead]
            let due = headDue ?? dueTime(event)
            if due > reactor.now {
                headDue = due
                replayTimer = reactor.after(due - reactor.now) { [self] in self.replayStep() }
                return
            }
            headDue = nil
            queueHead += 1
            router.handle(event)
        }
    }

    private func fill() {
        let n = buffer.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
        if n <= 0 {
            if n < 0 && n != -Int(EINTR) { log(path + ": read failed: " + KeysError.errnoText(Int32(-n))) }
            if n != -Int(EINTR) { atEOF = true }
            return
        }
        bytesRead += n
        buffer.withUnsafeBytes { raw in
            decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { queue.append($0) }
        }
    }

    /// Reactor time at which a recorded event is due: the recorded spacing, each gap clamped
    /// to 0...10 s (clocks that jump or garbage timestamps do not stall the replay).
    private func dueTime(_ event: InputEvent) -> Int64 {
        let t = event.timeNanoseconds
        guard replayStarted else {
            replayStarted = true
            lastRecorded = t
            lastDue = reactor.now
            return lastDue
        }
        var gap = t &- lastRecorded
        if gap < 0 { gap = 0 }
        if gap > 10_000_000_000 { gap = 10_000_000_000 }
        lastRecorded = t
        lastDue += gap
        return lastDue
    }
}
