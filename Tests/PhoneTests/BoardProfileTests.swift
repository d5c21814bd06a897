import Config
import Foundation
import Testing

@testable import Phone

@Suite("Board profiles")
struct BoardProfileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("every profile in board/ loads", arguments: ["sim", "pc-keyboard", "arm-mono2", "arm-color"])
    func shippedProfiles(_ name: String) throws {
        let board = try BoardProfile.load(path: Self.root.appendingPathComponent("board/\(name).cfg").path)
        #expect(board.name == name)
        #expect(board.unknownKeys.isEmpty, "\(board.unknownKeys.map(\.key))")
        #expect(board.hasRecordKey)
    }

    @Test("a profile with an error is refused with file:line and the reason")
    func errors() throws {
        func load(_ text: String) throws(ConfigError) -> BoardProfile {
            try BoardProfile(file: try ConfigFile(text: "#!version:1.0.0.1\n" + text, path: "b.cfg"))
        }
        #expect(throws: ConfigError("b.cfg", 0, "no 'board.name' line")) { try load("board.model = x\n") }
        #expect(throws: ConfigError.self) { try load("board.name = x\nboard.linekeys = 999\n") }
        do {
            _ = try load("board.name = x\nkeymap.KEY_NOPE = digit1\n")
            Issue.record("bad keymap accepted")
        } catch {
            #expect(error.line == 3)
        }
        do {
            _ = try load("board.name = x\nlcd.bpp = 8\n")
            Issue.record("bad lcd accepted")
        } catch {
            #expect(error.line == 3)
        }
        do {
            _ = try load("board.name = x\naudio.period_ms = 15\n")
            Issue.record("a 15 ms audio period accepted")
        } catch {
            #expect(error.line == 3)
            #expect(error.description.contains("expected 10 or 20"), "\(error)")
        }
        #expect(throws: ConfigError.self) { try load("board.name = x\naudio.buffer_periods = 4\n") }
        let odd = try load("board.name = x\nboard.colour = red\nfoo.bar = 1\n")
        #expect(odd.unknownKeys.map(\.key) == ["board.colour", "foo.bar"])
    }

    @Test("the audio period: 10 ms and 3 periods by default, 20 ms with a buffer of 2 unless set")
    func audioPeriod() throws {
        func load(_ text: String) throws -> BoardProfile {
            try BoardProfile(file: try ConfigFile(text: "#!version:1.0.0.1\nboard.name = x\n" + text, path: "b.cfg"))
        }
        let plain = try load("")
        #expect(plain.audioPeriodMilliseconds == 10 && plain.audioBufferPeriods == 3)
        let twenty = try load("audio.period_ms = 20\n")
        #expect(twenty.audioPeriodMilliseconds == 20 && twenty.audioBufferPeriods == 2)
        #expect(twenty.unknownKeys.isEmpty)
        let deep = try load("audio.period_ms = 20\naudio.buffer_periods = 3\n")
        #expect(deep.audioBufferPeriods == 3)
    }
}
