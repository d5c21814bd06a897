import Config
import Testing

@testable import Keys

@Suite("KeysConfiguration from a board profile")
struct KeysConfigurationTests {
    @Test("defaults: stdin, 1 s long press, standard maps")
    func defaults() throws {
        let c = try KeysConfiguration(board: try board("board.name = x\n"))
        #expect(c.source == .stdin)
        #expect(c.grab == false)
        #expect(c.timing.longPressNanoseconds == 1000 * ms)
        #expect(c.timing.repeatDelayNanoseconds == 500 * ms)
        #expect(c.timing.repeatIntervalNanoseconds == 150 * ms)
        #expect(c.keymap == KeyMap.standard)
        #expect(c.keymap[code("KEY_KP5")] == .digit(5))
        #expect(c.keymap[code("KEY_F1")] == .line(1))
        #expect(c.terminalMap["h"] == .hook)
        #expect(c.terminalMap["star"] == .star)
        #expect(c.devicesDirectory == "/dev/input")
    }

    @Test("every standard entry resolves (code names libevdev knows, phone keys that exist)")
    func standardEntriesResolve() {
        for (codeName, keyName) in KeyMap.standardEntries {
            #expect(KeyMap.code(named: codeName) != nil, "\(codeName)")
            #expect(PhoneKey(name: keyName) != nil, "\(keyName)")
        }
        for (name, keyName) in TerminalKeyMap.standardEntries {
            #expect(TerminalKeyMap.isValidName(name), "\(name)")
            #expect(PhoneKey(name: keyName) != nil, "\(keyName)")
        }
    }

    @Test("a full Keys section")
    func fullSection() throws {
        let c = try KeysConfiguration(board: try board("""
            keys.source = evdev-name:Phone Keypad
            keys.grab = 1
            keys.long_press_ms = 800
            keys.repeat_delay_ms = 400
            keys.repeat_interval_ms = 100
            keys.repeat_keys = volume_up, volume_down
            keys.devices_dir = /tmp/input
            keymap.KEY_F1 = line1
            keymap.KEY_KP5 = digit5
            keymap.KEY_RECORD = record
            keymap.BTN_0 = hook
            terminal.key.q = record
            terminal.key.space = hook
            terminal.key.h = none
            """))
        #expect(c.source == .evdev(.name("Phone Keypad")))
        #expect(c.grab)
        #expect(c.timing.longPressNanoseconds == 800 * ms)
        #expect(c.timing.repeatDelayNanoseconds == 400 * ms)
        #expect(c.timing.repeatIntervalNanoseconds == 100 * ms)
        #expect(c.timing.repeatingKeys == [.volumeUp, .volumeDown])
        #expect(c.devicesDirectory == "/tmp/input")
        // With keymap lines the board's map is exactly those lines.
        #expect(c.keymap.count == 4)
        #expect(c.keymap[59] == .line(1))  // KEY_F1
        #expect(c.keymap[code("KEY_KP5")] == .digit(5))
        #expect(c.keymap[code("KEY_RECORD")] == .record)
        #expect(c.keymap[0x100] == .hook)  // BTN_0
        #expect(c.terminalMap["q"] == .record)
        #expect(c.terminalMap["space"] == .hook)
        #expect(c.terminalMap["h"] == nil)
        #expect(c.terminalMap["5"] == .digit(5))
    }

    @Test("keymap lines over the standard map, and none to unmap")
    func keymapBase() throws {
        let c = try KeysConfiguration(board: try board("""
            keys.keymap_base = standard
            keymap.KEY_F1 = record
            keymap.KEY_H = none
            """))
        #expect(c.keymap[code("KEY_F1")] == .record)
        #expect(c.keymap[code("KEY_H")] == nil)
        #expect(c.keymap[code("KEY_KP1")] == .digit(1))
    }

    @Test("source forms", arguments: [
        ("evdev:/dev/input/event3", KeySourceSpec.evdev(.path("/dev/input/event3"))),
        ("evdev-name:gpio-keys", .evdev(.name("gpio-keys"))),
        ("evdev-caps:keyboard", .evdev(.capability(.keyboard))),
        ("evdev-caps:keypad", .evdev(.capability(.keypad))),
        ("evdev-caps:keymap", .evdev(.capability(.keymap))),
        ("fifo:/run/keys", .fifo("/run/keys")),
        ("file:rec.bin", .file("rec.bin")),
        ("stdin", .stdin),
    ])
    func sources(_ text: String, _ spec: KeySourceSpec) {
        #expect(KeySourceSpec(parsing: text) == spec)
        #expect(spec.description == text)
    }

    func error(_ text: String) -> ConfigError? {
        do {
            _ = try KeysConfiguration(board: try board(text, path: "board/bad.cfg"))
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            return nil
        }
    }

    @Test("an evdev code name libevdev does not know: file:line")
    func badCodeName() {
        let e = error("board.name = x\nkeymap.KEY_F1 = line1\nkeymap.KEY_NOPE = line2\n")
        #expect(e?.file == "board/bad.cfg")
        #expect(e?.line == 4)
        let prefix = "board/bad.cfg:4: keymap.KEY_NOPE: 'KEY_NOPE' is not an evdev key code"
        #expect(e?.description.hasPrefix(prefix) == true)
    }

    @Test("an unknown phone key name: file:line")
    func badPhoneKey() {
        let e = error("keymap.KEY_F1 = lin1\n")
        #expect(e?.line == 2)
        #expect(e?.message.hasPrefix("keymap.KEY_F1 = 'lin1': unknown phone key") == true)
        #expect(error("keymap.KEY_F1 = line100\n")?.line == 2)
        #expect(error("keymap.KEY_F1 = softkey5\n")?.line == 2)
    }

    @Test("other bad values are refused at their line", arguments: [
        ("keys.source = usb:foo", "keys.source = 'usb:foo': expected"),
        ("keys.source = evdev-caps:mouse", "keys.source = 'evdev-caps:mouse'"),
        ("keys.source = fifo:", "keys.source = 'fifo:'"),
        ("keys.grab = maybe", "keys.grab = 'maybe'"),
        ("keys.long_press_ms = -5", "keys.long_press_ms = '-5'"),
        ("keys.repeat_interval_ms = 0", "keys.repeat_interval_ms = '0'"),
        ("keys.repeat_keys = volume_up, loud", "keys.repeat_keys: 'loud'"),
        ("keys.keymap_base = pc", "keys.keymap_base = 'pc'"),
        ("keys.devices_dir = dev/input", "keys.devices_dir must be absolute"),
        ("terminal.key.ab = record", "terminal.key.ab: 'ab' is not a terminal key"),
        ("terminal.key.q = recrd", "terminal.key.q = 'recrd': unknown phone key"),
    ])
    func badValues(_ line: String, _ message: String) {
        let e = error("# comment\n" + line + "\n")
        #expect(e?.line == 3, "\(line)")
        #expect(e?.message.hasPrefix(message) == true, "\(e?.message ?? "no error")")
    }
}
