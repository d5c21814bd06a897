import CLinux
import Foundation
import Reactor
import Testing

@testable import Keys

/// The evdev source's logic through fake devices (this machine has no /dev/input and no
/// /dev/uinput); directory listing and hot-plug use a real temp directory and real inotify.
@Suite("evdev key source")
struct EvdevSourceTests {
    let kp5 = code("KEY_KP5")
    let f1 = code("KEY_F1")
    let hookCode = code("BTN_0")

    final class Rig {
        let dir = TempDir()
        let devices = FakeDevices()
        let loop: Reactor
        let rec = Recorder()
        var source: EvdevKeySource! = nil
        var router: KeyRouter! = nil

        init() throws { loop = try Reactor(clock: .virtual(startNanoseconds: 0)) }

        /// "Plugs" a device: registers it and creates its node (inotify sees the create).
        @discardableResult
        func plug(_ node: String, name: String, keys: [UInt16]) -> FakeDevice {
            let dev = FakeDevice(name: name, keys: keys)
            devices.byPath[dir.file(node)] = dev
            _ = dir.write(node, "")
            return dev
        }

        func unplugNode(_ node: String) {
            devices.byPath[dir.file(node)] = nil
            dir.remove(node)
        }

        func start(_ selector: EvdevSelector, grab: Bool = false, keymap: KeyMap? = nil) {
            var map = KeyMap()
            map[code("KEY_KP5")] = .digit(5)
            map[code("KEY_F1")] = .line(1)
            map[code("BTN_0")] = .hook
            let resolver = KeyResolver(reactor: loop, timing: KeyTiming(), handler: rec.handler())
            router = KeyRouter(keymap: keymap ?? map, resolver: resolver, log: rec.log())
            source = EvdevKeySource(
                selector: selector, directory: dir.path, grab: grab, reactor: loop, router: router,
                log: rec.log(), open: devices.opener())
        }

        deinit {
            source?.close()
            router?.close()
            loop.close()
        }
    }

    @Test("discovery by name among several devices; press, long, release; grab")
    func discoveryByName() throws {
        let rig = try Rig()
        rig.plug("event0", name: "Power Button", keys: [116])
        rig.plug("event10", name: "AT keyboard", keys: [30, 44, 28])
        let pad = rig.plug("event2", name: "Phone Keypad", keys: [kp5, f1])
        rig.start(.name("Keypad"), grab: true)
        #expect(rig.source.devicePath == rig.dir.file("event2"))
        #expect(rig.source.deviceName == "Phone Keypad")
        #expect(pad.grabs == [true])
        // Numeric order: event0 then event2 were opened; event10 never needed.
        #expect(rig.devices.opens == [rig.dir.file("event0"), rig.dir.file("event2")])
        #expect(rig.devices.byPath[rig.dir.file("event0")]!.closed)

        pad.push([pad.key(kp5, 1), .event(InputEvent(type: 0, code: 0, value: 0))])
        try rig.loop.runUntilIdle()
        try rig.loop.run(for: 1200 * ms)
        pad.push([pad.key(kp5, 2), pad.key(kp5, 0)])
        try rig.loop.runUntilIdle()
        #expect(rig.rec.lines == ["press digit5", "long digit5", "release digit5"])
        rig.source.close()
        #expect(pad.grabs == [true, false])
        #expect(pad.closed)
    }

    @Test("discovery by capabilities", arguments: [
        (EvdevCapability.keyboard, "event1"), (.keypad, "event2"), (.keymap, "event3"),
    ])
    func discoveryByCaps(_ cap: EvdevCapability, _ expected: String) throws {
        let rig = try Rig()
        rig.plug("event0", name: "Power Button", keys: [116])
        rig.plug("event1", name: "kbd", keys: [30, 44, 28, 2])
        rig.plug("event2", name: "keypad", keys: Array(71...82))
        rig.plug("event3", name: "phone matrix", keys: [code("BTN_0")])
        if cap == .keymap {
            // Only the phone matrix has the keymap's hook code here.
            var map = KeyMap()
            map[code("BTN_0")] = .hook
            rig.start(.capability(cap), keymap: map)
        } else {
            rig.start(.capability(cap))
        }
        #expect(rig.source.devicePath == rig.dir.file(expected))
    }

