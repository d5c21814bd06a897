import CLinux

/// The reactor's self-test on the real clock, run by `deskphone --self-test` on every board
/// (and under qemu in CI) and by the host tests: timers in deadline order, fd readiness
/// through a pipe, an eventfd, a signal to itself, cancellation inside callbacks, bad
/// descriptors, deferred work and the standard signal wiring. Each check reports one line.
public struct ReactorSelfTest {
    public private(set) var passed = 0
    public private(set) var failed = 0
    private let report: (String) -> Void
    private let summary: Bool

    /// `report` receives one line per check (`ok   ...` / `FAIL ...`) and, with `summary`, a
    /// last line `N passed, N failed`.
    public init(report: @escaping (String) -> Void, summary: Bool = true) {
        self.report = report
        self.summary = summary
    }

    /// Runs every check; returns true only if all held.
    public mutating func run() -> Bool {
        check("timers fire in deadline order, never early", timersInOrder())
        check("repeating timer keeps its period and cancels itself", repeatingTimer())
        check("pipe readiness reaches the watch handler", pipeReadiness())
        check("eventfd write wakes the loop with its count", eventfdWake())
        check("cancelling timers and watches inside callbacks", cancellationInCallbacks())
        check("closed and invalid fds give typed errors, loop keeps running", badDescriptors())
        check("run-soon work runs first, in order", deferredOrder())
        check("signal to itself arrives through signalfd", signalToSelf())
        check("SIGHUP reloads, SIGTERM stops the loop in order", standardSignals())
        if summary { report(String(passed) + " passed, " + String(failed) + " failed") }
        return failed == 0
    }

    private mutating func check(_ name: String, _ result: String?) {
        if let problem = result {
            failed += 1
            report("FAIL " + name + ": " + problem)
        } else {
            passed += 1
            report("ok   " + name)
        }
    }

    private static let ms: Int64 = 1_000_000

