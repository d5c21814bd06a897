import Foundation
import Testing

@testable import Config

@Suite("ConfigFile")
struct ConfigFileTests {
    @Test("parses key = value lines, comments, quotes and the version line")
    func parse() throws {
        let text =
            "#!version:1.0.0.1\n# comment\n\naccount.1.user_name = 1009\nlinekey.2.label = \"Rec\"\r\n"
            + "  spaced.key\t=  value with spaces  \n"
        let file = try ConfigFile(text: text, path: "t.cfg")
        #expect(file.string("account.1.user_name") == "1009")
        #expect(file.string("linekey.2.label") == "Rec")
        #expect(file.string("spaced.key") == "value with spaces")
        #expect(file.entry("linekey.2.label")?.line == 5)
        #expect(file.entry("linekey.2.label")?.location == "t.cfg:5")
    }

    @Test("a later line overrides an earlier one")
    func override() throws {
        let file = try ConfigFile(text: "#!version:1.0.0.1\na = 1\nb = x\na = 2\n", path: "t.cfg")
        #expect(file.string("a") == "2")
        #expect(try file.int("a", default: 0, in: 0...9) == 2)
        #expect(file.entries(withPrefix: "a").map(\.value) == ["2"])
    }

    @Test("errors name the file and line")
    func errors() {
        #expect(throws: ConfigError("t.cfg", 1, "the first line must be '#!version:1.0.0.1'")) {
            try ConfigFile(text: "a = 1\n", path: "t.cfg")
        }
        #expect(throws: ConfigError("t.cfg", 3, "expected 'key = value', got 'just words'")) {
            try ConfigFile(text: "#!version:1.0.0.1\na = 1\njust words\n", path: "t.cfg")
        }
        #expect(throws: ConfigError("t.cfg", 2, "invalid character in key 'a b'")) {
            try ConfigFile(text: "#!version:1.0.0.1\na b = 1\n", path: "t.cfg")
        }
        let file = try? ConfigFile(text: "#!version:1.0.0.1\nn = 99\nflag = maybe\n", path: "t.cfg")
        #expect(throws: ConfigError("t.cfg", 2, "n = '99': expected a whole number from 0 to 10")) {
            try file?.int("n", default: 0, in: 0...10)
        }
        #expect(throws: ConfigError("t.cfg", 3, "flag = 'maybe': expected 0 or 1")) {
            try file?.bool("flag", default: false)
        }
        #expect(ConfigError("a.cfg", 0, "cannot open").description == "a.cfg: cannot open")
    }

    @Test("a missing file is a clear error")
    func missingFile() {
        #expect(throws: ConfigError("/nonexistent.cfg", 0, "cannot open: No such file or directory")) {
            try ConfigFile.load(path: "/nonexistent.cfg")
        }
    }
}

@Suite("include:config")
struct ConfigIncludeTests {
    /// A fresh directory under /tmp with `files` (name -> text) written in it.
    static func directory(_ files: [String: String]) throws -> String {
        let dir = "/tmp/deskphone-config-tests-" + String(UInt64.random(in: 0...UInt64.max))
        for (name, text) in files {
            let url = URL(fileURLWithPath: dir + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: false, encoding: .utf8)
        }
        return dir
    }

    @Test("an included file's lines take the include line's place; relative names from the includer's directory")
    func order() throws {
        let dir = try Self.directory([
            "phone.cfg": "#!version:1.0.0.1\na = 1\ninclude:config \"sub/common.cfg\"\nc = 3\n",
            "sub/common.cfg": "#!version:1.0.0.1\na = 10\nb = 20\nc = 30\ninclude:config <more.cfg>\n",
            "sub/more.cfg": "#!version:1.0.0.1\nd = 40\n",
        ])
        let file = try ConfigFile.load(path: dir + "/phone.cfg")
        #expect(file.string("a") == "10")  // the include overrides the line before it
        #expect(file.string("b") == "20")
        #expect(file.string("c") == "3")  // the line after the include overrides it
        #expect(file.string("d") == "40")  // nested, relative to sub/
        #expect(file.entry("b")?.location == dir + "/sub/common.cfg:3")
        #expect(file.entry("d")?.location == dir + "/sub/more.cfg:2")
        #expect(file.entries.map(\.key) == ["a", "a", "b", "c", "d", "c"])
    }

