import Foundation
import Reactor

@testable import Indicators

/// A fresh temporary directory for one test, removed by `remove()`.
struct TempDir {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "indicators-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func read(_ name: String) -> String? {
        guard let data = FileManager.default.contents(atPath: file(name)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    func bytes(_ name: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: file(name)) ?? Data())
    }

    func write(_ name: String, _ text: String) {
        let url = URL(fileURLWithPath: file(name))
        try! FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! Data(text.utf8).write(to: url)
    }

    /// A Linux LED class device: brightness, max_brightness, trigger, delay_on, delay_off.
    func makeSysfsLED(_ name: String, maxBrightness: Int = 255, withTimerTrigger: Bool = true) {
        write(name + "/brightness", "0\n")
        write(name + "/max_brightness", String(maxBrightness) + "\n")
        if withTimerTrigger {
            write(name + "/trigger", "[none] timer heartbeat\n")
            write(name + "/delay_on", "0\n")
            write(name + "/delay_off", "0\n")
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A backend that records what it was told, as text.
final class RecordingBackend: IndicatorBackend {
    var events: [String] = []
    var lcds: [LCDState] = []
    var closed = false

    func ledChanged(_ id: LEDID, _ state: LEDState) { events.append(id.name + "=" + state.description) }
    func lcdChanged(_ lcd: LCDState) {
        lcds.append(lcd)
        events.append("lcd")
    }
    func close() { closed = true }
}

/// Faults collected in memory.
func collectingFaults() -> (IndicatorFaults, () -> [String]) {
    final class Box { var messages: [String] = [] }
    let box = Box()
    let faults = IndicatorFaults { box.messages.append($0.message) }
    return (faults, { box.messages })
}

func virtualReactor() -> Reactor { try! Reactor(clock: .virtual(startNanoseconds: 0)) }

let ms: Int64 = 1_000_000

/// Sample screens used by several tests.
enum SampleScreens {
    static func talking(_ model: IndicatorModel) {
        model.batch {
            model.setAccount("1009@pbx")
            model.setTime("09:41")
            model.setTitle("Talking")
            model.setLines(["Alice <1002>", "G.722"])
            model.setCallTimer(seconds: 83)
            model.setSoftkeys(["Hold", "Xfer", "Rec", "End"])
            model.setRecording(.recording)
            model.setLineKey(1, .talking)
        }
    }
}
