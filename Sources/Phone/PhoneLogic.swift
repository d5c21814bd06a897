// The keypad's decisions without any I/O (sans-IO): `PhoneLogic` takes what happened (a key, a
// call's new state, the answer to an action it asked for, a timer's expiry, new settings) and
// returns what should happen (dial, answer, hold, move the audio, play the dial tone, start a
// timer, show a message, draw the screen). `PhoneStateMachine` is the runtime that carries the
// actions out on the softphone, the tone player, the reactor and the indicators.

import Audio
import Keys
import SIP

/// What the screen shows.
public enum PhoneScreen: Equatable, Sendable, CustomStringConvertible {
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

/// A timer the phone logic asks for; the runtime starts it and reports its expiry.
public enum PhoneTimer: Equatable, Sendable {
    /// The digits typed are dialled (`PhoneSettings.interDigitTimeout` after the last one).
    case interDigit
    /// The brief message under the screen disappears.
    case message
}

/// An action the runtime could not carry out, reported back to the logic.
public enum PhoneActionFailure: Equatable, Sendable {
    /// `PhoneAction.dial` failed: the number typed and why.
    case dial(number: String, reason: String)
    /// `PhoneAction.answer` found the call not ringing.
    case answer
    /// `PhoneAction.hold` / `.resume` with `report: true` was refused by the call.
    case hold, resume
}

/// What happened, for `PhoneLogic.handle(_:into:)`. Calls are numbers (`SIPCall.id`).
public enum PhoneInput: Sendable {
    /// A key event from the board's key source.
    case key(KeyEvent)
    /// Call `call` is in `state` now; `party` is who is on the other end, as the screen shows it.
    case callState(call: Int, state: SIPCallState, party: String)
    /// `PhoneAction.dial` placed call `call`.
    case placed(call: Int)
    case failed(PhoneActionFailure)
    case timerExpired(PhoneTimer)
    /// New settings (a provisioning reload).
    case settings(PhoneSettings)
    /// Show `text` under the screen for `nanoseconds` (the recording's messages, the runtime's own).
    case flash(String, nanoseconds: Int64)
}

/// What should happen, in order, for the runtime (`PhoneStateMachine`) to carry out.
public enum PhoneAction: Equatable, Sendable {
    /// Place a call to `target` (what the dial plan made of `number`); answer with
    /// `PhoneInput.placed` or `.failed(.dial(number:reason:))`.
    case dial(number: String, target: String)
    /// Answer ringing call `call` (its audio is focused first); `.failed(.answer)` when it cannot.
    case answer(call: Int)
    case reject(call: Int, status: Int)
    case hangUp(call: Int)
    /// Put call `call` on hold / take it off; `report`: tell the logic when the call refuses.
    case hold(call: Int, report: Bool)
    case resume(call: Int, report: Bool)
    /// Give the audio devices to call `call` on `path` (nil: where the audio goes now).
    case focus(call: Int, path: AudioPath?)
    /// Move the audio (and a local tone playing) to `path`.
    case moveAudio(AudioPath)
    /// The playback volume step (0...15).
    case volume(Int)
    case mute(call: Int, on: Bool)
    /// Send one DTMF digit (RFC 4733) on call `call`.
    case sendDigit(call: Int, UInt8)
    case playDialTone(AudioPath)
    case stopTone
    /// The record key (nil) or record line key `line` was pressed: for the recording runtime.
    case recordKey(line: Int?)
    /// The call the keys act on is `call` now (nil: none).
    case activeCall(Int?)
    case startTimer(PhoneTimer, nanoseconds: Int64)
    case cancelTimer(PhoneTimer)
    case log(String)
    /// The screen model (`PhoneLogic.shown`) was computed again: draw it.
    case screenChanged
}

/// The call and screen state machine of a desk phone as values: inputs in, actions out, no I/O.
/// One entry point, `handle(_:into:)`. The behaviour is the one `PhoneStateMachine` documents.
public struct PhoneLogic: Sendable {
    /// One live call as the logic knows it.
    public struct Call: Equatable, Sendable {
        public var id: Int
        public var state: SIPCallState
        public var party: String
        /// The call has its media open; its microphone is muted.
        public var hasMedia = false
        public var muted = false
    }

