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
