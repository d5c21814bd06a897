import Reactor

/// Something that shows the indicator model: an LED driver, a display, a log. The model calls
/// it on every change; a backend ignores the LEDs it does not drive. Backends never throw:
/// a failing device is reported once through its `IndicatorFaults` and skipped after that.
public protocol IndicatorBackend: AnyObject {
    /// The LED `id` changed to `state`.
    func ledChanged(_ id: LEDID, _ state: LEDState)
    /// The LCD contents changed.
    func lcdChanged(_ lcd: LCDState)
    /// Releases descriptors and timers; the backend shows nothing afterwards.
    func close()
}

/// What the phone shows: the state of every LED and the LCD contents. It changes only through
/// its methods (called by the phone's state machine); every change is passed to the attached
/// backends, which render it. Changes inside `batch` reach the backends once, at its end.
public final class IndicatorModel {
    /// The board's LEDs in board order (LEDs set later by name are appended).
    public private(set) var ledIDs: [LEDID]
    private var ledStates: [LEDID: LEDState] = [:]
    /// The LCD contents.
    public private(set) var lcd = LCDState()
    private var backends: [IndicatorBackend] = []
    private var batchDepth = 0
    private var pendingLEDs: [LEDID] = []
    private var lcdDirty = false
    private var callTimer: TimerID? = nil
    private var callTimerReactor: Reactor? = nil

    /// A model for a board with `leds` (all off) and an empty LCD.
    public init(leds: [LEDID] = []) {
        ledIDs = []
        for id in leds where !ledIDs.contains(id) { ledIDs.append(id) }
    }

    /// Adds a backend and shows it the current state (every LED, then the LCD).
    public func attach(_ backend: IndicatorBackend) {
        backends.append(backend)
        for id in ledIDs { backend.ledChanged(id, led(id)) }
        backend.lcdChanged(lcd)
    }

    /// Number of attached backends.
    public var backendCount: Int { backends.count }

    /// Stops the call timer, closes and drops every backend (breaks reference cycles).
    public func close() {
        stopCallTimer()
        for b in backends { b.close() }
        backends.removeAll()
    }

    /// Runs `body` and passes its changes to the backends once, when it returns.
    public func batch(_ body: () -> Void) {
        batchDepth += 1
        body()
        batchDepth -= 1
        if batchDepth == 0 { flush() }
    }

    // MARK: LEDs

    /// The state of LED `id` (off when never set).
    public func led(_ id: LEDID) -> LEDState { ledStates[id] ?? .off }

    /// Sets LED `id`. No change, no notification.
    public func setLED(_ id: LEDID, _ state: LEDState) {
        if !ledIDs.contains(id) { ledIDs.append(id) }
        if led(id) == state { return }
        ledStates[id] = state
        if !pendingLEDs.contains(id) { pendingLEDs.append(id) }
        if batchDepth == 0 { flush() }
    }

    /// Line key `n` (1-based): idle off, talking solid green, incoming fast-flash green,
    /// held slow-flash green.
    public func setLineKey(_ n: Int, _ state: LineKeyState) {
        setLED(.line(n), state.ledState)
    }

    /// Turns every LED off.
    public func allLEDsOff() {
        batch { for id in ledIDs { setLED(id, .off) } }
    }

    // MARK: recording indication

    /// The recording indication: the record LED and the recording icon (exclusive among the
    /// recording icons), in one update.
    public func setRecording(_ indication: RecordingIndication) {
        batch {
            setLED(.record, indication.ledState)
            var icons = lcd.icons.filter { !LCDIcon.recordingIcons.contains($0) }
            if let icon = indication.icon { icons.insert(icon, at: 0) }
            setIconList(icons)
        }
    }

    /// The current recording indication, as shown by the icons.
    public var recordingIndication: RecordingIndication {
        for icon in lcd.icons {
            if let indication = RecordingIndication(icon: icon) { return indication }
        }
        return .idle
    }

    // MARK: LCD

    /// The account shown at the left of the status bar.
    public func setAccount(_ text: String) { mutateLCD { $0.account = text } }

    /// The clock shown at the right of the status bar (`09:41`).
    public func setTime(_ text: String) { mutateLCD { $0.time = text } }

    /// Sets the clock from hours and minutes (`09:41`).
    public func setTime(hour: Int, minute: Int) {
        setTime(LCDState.twoDigits(hour) + ":" + LCDState.twoDigits(minute))
    }

    /// Shows or hides a status-bar icon (shown icons keep the order they were added in).
    public func setIcon(_ icon: LCDIcon, _ shown: Bool) {
        var icons = lcd.icons
        if shown {
            if icons.contains(icon) { return }
            icons.append(icon)
        } else {
            icons.removeAll { $0 == icon }
        }
        setIconList(icons)
    }

    private func setIconList(_ icons: [LCDIcon]) { mutateLCD { $0.icons = icons } }

    /// The title line (`Talking`, `Dialing`, the idle screen's name).
    public func setTitle(_ text: String) { mutateLCD { $0.title = text } }

    /// The text lines under the title.
    public func setLines(_ lines: [String]) { mutateLCD { $0.lines = lines } }

    /// Text line `index` (0-based); the list grows with empty lines as needed.
    public func setLine(_ index: Int, _ text: String) {
        guard index >= 0 else { return }
        mutateLCD { lcd in
            while lcd.lines.count <= index { lcd.lines.append("") }
            lcd.lines[index] = text
        }
    }

    /// The call timer in seconds, or nil to hide it.
    public func setCallTimer(seconds: Int?) { mutateLCD { $0.callTimerSeconds = seconds } }

    /// The four softkey labels (missing ones are blank, extra ones are dropped).
    public func setSoftkeys(_ labels: [String]) {
        var keys: [String] = []
        for i in 0..<LCDState.softkeyCount { keys.append(i < labels.count ? labels[i] : "") }
        mutateLCD { $0.softkeys = keys }
    }

    /// Clears title, lines, timer and softkeys (keeps the status bar).
    public func clearScreen() {
        mutateLCD { lcd in
            lcd.title = ""
            lcd.lines = []
            lcd.callTimerSeconds = nil
            lcd.softkeys = ["", "", "", ""]
        }
    }

    /// Shows a call timer from 00:00 and advances it every second on `reactor` until
    /// `stopCallTimer()` (the phone calls these when a call connects and ends).
    public func startCallTimer(on reactor: Reactor) {
        stopCallTimer()
        setCallTimer(seconds: 0)
        callTimerReactor = reactor
        callTimer = reactor.every(1_000_000_000) { [self] in
            setCallTimer(seconds: (lcd.callTimerSeconds ?? 0) + 1)
        }
    }

    /// Stops the call timer and hides it.
    public func stopCallTimer() {
        if let t = callTimer, let r = callTimerReactor { r.cancel(t) }
        let wasRunning = callTimer != nil
        callTimer = nil
        callTimerReactor = nil
        if wasRunning { setCallTimer(seconds: nil) }
    }

    private func mutateLCD(_ change: (inout LCDState) -> Void) {
        var next = lcd
        change(&next)
        if next == lcd { return }
        lcd = next
        lcdDirty = true
        if batchDepth == 0 { flush() }
    }

    private func flush() {
        while !pendingLEDs.isEmpty {
            let id = pendingLEDs.removeFirst()
            let state = led(id)
            for b in backends { b.ledChanged(id, state) }
        }
        if lcdDirty {
            lcdDirty = false
            for b in backends { b.lcdChanged(lcd) }
        }
    }
}
