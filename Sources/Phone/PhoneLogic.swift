// The keypad's decisions without any I/O (sans-IO): `PhoneLogic` takes what happened (a key, a
// call's new state, the answer to an action it asked for, a timer's expiry, new settings) and
// returns what should happen (dial, answer, hold, move the audio, play the dial tone, start a
// timer, show a message, draw the screen). `PhoneStateMachine` is the runtime that carries the
// actions out on the softphone, the tone player, the reactor and the indicators.

import Audio
import Indicators
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
    /// `PhoneAction.transfer` could not send the REFER: why.
    case transfer(String)
}

/// What happened, for `PhoneLogic.handle(_:into:)`. Calls are numbers (`SIPCall.id`).
public enum PhoneInput: Sendable {
    /// A key event from the board's key source.
    case key(KeyEvent)
    /// Call `call` is in `state` now; `party` is who is on the other end, as the screen shows it;
    /// `account` the account (`account.N`) the call is on.
    case callState(call: Int, state: SIPCallState, party: String, account: Int = 1)
    /// `PhoneAction.dial` placed call `call`.
    case placed(call: Int)
    case failed(PhoneActionFailure)
    case timerExpired(PhoneTimer)
    /// New settings (a provisioning reload).
    case settings(PhoneSettings)
    /// Show `text` under the screen for `nanoseconds` (the recording's messages, the runtime's own).
    case flash(String, nanoseconds: Int64)
    /// Account `account`'s mailbox (a message-summary NOTIFY): messages `waiting`, `newMessages`
    /// new ones (nil: no count given).
    case messageWaiting(account: Int, waiting: Bool, newMessages: Int?)
    /// The transfer of call `call` (`PhoneAction.transfer`) progressed.
    case transfer(call: Int, SIPTransferEvent)
}

/// What should happen, in order, for the runtime (`PhoneStateMachine`) to carry out.
public enum PhoneAction: Equatable, Sendable {
    /// Place a call to `target` (what the dial plan made of `number`) on account `account`
    /// (`account.N`: the Line key pressed before dialling, else 1, the default account); answer
    /// with `PhoneInput.placed` or `.failed(.dial(number:reason:))`.
    case dial(number: String, target: String, account: Int = 1)
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
    /// Transfer call `call` to `target` (REFER, blind); progress comes back as `PhoneInput.transfer`,
    /// a REFER that cannot be sent as `.failed(.transfer)`.
    case transfer(call: Int, target: String)
    /// The screen model (`PhoneLogic.shown`) was computed again: draw it.
    case screenChanged
}

/// The call and screen state machine of a desk phone: inputs in, actions out, no I/O (a class,
/// like `RecordingLogic`: one copy of the state, no copies of it in the runtime).
/// One entry point, `handle(_:into:)`. The behaviour is the one `PhoneStateMachine` documents.
public final class PhoneLogic {
    public private(set) var settings: PhoneSettings
    /// Live calls, oldest first (an ended call stays until the next input).
    public private(set) var calls: [PhoneCallView] = []
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
    /// The phone's accounts when it has several (line key N is account N's Line key: a press
    /// before dialling chooses the account, its LED shows the registration); empty with one.
    public var accounts: [PhoneAccountView] = []
    /// Each account's mailbox and voicemail number (`PhoneVoicemailView`; MWI).
    public var voicemail: [PhoneVoicemailView] = []
    /// The one account's registration (`noteRegistration`; nil until it registers).
    public private(set) var registration: LineKeyState? = nil
    /// The account the number being dialled goes out on (1, the default, unless a Line key chose).
    public private(set) var dialAccount = 1
    /// The screen as computed at the end of the last input (without the recording indication).
    public private(set) var shown = PhoneScreenModel()
    /// How many line keys the last drawn screen lit.
    public var lineKeysShown = 1
    /// The blind transfer being typed or under way (`PhoneLogic+Transfer.swift`).
    public internal(set) var transfer = PhoneTransferState()
    private var interDigitRunning = false
    private var messageRunning = false
    private var dialTone = false

    public init(settings: PhoneSettings, accountLabel: String) {
        self.settings = settings
        self.accountLabel = accountLabel
        doNotDisturb = settings.doNotDisturb
        refresh()
    }