    @Test("SYN_DROPPED: resync events are applied, then normal reads go on")
    func synDropped() throws {
        let rig = try Rig()
        let dev = rig.plug("event0", name: "pad", keys: [kp5, f1])
        rig.start(.path(rig.dir.file("event0")))
        #expect(rig.source.isConnected)
        dev.push([dev.key(kp5, 1), .dropped, .syncEvent(InputEvent(type: 1, code: kp5, value: 0)),
                  .syncEvent(InputEvent(type: 1, code: f1, value: 1)), .empty, dev.key(f1, 0)])
        try rig.loop.runUntilIdle()
        #expect(rig.rec.lines == ["press digit5", "release digit5", "press line1", "release line1"])
        #expect(rig.source.resyncCount == 1)
        // Reads after the drop were in sync mode until the resync ended.
        #expect(Array(dev.syncFlags.prefix(6)) == [false, false, true, true, true, false])
    }

    @Test("keys down at connect (handset already lifted) are reported")
    func keysDownAtConnect() throws {
        let rig = try Rig()
        let dev = FakeDevice(name: "matrix", keys: [hookCode])
        dev.down = [hookCode]
        rig.devices.byPath[rig.dir.file("event0")] = dev
        _ = rig.dir.write("event0", "")
        rig.start(.path(rig.dir.file("event0")))
        #expect(rig.rec.lines == ["press hook"])
    }

    @Test("unplug (ENODEV) releases held keys and waits; inotify picks the replug up at once")
    func hotPlug() throws {
        let rig = try Rig()
        let first = rig.plug("event4", name: "Phone Keypad", keys: [kp5])
        rig.start(.name("Phone Keypad"))
        first.push([first.key(kp5, 1)])
        try rig.loop.runUntilIdle()

        // Unplug: the read fails with ENODEV, the node goes away.
        first.push([.failed(ENODEV)])
        rig.unplugNode("event4")
        try rig.loop.runUntilIdle()
        #expect(!rig.source.isConnected)
        #expect(first.closed)
        #expect(rig.rec.lines == ["press digit5", "release digit5"])
        #expect(rig.loop.watchCount == 1)  // only the inotify watch is left
        #expect(rig.rec.logs.contains { $0.hasSuffix("event4: device removed (ENODEV); waiting for it to come back") })

        // Nothing there: the rescans find nothing, the loop keeps going.
        try rig.loop.run(for: 3000 * ms)
        #expect(!rig.source.isConnected)

        // Replug (under another number, as the kernel may do): found without the clock moving.
        let before = rig.loop.now
        let second = rig.plug("event5", name: "Phone Keypad", keys: [kp5])
        try rig.loop.runUntilIdle()
        #expect(rig.source.isConnected)
        #expect(rig.loop.now == before)
        #expect(rig.source.devicePath == rig.dir.file("event5"))
        #expect(rig.source.connectCount == 2 && rig.source.disconnectCount == 1)
        second.push([second.key(kp5, 1), second.key(kp5, 0)])
        try rig.loop.runUntilIdle()
        #expect(Array(rig.rec.lines.suffix(2)) == ["press digit5", "release digit5"])
    }

    @Test("a device that starts without permission is picked up when udev fixes it (IN_ATTRIB)")
    func permissionsLater() throws {
        let rig = try Rig()
        rig.start(.path(rig.dir.file("event7")))
        #expect(!rig.source.isConnected)
        let dev = rig.plug("event7", name: "pad", keys: [kp5])
        rig.devices.failWith[rig.dir.file("event7")] = EACCES
        try rig.loop.runUntilIdle()
        #expect(!rig.source.isConnected)
        rig.devices.failWith = [:]
        chmod(rig.dir.file("event7"), 0o640)
        try rig.loop.runUntilIdle()
        #expect(rig.source.isConnected)
        _ = dev
    }

