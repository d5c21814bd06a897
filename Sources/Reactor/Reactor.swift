import CLinux

/// The identity of a file-descriptor watch, good for changing or cancelling it; a stale
/// identity is harmless.
public struct WatchID: Equatable, Hashable, Sendable, CustomStringConvertible {
    let slot: Int32
    let generation: UInt32

    var token: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(bitPattern: slot)) }

    public var description: String { "watch#" + String(slot) + "." + String(generation) }
}

/// Where the reactor's time comes from.
public enum ReactorClock: Equatable, Sendable {
    /// CLOCK_MONOTONIC: the firmware's clock.
    case monotonic
    /// A virtual clock starting at the given nanosecond count. When the loop is idle (no
    /// ready descriptor, no deferred work) time jumps straight to the next timer, so tests of
    /// retransmission timers, playout ticks or long presses run instantly and deterministically.
    case virtual(startNanoseconds: Int64)
}

/// The firmware's one event loop: epoll over file descriptors, a min-heap of timers on a
/// monotonic nanosecond clock (real or virtual), deferred "run soon" work and signals
/// through signalfd. Single-threaded by design: every callback runs on the thread that
/// calls `run()`, is short and never blocks.
///
/// In the spirit of libre's `fd_listen`/`tmr_start`: `watch(_:for:_:)`, `after(_:_:)`,
/// `every(_:_:)`, `runSoon(_:)`, `onSignal(_:_:)`, `run()` and `stop()`. Adding or cancelling
/// watches and timers from inside any callback is safe. Once the tables have reached their
/// working size, a loop iteration allocates nothing.
public final class Reactor {
    struct WatchSlot {
        var fd: Int32 = -1
        var events: IOEvents = []
        var handler: ((IOEvents) -> Void)? = nil
        var generation: UInt32 = 0
        var nextFree: Int32 = -1
        /// The reactor's own signalfd: drained by the reactor, not by a handler.
        var isSignalFD = false
    }

    struct SignalHandler {
        var signal: Int32
        var handler: (Int32) -> Void
        /// Stop the loop once the handler ran (SIGINT/SIGTERM in `handleStandardSignals`).
        var stopsLoop: Bool
    }

    /// The clock this reactor runs on.
    public let clock: ReactorClock
    private let epollFD: Int32
    private var watchSlots: [WatchSlot] = []
    private var watchFreeHead: Int32 = -1
    private var timers = TimerHeap(capacity: 64)
    private var deferred: [() -> Void] = []
    private var deferredRunning: [() -> Void] = []
    private var virtualNow: Int64 = 0
    private var stopRequested = false
    private let readyCapacity: Int32 = 64
    private let ready: UnsafeMutablePointer<cl_ready_event>

    private var signalFD: Int32 = -1
    private var signalWatch: WatchID? = nil
    private var signalHandlers: [SignalHandler] = []

    /// Number of active file-descriptor watches (the signalfd included once signals are used).
    public private(set) var watchCount = 0
    /// Number of pending timers.
    public var timerCount: Int { timers.count }
    /// Number of loop iterations so far.
    public private(set) var iterations: UInt64 = 0
    /// On the real clock: how long after its deadline the loop ran each timer (the audio
    /// period's tick among them).
    public private(set) var timerLateness = LatencyHistogram()
    /// The longest stretch of work between two waits (wall time, ns): how long the loop was
    /// deaf at worst. A pass longer than an audio period is an audio gap.
    public private(set) var longestPassNanoseconds: Int64 = 0
    /// When the last wait returned (monotonic ns; 0 before the first).
    private var wokeAt: Int64 = 0

    /// "wake-ups N, timer lateness p50 .. p99 .. max .. (n=..), longest pass .. ms".
    public var loopStatistics: String {
        "wake-ups " + String(iterations) + ", timer lateness " + timerLateness.description + ", longest pass "
            + LatencyHistogram.milliseconds(longestPassNanoseconds)
    }

    /// Creates a loop. Fails only if the kernel refuses an epoll instance.
    public init(clock: ReactorClock = .monotonic) throws(ReactorError) {
        self.clock = clock
        let fd = cl_epoll_create()
        if fd < 0 { throw ReactorError(call: "epoll_create1", errno: -fd) }
        epollFD = fd
        if case .virtual(let start) = clock { virtualNow = start }
        ready = UnsafeMutablePointer<cl_ready_event>.allocate(capacity: Int(readyCapacity))
        watchSlots.reserveCapacity(32)
        deferred.reserveCapacity(32)
        deferredRunning.reserveCapacity(32)
    }

    deinit {
        if signalFD >= 0 { _ = cl_close(signalFD) }
        _ = cl_close(epollFD)
        ready.deallocate()
    }