    public private(set) var settings: PhoneSettings
    /// Live calls, oldest first (an ended call stays until the next input).
    public private(set) var calls: [Call] = []
    public private(set) var screen: PhoneScreen = .idle
    /// Digits typed so far on the dialling screen.
    public private(set) var dialed = ""
    public private(set) var offHook = false
    public private(set) var headsetMode = false
    public private(set) var path: AudioPath = .speaker
    public private(set) var doNotDisturb: Bool
    public private(set) var lastDialed: String? = nil
    public private(set) var activeCallID: Int? = nil
    public private(set) var message: String? = nil
    public var accountLabel: String
    /// Line keys that are Record / URL Record keys: their presses are `.recordKey(line:)`.
    public var recordLineKeys: [Int] = []
    /// The screen as computed at the end of the last input (without the recording indication).
    public private(set) var shown = PhoneScreenModel()
    /// How many line keys the last drawn screen lit.
    public var lineKeysShown = 1
    private var interDigitRunning = false
    private var messageRunning = false
    private var dialTone = false

    public init(settings: PhoneSettings, accountLabel: String) {
        self.settings = settings
        self.accountLabel = accountLabel
        doNotDisturb = settings.doNotDisturb
        shown = PhoneScreenModel.make(screenInput)
    }

    /// The ringing incoming call, if any.
    public var incomingCallID: Int? { calls.first { $0.state == .incoming }?.id }

    /// Tells the logic what it cannot see in call `id`'s state changes: who is on the other end
    /// now, whether its media is open and its microphone muted. No actions: the runtime keeps
    /// the logic in step with the softphone before each input and each drawing.
    public mutating func noteCall(_ id: Int, party: String, hasMedia: Bool, muted: Bool) {
        guard let i = index(of: id) else { return }
        calls[i].party = party
        calls[i].hasMedia = hasMedia
        calls[i].muted = muted
    }

    /// Drops call `id` (the softphone no longer has it; an ended call is dropped at the next
    /// input anyway).
    public mutating func forgetCall(_ id: Int) {
        calls.removeAll { $0.id == id }
    }

    /// Computes `shown` again from the current state (no input, no actions).
    public mutating func refresh() {
        shown = PhoneScreenModel.make(screenInput)
        screen = shown.screen
    }

