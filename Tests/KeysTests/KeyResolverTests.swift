import Reactor
import Testing

@testable import Keys

@Suite("KeyResolver on the virtual clock")
struct KeyResolverTests {
    func make(_ timing: KeyTiming = KeyTiming()) throws -> (Reactor, KeyResolver, Recorder) {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        let rec = Recorder()
        return (loop, KeyResolver(reactor: loop, timing: timing, handler: rec.handler()), rec)
    }

    @Test("a short press: press and release, no long")
    func shortPress() throws {
        let (loop, r, rec) = try make()
        defer { loop.close() }
        r.press(.digit(5))
        try loop.run(for: 999 * ms)
        r.release(.digit(5))
        try loop.run(for: 5000 * ms)
        #expect(rec.lines == ["press digit5", "release digit5"])
    }

    @Test("held past 1 s: long fires once, exactly at the threshold")
    func longPress() throws {
        let (loop, r, rec) = try make()
        defer { loop.close() }
        r.press(.digit(5))
        try loop.run(for: 3500 * ms)
        r.release(.digit(5))
        #expect(rec.lines == ["press digit5", "long digit5", "release digit5"])
        #expect(rec.events[1].time == 1000 * ms)
        #expect(rec.events[2].time == 3500 * ms)
    }

    @Test("configurable long-press time; 0 disables it")
    func longPressTime() throws {
        var t = KeyTiming()
        t.longPressNanoseconds = 300 * ms
        let (loop, r, rec) = try make(t)
        defer { loop.close() }
        r.press(.record)
        try loop.run(for: 400 * ms)
        #expect(rec.lines == ["press record", "long record"])
        #expect(rec.events[1].time == 300 * ms)

        t.longPressNanoseconds = 0
        let (loop2, r2, rec2) = try make(t)
        defer { loop2.close() }
        r2.press(.record)
        try loop2.run(for: 10_000 * ms)
        #expect(rec2.lines == ["press record"])
    }

    @Test("volume repeats after the delay at the interval, and never fires long")
    func repeatKeys() throws {
        let (loop, r, rec) = try make()
        defer { loop.close() }
        r.press(.volumeUp)
        try loop.run(for: 1000 * ms)
        r.release(.volumeUp)
        try loop.run(for: 1000 * ms)
        // 500 ms delay, then every 150 ms: 500, 650, 800, 950.
        let repeats = Array(repeating: "repeat volume_up", count: 4)
        #expect(rec.lines == ["press volume_up"] + repeats + ["release volume_up"])
        #expect(rec.events[1...4].map { $0.time } == [500 * ms, 650 * ms, 800 * ms, 950 * ms])
    }

    @Test("two keys held together time independently")
    func twoKeys() throws {
        let (loop, r, rec) = try make()
        defer { loop.close() }
        r.press(.digit(1))
        try loop.run(for: 400 * ms)
        r.press(.digit(2))
        try loop.run(for: 700 * ms)
        r.release(.digit(1))
        try loop.run(for: 500 * ms)
        r.release(.digit(2))
        #expect(rec.lines == ["press digit1", "press digit2", "long digit1", "release digit1", "long digit2",
                              "release digit2"])
        #expect(rec.events[4].time == 1400 * ms)
    }

    @Test("hook: off-hook press, on-hook release, no long; duplicates dropped; kernel repeat ignored")
    func hookAndDuplicates() throws {
        let (loop, r, rec) = try make()
        defer { loop.close() }
        r.input(.hook, value: 1)
        r.input(.hook, value: 2)
        r.input(.hook, value: 1)
        try loop.run(for: 5000 * ms)
        r.input(.hook, value: 0)
        r.input(.hook, value: 0)
        r.input(.digit(3), value: 0)
        #expect(rec.lines == ["press hook", "release hook"])
    }

    @Test("releaseAll releases held keys and cancels their timers")
    func releaseAll() throws {
        let (loop, r, rec) = try make()
        defer { loop.close() }
        r.press(.digit(7))
        r.press(.volumeDown)
        r.releaseAll()
        try loop.run(for: 5000 * ms)
        #expect(rec.lines == ["press digit7", "press volume_down", "release digit7", "release volume_down"])
        #expect(loop.timerCount == 0)
    }
}