    /// The ringing incoming call, if any.
    public var incomingCallID: Int? {
        for i in calls.indices where calls[i].state == .incoming { return calls[i].id }
        return nil
    }

    /// Tells the logic what it cannot see in call `id`'s state changes: whether its media is
    /// open, its microphone muted and its audio SRTP. No actions: the runtime keeps the logic in
    /// step with the softphone before each input and each drawing.
    public func noteMedia(call id: Int, open: Bool, muted: Bool, encrypted: Bool = false) {
        guard let i = index(of: id) else { return }
        calls[i].hasMedia = open
        calls[i].muted = muted
        calls[i].encrypted = encrypted
    }

    /// Drops the ended calls but `keeping` (the runtime draws between inputs: the softphone
    /// drops a call once its end is reported; an ended call is dropped at the next input anyway).
    public func dropEndedCalls(keeping: Int?) {
        calls.removeAll { $0.state.isEnded && $0.id != keeping }
    }

    /// Computes `shown` again from the current state (no input, no actions).
    public func refresh() {
        shown = PhoneScreenModel.make(screenInput)
        screen = shown.screen
    }

    /// The values the screen is computed from (the recording indication is the runtime's).
    public var screenInput: PhoneScreenInput {
        var input = PhoneScreenInput()
        input.calls = calls
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
        input.accounts = accounts
        input.registration = accounts.isEmpty ? registration : nil
        input.dialAccount = dialAccount
        input.lineKeysShown = lineKeysShown
        input.voicemail = voicemail
        input.transferDigits = transfer.digits
        return input
    }

    // MARK: the entry point

    /// Handles one input and appends what should happen, in order, to `actions`.
    public func handle(_ input: PhoneInput, into actions: inout [PhoneAction]) {
        Swift.swap(&out, &actions)
        defer { Swift.swap(&out, &actions) }
        calls.removeAll { $0.state.isEnded }
        switch input {
        case .key(let event):
            switch event.kind {
            case .press: press(event.key)
            case .release: if event.key == .hook { hookDown() }
            case .repeat:
                if event.key == .volumeUp || event.key == .volumeDown { press(event.key) }
            case .long: break
            }
        case .callState(let id, let state, let party, let account):
            callStateChanged(id, state, party: party, account: account)
        case .placed(let id):
            setActive(id)
            emit(.focus(call: id, path: path))
            emit(.volume(volume(for: path)))
            screen = .calling
        case .failed(let failure):
            switch failure {
            case .dial(let number, let reason):
                screen = .idle
                flash("Cannot call " + number + ": " + reason, nanoseconds: PhoneLogic.messageTime)
            case .answer: flash("Cannot answer", nanoseconds: PhoneLogic.messageTime)
            case .hold: flash("Cannot hold now", nanoseconds: PhoneLogic.messageTime)
            case .resume: flash("Cannot resume now", nanoseconds: PhoneLogic.messageTime)
            case .transfer(let why): transferProgressed(transfer.callID ?? 0, .failed(why))
            }
        case .timerExpired(.interDigit):
            interDigitRunning = false
            if screen == .dialing && !dialed.isEmpty { dialNow() }
        case .timerExpired(.message):
            messageRunning = false
            message = nil
        case .settings(let new):
            // DND keeps its current state (the softkey may have changed it) unless the
            // provisioned value changed.
            if new.doNotDisturb != settings.doNotDisturb { doNotDisturb = new.doNotDisturb }
            settings = new
            emit(.volume(volume(for: path)))
        case .flash(let text, let nanoseconds):
            flash(text, nanoseconds: nanoseconds)
        case .messageWaiting(let account, let waiting, let count):
            voicemail = PhoneVoicemailView.noting(voicemail, account: account, waiting: waiting, newMessages: count)
        case .transfer(let id, let event):
            transferProgressed(id, event)
        }
        refresh()
        emit(.screenChanged)
    }

    /// The actions of the input being handled (the caller's list, taken for the time of `handle`).
    private var out: [PhoneAction] = []

    /// Appends one action (one call, not an inlined array append, at each place that acts).
    @inline(never)
    func emit(_ action: PhoneAction) {
        out.append(action)
    }

    /// How long the phone's own messages stay (3 s).
    public static let messageTime: Int64 = 3_000_000_000