    @Test("without any directory event the rescan finds the device within a second")
    func rescanFallback() throws {
        let rig = try Rig()
        _ = rig.dir.write("event1", "")
        rig.devices.failWith[rig.dir.file("event1")] = EACCES
        rig.start(.path(rig.dir.file("event1")))
        #expect(!rig.source.isConnected)
        #expect(rig.rec.logs.contains { $0.contains("EACCES") })
        rig.devices.failWith = [:]
        rig.devices.byPath[rig.dir.file("event1")] = FakeDevice(name: "pad", keys: [kp5])
        try rig.loop.run(for: 1000 * ms)
        #expect(rig.source.isConnected)
    }

    @Test("a devices directory that does not exist: the source waits, nothing crashes")
    func missingDirectory() throws {
        let rig = try Rig()
        rig.start(.path("/nonexistent-input/event0"))
        #expect(!rig.source.isConnected)
        #expect(rig.rec.logs.first?.contains("inotify_add_watch failed: ENOENT") == true)
        try rig.loop.run(for: 5000 * ms)
    }

    @Test("hang-up without ENODEV also drops the device; other read errors too")
    func hangUp() throws {
        let rig = try Rig()
        let dev = rig.plug("event0", name: "pad", keys: [kp5])
        rig.start(.path(rig.dir.file("event0")))
        dev.push([.failed(EIO)])
        try rig.loop.runUntilIdle()
        #expect(!rig.source.isConnected)
        #expect(rig.rec.logs.contains { $0.contains("read failed: EIO") })
    }

    @Test("unknown codes are logged once each")
    func unknownCodesOnce() throws {
        let rig = try Rig()
        let dev = rig.plug("event0", name: "pad", keys: [kp5])
        rig.start(.path(rig.dir.file("event0")))
        let a = code("KEY_A")
        let b = code("KEY_B")
        dev.push([dev.key(a, 1), dev.key(a, 0), dev.key(b, 1), dev.key(a, 1), dev.key(b, 0), dev.key(kp5, 1)])
        try rig.loop.runUntilIdle()
        let unknown = rig.rec.logs.filter { $0.hasPrefix("unmapped") }
        #expect(unknown == ["unmapped key code KEY_A (30) ignored", "unmapped key code KEY_B (48) ignored"])
        #expect(rig.router.unknownCodesSeen == [a, b])
        #expect(rig.rec.lines == ["press digit5"])
    }

    @Test("libevdev without a device: names resolve; opening non-devices fails cleanly")
    func libevdevWithoutDevice() throws {
        #expect(KeyMap.code(named: "KEY_F1") == 59)
        #expect(KeyMap.code(named: "KEY_NUMERIC_POUND") == 0x20b)
        #expect(KeyMap.code(named: "BTN_0") == 0x100)
        #expect(KeyMap.code(named: "KEY_NOT_A_KEY") == nil)
        #expect(KeyMap.name(ofCode: 59) == "KEY_F1")
        #expect(KeyMap.name(ofCode: 0x10a) == "code 266")
        if case .failed(let e) = LibevdevDevice.open(path: "/nonexistent/event0") {
            #expect(e == ENOENT)
        } else {
            Issue.record("opened a missing node")
        }
        let dir = TempDir()
        let file = dir.write("event0", "not a device")
        if case .failed(let e) = LibevdevDevice.open(path: file) {
            #expect(e == ENOTTY || e == EINVAL)
        } else {
            Issue.record("opened a regular file as an evdev device")
        }
        // Through the real opener: the regular file is skipped and the source waits.
        let loop = try Reactor(clock: .virtual(startNanoseconds: 0))
        defer { loop.close() }
        var logs: [String] = []
        let resolver = KeyResolver(reactor: loop, timing: KeyTiming()) { _ in }
        let router = KeyRouter(keymap: .standard, resolver: resolver, log: { _ in })
        let src = EvdevKeySource(selector: .capability(.keyboard), directory: dir.path, reactor: loop, router: router,
                                 log: { logs.append($0) })
        defer { src.close() }
        #expect(!src.isConnected)
        #expect(logs.last == "no device for evdev-caps:keyboard in " + dir.path + "; waiting")
    }
}
