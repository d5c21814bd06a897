import Config
import Keys
import Testing

@testable import Recording

@Suite("Recording configuration: record keys from the provisioning file")
struct RecordingConfigurationTests {
    static func parse(_ body: String, hasRecordKey: Bool = false, lineKeys: Int? = nil) throws -> RecordingConfiguration
    {
        let file = try ConfigFile(text: "#!version:1.0.0.1\n" + body, path: "phone.cfg")
        return try RecordingConfiguration(file, hasRecordKey: hasRecordKey, lineKeyCount: lineKeys)
    }

    /// The error for `body` as `file:line: message`.
    static func failure(_ body: String, hasRecordKey: Bool = false, lineKeys: Int? = nil) -> String? {
        do throws(ConfigError) {
            let file = try ConfigFile(text: "#!version:1.0.0.1\n" + body, path: "phone.cfg")
            _ = try RecordingConfiguration(file, hasRecordKey: hasRecordKey, lineKeyCount: lineKeys)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("defaults: no keys without a record key; the board's record key is a Record key")
    func defaults() throws {
        let none = try Self.parse("")
        #expect(none.keys.isEmpty)
        #expect(none.requestTimeoutNanoseconds == 5_000_000_000 && none.messageNanoseconds == 3_000_000_000)
        let board = try Self.parse("", hasRecordKey: true)
        #expect(board.keys == [RecordKeyBinding(key: .record, mode: .info, label: "Record", location: "default")])
        #expect(board.binding(for: .record)?.mode == .info)
        #expect(board.binding(for: .line(1)) == nil)
    }

    @Test("linekey type 25 and 35 with value, label and the on/off pair; other types are not ours")
    func lineKeys() throws {
        let config = try Self.parse(
            """
            linekey.3.type = 35
            linekey.3.value = http://10.0.0.5/rec?call=$call_id&who=$active_user
            linekey.1.type = 25
            linekey.1.label = Rec
            linekey.2.type = 15
            linekey.2.value = 1001
            linekey.4.type = 35
            linekey.4.record_on_url = http://pbx/start?id=$call_id
            linekey.4.record_off_url = http://pbx/stop?id=$call_id
            features.record.request_timeout = 8
            features.record.message_time = 2
            """, lineKeys: 6)
        #expect(config.keys.map { $0.key } == [.line(1), .line(3), .line(4)])
        #expect(config.keys[0] == RecordKeyBinding(key: .line(1), mode: .info, label: "Rec", location: "phone.cfg:4"))
        let toggle = RecordURLs(toggle: "http://10.0.0.5/rec?call=$call_id&who=$active_user")
        #expect(config.keys[1].mode == .url(toggle) && config.keys[1].label == "URL Record")
        #expect(toggle.isToggle && toggle.url(starting: true) == toggle.url(starting: false))
        guard case .url(let pair) = config.keys[2].mode else {
            Issue.record("line 4 is not URL record")
            return
        }
        #expect(!pair.isToggle)
        #expect(pair.url(starting: true) == "http://pbx/start?id=$call_id")
        #expect(pair.url(starting: false) == "http://pbx/stop?id=$call_id")
        #expect(config.requestTimeoutSeconds == 8 && config.messageNanoseconds == 2_000_000_000)
    }

    @Test("the board's record key as URL record, or switched off; ignored with a warning on a board without one")
    func recordKey() throws {
        let url = try Self.parse(
            "features.record_key.type = 35\nfeatures.record_key.value = http://pbx/r\n"
                + "features.record_key.label = REC\n",
            hasRecordKey: true)
        #expect(
            url.keys == [
                RecordKeyBinding(
                    key: .record, mode: .url(RecordURLs(toggle: "http://pbx/r")), label: "REC",
                    location: "phone.cfg:2")
            ])
        let off = try Self.parse("features.record_key.type = 0\n", hasRecordKey: true)
        #expect(off.keys.isEmpty)
        let noKey = try Self.parse("features.record_key.type = 25\n", hasRecordKey: false)
        #expect(noKey.keys.isEmpty)
        #expect(noKey.warnings == ["phone.cfg:2: features.record_key.type ignored: the board has no record key"])
    }

    @Test("invalid values are refused with file:line")
    func refused() {
        #expect(
            Self.failure("linekey.2.type = record\n")
                == "phone.cfg:2: linekey.2.type = 'record': expected a key type number")
        #expect(
            Self.failure("linekey.0.type = 25\n") == "phone.cfg:2: linekey.0.type: the line key number must be 1 to 99")
        #expect(
            Self.failure("linekey.x.type = 25\n")?.hasPrefix("phone.cfg:2: linekey.x.type: the line key number") == true
        )
        #expect(
            Self.failure("linekey.9.type = 25\n", lineKeys: 6)
                == "phone.cfg:2: linekey.9.type: the board has 6 line keys")
        #expect(
            Self.failure("\nlinekey.1.type = 35\n")
                == "phone.cfg:3: linekey.1.type = 35 (URL Record) needs the URL in linekey.1.value "
                + "(or linekey.1.record_on_url and linekey.1.record_off_url)")
        #expect(Self.failure("linekey.1.type = 35\nlinekey.1.value = https://pbx/r\n") == nil)
        #expect(
            Self.failure("linekey.1.type = 35\nlinekey.1.value = https:///r\n")
                == "phone.cfg:3: linekey.1.value = 'https:///r': the URL has no host")
        #expect(
            Self.failure("linekey.1.type = 35\nlinekey.1.value = ftp://pbx/r\n")
                == "phone.cfg:3: linekey.1.value = 'ftp://pbx/r': expected an http:// or https:// URL")
        #expect(
            Self.failure("linekey.1.type = 35\nlinekey.1.value = http://pbx/a b\n")
                == "phone.cfg:3: linekey.1.value = 'http://pbx/a b': "
                + "spaces and control characters are not allowed (write %20)")
        #expect(
            Self.failure("linekey.1.type = 35\nlinekey.1.value = http:///r\n")
                == "phone.cfg:3: linekey.1.value = 'http:///r': the URL has no host")
        #expect(
            Self.failure(
                "linekey.1.type = 35\nlinekey.1.value = http://pbx/r\nlinekey.1.record_on_url = http://pbx/on\n")
                == "phone.cfg:4: linekey.1.record_on_url: "
                + "set both linekey.1.record_on_url and linekey.1.record_off_url, or neither")
        #expect(
            Self.failure("linekey.1.type = 25\nlinekey.1.record_off_url = http://pbx/off\n")
                == "phone.cfg:3: linekey.1.record_off_url needs linekey.1.type = 35 (URL Record)")
        #expect(
            Self.failure("linekey.1.type = 16\nlinekey.1.record_on_url = http://pbx/on\n")
                == "phone.cfg:3: linekey.1.record_on_url needs linekey.1.type = 35 (URL Record)")
        #expect(
            Self.failure("features.record_key.type = 17\n", hasRecordKey: true)
                == "phone.cfg:2: features.record_key.type = '17': expected 25 (Record), 35 (URL Record) or 0 (none)")
        #expect(
            Self.failure("features.record.request_timeout = 0\n")
                == "phone.cfg:2: features.record.request_timeout = '0': expected a whole number from 1 to 60")
        #expect(
            Self.failure("features.record.timeout = 5\n")
                == "phone.cfg:2: features.record.timeout: unknown recording key")
        #expect(
            Self.failure("features.record_key.url = http://x/\n")
                == "phone.cfg:2: features.record_key.url: unknown recording key")
    }

    @Test("a later file wins, and the error names the file that set the value")
    func layered() throws {
        let common = try ConfigFile(text: "#!version:1.0.0.1\nlinekey.1.type = 25\n", path: "common.cfg")
        let phone = try ConfigFile(text: "#!version:1.0.0.1\n\nlinekey.1.type = 35\n", path: "phone.cfg")
        do throws(ConfigError) {
            _ = try RecordingConfiguration(ConfigFile(merging: [common, phone]), hasRecordKey: false)
            Issue.record("type 35 without a URL was accepted")
        } catch {
            #expect(error.file == "phone.cfg" && error.line == 3)
        }
        let fixed = try ConfigFile(
            text: "#!version:1.0.0.1\nlinekey.1.type = 35\nlinekey.1.value = http://pbx/r\n", path: "phone.cfg")
        let config = try RecordingConfiguration(ConfigFile(merging: [common, fixed]), hasRecordKey: false)
        #expect(config.keys.map { $0.mode.typeNumber } == [35])
    }
}
