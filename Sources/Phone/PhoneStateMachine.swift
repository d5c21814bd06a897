// The phone a person uses: key events in, calls and the LED/LCD out. It owns what the keypad
// means in each situation (idle, dialling, calling, ringing, talking, held, two calls) and what
// the screen and the LEDs show; `Softphone` carries the calls and their audio.

import Audio
import Indicators
import Keys
import Media
import Reactor
import Recording
import SIP

/// The call and screen state machine of a desk phone: off-hook and dialling (digits, `#` or
/// Send, the inter-digit timeout, Delete, redial, the dial plan of `PhoneSettings`), ringback,
/// an incoming call (ring, fast-flashing line LED, answer by hook, speaker, headset, line key,
/// OK or softkey; reject), talking (call timer, DTMF), hold and resume, a second call (answer
/// while holding the first, swap), mute, volume per audio path, DND, hanging up by hook, key or
/// softkey, the far end hanging up. Audio follows the hook, speaker and headset keys. The
/// softkeys change with the screen; softkey presses act by their label.
public final class PhoneStateMachine {
    /// What the screen shows.
    public enum Screen: Equatable, Sendable, CustomStringConvertible {
        case idle, dialing, calling, incoming, talking, held

        public var description: String {
            switch self {
            case .idle: return "idle"
            case .dialing: return "dialing"
            case .calling: return "calling"
            case .incoming: return "incoming"
            case .talking: return "talking"
            case .held: return "held"
            }
        }
    }

    public let reactor: Reactor
    public let softphone: Softphone
    public let indicators: IndicatorModel
    public private(set) var settings: PhoneSettings
    public private(set) var screen: Screen = .idle
    /// Digits typed so far on the dialling screen.
    public private(set) var dialed = ""
    /// The handset is lifted.
    public private(set) var offHook = false
    /// Headset mode (the headset key): calls go to the headset instead of the speaker.
    public private(set) var headsetMode = false
    /// Where the audio goes now.
    public private(set) var path: AudioPath = .speaker
    public private(set) var doNotDisturb: Bool
    /// The last number dialled (Redial).
    public private(set) var lastDialed: String? = nil
    /// The call the keys act on (talking, calling or held by us), nil when none.
    public private(set) var activeCallID: Int? = nil {
        didSet { if activeCallID != oldValue { onActiveCall?(activeCall) } }
    }
    /// The call the keys act on changed (the recording controller shows that call's state).
    public var onActiveCall: ((SIPCall?) -> Void)? = nil
    /// The brief message under the screen's lines (`Call ended: busy`, `Volume 9`).
    public private(set) var message: String? = nil
    /// The account's name in the status bar.
    public var accountLabel: String
    /// Line keys that are Record / URL Record keys (issue 8): their presses go to `onRecordKey`.
    public var recordLineKeys: [Int] = []
    /// The record key (nil) or a record line key (its number) was pressed.
    public var onRecordKey: ((Int?) -> Void)? = nil
    /// Every call state change, after the phone handled it (the recording controller listens).
    public var onCallState: ((SIPCall, SIPCallState) -> Void)? = nil
    /// One line per screen change and per refused key.
    public var onLog: ((String) -> Void)? = nil

    private let tones: LocalTonePlayer
    /// The recording's indication, drawn here (`showRecording(of:)`).
    private var showsRecording = false
    private var recordingIndication = RecordingIndication.idle
    private var interDigitTimer: TimerID? = nil
    private var messageTimer: TimerID? = nil
    private var timedCallID: Int? = nil
    /// The last screen the log named ("talking call 2").
    private var loggedScreen = "idle"
    private var closed = false

    public init(
        reactor: Reactor, softphone: Softphone, indicators: IndicatorModel, settings: PhoneSettings,
        tones: LocalTonePlayer, accountLabel: String
    ) {
        self.reactor = reactor
        self.softphone = softphone
        self.indicators = indicators
        self.settings = settings
        self.tones = tones
        self.accountLabel = accountLabel
        doNotDisturb = settings.doNotDisturb
        softphone.onCallState = { [self] call, state in callStateChanged(call, state) }
        softphone.onSecurityWarning = { [self] _, text in flash(text) }
        // Do-not-disturb refuses a call before it rings (the caller hears no ringback).
        softphone.userAgent.refuseIncoming = { [self] _ in
            doNotDisturb ? settings.doNotDisturbStatus : nil
        }
        render()
    }

