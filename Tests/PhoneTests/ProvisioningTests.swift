import Config
import Foundation
import Testing

@testable import Phone

@Suite("Provisioning")
struct ProvisioningTests {
    /// Writes `files` into a fresh directory; returns it.
    static func directory(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("provisioning-\(UUID().uuidString)").path
        for (name, text) in files {
            let url = URL(fileURLWithPath: dir + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: false, encoding: .utf8)
        }
        return dir
    }

    static func board(lineKeys: Int = 2, recordKey: Bool = true) throws -> BoardProfile {
        try BoardProfile(
            file: ConfigFile(
                text: "#!version:1.0.0.1\nboard.name = t\nboard.linekeys = " + String(lineKeys) + "\nboard.record_key = "
                    + (recordKey ? "1" : "0") + "\n", path: "board.cfg"))
    }

    @Test("files layer in order with their includes; every module reads the merged values")
    func layered() throws {
        let dir = try Self.directory([
            "common.cfg": "#!version:1.0.0.1\naccount.1.user_name = 1001\nvoice.volume.handset = 5\n"
                + "include:config \"plan.cfg\"\nlinekey.2.type = 25\n",
            "plan.cfg": "#!version:1.0.0.1\ndialplan.1.number = 7\ndialplan.1.uri = sip:7@127.0.0.1:5070\nweird.key = 1\n",
            "phone.cfg": "#!version:1.0.0.1\nvoice.volume.handset = 9\nnetwork.mac = 00:15:65:aa:bb:cc\n",
        ])
        let p = try Provisioning(paths: [dir + "/common.cfg", dir + "/phone.cfg"], board: Self.board())
        #expect(p.softphone.account.userName == "1001")
        #expect(p.phone.handsetVolume == 9)
        #expect(p.phone.target(for: "7") == "sip:7@127.0.0.1:5070")
        #expect(p.recording.keys.count == 2)  // the board's record key and line key 2
        #expect(p.network.mac == "001565AABBCC")
        #expect(p.unknownKeys.map(\.key) == ["weird.key"])
        #expect(p.unknownKeys.first?.location == dir + "/plan.cfg:4")
    }

    @Test("the first bad value is refused with its file:line; problems() lists each module's")
    func refused() throws {
        let dir = try Self.directory([
            "a.cfg": "#!version:1.0.0.1\nvoice.volume.speaker = 20\nlinekey.9.type = 25\nnetwork.mac = xyz\n",
            "b.cfg": "#!version:1.0.0.1\nrtp.port_min = 5001\n",
            "broken.cfg": "no version line\n",
        ])
        #expect(throws: ConfigError(dir + "/b.cfg", 2, "rtp.port_min = 5001: RTP ports are even")) {
            try Provisioning(paths: [dir + "/a.cfg", dir + "/b.cfg"], board: Self.board())
        }
        let problems = Provisioning.problems(paths: [dir + "/a.cfg", dir + "/b.cfg"], hasRecordKey: true, lineKeys: 2)
        #expect(problems.map(\.location) == [dir + "/b.cfg:2", dir + "/a.cfg:2", dir + "/a.cfg:3", dir + "/a.cfg:4"])
        // Syntax errors of every file come first, and alone.
        let syntax = Provisioning.problems(paths: [dir + "/broken.cfg", dir + "/a.cfg", dir + "/nope.cfg"], hasRecordKey: true, lineKeys: nil)
        #expect(syntax.map(\.location) == [dir + "/broken.cfg:1", dir + "/nope.cfg"])
        // Any line key number passes without a board.
        #expect(Provisioning.problems(paths: [dir + "/b.cfg"], hasRecordKey: true, lineKeys: nil).count == 1)
    }

    @Test("a reload names the start-only keys it changed")
    func restartKeys() throws {
        let dir = try Self.directory([
            "old.cfg": "#!version:1.0.0.1\naccount.1.user_name = 1001\nvoice.volume.handset = 5\nsip.listen_port = 5060\n",
            "new.cfg": "#!version:1.0.0.1\naccount.1.user_name = 1002\nvoice.volume.handset = 6\nsip.listen_port = 5060\n"
                + "rtp.port_min = 20000\n",
        ])
        let old = try Provisioning(paths: [dir + "/old.cfg"], board: Self.board())
        let new = try Provisioning(paths: [dir + "/new.cfg"], board: Self.board())
        #expect(new.changesNeedingRestart(from: old) == ["account.1.user_name", "rtp.port_min"])
        #expect(old.changesNeedingRestart(from: old).isEmpty)
    }
}

extension ConfigError {
    var location: String { line > 0 ? file + ":" + String(line) : file }
}
