// The phone a person uses: key events in, calls and the LED/LCD out. What the keypad means in
// each situation (idle, dialling, calling, ringing, talking, held, two calls) is decided by
// `PhoneLogic` (PhoneLogic.swift, no I/O); this file is its runtime: it feeds the logic keys,
// call states and timer expiries, and carries out the actions on `Softphone` (the calls and their
// audio), the local tone player, the reactor's timers and the indicators.

import Audio
import Indicators
import Keys
import Reactor
import Recording
import SIP

/// The call and screen state machine of a desk phone: off-hook and dialling (digits, `#` or
/// Send, the inter-digit timeout, Delete, redial, the dial plan of `PhoneSettings`), ringback,
/// an incoming call (ring, fast-flashing line LED, answer by hook, speaker, headset, line key,
/// OK or softkey; reject), talking (call timer, DTMF), hold and resume, a second call (answer
/// while holding the first, swap), mute, volume per audio path, DND, hanging up by hook, key or
/// softkey, the far end hanging up. Audio follows the hook, speaker and headset keys. The
/// softkeys change with the screen; softkey presses act by their label. The decisions are
/// `PhoneLogic`'s; this class carries them out and is the one writer of the screen and LEDs.
public final class PhoneStateMachine {
    /// What the screen shows.
    public typealias Screen = PhoneScreen

    public let reactor: Reactor
    public let softphone: Softphone
    public let indicators: IndicatorModel
    /// The decisions: keys, call states and timers in, actions out.
    public let logic: PhoneLogic
    public var settings: PhoneSettings { logic.settings }
    public var screen: Screen { logic.screen }
    /// Digits typed so far on the dialling screen.
    public var dialed: String { logic.dialed }
    /// The handset is lifted.
    public var offHook: Bool { logic.offHook }
    /// Headset mode (the headset key): calls go to the headset instead of the speaker.
    public var headsetMode: Bool { logic.headsetMode }
    /// Where the audio goes now.
    public var path: AudioPath { logic.path }
    public var doNotDisturb: Bool { logic.doNotDisturb }
    /// The last number dialled (Redial).
    public var lastDialed: String? { logic.lastDialed }
    /// The call the keys act on (talking, calling or held by us), nil when none.
    public var activeCallID: Int? { logic.activeCallID }
    /// The call the keys act on changed (the recording controller shows that call's state).
    public var onActiveCall: ((SIPCall?) -> Void)? = nil
    /// The brief message under the screen's lines (`Call ended: busy`, `Volume 9`).
    public var message: String? { logic.message }
    /// The account's name in the status bar.
    public var accountLabel: String {
        get { logic.accountLabel }
        set { logic.accountLabel = newValue }
    }
    /// Line keys that are Record / URL Record keys (issue 8): their presses go to `onRecordKey`.
    public var recordLineKeys: [Int] {
        get { logic.recordLineKeys }
        set { logic.recordLineKeys = newValue }
    }
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
    /// An action list kept for the next input (no allocation per input once it has grown).
    private var spareActions: [PhoneAction] = []
    /// The call whose end is being reported (the softphone drops it after the report).
    private var endingCallID: Int? = nil
    private var closed = false

    public init(
        reactor: Reactor, softphone: Softphone, indicators: IndicatorModel, settings: PhoneSettings,
        tones: LocalTonePlayer, accountLabel: String
    ) {
        self.reactor = reactor
        self.softphone = softphone
        self.indicators = indicators
        self.tones = tones
        logic = PhoneLogic(settings: settings, accountLabel: accountLabel)
        softphone.onCallState = { [self] call, state in callStateChanged(call, state) }
        softphone.onSecurityWarning = { [self] _, text in flash(text) }
        // Do-not-disturb refuses a call before it rings (the caller hears no ringback).
        for agent in softphone.userAgents {
            agent.refuseIncoming = { [self] _ in
                logic.doNotDisturb ? logic.settings.doNotDisturbStatus : nil
            }
            agent.onTransfer = { [self] call, event in run(.transfer(call: call.id, event)) }
        }
        render()
    }

