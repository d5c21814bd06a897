import CLinux
import Foundation
import Testing

@testable import Indicators

@Suite("LED backends")
struct LEDBackendTests {
    @Test("sysfs: brightness for on/off, timer trigger with delays for flashing")
    func sysfs() throws {
        let dir = TempDir()
        defer { dir.remove() }
        dir.makeSysfsLED("phone:record", maxBrightness: 1)
        dir.makeSysfsLED("line1", maxBrightness: 255)
        let (faults, messages) = collectingFaults()
        let reactor = virtualReactor()
        let backend = SysfsLEDBackend(
            directory: dir.path + "/",
            bindings: [.init(id: "record", name: "phone:record"), .init(id: "line1", name: "line1")],
            reactor: reactor, faults: faults)
        let model = IndicatorModel(leds: ["record", "line1"])
        model.attach(backend)
        model.setRecording(.recording)
        #expect(dir.read("phone:record/brightness") == "1")
        #expect(dir.read("phone:record/trigger") == "none")
        model.setLineKey(1, .held)
        #expect(dir.read("line1/trigger") == "timer")
        #expect(dir.read("line1/delay_on") == "500" && dir.read("line1/delay_off") == "500")
        model.setLineKey(1, .incoming)
        #expect(dir.read("line1/delay_on") == "100" && dir.read("line1/delay_off") == "100")
        model.setLineKey(1, .talking)
        #expect(dir.read("line1/trigger") == "none" && dir.read("line1/brightness") == "255")
        model.setLineKey(1, .idle)
        #expect(dir.read("line1/brightness") == "0")
        #expect(messages().isEmpty && reactor.timerCount == 0)
        model.close()
        reactor.close()
    }

    @Test("sysfs: multi-colour LEDs are one sysfs LED per colour; amber is red + green")
    func sysfsColours() {
        let dir = TempDir()
        defer { dir.remove() }
        dir.makeSysfsLED("phone:green:line1", maxBrightness: 1)
        dir.makeSysfsLED("phone:red:line1", maxBrightness: 1)
        let (faults, messages) = collectingFaults()
        let backend = SysfsLEDBackend(
            directory: dir.path,
            bindings: [.init(id: "line1", name: "phone:{color}:line1", colors: [.green, .red])],
            reactor: nil, faults: faults)
        backend.ledChanged("line1", LEDState(.on, .red))
        #expect(dir.read("phone:red:line1/brightness") == "1" && dir.read("phone:green:line1/brightness") == "0")
        backend.ledChanged("line1", LEDState(.on, .amber))
        #expect(dir.read("phone:red:line1/brightness") == "1" && dir.read("phone:green:line1/brightness") == "1")
        backend.ledChanged("line1", .lineIncoming)
        #expect(dir.read("phone:green:line1/trigger") == "timer" && dir.read("phone:red:line1/brightness") == "0")
        #expect(messages().isEmpty)
    }

    @Test("sysfs: without the timer trigger, flashing runs on reactor timers")
    func sysfsSoftwareFlash() throws {
        let dir = TempDir()
        defer { dir.remove() }
        dir.makeSysfsLED("msg", maxBrightness: 1, withTimerTrigger: false)
        let (faults, messages) = collectingFaults()
        let reactor = virtualReactor()
        let backend = SysfsLEDBackend(
            directory: dir.path, bindings: [.init(id: "message", name: "msg")], reactor: reactor, faults: faults)
        backend.ledChanged("message", LEDState(.slowFlash))
        #expect(dir.read("msg/brightness") == "1")
        try reactor.run(for: 500 * ms)
        #expect(dir.read("msg/brightness") == "0")
        try reactor.run(for: 500 * ms)
        #expect(dir.read("msg/brightness") == "1")
        backend.ledChanged("message", .off)
        #expect(dir.read("msg/brightness") == "0" && reactor.timerCount == 0)
        #expect(messages().isEmpty)
        backend.close()
        reactor.close()
    }