    /// Breaks the cycles between this reactor and the handlers it holds (handlers usually
    /// capture their owners, which hold the reactor). Call when the loop is done for good.
    public func close() {
        for i in watchSlots.indices where watchSlots[i].handler != nil {
            _ = cl_epoll_ctl(epollFD, Int32(CL_EPOLL_CTL_DEL), watchSlots[i].fd, 0, 0)
            watchSlots[i].handler = nil
        }
        watchCount = 0
        timers.removeAll()
        deferred.removeAll()
        signalHandlers.removeAll()
        signalWatch = nil
    }

    // MARK: time

    /// The current time in nanoseconds on this reactor's clock.
    public var now: Int64 {
        switch clock {
        case .monotonic: return cl_monotonic_ns()
        case .virtual: return virtualNow
        }
    }

    /// The wall clock (Unix time in nanoseconds, UTC): CLOCK_REALTIME on the monotonic clock; on
    /// the virtual clock its nanosecond count itself, so a test starting at a date runs through
    /// days and weeks of wall time in milliseconds.
    public var wallClock: Int64 {
        switch clock {
        case .monotonic: return cl_realtime_ns()
        case .virtual: return virtualNow
        }
    }

    /// Whether this reactor runs on a virtual clock.
    public var isVirtual: Bool {
        if case .virtual = clock { return true }
        return false
    }

    // MARK: watches (fd_listen)

    /// Watches `fd` for `events`; the handler gets the readiness that occurred (errors and
    /// hang-ups are always reported). Fails with the errno of `epoll_ctl` for a closed,
    /// invalid or unpollable descriptor (a regular file gives EPERM); the loop is unaffected.
    @discardableResult
    public func watch(
        _ fd: Int32, for events: IOEvents, _ handler: @escaping (IOEvents) -> Void
    ) throws(ReactorError) -> WatchID {
        let slot: Int32
        if watchFreeHead >= 0 {
            slot = watchFreeHead
        } else {
            slot = Int32(watchSlots.count)
        }
        let generation = slot < watchSlots.count ? watchSlots[Int(slot)].generation : 0
        let id = WatchID(slot: slot, generation: generation)
        let rc = cl_epoll_ctl(epollFD, Int32(CL_EPOLL_CTL_ADD), fd, events.rawValue, id.token)
        if rc < 0 { throw ReactorError(call: "epoll_ctl(ADD) on fd " + String(fd), errno: -rc) }
        if slot == watchSlots.count {
            watchSlots.append(WatchSlot())
        } else {
            watchFreeHead = watchSlots[Int(slot)].nextFree
        }
        watchSlots[Int(slot)].fd = fd
        watchSlots[Int(slot)].events = events
        watchSlots[Int(slot)].handler = handler
        watchSlots[Int(slot)].nextFree = -1
        watchSlots[Int(slot)].isSignalFD = false
        watchCount += 1
        return id
    }

    /// Changes the readiness a watch asks for (e.g. add `.writable` while output is queued).
    public func update(_ id: WatchID, events: IOEvents) throws(ReactorError) {
        guard isActive(id) else {
            throw ReactorError(call: "update(" + id.description + ")", errno: ENOENT)
        }
        let fd = watchSlots[Int(id.slot)].fd
        if watchSlots[Int(id.slot)].events == events { return }
        let rc = cl_epoll_ctl(epollFD, Int32(CL_EPOLL_CTL_MOD), fd, events.rawValue, id.token)
        if rc < 0 { throw ReactorError(call: "epoll_ctl(MOD) on fd " + String(fd), errno: -rc) }
        watchSlots[Int(id.slot)].events = events
    }

    /// Stops watching. Safe inside any callback, including the watch's own handler, and for a
    /// descriptor already closed (cancel before close when you can). Does not close the fd.
    public func cancel(_ id: WatchID) {
        guard isActive(id) else { return }
        let i = Int(id.slot)
        // EBADF/ENOENT here mean the fd was closed first; the kernel already dropped it.
        _ = cl_epoll_ctl(epollFD, Int32(CL_EPOLL_CTL_DEL), watchSlots[i].fd, 0, 0)
        watchSlots[i].handler = nil
        watchSlots[i].fd = -1
        watchSlots[i].generation &+= 1
        watchSlots[i].nextFree = watchFreeHead
        watchFreeHead = id.slot
        watchCount -= 1
    }

    /// Whether the watch is still active.
    public func isActive(_ id: WatchID) -> Bool {
        let i = Int(id.slot)
        return i >= 0 && i < watchSlots.count && watchSlots[i].generation == id.generation
            && watchSlots[i].handler != nil
    }

    // MARK: timers (tmr_start)

    /// Runs `handler` once, `nanoseconds` from now (0 = at the next timer pass).
    @discardableResult
    public func after(_ nanoseconds: Int64, _ handler: @escaping () -> Void) -> TimerID {
        timers.insert(deadline: now + max(0, nanoseconds), period: 0, handler: handler)
    }

