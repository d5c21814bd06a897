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
        let odd = try load("board.name = x\nboard.colour = red\nfoo.bar = 1\n")
        #expect(odd.unknownKeys.map(\.key) == ["board.colour", "foo.bar"])
    }
}
