import CLinux
import Foundation
import Reactor
import Testing

@testable import Keys

@Suite("raw input_event streams: fifo: and file:")
struct StreamSourceTests {
    /// A recorded session: digit 5 held 1.5 s (long), record tapped, F1 (line1) pressed with
    /// kernel autorepeat, volume up held 0.8 s, and an unmapped key pressed twice.
    static let session: [InputEvent] = {
        var steps: [(atMs: Int64, code: UInt16, value: Int32)] = [
            (0, code("KEY_KP5"), 1), (1500, code("KEY_KP5"), 0),
            (2000, code("KEY_R"), 1), (2100, code("KEY_R"), 0),
            (3000, code("KEY_F1"), 1), (3250, code("KEY_F1"), 2), (3280, code("KEY_F1"), 2), (3300, code("KEY_F1"), 0),
            (4000, code("KEY_VOLUMEUP"), 1), (4800, code("KEY_VOLUMEUP"), 0),
            (5000, code("KEY_PRINT"), 1), (5050, code("KEY_PRINT"), 0), (5100, code("KEY_PRINT"), 1),
        ]
        steps.append((5150, code("KEY_PRINT"), 0))
        return recording(steps)
    }()

    static let expected = [
        "press digit5", "long digit5", "release digit5", "press record", "release record", "press line1",
        "release line1", "press volume_up", "repeat volume_up", "repeat volume_up", "release volume_up",
    ]

    @Test("a recorded file replays with its timing on the virtual clock, both layouts",
          arguments: [InputEventLayout.bytes24, .bytes16])
    func replayFile(_ layout: InputEventLayout) throws {
        let dir = TempDir()
        let path = dir.write("session.bin", bytes: encode(Self.session, layout))
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var config = KeysConfiguration()
        config.source = .file(path)
        config.streamLayout = layout
        let rec = Recorder()
        var endedAt: Int64? = nil
        let source = try config.open(on: loop, log: rec.log(), onEnd: { endedAt = loop.now }, handler: rec.handler())
        defer { source.close() }
        try loop.run()
        #expect(rec.lines == Self.expected)
        #expect(rec.events[1].time == 1000 * ms)  // long: 1 s after the press
        #expect(rec.events[2].time == 1500 * ms)
        #expect(rec.events[8].time == 4500 * ms)  // first repeat after 500 ms
        #expect(endedAt == 5150 * ms)
        #expect(rec.logs == ["unmapped key code KEY_PRINT (210) ignored"])
    }

    @Test("the other layout read by mistake does not crash or stop the loop")
    func wrongLayout() throws {
        let dir = TempDir()
        let path = dir.write("session.bin", bytes: encode(Self.session, .bytes24) + [1, 2, 3])
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        let rec = Recorder()
        var ended = false
        let resolver = KeyResolver(reactor: loop, timing: KeyTiming(), handler: rec.handler())
        let router = KeyRouter(keymap: .standard, resolver: resolver, log: rec.log())
        let src = try StreamKeySource(
            path: path, kind: .file, layout: .bytes16, reactor: loop, router: router, log: rec.log(),
            onEnd: { ended = true })
        defer { src.close() }
        try loop.run()
        #expect(ended)
        #expect(src.bytesRead == Self.session.count * 24 + 3)
    }

    @Test("unpaced replay: no waiting, holds collapse")
    func unpaced() throws {
        let dir = TempDir()
        let path = dir.write("s.bin", bytes: encode(Self.session, .native))
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var config = KeysConfiguration()
        config.source = .file(path)
        config.pacedReplay = false
        let rec = Recorder()
        var ended = false
        let source = try config.open(on: loop, log: rec.log(), onEnd: { ended = true }, handler: rec.handler())
        defer { source.close() }
        try loop.runUntilIdle()
        #expect(ended)
        #expect(loop.now == 0)
        #expect(rec.lines.filter { $0.hasPrefix("long") || $0.hasPrefix("repeat") }.isEmpty)
        #expect(rec.lines.count == 8)
    }

    @Test("garbage after good records: the loop survives, later records still count")
    func garbageInFile() throws {
        let dir = TempDir()
        var bytes = encode(recording([(0, code("KEY_KP1"), 1), (10, code("KEY_KP1"), 0)]), .native)
        var state: UInt64 = 7
        for _ in 0..<(InputEventLayout.native.size * 300) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes.append(UInt8(truncatingIfNeeded: state >> 40))
        }
        let path = dir.write("g.bin", bytes: bytes)
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var config = KeysConfiguration()
        config.source = .file(path)
        let rec = Recorder()
        var ended = false
        let source = try config.open(on: loop, log: rec.log(), onEnd: { ended = true }, handler: rec.handler())
        defer { source.close() }
        try loop.run(for: 3_600_000 * ms)
        #expect(ended)
        #expect(Array(rec.lines.prefix(2)) == ["press digit1", "release digit1"])
    }

    @Test("a real FIFO (created by the source) through the real reactor, records split across writes")
    func realFIFO() throws {
        let dir = TempDir()
        let path = dir.file("keys.fifo")
        let loop = try Reactor()
        defer { loop.close() }
        var config = KeysConfiguration()
        config.source = .fifo(path)
        let rec = Recorder()
        let source = try config.open(on: loop, log: rec.log(), handler: rec.handler())
        defer { source.close() }
        #expect(cl_is_fifo(path) == 1)

        let writer = cl_open(path, O_WRONLY | O_NONBLOCK, 0)
        #expect(writer >= 0)
        let bytes = encode(recording([(0, code("KEY_R"), 1), (5, code("KEY_R"), 0), (9, code("KEY_KP0"), 1)]), .native)
        // Write in odd-sized pieces, running the loop between them.
        var i = 0
        for piece in [5, 30, 1, 17, 100, 1000] where i < bytes.count {
            let end = min(bytes.count, i + piece)
            _ = bytes[i..<end].withUnsafeBytes { cl_write(writer, $0.baseAddress, $0.count) }
            i = end
            try loop.runUntilIdle()
        }
        // A writer closing does not end a FIFO source; a new writer can come.
        _ = cl_close(writer)
        try loop.runUntilIdle()
        #expect(source.stream?.ended == false)
        let writer2 = cl_open(path, O_WRONLY | O_NONBLOCK, 0)
        let more = encode(recording([(20, code("KEY_KP0"), 0)]), .native)
        _ = more.withUnsafeBytes { cl_write(writer2, $0.baseAddress, $0.count) }
        _ = cl_close(writer2)
        let deadline = cl_monotonic_ns() + 2_000_000_000
        while rec.events.count < 4 && cl_monotonic_ns() < deadline { try loop.runOnce(block: false) }
        #expect(rec.lines == ["press record", "release record", "press digit0", "release digit0"])
    }

    @Test("a missing file or a FIFO path under a missing directory is an error with the reason")
    func openErrors() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var config = KeysConfiguration()
        config.source = .file("/nonexistent/rec.bin")
        #expect(throws: KeysError("file /nonexistent/rec.bin: open failed: ENOENT (No such file or directory)")) {
            _ = try config.open(on: loop, log: { _ in }) { _ in }
        }
        config.source = .fifo("/nonexistent/keys")
        #expect(throws: KeysError("fifo /nonexistent/keys: mkfifo failed: ENOENT (No such file or directory)")) {
            _ = try config.open(on: loop, log: { _ in }) { _ in }
        }
        #expect(loop.watchCount == 0 && loop.timerCount == 0)
    }
}