    // MARK: keys

    private func press(_ key: PhoneKey) {
        if transferScreenKey(key) { return }
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
        case .record: emit(.recordKey(line: nil))
        case .hold: holdKey()
        case .redial: redial()
        case .mute: muteKey()
        case .volumeUp: changeVolume(by: 1)
        case .volumeDown: changeVolume(by: -1)
        case .transfer: transferKey()
        case .conference: flash("Conference: not supported yet", nanoseconds: PhoneLogic.messageTime)
        case .message: messageKey()
        case .up, .down, .left, .right: break
        }
    }

    /// Where the call the keys act on is in `calls` (nil: none). Indices, not copies of calls.
    var activeIndex: Int? {
        guard let id = activeCallID else { return nil }
        return index(of: id)
    }

    private func isTalking(_ i: Int) -> Bool { calls[i].state == .connected || calls[i].state == .remoteHeld }

    private func hookUp() {
        offHook = true
        if let incoming = incomingCallID {
            answer(incoming, on: .handset)
        } else if activeIndex != nil || screen == .dialing {
            moveAudio(to: .handset)
        } else {
            startDialing(on: .handset)
        }
    }

    private func hookDown() {
        offHook = false
        guard path == .handset else { return }
        if let a = activeIndex, !calls[a].state.isEnded {
            emit(.hangUp(call: calls[a].id))
        } else if screen == .dialing {
            stopDialing()
        }
        path = headsetMode ? .headset : .speaker
    }

    private func speakerKey() {
        if let incoming = incomingCallID {
            answer(incoming, on: .speaker)
        } else if let a = activeIndex {
            if path == .speaker {
                if offHook { moveAudio(to: .handset) } else { emit(.hangUp(call: calls[a].id)) }
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
        if let incoming = incomingCallID, headsetMode {
            answer(incoming, on: .headset)
        } else if activeIndex != nil || screen == .dialing {
            moveAudio(to: headsetMode ? .headset : (offHook ? .handset : .speaker))
        }
    }

    private func digit(_ character: UInt8) {
        if let a = activeIndex, isTalking(a) {
            emit(.sendDigit(call: calls[a].id, character))
            return
        }
        if incomingCallID != nil || activeIndex != nil { return }
        if character == UInt8(ascii: "#") {
            // `#` is the send key: it dials what was typed, and with nothing typed does nothing.
            if !dialed.isEmpty { dialNow() }
            return
        }
        screen = .dialing
        stopTone()
        dialed.append(Character(Unicode.Scalar(character)))
        restartInterDigitTimer()
    }

    private func okKey() {
        if let incoming = incomingCallID {
            answer(incoming, on: defaultPath)
        } else if screen == .dialing, !dialed.isEmpty {
            dialNow()
        }
    }

    private func cancelKey() {
        if let incoming = incomingCallID {
            emit(.reject(call: incoming, status: 486))
        } else if let a = activeIndex, calls[a].state == .calling || PhoneLogic.isRinging(calls[a].state) {
            emit(.hangUp(call: calls[a].id))
        } else if screen == .dialing {
            stopDialing()
        } else {
            clearMessage()
        }
    }

    /// A softkey acts by the label the screen shows on it.
    private func softkey(_ n: Int) {
        let labels = shown.softkeys
        guard n >= 1, n <= labels.count else { return }
        switch labels[n - 1] {
        case "Answer": if let incoming = incomingCallID { answer(incoming, on: defaultPath) }
        case "Reject": if let incoming = incomingCallID { emit(.reject(call: incoming, status: 486)) }
        case "Send": if !dialed.isEmpty { dialNow() }
        case "Delete":
            if !dialed.isEmpty { dialed.removeLast() }
            if dialed.isEmpty { cancelInterDigitTimer() } else { restartInterDigitTimer() }
        case "Cancel":
            if screen == .dialing {
                stopDialing()
            } else if let a = activeIndex {
                emit(.hangUp(call: calls[a].id))
            }
        case "End": if let a = activeIndex { emit(.hangUp(call: calls[a].id)) }
        case "Hold", "Resume": holdKey()
        case "Swap": swap()
        case "New", "Dial": startDialing(on: defaultPath)
        case "Mute", "Unmute": muteKey()
        case "Redial": redial()
        case "DND", "DND off":
            doNotDisturb.toggle()
            flash(doNotDisturb ? "Do not disturb on" : "Do not disturb off", nanoseconds: PhoneLogic.messageTime)
        case "Record": emit(.recordKey(line: nil))
        default: break
        }
    }

    private func lineKey(_ n: Int) {
        if recordLineKeys.contains(n) {
            emit(.recordKey(line: n))
            return
        }
        if let incoming = incomingCallID {
            answer(incoming, on: defaultPath)
            return
        }
        if n <= calls.count {
            let id = calls[n - 1].id
            if id != activeCallID {
                swap(to: n - 1)
            } else if calls[n - 1].state == .held {
                emit(.resume(call: id, report: false))
            }
        } else {
            if calls.isEmpty && screen != .dialing { startDialing(on: defaultPath) }
            // A Line key on the dialling screen: the call goes out on its account.
            if screen == .dialing && accounts.count > 1 && PhoneAccountView.find(n, in: accounts) != nil {
                dialAccount = n
            }
        }
    }

    /// Account `number`'s registration: its Line key shows it with several accounts; with one,
    /// the idle screen says when it is not registered.
    public func noteRegistration(account number: Int, _ state: LineKeyState) {
        if accounts.isEmpty {
            if number == 1 { registration = state }
            return
        }
        for i in accounts.indices where accounts[i].number == number { accounts[i].line = state }
    }

    private func holdKey() {
        guard let a = activeIndex else { return }
        let id = calls[a].id
        if calls[a].state == .held {
            for i in calls.indices where i != a && calls[i].state == .connected {
                emit(.hold(call: calls[i].id, report: false))
            }
            emit(.focus(call: id, path: path))
            emit(.resume(call: id, report: true))
        } else if calls[a].state.isEstablished {
            emit(.hold(call: id, report: true))
        }
    }

    private func swap() {
        guard let a = activeIndex else { return }
        for i in calls.indices where i != a && calls[i].state.isEstablished {
            swap(to: i)
            return
        }
    }

    /// Makes `calls[i]` the call the keys act on: the talking one goes on hold, this one resumes.
    private func swap(to i: Int) {
        let id = calls[i].id
        if let a = activeIndex, a != i, isTalking(a) { emit(.hold(call: calls[a].id, report: false)) }
        setActive(id)
        emit(.focus(call: id, path: path))
        if calls[i].state == .held { emit(.resume(call: id, report: false)) }
    }

    private func muteKey() {
        guard let id = activeCallID, let i = index(of: id), calls[i].hasMedia else { return }
        calls[i].muted.toggle()
        emit(.mute(call: id, on: calls[i].muted))
    }

    private func changeVolume(by step: Int) {
        if incomingCallID != nil && activeIndex == nil {
            settings.ringerVolume = max(0, min(15, settings.ringerVolume + step))
            emit(.volume(settings.ringerVolume))
            flash("Ringer volume " + String(settings.ringerVolume), nanoseconds: PhoneLogic.messageTime)
            return
        }
        let level = max(0, min(15, volume(for: path) + step))
        switch path {
        case .handset: settings.handsetVolume = level
        case .headset: settings.headsetVolume = level
        case .speaker: settings.speakerVolume = level
        }
        emit(.volume(level))
        let name = path == .handset ? "Handset" : path == .headset ? "Headset" : "Speaker"
        flash(name + " volume " + String(level), nanoseconds: PhoneLogic.messageTime)
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
            flash("No number to redial", nanoseconds: PhoneLogic.messageTime)
            return
        }
        if activeIndex != nil || incomingCallID != nil { return }
        dialed = last
        dialNow()
    }

    /// The Message key: calls the voicemail (`PhoneVoicemailView.toDial`) when no call is up.
    private func messageKey() {
        if activeIndex != nil || incomingCallID != nil { return }
        guard let mailbox = PhoneVoicemailView.toDial(voicemail) else {
            flash("No voicemail number", nanoseconds: PhoneLogic.messageTime)
            return
        }
        cancelInterDigitTimer()
        dialed = mailbox.number
        dialAccount = mailbox.account
        dialNow()
    }

    // MARK: dialling

    private var defaultPath: AudioPath { offHook ? .handset : (headsetMode ? .headset : .speaker) }

    private func startDialing(on path: AudioPath) {
        moveAudio(to: path)
        screen = .dialing
        dialed = ""
        dialAccount = 1
        clearMessage()
        emit(.playDialTone(path))
        dialTone = true
    }

    private func stopDialing() {
        cancelInterDigitTimer()
        stopTone()
        dialed = ""
        dialAccount = 1
        screen = .idle
    }

    private func dialNow() {
        cancelInterDigitTimer()
        stopTone()
        let number = dialed
        dialed = ""
        guard let target = settings.target(for: number) else {
            screen = .idle
            return
        }
        if let a = activeIndex, isTalking(a) { emit(.hold(call: calls[a].id, report: false)) }
        lastDialed = number
        path = defaultPath
        emit(.dial(number: number, target: target, account: dialAccount))
        dialAccount = 1
    }

    private func restartInterDigitTimer() {
        cancelInterDigitTimer()
        emit(.startTimer(.interDigit, nanoseconds: settings.interDigitTimeout))
        interDigitRunning = true
    }

    private func cancelInterDigitTimer() {
        if interDigitRunning { emit(.cancelTimer(.interDigit)) }
        interDigitRunning = false
    }

    private func stopTone() {
        if dialTone { emit(.stopTone) }
        dialTone = false
    }

    // MARK: answering and audio

    private func answer(_ id: Int, on path: AudioPath) {
        cancelInterDigitTimer()
        stopTone()
        dialed = ""
        for i in calls.indices where calls[i].id != id && isTalking(i) { emit(.hold(call: calls[i].id, report: false)) }
        self.path = path
        setActive(id)
        emit(.focus(call: id, path: path))
        emit(.volume(volume(for: path)))
        emit(.answer(call: id))
    }

    private func moveAudio(to path: AudioPath) {
        self.path = path
        emit(.moveAudio(path))
        emit(.volume(volume(for: path)))
    }

    private func setActive(_ id: Int?) {
        guard id != activeCallID else { return }
        activeCallID = id
        emit(.activeCall(id))
    }

    func index(of id: Int) -> Int? { calls.firstIndex { $0.id == id } }

    static func isRinging(_ state: SIPCallState) -> Bool {
        if case .ringing = state { return true }
        return false
    }

    // MARK: call events

    private func callStateChanged(
        _ id: Int, _ state: SIPCallState, party: String, account: Int
    ) {
        if let i = index(of: id) {
            calls[i].state = state
            calls[i].party = party
        } else {
            var view = PhoneCallView(id: id, state: state, party: party)
            view.account = account
            calls.append(view)
        }
        switch state {
        case .incoming:
            // (Do-not-disturb refused the call before it rang: the runtime asks `doNotDisturb`.)
            if activeIndex == nil {
                emit(.volume(settings.ringerVolume))
                stopTone()
                if screen == .dialing { stopDialing() }
            }
        case .calling, .ringing, .connected:
            // A call placed or answered without the keys (control commands, auto-answer) is
            // the one the keys act on when there is none.
            if activeCallID == nil {
                setActive(id)
                if state == .connected { emit(.focus(call: id, path: nil)) }
            }
        case .ended(let reason):
            let transferText = transferCallEnded(id)
            if activeCallID == id {
                // The held call (if any) becomes the one the keys act on; it stays on hold. A
                // talking one (the new call of a transfer) gets the audio.
                let next = calls.firstIndex { $0.id != id && !$0.state.isEnded }
                setActive(next.map { calls[$0].id })
                if let next, isTalking(next) { emit(.focus(call: calls[next].id, path: nil)) }
                flash(transferText ?? PhoneLogic.endText(reason), nanoseconds: PhoneLogic.messageTime)
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

    func flash(_ text: String, nanoseconds: Int64) {
        message = text
        if messageRunning { emit(.cancelTimer(.message)) }
        emit(.startTimer(.message, nanoseconds: nanoseconds))
        messageRunning = true
        emit(.log("phone: " + text))
    }

    private func clearMessage() {
        if messageRunning { emit(.cancelTimer(.message)) }
        messageRunning = false
        message = nil
    }
}