    /// Runs `handler` every `period` nanoseconds, the first time one period from now (or after
    /// `firstDelay`). Deadlines advance by whole periods, so a repeating timer never drifts;
    /// periods the loop missed entirely are skipped, not fired in a burst.
    @discardableResult
    public func every(
        _ period: Int64, firstAfter firstDelay: Int64? = nil, _ handler: @escaping () -> Void
    ) -> TimerID {
        let p = max(1, period)
        return timers.insert(deadline: now + max(0, firstDelay ?? p), period: p, handler: handler)
    }

    /// Cancels a timer. Safe inside any callback, including the timer's own.
    public func cancel(_ id: TimerID) {
        timers.cancel(id)
    }

    /// Whether the timer is still pending.
    public func isPending(_ id: TimerID) -> Bool { timers.isPending(id) }

    /// The deadline (reactor time, ns) of a pending timer.
    public func deadline(of id: TimerID) -> Int64? { timers.deadline(of: id) }

    // MARK: deferred work

    /// Runs `handler` at the start of the next loop iteration, before any I/O or timer.
    public func runSoon(_ handler: @escaping () -> Void) {
        deferred.append(handler)
    }

    // MARK: signals

    /// Delivers `signal` to `handler` on the loop (through signalfd; the signal is blocked for
    /// normal delivery). Several handlers for one signal run in the order added.
    public func onSignal(_ signal: Int32, _ handler: @escaping (Int32) -> Void) throws(ReactorError) {
        try addSignalHandler(SignalHandler(signal: signal, handler: handler, stopsLoop: false))
    }

    /// The usual daemon wiring: SIGINT and SIGTERM run `shutdown` and then stop the loop (an
    /// orderly shutdown: `run()` returns), SIGHUP calls `reload`.
    public func handleStandardSignals(
        shutdown: @escaping (Int32) -> Void = { _ in }, reload: @escaping () -> Void
    ) throws(ReactorError) {
        try addSignalHandler(SignalHandler(signal: SIGINT, handler: shutdown, stopsLoop: true))
        try addSignalHandler(SignalHandler(signal: SIGTERM, handler: shutdown, stopsLoop: true))
        try addSignalHandler(SignalHandler(signal: SIGHUP, handler: { _ in reload() }, stopsLoop: false))
    }

    private func addSignalHandler(_ entry: SignalHandler) throws(ReactorError) {
        signalHandlers.append(entry)
        var wanted: [Int32] = []
        for existing in signalHandlers where !wanted.contains(existing.signal) { wanted.append(existing.signal) }
        let rc = wanted.withUnsafeBufferPointer { buffer in
            cl_signalfd_set(signalFD, buffer.baseAddress, Int32(buffer.count))
        }
        if rc < 0 {
            signalHandlers.removeLast()
            throw ReactorError(call: "signalfd(signal " + String(entry.signal) + ")", errno: -rc)
        }
        if signalFD < 0 {
            do {
                let id = try watch(rc, for: .readable) { _ in }
                watchSlots[Int(id.slot)].isSignalFD = true
                signalFD = rc
                signalWatch = id
            } catch {
                _ = cl_close(rc)
                signalHandlers.removeLast()
                throw error
            }
        }
    }

    private func drainSignals() {
        while true {
            let signo = cl_signalfd_read(signalFD)
            if signo < 0 { return }  // EAGAIN: drained
            var i = 0
            while i < signalHandlers.count {
                let entry = signalHandlers[i]
                if entry.signal == signo {
                    entry.handler(signo)
                    if entry.stopsLoop { stopRequested = true }
                }
                i += 1
            }
        }
    }

    // MARK: running

    /// Asks `run()` to return after the current iteration.
    public func stop() {
        stopRequested = true
    }

    /// Whether anything could still wake the loop: a watch, a timer or deferred work.
    public var hasWork: Bool {
        watchCount > 0 || !timers.isEmpty || !deferred.isEmpty
    }

    /// Runs until `stop()` is called or nothing is left that could wake the loop.
    /// Throws only if epoll itself fails (never for a bad watched descriptor).
    public func run() throws(ReactorError) {
        stopRequested = false
        while !stopRequested && hasWork {
            try iterate(block: true, waitAfterWork: true)
        }
    }

    /// Virtual clock: runs until time reaches `deadline` (all timers due by then fire, in
    /// order), or until `stop()`. On the real clock it runs the loop until that time.
    public func run(until deadline: Int64) throws(ReactorError) {
        stopRequested = false
        let sentinel = timers.insert(deadline: deadline, period: 0) {}
        while !stopRequested && timers.isPending(sentinel) {
            try runOnce(block: true)
        }
        timers.cancel(sentinel)
    }