    /// Stops timers and tones and drops the callbacks (breaks the cycles); the softphone and
    /// the indicators are closed by their owner.
    public func close() {
        guard !closed else { return }
        closed = true
        cancelInterDigitTimer()
        if let messageTimer { reactor.cancel(messageTimer) }
        messageTimer = nil
        indicators.stopCallTimer()
        tones.close()
        softphone.onCallState = nil
        softphone.onSecurityWarning = nil
        softphone.userAgent.refuseIncoming = nil
        onActiveCall = nil
        onRecordKey = nil
        onCallState = nil
        onLog = nil
    }

    /// Applies new settings (a provisioning reload): dial plan, timeouts, volumes. DND keeps
    /// its current state (the softkey may have changed it) unless the provisioned value changed.
    public func update(settings: PhoneSettings) {
        if settings.doNotDisturb != self.settings.doNotDisturb { doNotDisturb = settings.doNotDisturb }
        self.settings = settings
        softphone.volume = volume(for: path)
        render()
    }

    // MARK: calls

    /// Live calls, oldest first.
    public var calls: [SIPCall] { softphone.calls }

    /// The call the keys act on.
    public var activeCall: SIPCall? {
        guard let id = activeCallID else { return nil }
        return calls.first { $0.id == id }
    }

    /// The ringing incoming call, if any.
    public var incomingCall: SIPCall? { calls.first { $0.state == .incoming } }

    // MARK: keys

    /// One key event from the board's key source.
    public func handle(_ event: KeyEvent) {
        guard !closed else { return }
        switch event.kind {
        case .press: press(event.key)
        case .release: if event.key == .hook { hookDown() }
        case .repeat:
            if event.key == .volumeUp || event.key == .volumeDown { press(event.key) }
        case .long: break
        }
        render()
    }

    private func press(_ key: PhoneKey) {
        switch key {
        case .hook: hookUp()
        case .speaker: speakerKey()
        case .headset: headsetKey()
        case .digit(let n): digit(UInt8(48 + n))
        case .star: digit(UInt8(ascii: "*"))
        case .pound: digit(UInt8(ascii: "#"))
        case .ok: okKey()
        case .cancel: cancelKey()
        case .softkey(let n): softkey(n)
        case .line(let n): lineKey(n)
        case .record: recordKey(line: nil)
        case .hold: holdKey()
        case .redial: redial()
        case .mute: muteKey()
        case .volumeUp: changeVolume(by: 1)
        case .volumeDown: changeVolume(by: -1)
        case .transfer, .conference: flash(key == .transfer ? "Transfer: not supported yet" : "Conference: not supported yet")
        case .message, .up, .down, .left, .right: break
        }
    }

    private func hookUp() {
        offHook = true
        if let incoming = incomingCall {
            answer(incoming, on: .handset)
        } else if activeCall != nil {
            moveAudio(to: .handset)
        } else if screen == .dialing {
            moveAudio(to: .handset)
        } else {
            startDialing(on: .handset)
        }
    }

    private func hookDown() {
        offHook = false
        guard path == .handset else { return }
        if let call = activeCall, !call.state.isEnded {
            call.hangUp()
        } else if screen == .dialing {
            stopDialing()
        }
        path = headsetMode ? .headset : .speaker
    }

    private func speakerKey() {
        if let incoming = incomingCall {
            answer(incoming, on: .speaker)
        } else if let call = activeCall {
            if path == .speaker {
                if offHook { moveAudio(to: .handset) } else { call.hangUp() }
            } else {
                moveAudio(to: .speaker)
            }
        } else if screen == .dialing {
            if path == .speaker && !offHook { stopDialing() } else { moveAudio(to: .speaker) }
        } else {
            startDialing(on: .speaker)
        }
    }

    private func headsetKey() {
        headsetMode.toggle()
        if let incoming = incomingCall, headsetMode {
            answer(incoming, on: .headset)
        } else if activeCall != nil || screen == .dialing {
            moveAudio(to: headsetMode ? .headset : (offHook ? .handset : .speaker))
        }
    }

    private func digit(_ character: UInt8) {
        if let call = activeCall, call.state == .connected || call.state == .remoteHeld {
            softphone.sendDigits(String(Unicode.Scalar(character)), on: call)
            return
        }
        if incomingCall != nil || activeCall != nil { return }
        if character == UInt8(ascii: "#") {
            // `#` is the send key: it dials what was typed, and with nothing typed does nothing.
            if !dialed.isEmpty { dialNow() }
            return
        }
        if screen != .dialing { screen = .dialing }
        tones.stop()
        dialed.append(Character(Unicode.Scalar(character)))
        restartInterDigitTimer()
    }

