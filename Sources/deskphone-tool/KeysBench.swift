import ArgumentParser
import CLinux
import Foundation
import Keys
import Reactor

/// `deskphone-tool bench keys`: latency from a raw `input_event` written to the key FIFO (on
/// another thread, as an automation client would) to the phone-key callback, through the whole
/// Keys path (non-blocking read, record decoder, keymap, KeyResolver); next to the same write
/// read by a bare epoll loop; and the decode+map+resolve throughput from memory.
struct KeysBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Key FIFO to phone-key callback latency (p50/p99) and decoder throughput."
    )

    @Option(help: "Key events measured per latency run (half presses, half releases).")
    var samples = 20_000

    @Option(help: "Records decoded in the throughput run.")
    var records = 2_000_000

    func run() throws {
        print("keys benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores, "
            + "\(InputEventLayout.native.size)-byte input_event)")
        let dir = NSTemporaryDirectory() + "keys-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = try keysLatency(fifo: dir + "/keys.fifo")
        let raw = try rawLatency(fifo: dir + "/raw.fifo")
        let k = percentiles(keys)
        let r = percentiles(raw)
        print(String(format: "FIFO write (another thread) -> callback, %d events:", samples))
        let row = "p50 %.1f us  p99 %.1f us"
        print("  Keys (read, decode, keymap, resolver)  " + String(format: row, k.p50 / 1000, k.p99 / 1000))
        print("  bare epoll + read                      " + String(format: row, r.p50 / 1000, r.p99 / 1000))
        try throughput()
    }

    /// Writes one record per event from another thread, waiting for the loop to take each.
    final class Writer: @unchecked Sendable {
        let path: String
        let count: Int
        let code: UInt16
        let condition = NSCondition()
        var acknowledged = 0
        var sentAt: [Int64]
        init(path: String, count: Int, code: UInt16) {
            self.path = path
            self.count = count
            self.code = code
            sentAt = [Int64](repeating: 0, count: count)
        }
        func start() {
            Thread { [self] in
                let fd = cl_open(path, O_WRONLY, 0)
                precondition(fd >= 0, "cannot open \(path) for writing")
                let layout = InputEventLayout.native
                let records = [0, 1].map { v in
                    layout.encode(InputEvent(type: InputEvent.typeKey, code: code, value: Int32(1 - v)))
                        + layout.encode(InputEvent(type: InputEvent.typeSyn, code: 0, value: 0))
                }
                for i in 0..<count {
                    usleep(UInt32(20 + (i * 7919) % 60))  // let the loop sleep in epoll_wait again
                    let bytes = records[i % 2]
                    condition.lock()
                    sentAt[i] = cl_monotonic_ns()
                    condition.unlock()
                    _ = bytes.withUnsafeBytes { cl_write(fd, $0.baseAddress, $0.count) }
                    condition.lock()
                    while acknowledged <= i { condition.wait() }
                    condition.unlock()
                }
                _ = cl_close(fd)
            }.start()
        }
        func acknowledge(at now: Int64) -> Int64 {
            condition.lock()
            let latency = now - sentAt[acknowledged]
            acknowledged += 1
            condition.signal()
            condition.unlock()
            return latency
        }
    }

    func keysLatency(fifo: String) throws -> [Int64] {
        let loop = try Reactor()
        var config = KeysConfiguration()
        config.source = .fifo(fifo)
        var latencies: [Int64] = []
        latencies.reserveCapacity(samples)
        let writer = Writer(path: fifo, count: samples, code: KeyMap.code(named: "KEY_KP5")!)
        let source = try config.open(on: loop) { event in
            latencies.append(writer.acknowledge(at: cl_monotonic_ns()))
            if latencies.count == samples { loop.stop() }
        }
        writer.start()
        try loop.run()
        source.close()
        loop.close()
        return latencies
    }

    /// The baseline: epoll_wait and one read of the FIFO, nothing else.
    func rawLatency(fifo: String) throws -> [Int64] {
        guard cl_mkfifo(fifo, 0o600) == 0 else { throw ToolError("mkfifo \(fifo) failed") }
        let fd = cl_open(fifo, O_RDWR | O_NONBLOCK, 0)
        let epfd = cl_epoll_create()
        defer {
            _ = cl_close(fd)
            _ = cl_close(epfd)
        }
        _ = cl_epoll_ctl(epfd, Int32(CL_EPOLL_CTL_ADD), fd, UInt32(CL_EPOLLIN), 1)
        let writer = Writer(path: fifo, count: samples, code: 76)
        writer.start()
        var latencies: [Int64] = []
        latencies.reserveCapacity(samples)
        var events = [cl_ready_event](repeating: cl_ready_event(), count: 8)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while latencies.count < samples {
            let n = events.withUnsafeMutableBufferPointer { cl_epoll_wait(epfd, $0.baseAddress, 8, -1) }
            if n <= 0 { continue }
            let got = buffer.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { continue }
            latencies.append(writer.acknowledge(at: cl_monotonic_ns()))
        }
        return latencies
    }

    /// Records decoded, mapped and resolved per second, from memory (no I/O).
    func throughput() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var delivered = 0
        let resolver = KeyResolver(reactor: loop, timing: KeyTiming()) { _ in delivered += 1 }
        let router = KeyRouter(keymap: .standard, resolver: resolver, log: { _ in })
        defer { router.close() }
        let layout = InputEventLayout.native
        var chunk: [UInt8] = []
        let codes = (2...11).map { UInt16($0) }  // KEY_1 ... KEY_0
        for i in 0..<170 {
            let event = InputEvent(type: InputEvent.typeKey, code: codes[(i / 2) % 10], value: Int32(1 - i % 2))
            chunk += layout.encode(event)
        }
        var decoder = InputEventDecoder(layout: layout)
        let perChunk = chunk.count / layout.size
        let rounds = max(1, records / perChunk)
        let start = cl_monotonic_ns()
        chunk.withUnsafeBytes { raw in
            for _ in 0..<rounds { decoder.feed(raw) { router.handle($0) } }
        }
        let seconds = Double(cl_monotonic_ns() - start) / 1e9
        let total = Double(rounds * perChunk)
        print(String(format: "decode + keymap + resolver from memory: %.1f M records/s (%.0f ns each), %d events",
                     total / seconds / 1e6, seconds * 1e9 / total, delivered))
    }

    func percentiles(_ values: [Int64]) -> (p50: Double, p99: Double) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return (0, 0) }
        func at(_ q: Double) -> Double { Double(sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]) }
        return (at(0.50), at(0.99))
    }
}