    @Test("sysfs: a missing LED is reported once, the others keep working")
    func sysfsMissing() {
        let dir = TempDir()
        defer { dir.remove() }
        dir.makeSysfsLED("ok")
        let (faults, messages) = collectingFaults()
        let backend = SysfsLEDBackend(
            directory: dir.path, bindings: [.init(id: "a", name: "gone"), .init(id: "b", name: "ok")],
            reactor: nil, faults: faults)
        for _ in 0..<3 {
            backend.ledChanged("a", .on)
            backend.ledChanged("a", .off)
        }
        backend.ledChanged("b", .on)
        #expect(messages().count == 1)
        #expect(messages().first?.hasPrefix("sysfs LED 'gone': open " + dir.path + "/gone/brightness: ENOENT") == true)
        #expect(dir.read("ok/brightness") == "255")
    }

    /// Decodes `struct input_event` records of this build's layout: (type, code, value).
    func decode(_ bytes: [UInt8]) -> [(UInt16, UInt16, Int32)] {
        let size = Int(cl_input_event_size())
        #expect(size == 24)
        var out: [(UInt16, UInt16, Int32)] = []
        var i = 0
        while i + size <= bytes.count {
            let t = size - 8
            let type = UInt16(bytes[i + t]) | UInt16(bytes[i + t + 1]) << 8
            let code = UInt16(bytes[i + t + 2]) | UInt16(bytes[i + t + 3]) << 8
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(bytes[i + t + 4 + k]) << (8 * UInt32(k)) }
            out.append((type, code, Int32(bitPattern: v)))
            i += size
        }
        return out
    }

    @Test("evdev: EV_LED + SYN_REPORT records; fast flash toggles every 100 ms on the reactor clock")
    func evdev() throws {
        let dir = TempDir()
        defer { dir.remove() }
        dir.write("event0", "")
        let (faults, messages) = collectingFaults()
        let reactor = virtualReactor()
        let backend = EvdevLEDBackend(
            path: dir.file("event0"), bindings: [.init(id: "record", code: 2), .init(id: "mute", code: 1)],
            reactor: reactor, faults: faults)
        let model = IndicatorModel(leds: ["record", "mute"])
        model.attach(backend)
        model.setRecording(.recording)
        // Attaching sets the keyboard LEDs to the model's state (off), then record goes on.
        var events = decode(dir.bytes("event0"))
        #expect(events.count == 6)
        #expect(events[0] == (0x11, 2, 0) && events[1] == (0, 0, 0) && events[2] == (0x11, 1, 0))
        #expect(events[4] == (0x11, 2, 1) && events[5] == (0, 0, 0))
        model.setLED("mute", LEDState(.fastFlash))
        try reactor.run(for: 450 * ms)
        model.setLED("mute", .off)
        events = Array(decode(dir.bytes("event0")).filter { $0.0 == 0x11 }.dropFirst(3))
        #expect(events.map { $0.2 } == [1, 0, 1, 0, 1, 0])
        #expect(events.allSatisfy { $0.1 == 1 })
        #expect(reactor.timerCount == 0 && messages().isEmpty)
        model.close()
        // Closing turns the LEDs it lit off again.
        events = decode(dir.bytes("event0")).filter { $0.0 == 0x11 }
        #expect(events.last! == (0x11, 2, 0))
        reactor.close()
    }

    @Test("evdev: a device that cannot be opened is reported once")
    func evdevMissing() throws {
        let (faults, messages) = collectingFaults()
        let reactor = virtualReactor()
        let backend = EvdevLEDBackend(
            path: "/nonexistent/event9", bindings: [.init(id: "record", code: 2)], reactor: reactor, faults: faults)
        backend.ledChanged("record", LEDState(.fastFlash))
        try reactor.run(for: 1000 * ms)
        #expect(messages() == ["evdev LEDs: open /nonexistent/event9: ENOENT (No such file or directory)"])
        backend.close()
        reactor.close()
    }

    @Test("evdev: a full pipe reports once and the loop goes on")
    func evdevPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(cl_pipe(&fds) == 0)
        defer {
            _ = cl_close(fds[0])
            _ = cl_close(fds[1])
        }
        let (faults, messages) = collectingFaults()
        let reactor = virtualReactor()
        let backend = EvdevLEDBackend(
            fd: fds[1], bindings: [.init(id: "record", code: 2)], reactor: reactor, faults: faults)
        backend.ledChanged("record", LEDState(.fastFlash))
        try reactor.run(for: 200_000 * ms)  // 2000 toggles x 48 bytes > a 64 KiB pipe
        #expect(messages().count == 1)
        #expect(messages().first?.contains("EAGAIN") == true)
        backend.close()
        reactor.close()
    }
}