    private func okKey() {
        if let incoming = incomingCall {
            answer(incoming, on: defaultPath)
        } else if screen == .dialing, !dialed.isEmpty {
            dialNow()
        }
    }

    private func cancelKey() {
        if let incoming = incomingCall {
            incoming.reject(status: 486)
        } else if let call = activeCall, call.state == .calling || isRinging(call) {
            call.hangUp()
        } else if screen == .dialing {
            stopDialing()
        } else {
            clearMessage()
        }
    }

    private func softkey(_ n: Int) {
        let labels = indicators.lcd.softkeys
        guard n >= 1, n <= labels.count else { return }
        switch labels[n - 1] {
        case "Answer": if let incoming = incomingCall { answer(incoming, on: defaultPath) }
        case "Reject": incomingCall?.reject(status: 486)
        case "Send": if !dialed.isEmpty { dialNow() }
        case "Delete":
            if !dialed.isEmpty { dialed.removeLast() }
            if dialed.isEmpty { cancelInterDigitTimer() } else { restartInterDigitTimer() }
        case "Cancel":
            if screen == .dialing { stopDialing() } else { activeCall?.hangUp() }
        case "End": activeCall?.hangUp()
        case "Hold": holdKey()
        case "Resume": holdKey()
        case "Swap": swap()
        case "New": startDialing(on: defaultPath)
        case "Mute", "Unmute": muteKey()
        case "Redial": redial()
        case "Dial": startDialing(on: defaultPath)
        case "DND", "DND off":
            doNotDisturb.toggle()
            flash(doNotDisturb ? "Do not disturb on" : "Do not disturb off")
        case "Record": recordKey(line: nil)
        default: break
        }
    }

    private func lineKey(_ n: Int) {
        if recordLineKeys.contains(n) {
            recordKey(line: n)
            return
        }
        if let incoming = incomingCall {
            answer(incoming, on: defaultPath)
            return
        }
        let live = calls
        if n <= live.count {
            let call = live[n - 1]
            if call.id != activeCallID { swap(to: call) } else if call.state == .held { _ = call.resume() }
        } else if live.isEmpty && screen != .dialing {
            startDialing(on: defaultPath)
        }
    }

    private func recordKey(line: Int?) {
        if let onRecordKey {
            onRecordKey(line)
        } else {
            flash("Recording is not configured")
        }
    }

    private func holdKey() {
        guard let call = activeCall else { return }
        if call.state == .held {
            for other in calls where other.id != call.id && other.state == .connected { _ = other.hold() }
            softphone.focus(call, path: path)
            if !call.resume() { flash("Cannot resume now") }
        } else if call.state.isEstablished {
            if !call.hold() { flash("Cannot hold now") }
        }
    }

    private func swap() {
        guard let current = activeCall else { return }
        if let other = calls.first(where: { $0.id != current.id && $0.state.isEstablished }) { swap(to: other) }
    }

    private func swap(to call: SIPCall) {
        if let current = activeCall, current.id != call.id, current.state == .connected || current.state == .remoteHeld {
            _ = current.hold()
        }
        activeCallID = call.id
        softphone.focus(call, path: path)
        if call.state == .held { _ = call.resume() }
    }

    private func muteKey() {
        guard let call = activeCall, softphone.hasMedia(call) else { return }
        softphone.setMuted(!softphone.isMuted(call), on: call)
    }

    private func changeVolume(by step: Int) {
        if incomingCall != nil && activeCall == nil {
            settings.ringerVolume = max(0, min(15, settings.ringerVolume + step))
            softphone.volume = settings.ringerVolume
            flash("Ringer volume " + String(settings.ringerVolume))
            return
        }
        let level = max(0, min(15, volume(for: path) + step))
        switch path {
        case .handset: settings.handsetVolume = level
        case .headset: settings.headsetVolume = level
        case .speaker: settings.speakerVolume = level
        }
        softphone.volume = level
        let name = path == .handset ? "Handset" : path == .headset ? "Headset" : "Speaker"
        flash(name + " volume " + String(level))
    }

    private func volume(for path: AudioPath) -> Int {
        switch path {
        case .handset: return settings.handsetVolume
        case .headset: return settings.headsetVolume
        case .speaker: return settings.speakerVolume
        }
    }

