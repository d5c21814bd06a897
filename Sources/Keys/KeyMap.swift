import CEvdev

/// Evdev key codes (`KEY_F1`, `KEY_KP5`, ...) to phone keys: the board's wiring.
public struct KeyMap: Equatable, Sendable {
    private var byCode: [UInt16: PhoneKey] = [:]

    /// An empty map.
    public init() {}

    /// The phone key wired to evdev code `code`, if any.
    public subscript(code: UInt16) -> PhoneKey? {
        get { byCode[code] }
        set { byCode[code] = newValue }
    }

    /// Number of mapped codes.
    public var count: Int { byCode.count }

    /// The mapped codes, ascending.
    public var codes: [UInt16] { byCode.keys.sorted() }

    /// The code for `name` (`KEY_F1`, `BTN_0`, ...) as libevdev knows it, or nil.
    public static func code(named name: String) -> UInt16? {
        let c = libevdev_event_code_from_name(UInt32(InputEvent.typeKey), name)
        return c < 0 ? nil : UInt16(c)
    }

    /// The libevdev name of a key code (`KEY_F1`), or `code N` when it has none.
    public static func name(ofCode code: UInt16) -> String {
        if let n = libevdev_event_code_get_name(UInt32(InputEvent.typeKey), UInt32(code)) {
            return String(cString: n)
        }
        return "code " + String(code)
    }

    /// The map used when a board profile has no `keymap.*` lines: a PC keyboard as a phone
    /// (digits and keypad as the dial pad, F1-F8 line keys, F9-F12 softkeys, letters as in
    /// the terminal map) plus the phone codes of `input-event-codes.h` (`KEY_NUMERIC_*`,
    /// `KEY_VOLUMEUP`, `KEY_MICMUTE`, `KEY_RECORD`, `KEY_OK`, ...).
    public static let standard: KeyMap = {
        var map = KeyMap()
        for (codeName, keyName) in KeyMap.standardEntries {
            if let code = KeyMap.code(named: codeName), let key = PhoneKey(name: keyName) { map[code] = key }
        }
        return map
    }()

    /// The standard map as (code name, phone key name) pairs.
    public static let standardEntries: [(String, String)] = {
        var list: [(String, String)] = []
        for d in 0...9 {
            list.append(("KEY_" + String(d), "digit" + String(d)))
            list.append(("KEY_KP" + String(d), "digit" + String(d)))
            list.append(("KEY_NUMERIC_" + String(d), "digit" + String(d)))
        }
        for n in 1...8 { list.append(("KEY_F" + String(n), "line" + String(n))) }
        for n in 1...4 { list.append(("KEY_F" + String(n + 8), "softkey" + String(n))) }
        list += [
            ("KEY_KPASTERISK", "star"), ("KEY_NUMERIC_STAR", "star"),
            ("KEY_KPDOT", "pound"), ("KEY_NUMERIC_POUND", "pound"),
            ("KEY_H", "hook"), ("KEY_S", "speaker"), ("KEY_J", "headset"), ("KEY_M", "mute"),
            ("KEY_R", "record"), ("KEY_O", "hold"), ("KEY_T", "transfer"), ("KEY_N", "conference"),
            ("KEY_P", "redial"), ("KEY_I", "message"),
            ("KEY_Z", "softkey1"), ("KEY_X", "softkey2"), ("KEY_C", "softkey3"), ("KEY_V", "softkey4"),
            ("KEY_L", "line1"), ("KEY_K", "line2"),
            ("KEY_KPPLUS", "volume_up"), ("KEY_EQUAL", "volume_up"), ("KEY_VOLUMEUP", "volume_up"),
            ("KEY_KPMINUS", "volume_down"), ("KEY_MINUS", "volume_down"), ("KEY_VOLUMEDOWN", "volume_down"),
            ("KEY_ENTER", "ok"), ("KEY_KPENTER", "ok"), ("KEY_OK", "ok"),
            ("KEY_ESC", "cancel"), ("KEY_BACKSPACE", "cancel"), ("KEY_CANCEL", "cancel"),
            ("KEY_UP", "up"), ("KEY_DOWN", "down"), ("KEY_LEFT", "left"), ("KEY_RIGHT", "right"),
            ("KEY_MUTE", "mute"), ("KEY_MICMUTE", "mute"), ("KEY_RECORD", "record"),
        ]
        return list
    }()
}