    /// Stops timers and tones and drops the callbacks (breaks the cycles); the softphone and
    /// the indicators are closed by their owner.
    public func close() {
        guard !closed else { return }
        closed = true
        cancel(.interDigit)
        cancel(.message)
        indicators.stopCallTimer()
        tones.close()
        softphone.onCallState = nil
        softphone.onSecurityWarning = nil
        for agent in softphone.userAgents {
            agent.refuseIncoming = nil
            agent.onTransfer = nil
        }
        onActiveCall = nil
        onRecordKey = nil
        onCallState = nil
        onLog = nil
    }

    /// Applies new settings (a provisioning reload): dial plan, timeouts, volumes. DND keeps
    /// its current state (the softkey may have changed it) unless the provisioned value changed.
    public func update(settings: PhoneSettings) {
        run(.settings(settings))
    }

    // MARK: calls

    /// Live calls, oldest first.
    public var calls: [SIPCall] { softphone.calls }

    /// The call the keys act on.
    public var activeCall: SIPCall? {
        guard let id = logic.activeCallID else { return nil }
        return call(id)
    }

    /// The ringing incoming call, if any.
    public var incomingCall: SIPCall? { calls.first { $0.state == .incoming } }

    private func call(_ id: Int) -> SIPCall? { softphone.calls.first { $0.id == id } }

    // MARK: inputs

    /// One key event from the board's key source.
    public func handle(_ event: KeyEvent) {
        run(.key(event))
    }

    private func callStateChanged(_ call: SIPCall, _ state: SIPCallState) {
        guard !closed else { return }
        // The softphone keeps an ended call until this report is over: the screen shows it till then.
        let outer = endingCallID
        if state.isEnded { endingCallID = call.id }
        let draw = carryOut(
            .callState(
                call: call.id, state: state, party: PhoneStateMachine.partyText(call), account: call.accountNumber))
        onCallState?(call, state)
        if draw { render() }
        endingCallID = outer
    }

    /// Hands `input` to the logic, carries out its actions and draws the screen.
    private func run(_ input: PhoneInput) {
        if carryOut(input) { render() }
    }

    /// Hands `input` to the logic and carries out its actions; true when the screen is to be
    /// drawn. An action may report back (a placed call, a refusal) or make the softphone report
    /// a call state: that input is handled at once, inside this one, as the call happens.
    private func carryOut(_ input: PhoneInput) -> Bool {
        guard !closed else { return false }
        syncCalls()
        var actions = spareActions
        spareActions = []
        actions.removeAll(keepingCapacity: true)
        logic.handle(input, into: &actions)
        var draw = false
        for action in actions {
            if case .screenChanged = action { draw = true } else { perform(action) }
        }
        actions.removeAll(keepingCapacity: true)
        if actions.capacity > spareActions.capacity { spareActions = actions }
        return draw
    }

    /// Notes each call's media, mute and encryption in the logic (the control channel may mute too).
    private func syncCalls() {
        for call in softphone.calls {
            logic.noteMedia(
                call: call.id, open: softphone.hasMedia(call), muted: softphone.isMuted(call), encrypted: call.isEncrypted)
        }
    }

    private func perform(_ action: PhoneAction) {
        switch action {
        case .dial(let number, let target, let account):
            do throws(SIPError) {
                let placed = try softphone.dial(target, account: account)
                run(.placed(call: placed.id))
            } catch {
                run(.failed(.dial(number: number, reason: error.description)))
            }
        case .answer(let id):
            if let incoming = call(id), softphone.answer(incoming) { return }
            run(.failed(.answer))
        case .reject(let id, let status): call(id)?.reject(status: status)
        case .hangUp(let id): call(id)?.hangUp()
        case .hold(let id, let report):
            if !(call(id)?.hold() ?? false) && report { run(.failed(.hold)) }
        case .resume(let id, let report):
            if !(call(id)?.resume() ?? false) && report { run(.failed(.resume)) }
        case .focus(let id, let path):
            if let focused = call(id) { softphone.focus(focused, path: path ?? softphone.audioPath) }
        case .moveAudio(let path):
            softphone.switchAudio(to: path)
            if let kind = tones.kind { tones.play(kind, on: path) }
        case .volume(let level): softphone.volume = level
        case .mute(let id, let on): if let muted = call(id) { softphone.setMuted(on, on: muted) }
        case .sendDigit(let id, let digit):
            if let target = call(id) { softphone.sendDigits(String(Unicode.Scalar(digit)), on: target) }
        case .playDialTone(let path): tones.play(.dial, on: path)
        case .stopTone: tones.stop()
        case .recordKey(let line):
            if let onRecordKey { onRecordKey(line) } else { flash("Recording is not configured") }
        case .activeCall: onActiveCall?(activeCall)
        case .startTimer(let timer, let nanoseconds):
            cancel(timer)
            let id = reactor.after(nanoseconds) { [self] in
                set(timer, nil)
                run(.timerExpired(timer))
            }
            set(timer, id)
        case .cancelTimer(let timer): cancel(timer)
        case .log(let line): onLog?(line)
        case .transfer(let id, let target):
            do throws(SIPError) {
                guard let transferred = call(id) else { throw SIPError("the call is over", status: nil) }
                try transferred.refer(toTarget: target)
            } catch {
                run(.failed(.transfer(error.description)))
            }
        case .screenChanged: render()
        }
    }

