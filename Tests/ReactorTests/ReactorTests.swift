import CLinux
import CMallocCounter
import TestSupport
import Testing

@testable import Reactor

private let ms: Int64 = 1_000_000

#if DEBUG
    /// Unoptimized builds allocate in places the optimizer removes (closure contexts,
    /// generic specialisation), so allocation counts are asserted on optimized builds only
    /// (`make test` runs the tests with `-c release`).
    let optimizedBuild = false
#else
    let optimizedBuild = true
#endif

@Suite("Reactor on the virtual clock")
struct VirtualClockTests {
    @Test("time jumps to each timer; SIP timer E doubles from T1 to T2 instantly")
    func sipRetransmitSchedule() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        let t1: Int64 = 500 * ms
        let t2: Int64 = 4_000 * ms
        var sentAt: [Int64] = []
        var interval = t1
        func arm() {
            loop.after(interval) {
                sentAt.append(loop.now)
                interval = min(interval * 2, t2)
                if loop.now < 64 * t1 { arm() }
            }
        }
        arm()
        try loop.run()
        #expect(Array(sentAt.prefix(6)) == [500, 1500, 3500, 7500, 11500, 15500].map { $0 * ms })
        #expect(sentAt.last! >= 32_000 * ms)
        #expect(loop.now == sentAt.last!)
    }

    @Test("run(for:) stops at the deadline and fires only what fell due")
    func runFor() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 1_000))
        defer { loop.close() }
        var fired: [Int] = []
        loop.after(10 * ms) { fired.append(10) }
        loop.after(20 * ms) { fired.append(20) }
        loop.after(30 * ms) { fired.append(30) }
        try loop.run(for: 20 * ms)
        #expect(fired == [10, 20])
        #expect(loop.now == 1_000 + 20 * ms)
        #expect(loop.timerCount == 1)
        try loop.run(for: 100 * ms)
        #expect(fired == [10, 20, 30])
        #expect(loop.now == 1_000 + 120 * ms)
    }

    @Test("a repeating 10 ms playout tick fires 6000 times in a virtual minute")
    func repeatingTick() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var ticks: [Int64] = []
        ticks.reserveCapacity(6001)
        loop.every(10 * ms) { ticks.append(loop.now) }
        try loop.run(for: 60_000 * ms)
        #expect(ticks.count == 6000)
        #expect(ticks.first == 10 * ms)
        #expect(ticks.last == 60_000 * ms)
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $1 - $0 == 10 * ms })
    }

    @Test("a stalled loop skips whole missed periods of a repeating timer")
    func stall() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var ticks: [Int64] = []
        let id = loop.every(10 * ms) { ticks.append(loop.now) }
        try loop.run(for: 20 * ms)
        loop.advanceVirtualClock(by: 55 * ms)  // the loop was busy for 55 ms
        try loop.run(for: 10 * ms)
        #expect(ticks == [10 * ms, 20 * ms, 75 * ms, 80 * ms])
        #expect(loop.deadline(of: id) == 90 * ms)
    }

    @Test("timers and watches cancelled inside callbacks never run")
    func cancellationInCallbacks() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var log: [String] = []
        var b: TimerID? = nil
        var repeating: TimerID? = nil
        loop.after(5 * ms) {
            log.append("a")
            if let b { loop.cancel(b) }
        }
        b = loop.after(5 * ms) { log.append("b") }
        repeating = loop.every(1 * ms) {
            log.append("r")
            if log.filter({ $0 == "r" }).count == 3, let repeating { loop.cancel(repeating) }
        }
        loop.after(6 * ms) {
            log.append("c")
            loop.after(0) { log.append("d") }
            loop.runSoon { log.append("soon") }
        }
        let p1 = TestPipe()
        let p2 = TestPipe()
        p1.write([1])
        p2.write([2])
        var w1: WatchID? = nil
        var w2: WatchID? = nil
        w1 = try loop.watch(p1.readEnd, for: .readable) { _ in
            log.append("w")
            if let w1 { loop.cancel(w1) }
            if let w2 { loop.cancel(w2) }
        }
        w2 = try loop.watch(p2.readEnd, for: .readable) { _ in
            log.append("w")
            if let w1 { loop.cancel(w1) }
            if let w2 { loop.cancel(w2) }
        }
        try loop.run()
        #expect(log == ["w", "r", "r", "r", "a", "c", "soon", "d"])
        #expect(loop.watchCount == 0)
        #expect(loop.timerCount == 0)
        #expect(!loop.hasWork)
    }

    @Test("deferred work runs before timers, and work it defers waits one iteration")
    func deferred() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var log: [Int] = []
        loop.after(0) { log.append(3) }
        loop.runSoon {
            log.append(1)
            loop.runSoon { log.append(4) }
        }
        loop.runSoon { log.append(2) }
        try loop.run()
        #expect(log == [1, 2, 3, 4])
    }

    @Test("ready descriptors run before the virtual clock moves")
    func descriptorsBeforeTime() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        let pipe = TestPipe()
        var log: [String] = []
        var watch: WatchID? = nil
        watch = try loop.watch(pipe.readEnd, for: .readable) { _ in
            _ = pipe.drain()
            log.append("read@" + String(loop.now))
            if let watch { loop.cancel(watch) }
        }
        loop.after(100 * ms) { log.append("timer@" + String(loop.now)) }
        pipe.write([7])
        try loop.run()
        #expect(log == ["read@0", "timer@" + String(100 * ms)])
    }

    @Test(
        "steady state allocates nothing: 10,000 ticks of a timer and an eventfd watch",
        .enabled(if: optimizedBuild, "allocation counts are meaningful in optimized builds only")
    )
    func noAllocationPerTick() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        let efd = cl_eventfd(0)
        #expect(efd >= 0)
        defer { _ = cl_close(efd) }
        var reads = 0
        var ticks = 0
        try loop.watch(efd, for: .readable) { _ in
            var value: UInt64 = 0
            if cl_eventfd_read(efd, &value) == 0 { reads += 1 }
        }
        loop.every(10 * ms) {
            ticks += 1
            _ = cl_eventfd_write(efd, 1)
        }
        loop.every(7 * ms) {}
        try loop.run(for: 1_000 * ms)  // warm up: tables reach their working size
        let before = mc_thread_allocations()
        for _ in 0..<10_000 {
            try loop.runOnce(block: true)
        }
        let after = mc_thread_allocations()
        #expect(after - before == 0, "allocations in steady state: \(after - before)")
        #expect(ticks > 3_000)
        #expect(reads > 3_000)
    }
}