    /// Virtual clock: runs for `nanoseconds` of reactor time (see `run(until:)`).
    public func run(for nanoseconds: Int64) throws(ReactorError) {
        try run(until: now + nanoseconds)
    }

    /// Runs what is ready now without waiting or moving a virtual clock: deferred work, due
    /// timers and ready descriptors, repeatedly, until nothing is ready (at most `limit`
    /// iterations). Returns the number of iterations that did something.
    @discardableResult
    public func runUntilIdle(limit: Int = 10_000) throws(ReactorError) -> Int {
        var busy = 0
        while busy < limit {
            guard try runOnce(block: false) else { break }
            busy += 1
        }
        return busy
    }

    /// One loop iteration: deferred work, due timers, then epoll. With `block`, waits for the
    /// next descriptor or timer (on a virtual clock, an idle loop jumps to the next timer
    /// instead of waiting, and waits on descriptors only when no timer is pending).
    /// Returns whether anything ran.
    @discardableResult
    public func runOnce(block: Bool) throws(ReactorError) -> Bool {
        try iterate(block: block, waitAfterWork: false)
    }

    /// `runOnce`; with `waitAfterWork` (the `run()` loop on the real clock) an iteration whose
    /// timers ran goes on to wait for the next deadline or descriptor in the same epoll_wait,
    /// instead of returning for a second, non-blocking one: one system call per wake-up.
    private func iterate(block: Bool, waitAfterWork: Bool) throws(ReactorError) -> Bool {
        iterations &+= 1
        var didWork = runDeferred()
        if fireDueTimers() { didWork = true }

        var timeout: Int32 = 0
        if block && deferred.isEmpty && !stopRequested {
            if isVirtual {
                if !didWork { timeout = timers.isEmpty ? -1 : 0 }
            } else if !didWork || (waitAfterWork && !timers.isEmpty) {
                // (After work with no timer left, the loop looks again first: the work may
                // have removed the last thing that could wake it.)
                timeout = realTimeout()
            }
        }
        let beforeWait = cl_monotonic_ns()
        if wokeAt != 0 && beforeWait - wokeAt > longestPassNanoseconds { longestPassNanoseconds = beforeWait - wokeAt }
        let count = cl_epoll_wait(epollFD, ready, readyCapacity, timeout)
        wokeAt = cl_monotonic_ns()
        if count < 0 {
            if count == -EINTR { return didWork }
            throw ReactorError(call: "epoll_wait", errno: -count)
        }
        if count > 0 {
            dispatch(Int(count))
            return true
        }
        if isVirtual && block && !didWork && deferred.isEmpty && !stopRequested,
            let next = timers.nextDeadline
        {
            if next > virtualNow { virtualNow = next }
            return fireDueTimers()
        }
        return didWork
    }

    /// Moves a virtual clock forward by `nanoseconds` without running anything (timers that
    /// fall due run at the next iteration). For tests that simulate a stalled loop.
    public func advanceVirtualClock(by nanoseconds: Int64) {
        guard isVirtual else { return }
        virtualNow += max(0, nanoseconds)
    }

    private func realTimeout() -> Int32 {
        guard let next = timers.nextDeadline else { return -1 }
        let delta = next - cl_monotonic_ns()
        if delta <= 0 { return 0 }
        // Round up: a timer never fires early.
        let ms = (delta + 999_999) / 1_000_000
        return ms > Int64(Int32.max) ? Int32.max : Int32(ms)
    }

    private func runDeferred() -> Bool {
        if deferred.isEmpty { return false }
        swap(&deferred, &deferredRunning)
        for handler in deferredRunning { handler() }
        deferredRunning.removeAll(keepingCapacity: true)
        return true
    }

    private func fireDueTimers() -> Bool {
        guard let first = timers.nextDeadline else { return false }
        var current = now
        if first > current { return false }
        let limit = timers.sequenceMark
        var fired = false
        var deadline = first
        while let handler = timers.popDue(now: current, sequenceLimit: limit) {
            if !isVirtual { timerLateness.record(nanoseconds: current - deadline) }
            fired = true
            handler()
            if stopRequested { break }
            current = now
            deadline = timers.nextDeadline ?? current
        }
        return fired
    }

    private func dispatch(_ count: Int) {
        for k in 0..<count {
            let token = ready[k].data
            let slot = Int(UInt32(truncatingIfNeeded: token))
            let generation = UInt32(truncatingIfNeeded: token >> 32)
            // A watch cancelled (or replaced) by an earlier handler in this batch is skipped.
            guard slot < watchSlots.count, watchSlots[slot].generation == generation,
                let handler = watchSlots[slot].handler
            else { continue }
            if watchSlots[slot].isSignalFD {
                drainSignals()
            } else {
                handler(IOEvents(rawValue: ready[k].events))
            }
        }
    }
}