    /// The values the screen is computed from (the recording indication is the runtime's).
    public var screenInput: PhoneScreenInput {
        var input = PhoneScreenInput()
        for call in calls {
            input.calls.append(PhoneCallView(id: call.id, state: call.state, party: call.party, muted: call.muted))
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
        input.lineKeysShown = lineKeysShown
        return input
    }

    // MARK: the entry point

    /// Handles one input and appends what should happen, in order, to `actions`.
    public mutating func handle(_ input: PhoneInput, into actions: inout [PhoneAction]) {
        calls.removeAll { $0.state.isEnded }
        switch input {
        case .key(let event):
            switch event.kind {
            case .press: press(event.key, &actions)
            case .release: if event.key == .hook { hookDown(&actions) }
            case .repeat:
                if event.key == .volumeUp || event.key == .volumeDown { press(event.key, &actions) }
            case .long: break
            }
        case .callState(let id, let state, let party):
            callStateChanged(id, state, party: party, &actions)
        case .placed(let id):
            setActive(id, &actions)
            actions.append(.focus(call: id, path: path))
            actions.append(.volume(volume(for: path)))
            screen = .calling
        case .failed(let failure):
            switch failure {
            case .dial(let number, let reason):
                screen = .idle
                flash("Cannot call " + number + ": " + reason, nanoseconds: PhoneLogic.messageTime, &actions)
            case .answer: flash("Cannot answer", nanoseconds: PhoneLogic.messageTime, &actions)
            case .hold: flash("Cannot hold now", nanoseconds: PhoneLogic.messageTime, &actions)
            case .resume: flash("Cannot resume now", nanoseconds: PhoneLogic.messageTime, &actions)
            }
        case .timerExpired(.interDigit):
            interDigitRunning = false
            if screen == .dialing && !dialed.isEmpty { dialNow(&actions) }
        case .timerExpired(.message):
            messageRunning = false
            message = nil
        case .settings(let new):
            // DND keeps its current state (the softkey may have changed it) unless the
            // provisioned value changed.
            if new.doNotDisturb != settings.doNotDisturb { doNotDisturb = new.doNotDisturb }
            settings = new
            actions.append(.volume(volume(for: path)))
        case .flash(let text, let nanoseconds):
            flash(text, nanoseconds: nanoseconds, &actions)
        }
        refresh()
        actions.append(.screenChanged)
    }

    /// How long the phone's own messages stay (3 s).
    public static let messageTime: Int64 = 3_000_000_000

    // MARK: keys

    private mutating func press(_ key: PhoneKey, _ actions: inout [PhoneAction]) {
        switch key {
        case .hook: hookUp(&actions)
        case .speaker: speakerKey(&actions)
        case .headset: headsetKey(&actions)
        case .digit(let n): digit(UInt8(48 + n), &actions)
        case .star: digit(UInt8(ascii: "*"), &actions)
        case .pound: digit(UInt8(ascii: "#"), &actions)
        case .ok: okKey(&actions)
        case .cancel: cancelKey(&actions)
        case .softkey(let n): softkey(n, &actions)
        case .line(let n): lineKey(n, &actions)
        case .record: actions.append(.recordKey(line: nil))
        case .hold: holdKey(&actions)
        case .redial: redial(&actions)
        case .mute: muteKey(&actions)
        case .volumeUp: changeVolume(by: 1, &actions)
        case .volumeDown: changeVolume(by: -1, &actions)
        case .transfer: flash("Transfer: not supported yet", nanoseconds: PhoneLogic.messageTime, &actions)
        case .conference: flash("Conference: not supported yet", nanoseconds: PhoneLogic.messageTime, &actions)
        case .message, .up, .down, .left, .right: break
        }
    }

    private var activeCall: Call? {
        guard let id = activeCallID else { return nil }
        return calls.first { $0.id == id }
    }

    private var incomingCall: Call? { calls.first { $0.state == .incoming } }

    private mutating func hookUp(_ actions: inout [PhoneAction]) {
        offHook = true
        if let incoming = incomingCall {
            answer(incoming.id, on: .handset, &actions)
        } else if activeCall != nil || screen == .dialing {
            moveAudio(to: .handset, &actions)
        } else {
            startDialing(on: .handset, &actions)
        }
    }

    private mutating func hookDown(_ actions: inout [PhoneAction]) {
        offHook = false
        guard path == .handset else { return }
        if let call = activeCall, !call.state.isEnded {
            actions.append(.hangUp(call: call.id))
        } else if screen == .dialing {
            stopDialing(&actions)
        }
        path = headsetMode ? .headset : .speaker
    }

    private mutating func speakerKey(_ actions: inout [PhoneAction]) {
        if let incoming = incomingCall {
            answer(incoming.id, on: .speaker, &actions)
        } else if let call = activeCall {
            if path == .speaker {
                if offHook { moveAudio(to: .handset, &actions) } else { actions.append(.hangUp(call: call.id)) }
            } else {
                moveAudio(to: .speaker, &actions)
            }
        } else if screen == .dialing {
            if path == .speaker && !offHook { stopDialing(&actions) } else { moveAudio(to: .speaker, &actions) }
        } else {
            startDialing(on: .speaker, &actions)
        }
    }

    private mutating func headsetKey(_ actions: inout [PhoneAction]) {
        headsetMode.toggle()
        if let incoming = incomingCall, headsetMode {
            answer(incoming.id, on: .headset, &actions)
        } else if activeCall != nil || screen == .dialing {
            moveAudio(to: headsetMode ? .headset : (offHook ? .handset : .speaker), &actions)
        }
    }

    private mutating func digit(_ character: UInt8, _ actions: inout [PhoneAction]) {
        if let call = activeCall, call.state == .connected || call.state == .remoteHeld {
            actions.append(.sendDigit(call: call.id, character))
            return
        }
        if incomingCall != nil || activeCall != nil { return }
        if character == UInt8(ascii: "#") {
            // `#` is the send key: it dials what was typed, and with nothing typed does nothing.
            if !dialed.isEmpty { dialNow(&actions) }
            return
        }
        screen = .dialing
        stopTone(&actions)
        dialed.append(Character(Unicode.Scalar(character)))
        restartInterDigitTimer(&actions)
    }

    private mutating func okKey(_ actions: inout [PhoneAction]) {
        if let incoming = incomingCall {
            answer(incoming.id, on: defaultPath, &actions)
        } else if screen == .dialing, !dialed.isEmpty {
            dialNow(&actions)
        }
    }

    private mutating func cancelKey(_ actions: inout [PhoneAction]) {
        if let incoming = incomingCall {
            actions.append(.reject(call: incoming.id, status: 486))
        } else if let call = activeCall, call.state == .calling || PhoneLogic.isRinging(call.state) {
            actions.append(.hangUp(call: call.id))
        } else if screen == .dialing {
            stopDialing(&actions)
        } else {
            clearMessage(&actions)
        }
    }

    /// A softkey acts by the label the screen shows on it.
    private mutating func softkey(_ n: Int, _ actions: inout [PhoneAction]) {
        let labels = shown.softkeys
        guard n >= 1, n <= labels.count else { return }
        switch labels[n - 1] {
        case "Answer": if let incoming = incomingCall { answer(incoming.id, on: defaultPath, &actions) }
        case "Reject": if let incoming = incomingCall { actions.append(.reject(call: incoming.id, status: 486)) }
        case "Send": if !dialed.isEmpty { dialNow(&actions) }
        case "Delete":
            if !dialed.isEmpty { dialed.removeLast() }
            if dialed.isEmpty { cancelInterDigitTimer(&actions) } else { restartInterDigitTimer(&actions) }
        case "Cancel":
            if screen == .dialing {
                stopDialing(&actions)
            } else if let call = activeCall {
                actions.append(.hangUp(call: call.id))
            }
        case "End": if let call = activeCall { actions.append(.hangUp(call: call.id)) }
        case "Hold", "Resume": holdKey(&actions)
        case "Swap": swap(&actions)
        case "New", "Dial": startDialing(on: defaultPath, &actions)
        case "Mute", "Unmute": muteKey(&actions)
        case "Redial": redial(&actions)
        case "DND", "DND off":
            doNotDisturb.toggle()
            flash(doNotDisturb ? "Do not disturb on" : "Do not disturb off", nanoseconds: PhoneLogic.messageTime, &actions)
        case "Record": actions.append(.recordKey(line: nil))
        default: break
        }
    }

    private mutating func lineKey(_ n: Int, _ actions: inout [PhoneAction]) {
        if recordLineKeys.contains(n) {
            actions.append(.recordKey(line: n))
            return
        }
        if let incoming = incomingCall {
            answer(incoming.id, on: defaultPath, &actions)
            return
        }
        if n <= calls.count {
            let call = calls[n - 1]
            if call.id != activeCallID {
                swap(to: call, &actions)
            } else if call.state == .held {
                actions.append(.resume(call: call.id, report: false))
            }
        } else if calls.isEmpty && screen != .dialing {
            startDialing(on: defaultPath, &actions)
        }
    }

    private mutating func holdKey(_ actions: inout [PhoneAction]) {
        guard let call = activeCall else { return }
        if call.state == .held {
            for other in calls where other.id != call.id && other.state == .connected {
                actions.append(.hold(call: other.id, report: false))
            }
            actions.append(.focus(call: call.id, path: path))
            actions.append(.resume(call: call.id, report: true))
        } else if call.state.isEstablished {
            actions.append(.hold(call: call.id, report: true))
        }
    }

    private mutating func swap(_ actions: inout [PhoneAction]) {
        guard let current = activeCall else { return }
        if let other = calls.first(where: { $0.id != current.id && $0.state.isEstablished }) {
            swap(to: other, &actions)
        }
    }

    private mutating func swap(to call: Call, _ actions: inout [PhoneAction]) {
        if let current = activeCall, current.id != call.id, current.state == .connected || current.state == .remoteHeld {
            actions.append(.hold(call: current.id, report: false))
        }
        setActive(call.id, &actions)
        actions.append(.focus(call: call.id, path: path))
        if call.state == .held { actions.append(.resume(call: call.id, report: false)) }
    }

    private mutating func muteKey(_ actions: inout [PhoneAction]) {
        guard let id = activeCallID, let i = index(of: id), calls[i].hasMedia else { return }
        calls[i].muted.toggle()
        actions.append(.mute(call: id, on: calls[i].muted))
    }

    private mutating func changeVolume(by step: Int, _ actions: inout [PhoneAction]) {
        if incomingCall != nil && activeCall == nil {
            settings.ringerVolume = max(0, min(15, settings.ringerVolume + step))
            actions.append(.volume(settings.ringerVolume))
            flash("Ringer volume " + String(settings.ringerVolume), nanoseconds: PhoneLogic.messageTime, &actions)
            return
        }
        let level = max(0, min(15, volume(for: path) + step))
        switch path {
        case .handset: settings.handsetVolume = level
        case .headset: settings.headsetVolume = level
        case .speaker: settings.speakerVolume = level
        }
        actions.append(.volume(level))
        let name = path == .handset ? "Handset" : path == .headset ? "Headset" : "Speaker"
        flash(name + " volume " + String(level), nanoseconds: PhoneLogic.messageTime, &actions)
    }

    private func volume(for path: AudioPath) -> Int {
        switch path {
        case .handset: return settings.handsetVolume
        case .headset: return settings.headsetVolume
        case .speaker: return settings.speakerVolume
        }
    }

    private mutating func redial(_ actions: inout [PhoneAction]) {
        guard let last = lastDialed else {
            flash("No number to redial", nanoseconds: PhoneLogic.messageTime, &actions)
            return
        }
        if activeCall != nil || incomingCall != nil { return }
        dialed = last
        dialNow(&actions)
    }

    // MARK: dialling

    private var defaultPath: AudioPath { offHook ? .handset : (headsetMode ? .headset : .speaker) }

    private mutating func startDialing(on path: AudioPath, _ actions: inout [PhoneAction]) {
        moveAudio(to: path, &actions)
        screen = .dialing
        dialed = ""
        clearMessage(&actions)
        actions.append(.playDialTone(path))
        dialTone = true
    }

    private mutating func stopDialing(_ actions: inout [PhoneAction]) {
        cancelInterDigitTimer(&actions)
        stopTone(&actions)
        dialed = ""
        screen = .idle
    }

    private mutating func dialNow(_ actions: inout [PhoneAction]) {
        cancelInterDigitTimer(&actions)
        stopTone(&actions)
        let number = dialed
        dialed = ""
        guard let target = settings.target(for: number) else {
            screen = .idle
            return
        }
        if let current = activeCall, current.state == .connected || current.state == .remoteHeld {
            actions.append(.hold(call: current.id, report: false))
        }
        lastDialed = number
        path = defaultPath
        actions.append(.dial(number: number, target: target))
    }

    private mutating func restartInterDigitTimer(_ actions: inout [PhoneAction]) {
        cancelInterDigitTimer(&actions)
        actions.append(.startTimer(.interDigit, nanoseconds: settings.interDigitTimeout))
        interDigitRunning = true
    }

    private mutating func cancelInterDigitTimer(_ actions: inout [PhoneAction]) {
        if interDigitRunning { actions.append(.cancelTimer(.interDigit)) }
        interDigitRunning = false
    }

    private mutating func stopTone(_ actions: inout [PhoneAction]) {
        if dialTone { actions.append(.stopTone) }
        dialTone = false
    }

    // MARK: answering and audio

    private mutating func answer(_ id: Int, on path: AudioPath, _ actions: inout [PhoneAction]) {
        cancelInterDigitTimer(&actions)
        stopTone(&actions)
        dialed = ""
        for other in calls where other.id != id && (other.state == .connected || other.state == .remoteHeld) {
            actions.append(.hold(call: other.id, report: false))
        }
        self.path = path
        setActive(id, &actions)
        actions.append(.focus(call: id, path: path))
        actions.append(.volume(volume(for: path)))
        actions.append(.answer(call: id))
    }

    private mutating func moveAudio(to path: AudioPath, _ actions: inout [PhoneAction]) {
        self.path = path
        actions.append(.moveAudio(path))
        actions.append(.volume(volume(for: path)))
    }

    private mutating func setActive(_ id: Int?, _ actions: inout [PhoneAction]) {
        guard id != activeCallID else { return }
        activeCallID = id
        actions.append(.activeCall(id))
    }

    private func index(of id: Int) -> Int? { calls.firstIndex { $0.id == id } }

    static func isRinging(_ state: SIPCallState) -> Bool {
        if case .ringing = state { return true }
        return false
    }

    // MARK: call events

    private mutating func callStateChanged(
        _ id: Int, _ state: SIPCallState, party: String, _ actions: inout [PhoneAction]
    ) {
        if let i = index(of: id) {
            calls[i].state = state
            calls[i].party = party
        } else {
            calls.append(Call(id: id, state: state, party: party))
        }
        switch state {
        case .incoming:
            // (Do-not-disturb refused the call before it rang: the runtime asks `doNotDisturb`.)
            if activeCall == nil {
                actions.append(.volume(settings.ringerVolume))
                stopTone(&actions)
                if screen == .dialing { stopDialing(&actions) }
            }
        case .calling, .ringing, .connected:
            // A call placed or answered without the keys (control commands, auto-answer) is
            // the one the keys act on when there is none.
            if activeCallID == nil {
                setActive(id, &actions)
                if state == .connected { actions.append(.focus(call: id, path: nil)) }
            }
        case .ended(let reason):
            if activeCallID == id {
                // The held call (if any) becomes the one the keys act on; it stays on hold.
                setActive(calls.first(where: { $0.id != id && !$0.state.isEnded })?.id, &actions)
                flash(PhoneLogic.endText(reason), nanoseconds: PhoneLogic.messageTime, &actions)
            }
        default: break
        }
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

    private mutating func flash(_ text: String, nanoseconds: Int64, _ actions: inout [PhoneAction]) {
        message = text
        if messageRunning { actions.append(.cancelTimer(.message)) }
        actions.append(.startTimer(.message, nanoseconds: nanoseconds))
        messageRunning = true
        actions.append(.log("phone: " + text))
    }

    private mutating func clearMessage(_ actions: inout [PhoneAction]) {
        if messageRunning { actions.append(.cancelTimer(.message)) }
        messageRunning = false
        message = nil
    }
}