    private func redial() {
        guard let last = lastDialed else {
            flash("No number to redial")
            return
        }
        if activeCall != nil || incomingCall != nil { return }
        dialed = last
        dialNow()
    }

    // MARK: dialling

    private var defaultPath: AudioPath { offHook ? .handset : (headsetMode ? .headset : .speaker) }

    private func startDialing(on path: AudioPath) {
        moveAudio(to: path)
        screen = .dialing
        dialed = ""
        clearMessage()
        tones.play(.dial, on: path)
    }

    private func stopDialing() {
        cancelInterDigitTimer()
        tones.stop()
        dialed = ""
        screen = .idle
    }

    private func dialNow() {
        cancelInterDigitTimer()
        tones.stop()
        let number = dialed
        dialed = ""
        guard let target = settings.target(for: number) else {
            screen = .idle
            return
        }
        if let current = activeCall, current.state == .connected || current.state == .remoteHeld { _ = current.hold() }
        lastDialed = number
        let path = defaultPath
        self.path = path
        do throws(SIPError) {
            let call = try softphone.dial(target)
            activeCallID = call.id
            softphone.focus(call, path: path)
            softphone.volume = volume(for: path)
            screen = .calling
        } catch {
            screen = .idle
            flash("Cannot call " + number + ": " + error.description)
        }
    }

    private func restartInterDigitTimer() {
        cancelInterDigitTimer()
        interDigitTimer = reactor.after(settings.interDigitTimeout) { [self] in
            interDigitTimer = nil
            if screen == .dialing && !dialed.isEmpty {
                dialNow()
                render()
            }
        }
    }

    private func cancelInterDigitTimer() {
        if let interDigitTimer { reactor.cancel(interDigitTimer) }
        interDigitTimer = nil
    }

    // MARK: answering and audio

    private func answer(_ call: SIPCall, on path: AudioPath) {
        cancelInterDigitTimer()
        tones.stop()
        dialed = ""
        for other in calls where other.id != call.id && (other.state == .connected || other.state == .remoteHeld) {
            _ = other.hold()
        }
        self.path = path
        activeCallID = call.id
        softphone.focus(call, path: path)
        softphone.volume = volume(for: path)
        if !softphone.answer(call) { flash("Cannot answer") }
    }

    private func moveAudio(to path: AudioPath) {
        self.path = path
        softphone.switchAudio(to: path)
        softphone.volume = volume(for: path)
        if let kind = tones.kind { tones.play(kind, on: path) }
    }

    private func isRinging(_ call: SIPCall) -> Bool {
        if case .ringing = call.state { return true }
        return false
    }

    // MARK: call events

    private func callStateChanged(_ call: SIPCall, _ state: SIPCallState) {
        switch state {
        case .incoming:
            // (Do-not-disturb refused the call before it rang: `refuseIncoming`.)
            if activeCall == nil {
                softphone.volume = settings.ringerVolume
                tones.stop()
                if screen == .dialing { stopDialing() }
            }
        case .calling, .ringing, .connected:
            // A call placed or answered without the keys (control commands, auto-answer) is
            // the one the keys act on when there is none.
            if activeCallID == nil {
                activeCallID = call.id
                if state == .connected { softphone.focus(call, path: softphone.audioPath) }
            }
        case .ended(let reason):
            if activeCallID == call.id {
                // The held call (if any) becomes the one the keys act on; it stays on hold.
                activeCallID = calls.first(where: { $0.id != call.id && !$0.state.isEnded })?.id
                flash(PhoneStateMachine.endText(reason))
            }
        default: break
        }
        onCallState?(call, state)
        render()
    }

    static func endText(_ reason: SIPCallEndReason) -> String {
        switch reason {
        case .rejected(let status, _) where status == 486 || status == 600: return "Call ended: busy"
        case .rejected(let status, let text): return "Call failed: " + String(status) + " " + text
        case .timeout: return "Call failed: no answer"
        case .transportError: return "Call failed: unreachable"
        case .failed(let why): return "Call failed: " + why
        default: return "Call ended"
        }
    }

    // MARK: messages

    /// Shows `text` under the screen for `seconds`.
    public func flash(_ text: String, seconds: Int64 = 3) {
        flash(text, nanoseconds: seconds * 1_000_000_000)
    }

    /// Shows `text` under the screen for `nanoseconds`.
    public func flash(_ text: String, nanoseconds: Int64) {
        message = text
        if let messageTimer { reactor.cancel(messageTimer) }
        messageTimer = reactor.after(nanoseconds) { [self] in
            messageTimer = nil
            message = nil
            render()
        }
        onLog?("phone: " + text)
        render()
    }

