import ArgumentParser
import CLinux
import Foundation
import Reactor

/// `deskphone-tool bench reactor`: timer throughput with 10^5 pending timers, and the
/// latency from an eventfd write (on another thread, as an interrupt or a peer would) to
/// the watch callback, for the Reactor and for a minimal raw epoll loop in the same run.
struct ReactorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reactor",
        abstract: "Reactor timer throughput and eventfd wake-up latency against a raw epoll loop."
    )

    @Option(help: "Timers pending (far in the future) while the measured timers run.")
    var pending = 100_000

    @Option(help: "Timers scheduled and fired in the throughput run.")
    var fired = 1_000_000

    @Option(help: "Wake-ups measured per latency run.")
    var samples = 20_000

    @Option(help: "Firmware binaries whose stripped size to print (default: .build-firmware/*/deskphone.stripped).")
    var firmwareDir = ".build-firmware"

    func run() throws {
        print("reactor benchmark (host \(hostDescription()))")
        try timerThroughput()
        try wakeLatency()
        firmwareSizes()
    }

    // MARK: timers

    func timerThroughput() throws {
        let loop = try Reactor()
        defer { loop.close() }
        let hour: Int64 = 3_600_000_000_000
        for i in 0..<pending { loop.after(hour + Int64(i)) {} }
        // Each measured timer is due at once; the batch of 1000 re-schedules the next batch,
        // so scheduling and firing both happen against a heap of `pending` timers.
        var remaining = fired
        var count = 0
        func scheduleBatch() {
            let n = min(1000, remaining)
            remaining -= n
            for k in 0..<n {
                loop.after(0) {
                    count += 1
                    if k == n - 1 && remaining > 0 { scheduleBatch() }
                    if count == fired { loop.stop() }
                }
            }
        }
        let start = cl_monotonic_ns()
        scheduleBatch()
        try loop.run()
        let elapsed = Double(cl_monotonic_ns() - start) / 1e9
        let rate = Double(count) / elapsed
        print(
            String(
                format: "timers: %d scheduled+fired with %d pending: %.2f M/s (%.0f ns each)",
                count, pending, rate / 1e6, 1e9 / rate))
        // Cancel throughput: schedule and cancel against the same heap.
        let cstart = cl_monotonic_ns()
        for i in 0..<200_000 {
            let id = loop.after(hour / 2 + Int64(i)) {}
            loop.cancel(id)
        }
        let cns = Double(cl_monotonic_ns() - cstart) / 200_000
        print(String(format: "timers: schedule+cancel with %d pending: %.0f ns each", pending, cns))
    }

    // MARK: wake-up latency

    /// Writes the monotonic time into the eventfd from another thread, waiting for the loop
    /// to consume each value before the next, and returns the loop-side latencies in ns.
    final class Writer: @unchecked Sendable {
        let fd: Int32
        let count: Int
        let consumed = NSCondition()
        var acknowledged = 0
        init(fd: Int32, count: Int) {
            self.fd = fd
            self.count = count
        }
        func start() {
            let thread = Thread { [self] in
                for i in 0..<count {
                    // Let the loop go back to sleep in epoll_wait before the next write.
                    usleep(UInt32(20 + (i * 7919) % 60))
                    _ = cl_eventfd_write(fd, UInt64(cl_monotonic_ns()))
                    consumed.lock()
                    while acknowledged <= i { consumed.wait() }
                    consumed.unlock()
                }
            }
            thread.start()
        }
        func acknowledge() {
            consumed.lock()
            acknowledged += 1
            consumed.signal()
            consumed.unlock()
        }
    }

    func wakeLatency() throws {
        let reactorSamples = try reactorLatency()
        let rawSamples = rawEpollLatency()
        let r = percentiles(reactorSamples)
        let b = percentiles(rawSamples)
        print(String(format: "eventfd wake-up (write on another thread -> callback), %d samples:", samples))
        print(String(format: "  reactor  p50 %.1f us  p99 %.1f us", r.p50 / 1000, r.p99 / 1000))
        print(String(format: "  raw epoll p50 %.1f us  p99 %.1f us", b.p50 / 1000, b.p99 / 1000))
        print(String(format: "  ratio reactor/raw: p50 %.2f  p99 %.2f", r.p50 / b.p50, r.p99 / b.p99))
    }

    func reactorLatency() throws -> [Int64] {
        let loop = try Reactor()
        defer { loop.close() }
        let efd = cl_eventfd(0)
        defer { _ = cl_close(efd) }
        var latencies: [Int64] = []
        latencies.reserveCapacity(samples)
        let writer = Writer(fd: efd, count: samples)
        try loop.watch(efd, for: .readable) { _ in
            let now = cl_monotonic_ns()
            var value: UInt64 = 0
            guard cl_eventfd_read(efd, &value) == 0 else { return }
            latencies.append(now - Int64(value))
            writer.acknowledge()
            if latencies.count == samples { loop.stop() }
        }
        writer.start()
        try loop.run()
        return latencies
    }

    /// The baseline: the least an epoll loop can do (one epoll_wait, one read).
    func rawEpollLatency() -> [Int64] {
        let epfd = cl_epoll_create()
        let efd = cl_eventfd(0)
        defer {
            _ = cl_close(efd)
            _ = cl_close(epfd)
        }
        _ = cl_epoll_ctl(epfd, Int32(CL_EPOLL_CTL_ADD), efd, UInt32(CL_EPOLLIN), 1)
        var latencies: [Int64] = []
        latencies.reserveCapacity(samples)
        let writer = Writer(fd: efd, count: samples)
        writer.start()
        var events = [cl_ready_event](repeating: cl_ready_event(), count: 8)
        while latencies.count < samples {
            let n = events.withUnsafeMutableBufferPointer { cl_epoll_wait(epfd, $0.baseAddress, 8, -1) }
            if n <= 0 { continue }
            let now = cl_monotonic_ns()
            var value: UInt64 = 0
            guard cl_eventfd_read(efd, &value) == 0 else { continue }
            latencies.append(now - Int64(value))
            writer.acknowledge()
        }
        return latencies
    }

    func percentiles(_ values: [Int64]) -> (p50: Double, p99: Double) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return (0, 0) }
        func at(_ q: Double) -> Double { Double(sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]) }
        return (at(0.50), at(0.99))
    }

    // MARK: footprint

    func firmwareSizes() {
        let fm = FileManager.default
        var lines: [String] = []
        for arch in ["x86_64", "aarch64", "armv7"] {
            let path = firmwareDir + "/" + arch + "/deskphone.stripped"
            if let attributes = try? fm.attributesOfItem(atPath: path), let size = attributes[.size] as? Int {
                let name = arch.padding(toLength: 8, withPad: " ", startingAt: 0)
                lines.append("  " + name + String(format: "%8d bytes (%.1f KiB)", size, Double(size) / 1024))
            } else {
                lines.append("  " + arch + "   not built (make firmware ARCH=" + arch + ")")
            }
        }
        print("firmware size, stripped:")
        lines.forEach { print($0) }
    }

    func hostDescription() -> String {
        "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.operatingSystemVersionString)"
    }
}
