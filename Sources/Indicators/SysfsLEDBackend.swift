import Reactor

/// Linux LED class backend: `DIR/NAME/brightness` (0 or `max_brightness`), flashing with the
/// kernel's `timer` trigger (`trigger`, `delay_on`, `delay_off` in ms). A multi-colour LED is
/// one sysfs LED per colour (`{color}` in the name: `phone:{color}:line1`); amber lights red
/// and green together when the board has no amber LED. When the timer trigger is missing
/// (and a reactor is given) the LED flashes in software. The directory is configurable so
/// tests use a temporary tree laid out like `/sys/class/leds`.
public final class SysfsLEDBackend: IndicatorBackend {
    /// One board LED driven through sysfs.
    public struct Binding: Equatable, Sendable {
        public var id: LEDID
        /// The sysfs LED name, with `{color}` standing for the colour on multi-colour LEDs.
        public var name: String
        /// The colours the LED has (empty: single colour).
        public var colors: [LEDColor]

        public init(id: LEDID, name: String, colors: [LEDColor] = []) {
            self.id = id
            self.name = name
            self.colors = colors
        }
    }

    private let directory: String
    private let bindings: [Binding]
    private let faults: IndicatorFaults
    private var flasher: LEDFlasher? = nil
    /// What each physical (sysfs) LED shows now, to skip repeated writes.
    private var shown: [String: LEDMode] = [:]
    private var softwareFlashing: [String] = []
    private var maxBrightness: [String: String] = [:]
    private var failedInApply = false

    public init(directory: String, bindings: [Binding], reactor: Reactor?, faults: IndicatorFaults) {
        var dir = directory
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        self.directory = dir
        self.bindings = bindings
        self.faults = faults
        if let reactor {
            flasher = LEDFlasher(reactor: reactor) { [self] physical, lit in
                writeBrightness(physical.name, lit)
            }
        }
    }

    /// The sysfs LEDs (name and mode) that show `state` on `binding`.
    static func physicalModes(_ binding: Binding, _ state: LEDState) -> [(String, LEDMode)] {
        if binding.colors.isEmpty || !TextUtil.contains("{color}", in: binding.name) {
            return [(binding.name, state.mode)]
        }
        var lit: [LEDColor] = []
        if state.mode != .off {
            let wanted = state.color ?? binding.colors[0]
            if binding.colors.contains(wanted) {
                lit = [wanted]
            } else if wanted == .amber && binding.colors.contains(.red) && binding.colors.contains(.green) {
                lit = [.red, .green]
            } else {
                lit = [binding.colors[0]]
            }
        }
        var result: [(String, LEDMode)] = []
        for c in binding.colors {
            result.append((name(binding.name, c), lit.contains(c) ? state.mode : .off))
        }
        return result
    }

    static func name(_ pattern: String, _ color: LEDColor) -> String {
        TextUtil.replacing("{color}", with: color.description, in: pattern)
    }

    public func ledChanged(_ id: LEDID, _ state: LEDState) {
        for b in bindings where b.id == id {
            for (physical, mode) in SysfsLEDBackend.physicalModes(b, state) { apply(physical, mode) }
        }
    }

    public func lcdChanged(_ lcd: LCDState) {}

    public func close() {
        flasher?.close()
        flasher = nil
    }

    private func apply(_ physical: String, _ mode: LEDMode) {
        if shown[physical] == mode { return }
        shown[physical] = mode
        failedInApply = false
        defer { if !failedInApply { faults.recovered("sysfs:" + physical) } }
        let wasSoftware = softwareFlashing.contains(physical)
        if wasSoftware && mode != .slowFlash && mode != .fastFlash {
            softwareFlashing.removeAll { $0 == physical }
            flasher?.set(LEDID(physical), .off)
        }
        switch mode {
        case .off, .on:
            if !wasSoftware { _ = write(physical, "trigger", "none", quiet: true) }
            writeBrightness(physical, mode == .on)
        case .slowFlash, .fastFlash:
            if !wasSoftware, write(physical, "trigger", "timer", quiet: flasher != nil) {
                let half = String(mode.halfPeriodMilliseconds)
                _ = write(physical, "delay_on", half)
                _ = write(physical, "delay_off", half)
            } else if let flasher {
                if !softwareFlashing.contains(physical) { softwareFlashing.append(physical) }
                flasher.set(LEDID(physical), mode)
            }
        }
    }

    private func writeBrightness(_ physical: String, _ on: Bool) {
        _ = write(physical, "brightness", on ? brightnessOn(physical) : "0")
    }

    private func brightnessOn(_ physical: String) -> String {
        if let v = maxBrightness[physical] { return v }
        var v = FileIO.readLine(directory + "/" + physical + "/max_brightness") ?? "1"
        if Int(v) == nil || v == "0" { v = "1" }
        maxBrightness[physical] = v
        return v
    }

    /// Writes one attribute. Failures are reported once per LED (unless `quiet`).
    private func write(_ physical: String, _ attribute: String, _ value: String, quiet: Bool = false) -> Bool {
        let subject = "sysfs:" + physical
        let path = directory + "/" + physical + "/" + attribute
        if let error = FileIO.writeWhole(path, value) {
            if !quiet { faults.report(subject, IndicatorError("sysfs LED '" + physical + "': " + error.message)) }
            failedInApply = true
            return false
        }
        return true
    }
}
