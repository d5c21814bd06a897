import CLinux
import Glibc
import Reactor
import Testing

@testable import Keys

@Suite("terminal key source")
struct TerminalTests {
    func names(_ bytes: [UInt8]) -> [String] {
        var out: [String] = []
        bytes.withUnsafeBytes { TerminalInputDecoder().feed($0) { out.append($0) } }
        return out
    }

    @Test("characters and escape sequences to key names")
    func decoder() {
        #expect(names(Array("5*#hR+-=\r\n\t ".utf8)) ==
                ["5", "star", "pound", "h", "R", "plus", "minus", "equals", "enter", "enter", "tab", "space"])
        #expect(names([0x1B, 0x5B, 0x41, 0x1B, 0x5B, 0x42, 0x1B, 0x4F, 0x43, 0x1B, 0x5B, 0x44]) ==
                ["up", "down", "right", "left"])
        #expect(names([0x1B, 0x4F, 0x50, 0x1B, 0x5B, 0x31, 0x35, 0x7E, 0x1B, 0x5B, 0x32, 0x34, 0x7E]) ==
                ["f1", "f5", "f12"])
        #expect(names([0x1B, 0x5B, 0x5B, 0x41]) == ["f1"])  // Linux console F1
        #expect(names([0x1B]) == ["escape"])
        #expect(names([0x1B, 0x61]) == ["escape", "a"])
        #expect(names([0x7F, 0x04, 0x01, 0xFF]) == ["backspace", "eof"])
        #expect(names([0x1B, 0x5B, 0x39, 0x39, 0x7E]).isEmpty)  // unknown sequence skipped
    }

    @Test("a pipe as standard input: keys, hook toggles, unmapped logged once, end of input")
    func source() throws {
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        let pipe = TestPipe()
        let rec = Recorder()
        var ended = false
        var map = TerminalKeyMap.standard
        map["q"] = .record
        let resolver = KeyResolver(reactor: loop, timing: KeyTiming(), handler: rec.handler())
        let src = try TerminalKeySource(
            fd: pipe.readEnd, map: map, reactor: loop, resolver: resolver, log: rec.log(), onEnd: { ended = true })
        defer { src.close() }
        #expect(src.isRaw == false)  // not a terminal: left alone
        pipe.write(Array("5hq".utf8) + [0x1B, 0x5B, 0x41] + Array("yyh".utf8))
        try loop.runUntilIdle()
        #expect(rec.lines == ["press digit5", "release digit5", "press hook", "press record", "release record",
                              "press up", "release up", "release hook"])
        #expect(rec.logs == ["terminal key 'y' is not mapped"])
        pipe.closeWriteEnd()
        try loop.runUntilIdle()
        #expect(ended)
        #expect(loop.watchCount == 0)
    }

    @Test("raw mode on a real terminal is restored by close (when a pty is available)")
    func rawModeRestore() throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else { return }
        defer {
            _ = cl_close(master)
            _ = cl_close(slave)
        }
        var before = termios()
        tcgetattr(slave, &before)
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        let resolver = KeyResolver(reactor: loop, timing: KeyTiming()) { _ in }
        let src = try TerminalKeySource(fd: slave, map: .standard, reactor: loop, resolver: resolver, log: { _ in })
        #expect(src.isRaw)
        var raw = termios()
        tcgetattr(slave, &raw)
        #expect(raw.c_lflag & tcflag_t(ICANON) == 0)
        #expect(raw.c_lflag & tcflag_t(ECHO) == 0)
        #expect(raw.c_lflag & tcflag_t(ISIG) != 0)
        src.close()
        var after = termios()
        tcgetattr(slave, &after)
        #expect(after.c_lflag == before.c_lflag)
        #expect(after.c_iflag == before.c_iflag)
    }
}