    @Test("a bare name and an absolute path include too")
    func forms() throws {
        let dir = try Self.directory(["x.cfg": "#!version:1.0.0.1\nx = 1\n"])
        let other = try Self.directory([
            "y.cfg": "#!version:1.0.0.1\ninclude:config x2.cfg\ninclude:config \"" + dir + "/x.cfg\"\n",
            "x2.cfg": "#!version:1.0.0.1\nx2 = 2\n",
        ])
        let file = try ConfigFile.load(path: other + "/y.cfg")
        #expect(file.string("x") == "1")
        #expect(file.string("x2") == "2")
    }

    @Test("cycles, missing files, URLs and a missing name are refused at the include line")
    func errors() throws {
        let dir = try Self.directory([
            "a.cfg": "#!version:1.0.0.1\nk = 1\ninclude:config \"b.cfg\"\n",
            "b.cfg": "#!version:1.0.0.1\ninclude:config \"a.cfg\"\n",
            "missing.cfg": "#!version:1.0.0.1\ninclude:config \"nope.cfg\"\n",
            "url.cfg": "#!version:1.0.0.1\ninclude:config \"http://server/x.cfg\"\n",
            "empty.cfg": "#!version:1.0.0.1\ninclude:config \"\"\n",
            "bad.cfg": "#!version:1.0.0.1\ninclude:config \"broken.cfg\"\n",
            "broken.cfg": "#!version:1.0.0.1\nno equals sign\n",
        ])
        #expect(throws: ConfigError(dir + "/b.cfg", 2, "include:config \"a.cfg\": includes itself")) {
            try ConfigFile.load(path: dir + "/a.cfg")
        }
        #expect(
            throws: ConfigError(dir + "/missing.cfg", 2, "include:config \"nope.cfg\": cannot open: No such file or directory")
        ) { try ConfigFile.load(path: dir + "/missing.cfg") }
        #expect(throws: ConfigError(dir + "/url.cfg", 2, "include:config \"http://server/x.cfg\": only local files can be included")) {
            try ConfigFile.load(path: dir + "/url.cfg")
        }
        #expect(throws: ConfigError(dir + "/empty.cfg", 2, "include:config needs a file name: include:config \"file.cfg\"")) {
            try ConfigFile.load(path: dir + "/empty.cfg")
        }
        // A problem inside the included file names that file's line.
        #expect(throws: ConfigError(dir + "/broken.cfg", 2, "expected 'key = value', got 'no equals sign'")) {
            try ConfigFile.load(path: dir + "/bad.cfg")
        }
        // Parsing text alone has no directory to include from.
        #expect(throws: ConfigError("t.cfg", 2, "include:config is not allowed here")) {
            try ConfigFile(text: "#!version:1.0.0.1\ninclude:config \"x.cfg\"\n", path: "t.cfg")
        }
    }

    @Test("nesting is bounded")
    func depth() throws {
        var files: [String: String] = [:]
        for i in 0...ConfigFile.maximumIncludeDepth + 1 {
            files["f" + String(i) + ".cfg"] = "#!version:1.0.0.1\ninclude:config \"f" + String(i + 1) + ".cfg\"\n"
        }
        files["f" + String(ConfigFile.maximumIncludeDepth + 2) + ".cfg"] = "#!version:1.0.0.1\nz = 1\n"
        let dir = try Self.directory(files)
        #expect(throws: ConfigError.self) { try ConfigFile.load(path: dir + "/f0.cfg") }
        let ok = try ConfigFile.load(path: dir + "/f2.cfg")
        #expect(ok.string("z") == "1")
    }

    @Test("line endings: \\n, \\r\\n and a lone \\r; a last line without a newline")
    func lineEndings() throws {
        let file = try ConfigFile(text: "#!version:1.0.0.1\r\na = 1\rb = 2\nc = 3", path: "t.cfg")
        #expect(file.string("a") == "1")
        #expect(file.entry("b")?.line == 3)
        #expect(file.entry("c")?.line == 4)
        #expect(file.string("c") == "3")
    }
}
