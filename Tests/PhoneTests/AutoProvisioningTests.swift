import Config
import Foundation
import Testing

@testable import Phone

@Suite("Auto provisioning: plan, conditional GETs, check, atomic store")
struct AutoProvisioningTests {
    @Test("the common file then <mac>.cfg (lowercase, no separators) in the server directory")
    func plan() throws {
        let a = ProvisioningPlan(
            serverURL: "http://192.0.2.1/prov", commonFile: "y000000000000.cfg", mac: "00:15:65:A1:B2:C3")
        #expect(a.urls == ["http://192.0.2.1/prov/y000000000000.cfg", "http://192.0.2.1/prov/001565a1b2c3.cfg"])
        let b = ProvisioningPlan(
            serverURL: " http://192.0.2.1:8080/ ", commonFile: "y000000000028.cfg", mac: "001565A1B2C3")
        #expect(b.urls == ["http://192.0.2.1:8080/y000000000028.cfg", "http://192.0.2.1:8080/001565a1b2c3.cfg"])
        let board = try BoardProfile(
            file: ConfigFile(
                text: "#!version:1.0.0.1\nboard.name = t\nboard.provision_common_file = y000000000044.cfg\n"
                    + "board.provision_dir = /var/lib/deskphone\n", path: "board.cfg"))
        #expect(board.provisionCommonFile == "y000000000044.cfg")
        #expect(board.provisionDirectory == "/var/lib/deskphone")
        #expect(board.unknownKeys.isEmpty)
        let plain = try BoardProfile(file: ConfigFile(text: "#!version:1.0.0.1\nboard.name = t\n", path: "b.cfg"))
        #expect(plain.provisionCommonFile == "y000000000000.cfg")
        #expect(plain.provisionDirectory == nil)
    }