    private func timersInOrder() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        let start = loop.now
        var order: [Int] = []
        var early = false
        let plan: [(Int, Int64)] = [(3, 30), (1, 10), (4, 40), (2, 10)]
        for (tag, delay) in plan {
            loop.after(delay * Self.ms) {
                if loop.now - start < delay * Self.ms { early = true }
                order.append(tag)
            }
        }
        let late = loop.after(200 * Self.ms) { order.append(99) }
        loop.cancel(late)
        do { try loop.run() } catch { return error.description }
        if early { return "a timer fired before its deadline" }
        if order != [1, 2, 3, 4] { return "order was " + describe(order) }
        return nil
    }

    private func repeatingTimer() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        var ticks = 0
        var id: TimerID? = nil
        let start = loop.now
        id = loop.every(5 * Self.ms) {
            ticks += 1
            if ticks == 5, let me = id { loop.cancel(me) }
        }
        do { try loop.run() } catch { return error.description }
        let elapsed = loop.now - start
        if ticks != 5 { return "ticked " + String(ticks) + " times" }
        if elapsed < 25 * Self.ms { return "5 periods of 5 ms took only " + String(elapsed / 1000) + " us" }
        return nil
    }

    private func pipeReadiness() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        var fds: (Int32, Int32) = (-1, -1)
        let rc = withUnsafeMutableBytes(of: &fds) { cl_pipe($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }
        if rc < 0 { return "pipe2: " + ReactorError.errnoName(-rc) }
        defer {
            _ = cl_close(fds.0)
            _ = cl_close(fds.1)
        }
        var received: [UInt8] = []
        var watch: WatchID? = nil
        do {
            watch = try loop.watch(fds.0, for: .readable) { events in
                var buffer: (UInt64, UInt64) = (0, 0)
                let n = withUnsafeMutableBytes(of: &buffer) { cl_read(fds.0, $0.baseAddress, $0.count) }
                if n > 0 {
                    withUnsafeBytes(of: &buffer) { received.append(contentsOf: $0[0..<n]) }
                }
                if received.count >= 5, let w = watch { loop.cancel(w) }
            }
        } catch { return error.description }
        let message: [UInt8] = [0x68, 0x65, 0x6C, 0x6C, 0x6F]
        loop.after(2 * Self.ms) {
            _ = message.withUnsafeBytes { cl_write(fds.1, $0.baseAddress, $0.count) }
        }
        do { try loop.run() } catch { return error.description }
        if received != message { return "received " + describe(received.map { Int($0) }) }
        return nil
    }

    private func eventfdWake() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        let efd = cl_eventfd(0)
        if efd < 0 { return "eventfd: " + ReactorError.errnoName(-efd) }
        defer { _ = cl_close(efd) }
        var total: UInt64 = 0
        var watch: WatchID? = nil
        do {
            watch = try loop.watch(efd, for: .readable) { _ in
                var value: UInt64 = 0
                if cl_eventfd_read(efd, &value) == 0 { total += value }
                if total >= 7, let w = watch { loop.cancel(w) }
            }
        } catch { return error.description }
        loop.runSoon {
            _ = cl_eventfd_write(efd, 3)
            _ = cl_eventfd_write(efd, 4)
        }
        do { try loop.run() } catch { return error.description }
        return total == 7 ? nil : "counted " + String(total)
    }

    private func cancellationInCallbacks() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        var log: [Int] = []
        // A timer cancels a later timer due at the same instant, and itself (a no-op).
        var second: TimerID? = nil
        var first: TimerID? = nil
        first = loop.after(1 * Self.ms) {
            log.append(1)
            if let s = second { loop.cancel(s) }
            if let f = first { loop.cancel(f) }
        }
        second = loop.after(1 * Self.ms) { log.append(2) }
        // A timer adds a timer due at once: it runs in a later pass, not this one.
        loop.after(2 * Self.ms) {
            log.append(3)
            loop.after(0) { log.append(4) }
        }
        // Two ready descriptors; the first handler cancels the second watch in the same batch.
        let a = cl_eventfd(1)
        let b = cl_eventfd(1)
        defer {
            _ = cl_close(a)
            _ = cl_close(b)
        }
        var watchA: WatchID? = nil
        var watchB: WatchID? = nil
        do {
            watchA = try loop.watch(a, for: .readable) { _ in
                log.append(5)
                if let wa = watchA { loop.cancel(wa) }
                if let wb = watchB { loop.cancel(wb) }
            }
            watchB = try loop.watch(b, for: .readable) { _ in
                log.append(6)
                if let wa = watchA { loop.cancel(wa) }
                if let wb = watchB { loop.cancel(wb) }
            }
        } catch { return error.description }
        do { try loop.run() } catch { return error.description }
        let sawOneWatch = log.contains(5) != log.contains(6)
        let timers = log.filter { $0 < 5 }
        if timers != [1, 3, 4] { return "timer log " + describe(log) }
        if !sawOneWatch { return "both or neither watch ran: " + describe(log) }
        if loop.watchCount != 0 || loop.timerCount != 0 { return "work left behind" }
        return nil
    }

    private func badDescriptors() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        var problems = ""
        do {
            try loop.watch(-1, for: .readable) { _ in }
            problems += "fd -1 accepted; "
        } catch {
            if error.errno != EBADF { problems += "fd -1 gave " + error.description + "; " }
        }
        let fd = cl_eventfd(0)
        _ = cl_close(fd)
        do {
            try loop.watch(fd, for: .readable) { _ in }
            problems += "closed fd accepted; "
        } catch {
            if error.errno != EBADF { problems += "closed fd gave " + error.description + "; " }
            if !error.description.hasPrefix("epoll_ctl(ADD) on fd ") { problems += "error text " + error.description }
        }
        // The loop still runs timers after the failures.
        var fired = false
        loop.after(1 * Self.ms) { fired = true }
        do { try loop.run() } catch { problems += error.description }
        if !fired { problems += "loop did not run after errors" }
        return problems.isEmpty ? nil : problems
    }

    private func deferredOrder() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        var log: [Int] = []
        loop.after(0) { log.append(3) }
        loop.runSoon {
            log.append(1)
            loop.runSoon { log.append(4) }
        }
        loop.runSoon { log.append(2) }
        do { try loop.run() } catch { return error.description }
        // Deferred work of one iteration runs before that iteration's timers; work deferred by
        // deferred work waits for the next iteration.
        return log == [1, 2, 3, 4] ? nil : "order " + describe(log)
    }

    private func signalToSelf() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        var got: Int32 = 0
        do {
            try loop.onSignal(SIGUSR1) { signal in
                got = signal
                loop.stop()
            }
        } catch { return error.description }
        loop.runSoon { _ = cl_raise(SIGUSR1) }
        let guardTimer = loop.after(2_000 * Self.ms) { loop.stop() }
        do { try loop.run() } catch { return error.description }
        loop.cancel(guardTimer)
        return got == SIGUSR1 ? nil : "handler saw signal " + String(got)
    }

    private func standardSignals() -> String? {
        guard let loop = try? Reactor() else { return "cannot create reactor" }
        defer { loop.close() }
        var log: [String] = []
        do {
            try loop.handleStandardSignals(shutdown: { _ in log.append("shutdown") }, reload: { log.append("reload") })
        } catch { return error.description }
        loop.runSoon { _ = cl_raise(SIGHUP) }
        loop.after(5 * Self.ms) { _ = cl_raise(SIGTERM) }
        var stuck = false
        loop.after(2_000 * Self.ms) {
            stuck = true
            loop.stop()
        }
        do { try loop.run() } catch { return error.description }
        if stuck { return "SIGTERM did not stop the loop; log " + log.joined(separator: ",") }
        return log == ["reload", "shutdown"] ? nil : "log " + log.joined(separator: ",")
    }

    private func describe(_ values: [Int]) -> String {
        var text = "["
        for (i, v) in values.enumerated() { text += (i == 0 ? "" : ",") + String(v) }
        return text + "]"
    }
}