    /// Shows the recording controller's messages under the screen for as long as it says
    /// (`features.record.message_time`, the same time the status log gives them).
    public func showMessages(of recording: RecordingController) {
        recording.onMessage = { [self] text, nanoseconds in flash(text, nanoseconds: nanoseconds) }
    }

    /// Makes this state machine the one writer of the recording's indicators: the record LED,
    /// the recording icon and the record line keys' LEDs follow `recording.indication`.
    public func showRecording(of recording: RecordingController) {
        showsRecording = true
        recordingIndication = recording.indication
        recording.onIndication = { [self] indication in
            recordingIndication = indication
            renderRecording()
        }
        renderRecording()
    }

    /// Draws the recording indication (part of `render`; alone when only the recording changed,
    /// so a recording answer never re-logs the screen).
    private func renderRecording() {
        guard showsRecording, !closed else { return }
        drawRecording(recordingIndication)
    }

    /// The record LED, the recording icon and the record line keys' LEDs.
    private func drawRecording(_ indication: RecordingIndication) {
        indicators.batch {
            indicators.setRecording(indication)
            for n in recordLineKeys { indicators.setLED(.line(n), indication.ledState) }
        }
    }

    private func clearMessage() {
        if let messageTimer { reactor.cancel(messageTimer) }
        messageTimer = nil
        message = nil
    }

    // MARK: the screen

    /// Recomputes the screen, the LCD and the LEDs from the calls and the local state: the
    /// model is a pure function of `screenInput` (`PhoneScreenModel.make`), applied here.
    public func render() {
        guard !closed else { return }
        let model = PhoneScreenModel.make(screenInput)
        // The log names every screen shown (the key handlers may have set `screen` already).
        let shown = model.logName
        if shown != loggedScreen {
            loggedScreen = shown
            onLog?("screen: " + shown)
        }
        screen = model.screen
        apply(model)
        lineLEDsShown = model.callCount
    }

    /// The values the screen is computed from, read from the calls and the local state.
    public var screenInput: PhoneScreenInput {
        var input = PhoneScreenInput()
        for call in calls {
            input.calls.append(
                PhoneCallView(
                    id: call.id, state: call.state, party: PhoneStateMachine.partyText(call),
                    muted: softphone.isMuted(call), encrypted: call.isEncrypted))
        }
        input.activeCallID = activeCallID
        input.dialing = screen == .dialing
        input.dialed = dialed
        input.doNotDisturb = doNotDisturb
        input.canRedial = lastDialed != nil
        input.message = message
        input.path = path
        input.headsetMode = headsetMode
        input.accountLabel = accountLabel
        input.recordLineKeys = recordLineKeys
        input.recording = showsRecording ? recordingIndication : nil
        input.lineKeysShown = lineLEDsShown
        return input
    }

    /// The one writer of the screen and the LEDs: applies `model` to the indicators (which
    /// pass on only what changed).
    private func apply(_ model: PhoneScreenModel) {
        indicators.batch {
            indicators.setAccount(model.account)
            indicators.setTitle(model.title)
            indicators.setLines(model.lines)
            indicators.setSoftkeys(model.softkeys)
            indicators.setIcon(.dnd, model.doNotDisturb)
            indicators.setIcon(.mute, model.muted)
            indicators.setIcon(.encrypted, model.encrypted)
            indicators.setLED(.mute, model.muted ? .on : .off)
            indicators.setIcon(.speaker, model.speaker)
            indicators.setIcon(.headset, model.headset)
            indicators.setLED(.speaker, model.speaker ? .on : .off)
            indicators.setLED(.headset, model.headset ? .on : .off)
            for (i, state) in model.lineKeys.enumerated() {
                if let state { indicators.setLineKey(i + 1, state) }
            }
            if let recording = model.recording { drawRecording(recording) }
            if model.timerCallID != timedCallID {
                if model.timerCallID != nil { indicators.startCallTimer(on: reactor) } else { indicators.stopCallTimer() }
                timedCallID = model.timerCallID
            }
        }
    }

    private var lineLEDsShown = 1

    static func partyText(_ call: SIPCall) -> String {
        let party = call.remoteParty
        if let name = party.displayName, !name.isEmpty { return name }
        return party.uri.user.map { $0 + "@" + party.uri.host.description } ?? party.uri.description
    }
}