    @Test("auto_provision keys: defaults, values, a URL this firmware cannot fetch refused at its line; tftp taken")
    func settings() throws {
        let none = try AutoProvisionSettings(ConfigFile(text: "#!version:1.0.0.1\n", path: "a.cfg"))
        #expect(none.serverURL == nil)
        #expect(none.powerOn && !none.repeatEnabled && none.repeatMinutes == 1440 && none.timeoutSeconds == 10)
        #expect(none.repeatIntervalNanoseconds == 86_400_000_000_000)
        let set = try AutoProvisionSettings(
            ConfigFile(
                text: "#!version:1.0.0.1\nauto_provision.server.url = http://192.0.2.1/p\n"
                    + "auto_provision.server.username = u\nauto_provision.server.password = p w\n"
                    + "auto_provision.repeat.enable = 1\nauto_provision.repeat.minutes = 30\nauto_provision.power_on = 0\n",
                path: "a.cfg"))
        #expect(set.serverURL == "http://192.0.2.1/p")
        #expect(set.userName == "u" && set.password == "p w")
        #expect(set.repeatEnabled && !set.powerOn)
        #expect(set.repeatIntervalNanoseconds == 1_800_000_000_000)
        let seconds = try AutoProvisionSettings(
            ConfigFile(text: "#!version:1.0.0.1\nauto_provision.repeat.seconds = 2\n", path: "a.cfg"))
        #expect(seconds.repeatIntervalNanoseconds == 2_000_000_000)
        #expect(
            throws: ConfigError(
                "a.cfg", 2,
                "auto_provision.server.url = 'ftp://192.0.2.1/': expected an http://, https:// or tftp:// URL"
            )
        ) {
            try AutoProvisionSettings(
                ConfigFile(text: "#!version:1.0.0.1\nauto_provision.server.url = ftp://192.0.2.1/\n", path: "a.cfg"))
        }
        for tftp in ["tftp://192.0.2.1", "tftp://192.0.2.1/", "tftp://pbx.test:6969/phones/", "https://192.0.2.1/p/"] {
            let set = try AutoProvisionSettings(
                ConfigFile(text: "#!version:1.0.0.1\nauto_provision.server.url = " + tftp + "\n", path: "a.cfg"))
            #expect(set.serverURL == tftp)
        }
        #expect(throws: ConfigError.self) {
            try AutoProvisionSettings(
                ConfigFile(text: "#!version:1.0.0.1\nauto_provision.server.url = tftp:///\n", path: "a.cfg"))
        }
        // Checked with every other module: Provisioning refuses it too, and knows the keys.
        let p = try Provisioning(
            paths: [], merged: ConfigFile(text: "#!version:1.0.0.1\nauto_provision.repeat.enable = 1\n", path: "a.cfg"),
            hasRecordKey: false, lineKeys: nil)
        #expect(p.autoProvision.repeatEnabled)
        #expect(p.unknownKeys.isEmpty)
    }

    @Test("a 304 gives the copy fetched before; its validators go into the next GET")
    func cache() {
        var cache = ProvisioningCache()
        let url = "http://192.0.2.1/a.cfg"
        #expect(cache.conditionalHeaders(for: url).isEmpty)
        #expect(cache.text(for: url, status: 304, etag: nil, lastModified: nil, body: []) == nil)
        let text = cache.text(
            for: url, status: 200, etag: "\"abc\"", lastModified: "Mon, 07 Dec 2026 12:00:00 GMT",
            body: Array("x = 1".utf8))
        #expect(text == "x = 1")
        let fields = cache.conditionalHeaders(for: url)
        #expect(fields.map { $0.name } == ["If-None-Match", "If-Modified-Since"])
        #expect(fields.map { $0.value } == ["\"abc\"", "Mon, 07 Dec 2026 12:00:00 GMT"])
        #expect(cache.text(for: url, status: 304, etag: nil, lastModified: nil, body: []) == "x = 1")
        #expect(cache.text(for: url, status: 500, etag: nil, lastModified: nil, body: Array("oops".utf8)) == nil)
        cache.forget(url)
        #expect(cache.conditionalHeaders(for: url).isEmpty)
    }

    @Test("fetched files are checked with the local ones: later wins, a bad line is URL:LINE")
    func check() throws {
        let dir = try ProvisioningTests.directory(["local.cfg": "#!version:1.0.0.1\nvoice.volume.handset = 9\n"])
        let common = ProvisionedFile(
            url: "http://192.0.2.1/y000000000000.cfg",
            text:
                "#!version:1.0.0.1\naccount.1.user_name = 1000\nvoice.volume.handset = 3\naccount.1.display_name = \"A \"q\"\"\n"
        )
        let mac = ProvisionedFile(
            url: "http://192.0.2.1/001565a1b2c3.cfg", text: "#!version:1.0.0.1\naccount.1.user_name = 2001\n")
        let good = ProvisioningCandidate.check(
            [common, mac], storedPath: dir + "/store/provisioned.cfg", localPaths: [dir + "/local.cfg"],
            hasRecordKey: false,
            lineKeys: nil)
        guard case .success(let candidate) = good else {
            Issue.record("refused: \(good)")
            return
        }
        #expect(candidate.provisioning.softphone.account.userName == "2001")
        #expect(candidate.provisioning.phone.handsetVolume == 9)
        #expect(candidate.provisioning.paths == [dir + "/store/provisioned.cfg", dir + "/local.cfg"])
        #expect(candidate.provisioning.merged.entry("account.1.user_name")?.location == mac.url + ":2")
        // The stored text reads back to the same keys and values, in the same order.
        let back = try ConfigFile(text: candidate.storedText, path: "stored.cfg")
        #expect(back.entries.map { $0.key } == candidate.files.flatMap { $0.entries.map { $0.key } })
        #expect(back.entries.map { $0.value } == candidate.files.flatMap { $0.entries.map { $0.value } })
        #expect(back.string("account.1.display_name") == "A \"q\"")

        let bad = ProvisionedFile(
            url: mac.url, text: "#!version:1.0.0.1\naccount.1.user_name = 2001\nvoice.volume.ringer = 42\n")
        let refused = ProvisioningCandidate.check(
            [common, bad], storedPath: nil, localPaths: [dir + "/local.cfg"], hasRecordKey: false, lineKeys: nil)
        guard case .failure(let error) = refused else {
            Issue.record("accepted a bad file")
            return
        }
        #expect(error.description == mac.url + ":3: voice.volume.ringer = '42': expected a whole number from 0 to 15")
        let syntax = ProvisioningCandidate.check(
            [ProvisionedFile(url: common.url, text: "#!version:1.0.0.1\nnot a key line\n")], storedPath: nil,
            localPaths: [], hasRecordKey: false, lineKeys: nil)
        guard case .failure(let syntaxError) = syntax else {
            Issue.record("accepted a bad line")
            return
        }
        #expect(syntaxError.file == common.url && syntaxError.line == 2)
    }

    @Test("the store replaces the set atomically: a write killed before its rename leaves the old set")
    func store() throws {
        let dir = try ProvisioningTests.directory([:]) + "/state"
        let store = ProvisioningStore(directory: dir)
        #expect(!store.hasSet)
        try store.save("#!version:1.0.0.1\na = 1\n")
        #expect(store.hasSet)
        #expect(try FileText.read(store.path) == "#!version:1.0.0.1\na = 1\n")
        // A kill after the temporary file was half written, before the rename.
        try "#!version:1.0.0.1\na = 2\nb = ".write(toFile: store.path + ".tmp", atomically: false, encoding: .utf8)
        #expect(try FileText.read(store.path) == "#!version:1.0.0.1\na = 1\n")
        #expect(try ConfigFile.load(path: store.path).string("a") == "1")
        try store.save("#!version:1.0.0.1\na = 3\n")
        #expect(try FileText.read(store.path) == "#!version:1.0.0.1\na = 3\n")
        #expect(!FileManager.default.fileExists(atPath: store.path + ".tmp"))
        // A directory that cannot be made is an error naming it.
        let blocked = ProvisioningStore(directory: store.path + "/sub")
        #expect(throws: ConfigError.self) { try blocked.save("x") }
    }
}
