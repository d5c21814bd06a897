import CLinux
import Reactor

/// Keyboard LEDs through evdev, for testing on a PC: each board LED is one keyboard LED
/// (`LED_SCROLLL`, `LED_CAPSL`, `LED_NUML`, ...), lit by writing an EV_LED event and a
/// SYN_REPORT (`struct input_event`, the build's layout) to `/dev/input/eventN`. Keyboard
/// LEDs have one colour and cannot flash by themselves: flashing runs on reactor timers.
/// A device that fails (unplugged: ENODEV) is reported once and reopened on the next change.
public final class EvdevLEDBackend: IndicatorBackend {
    /// One board LED mapped to a keyboard LED code.
    public struct Binding: Equatable, Sendable {
        public var id: LEDID
        public var code: UInt16

        public init(id: LEDID, code: UInt16) {
            self.id = id
            self.code = code
        }
    }

    /// Keyboard LED names (linux/input-event-codes.h) and their codes.
    public static let ledCodes: [(String, UInt16)] = [
        ("LED_NUML", 0x00), ("LED_CAPSL", 0x01), ("LED_SCROLLL", 0x02), ("LED_COMPOSE", 0x03),
        ("LED_KANA", 0x04), ("LED_SLEEP", 0x05), ("LED_SUSPEND", 0x06), ("LED_MUTE", 0x07),
        ("LED_MISC", 0x08), ("LED_MAIL", 0x09), ("LED_CHARGING", 0x0A),
    ]

    /// The code of a keyboard LED name (`LED_SCROLLL`), or nil.
    public static func code(named name: String) -> UInt16? {
        for (n, c) in ledCodes where n == name { return c }
        return nil
    }

    private let path: String
    private var fd: Int32
    private let ownsFD: Bool
    private let bindings: [Binding]
    private let faults: IndicatorFaults
    private var flasher: LEDFlasher? = nil
    private var lit: [UInt16: Bool] = [:]

    /// Opens `path` for writing (non-blocking). A failed open is reported and retried on the
    /// next change.
    public convenience init(path: String, bindings: [Binding], reactor: Reactor, faults: IndicatorFaults) {
        self.init(path: path, fd: -1, ownsFD: true, bindings: bindings, reactor: reactor, faults: faults)
        _ = ensureOpen()
    }

    /// Writes to an open descriptor (a device, pipe or file: tests decode the records). The
    /// caller keeps ownership of `fd`.
    public convenience init(fd: Int32, bindings: [Binding], reactor: Reactor, faults: IndicatorFaults) {
        self.init(
            path: "fd " + String(fd), fd: fd, ownsFD: false, bindings: bindings, reactor: reactor, faults: faults)
    }

    private init(path: String, fd: Int32, ownsFD: Bool, bindings: [Binding], reactor: Reactor, faults: IndicatorFaults)
    {
        self.path = path
        self.fd = fd
        self.ownsFD = ownsFD
        self.bindings = bindings
        self.faults = faults
        flasher = LEDFlasher(reactor: reactor) { [self] id, on in
            for b in self.bindings where b.id == id { send(b.code, on) }
        }
    }

    public func ledChanged(_ id: LEDID, _ state: LEDState) {
        if bindings.contains(where: { $0.id == id }) { flasher?.set(id, state.mode) }
    }

    public func lcdChanged(_ lcd: LCDState) {}

    /// Turns the keyboard LEDs it lit off again, stops flashing and closes the device.
    public func close() {
        flasher?.close()
        flasher = nil
        for (code, on) in lit where on { send(code, false) }
        if ownsFD && fd >= 0 { _ = cl_close(fd) }
        fd = -1
    }

    private func ensureOpen() -> Bool {
        if fd >= 0 { return true }
        if !ownsFD { return false }
        let r = cl_open(path, O_WRONLY | O_NONBLOCK, 0)
        if r < 0 {
            faults.report("evdev:" + path, IndicatorError("evdev LEDs: open " + path, errno: -r))
            return false
        }
        fd = r
        return true
    }

    private func send(_ code: UInt16, _ on: Bool) {
        lit[code] = on
        guard ensureOpen() else { return }
        let n = cl_write_led_event(fd, code, on ? 1 : 0)
        if n < 0 {
            faults.report("evdev:" + path, IndicatorError("evdev LEDs: write " + path, errno: Int32(-n)))
            if ownsFD && (n == -Int(ENODEV) || n == -Int(EIO) || n == -Int(EBADF)) {
                _ = cl_close(fd)
                fd = -1
            }
        } else {
            faults.recovered("evdev:" + path)
        }
    }
}
