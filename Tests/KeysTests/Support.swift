// The shared test support (Tests/Support/TestSupport), for every file of this target.
@_exported import TestSupport
import CLinux
import Config
import Foundation
import Reactor

@testable import Keys

let ms: Int64 = 1_000_000

/// A fresh temporary directory, removed when the value goes away.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "keys-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func write(_ name: String, _ text: String) -> String {
        let p = file(name)
        try! text.write(toFile: p, atomically: false, encoding: .utf8)
        return p
    }
    func write(_ name: String, bytes: [UInt8]) -> String {
        let p = file(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }
    func remove(_ name: String) { try? FileManager.default.removeItem(atPath: file(name)) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Collects what a key source delivers.
final class Recorder {
    var events: [KeyEvent] = []
    var logs: [String] = []
    var lines: [String] { events.map { $0.description } }
    func handler() -> (KeyEvent) -> Void { { self.events.append($0) } }
    func log() -> (String) -> Void { { self.logs.append($0) } }
}

/// A board profile parsed from text (as if read from `name`).
func board(_ lines: String, path: String = "board/test.cfg") throws -> ConfigFile {
    try ConfigFile(text: "#!version:1.0.0.1\n" + lines, path: path)
}

/// Evdev code by name, for building streams.
func code(_ name: String) -> UInt16 { KeyMap.code(named: name)! }

/// A recorded key stream as the kernel writes it: each key transition is an EV_MSC scan
/// code, the EV_KEY and an EV_SYN report, with timestamps.
func recording(_ steps: [(atMs: Int64, code: UInt16, value: Int32)], base: Int64 = 1_700_000_000) -> [InputEvent] {
    var out: [InputEvent] = []
    for s in steps {
        let sec = base + s.atMs / 1000
        let usec = (s.atMs % 1000) * 1000
        out.append(InputEvent(type: InputEvent.typeMsc, code: 4, value: 0x70022, seconds: sec, microseconds: usec))
        out.append(InputEvent(type: InputEvent.typeKey, code: s.code, value: s.value, seconds: sec, microseconds: usec))
        out.append(InputEvent(type: InputEvent.typeSyn, code: 0, value: 0, seconds: sec, microseconds: usec))
    }
    return out
}

func encode(_ events: [InputEvent], _ layout: InputEventLayout) -> [UInt8] {
    events.flatMap { layout.encode($0) }
}

/// A stand-in evdev device: a pipe for readiness, scripted reads.
final class FakeDevice: InputDevice {
    let pipe = TestPipe()
    var fd: Int32 { pipe.readEnd }
    let name: String
    var keys: Set<UInt16>
    var down: Set<UInt16> = []
    var script: [InputDeviceRead] = []
    var syncFlags: [Bool] = []
    var grabs: [Bool] = []
    var closed = false

    init(name: String, keys: [UInt16]) {
        self.name = name
        self.keys = Set(keys)
    }
    func hasKey(_ code: UInt16) -> Bool { keys.contains(code) }
    func isKeyDown(_ code: UInt16) -> Bool { down.contains(code) }
    func grab(_ on: Bool) -> Int32 {
        grabs.append(on)
        return 0
    }
    func next(sync: Bool) -> InputDeviceRead {
        syncFlags.append(sync)
        if script.isEmpty {
            pipe.drain()
            return .empty
        }
        return script.removeFirst()
    }
    func close() { closed = true }

    /// Queues reads and makes the fd readable.
    func push(_ reads: [InputDeviceRead]) {
        script += reads
        pipe.write([1])
    }
    func key(_ code: UInt16, _ value: Int32) -> InputDeviceRead {
        .event(InputEvent(type: InputEvent.typeKey, code: code, value: value))
    }
}

/// Fake devices by path; opening a path with no registered device fails like a missing node.
final class FakeDevices {
    var byPath: [String: FakeDevice] = [:]
    var failWith: [String: Int32] = [:]
    var opens: [String] = []
    func opener() -> (String) -> InputDeviceOpenResult {
        { path in
            self.opens.append(path)
            if let e = self.failWith[path] { return .failed(e) }
            guard let dev = self.byPath[path], !dev.closed else { return .failed(ENOENT) }
            return .opened(dev)
        }
    }
}