@Suite("Reactor on the real clock")
struct RealClockTests {
    @Test("the reactor self-test passes on the host")
    func selfTest() {
        var lines: [String] = []
        var test = ReactorSelfTest { lines.append($0) }
        let ok = test.run()
        #expect(ok, "\(lines)")
        #expect(test.passed == 9)
        #expect(lines.last == "9 passed, 0 failed")
    }

    @Test("timers never fire early on the monotonic clock")
    func notEarly() throws {
        let loop = try Reactor()
        defer { loop.close() }
        var lateness: [Int64] = []
        for delay in [1, 3, 2, 5, 4] as [Int64] {
            let due = loop.now + delay * ms
            loop.after(delay * ms) { lateness.append(loop.now - due) }
        }
        try loop.run()
        #expect(lateness.count == 5)
        #expect(lateness.allSatisfy { $0 >= 0 })
    }

    @Test("the loop measures its longest pass and how late it ran due timers")
    func loopStatistics() throws {
        let loop = try Reactor()
        defer { loop.close() }
        // A callback that works for 15 ms, then a timer due during that work.
        loop.after(1 * ms) {
            let start = cl_monotonic_ns()
            while cl_monotonic_ns() - start < 15 * ms {}
        }
        loop.after(5 * ms) {}
        try loop.run()
        #expect(loop.longestPassNanoseconds >= 15 * ms)
        #expect(loop.timerLateness.count >= 2)
        // The second timer was due 4 ms into the 15 ms of work: at least ~10 ms late.
        #expect(loop.timerLateness.maximumNanoseconds >= 9 * ms)
        #expect(loop.loopStatistics.contains("longest pass "), "\(loop.loopStatistics)")
        // The virtual clock records no lateness (its timers run exactly on time).
        let virtual = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { virtual.close() }
        virtual.after(5 * ms) {}
        try virtual.run()
        #expect(virtual.timerLateness.count == 0)
    }