    private func set(_ timer: PhoneTimer, _ id: TimerID?) {
        switch timer {
        case .interDigit: interDigitTimer = id
        case .message: messageTimer = id
        }
    }

    private func cancel(_ timer: PhoneTimer) {
        let running = timer == .interDigit ? interDigitTimer : messageTimer
        if let running { reactor.cancel(running) }
        set(timer, nil)
    }

    // MARK: messages

    /// The phone's accounts when it has several: their Line keys and labels (none: one account).
    public func setAccounts(_ accounts: [PhoneAccountView]) {
        logic.accounts = accounts.count > 1 ? accounts : []
        render()
    }

    /// Account `number`'s registration changed: its Line key's LED follows (several accounts),
    /// or the idle screen (one account).
    public func noteRegistration(account number: Int, _ state: SIPRegistrationState) {
        guard !closed else { return }
        let line: LineKeyState
        switch state {
        case .registered: line = .registered
        case .registering: line = .registering
        default: line = .idle
        }
        logic.noteRegistration(account: number, line)
        render()
    }

    /// Account `number`'s mailbox from a message-summary NOTIFY: the LED, the idle line, the Message key.
    public func noteMessageSummary(account number: Int, _ summary: SIPMessageSummary) {
        run(.messageWaiting(account: number, waiting: summary.waiting, newMessages: summary.newVoiceMessages))
    }

    /// Shows `text` under the screen for `seconds`.
    public func flash(_ text: String, seconds: Int64 = 3) {
        flash(text, nanoseconds: seconds * 1_000_000_000)
    }

    /// Shows `text` under the screen for `nanoseconds`.
    public func flash(_ text: String, nanoseconds: Int64) {
        run(.flash(text, nanoseconds: nanoseconds))
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
            for n in logic.recordLineKeys { indicators.setLED(.line(n), indication.ledState) }
        }
    }

    // MARK: the screen

    /// Recomputes the screen, the LCD and the LEDs from the calls and the local state: the
    /// model is a pure function of `screenInput` (`PhoneScreenModel.make`), applied here.
    public func render() {
        guard !closed else { return }
        logic.dropEndedCalls(keeping: endingCallID)
        syncCalls()
        logic.refresh()
        var model = logic.shown
        model.recording = showsRecording ? recordingIndication : nil
        // The log names every screen shown.
        let shown = model.logName
        if shown != loggedScreen {
            loggedScreen = shown
            onLog?("screen: " + shown)
        }
        apply(model)
        logic.lineKeysShown = model.callCount
    }

    /// The values the screen is computed from: the logic's, with the recording indication.
    public var screenInput: PhoneScreenInput {
        var input = logic.screenInput
        input.recording = showsRecording ? recordingIndication : nil
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
            // The message LED only once MWI lit it (boards and logs without MWI stay as they were).
            if !model.messageLED.isOff || !indicators.led(.message).isOff {
                indicators.setLED(.message, model.messageLED)
            }
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

    static func partyText(_ call: SIPCall) -> String {
        let party = call.remoteParty
        if let name = party.displayName, !name.isEmpty { return name }
        return party.uri.user.map { $0 + "@" + party.uri.host.description } ?? party.uri.description
    }
}