    @Test("bad descriptors give typed errors naming the call and errno; the loop keeps running")
    func badDescriptors() throws {
        let loop = try Reactor()
        defer { loop.close() }
        #expect(throws: ReactorError(call: "epoll_ctl(ADD) on fd -1", errno: EBADF)) {
            try loop.watch(-1, for: .readable) { _ in }
        }
        let fd = cl_eventfd(0)
        _ = cl_close(fd)
        do {
            try loop.watch(fd, for: .readable) { _ in }
            Issue.record("closed fd accepted")
        } catch {
            #expect(error.errno == EBADF)
            #expect(error.description == "epoll_ctl(ADD) on fd \(fd): EBADF (Bad file descriptor)")
        }
        // A regular file cannot be polled: EPERM.
        let file = cl_open("/proc/self/cmdline", O_RDONLY, 0)
        #expect(file >= 0)
        defer { _ = cl_close(file) }
        do {
            try loop.watch(file, for: .readable) { _ in }
            Issue.record("regular file accepted")
        } catch {
            #expect(error.errnoName == "EPERM")
        }
        // Updating a cancelled watch is an error, cancelling it twice is not.
        let pipe = TestPipe()
        let id = try loop.watch(pipe.readEnd, for: .readable) { _ in }
        loop.cancel(id)
        loop.cancel(id)
        #expect(throws: ReactorError.self) { try loop.update(id, events: .writable) }
        var ran = false
        loop.after(1 * ms) { ran = true }
        try loop.run()
        #expect(ran)
    }

    @Test("a descriptor closed while watched stops reporting; cancelling it later is harmless")
    func closedWhileWatched() throws {
        let loop = try Reactor()
        defer { loop.close() }
        let efd = cl_eventfd(1)
        var calls = 0
        let id = try loop.watch(efd, for: .readable) { _ in calls += 1 }
        _ = cl_close(efd)
        try loop.runUntilIdle()
        #expect(calls == 0)
        loop.cancel(id)
        #expect(loop.watchCount == 0)
    }

    @Test("a pipe's closed write end reports hang-up, and writable readiness can be switched on")
    func hangUpAndUpdate() throws {
        let loop = try Reactor()
        defer { loop.close() }
        let pipe = TestPipe()
        var seen: IOEvents = []
        var watch: WatchID? = nil
        watch = try loop.watch(pipe.readEnd, for: .readable) { events in
            seen.formUnion(events)
            if events.contains(.hangUp), let watch { loop.cancel(watch) }
        }
        loop.runSoon { pipe.closeWriteEnd() }
        try loop.run()
        #expect(seen.contains(.hangUp))

        let other = TestPipe()
        var writable = false
        var w: WatchID? = nil
        w = try loop.watch(other.writeEnd, for: []) { events in
            writable = events.contains(.writable)
            if let w { loop.cancel(w) }
        }
        try loop.runUntilIdle()
        #expect(!writable)
        try loop.update(w!, events: .writable)
        try loop.run()
        #expect(writable)
    }

    @Test("signals arrive on the loop; SIGHUP reloads and SIGTERM stops in order")
    func signals() throws {
        let loop = try Reactor()
        defer { loop.close() }
        var log: [String] = []
        try loop.onSignal(SIGUSR2) { log.append("usr2:\($0)") }
        try loop.handleStandardSignals(shutdown: { log.append("shutdown:\($0)") }, reload: { log.append("reload") })
        // Signals pending at the same time are read lowest number first, so space them out.
        loop.runSoon { _ = cl_raise(SIGUSR2) }
        loop.after(2 * ms) { _ = cl_raise(SIGHUP) }
        loop.after(5 * ms) { _ = cl_raise(SIGTERM) }
        let watchdog = loop.after(5_000 * ms) { log.append("watchdog") }
        try loop.run()
        loop.cancel(watchdog)
        #expect(log == ["usr2:\(SIGUSR2)", "reload", "shutdown:\(SIGTERM)"])
    }

    @Test("ReactorError names the call and errno")
    func errorText() {
        let error = ReactorError(call: "epoll_ctl(MOD) on fd 9", errno: ENOENT)
        #expect(error.description == "epoll_ctl(MOD) on fd 9: ENOENT (No such file or directory)")
        #expect(ReactorError(call: "x", errno: 4095).errnoName == "errno 4095")
    }
}
