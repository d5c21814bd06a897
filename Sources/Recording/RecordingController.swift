// The record key during calls: SIP INFO `Record: on|off` in the call's dialog (admin guide
// "Record"; RFC 3261 §12.2.1, legacy INFO usage of RFC 6086 §2) or an HTTP GET ("URL Record"),
// one state per call, shown on the record LED, the recording icon and an LCD line.
//
// Policy for servers that treat every request as a toggle (FreePBX/Asterisk: `record_on_feature`
// and `record_off_feature` both default to `automixmon`, a toggle), so the phone never shows
// the opposite of the truth:
//
// - The phone's state changes only when the server confirms a request with a 2xx: on after a
//   2xx to `Record: on`, off after a 2xx to `Record: off`. Until then the LED fast-flashes.
// - Exactly one request per press, and only on a press: a press while a request is in flight
//   sends nothing; nothing is ever retried or re-sent on the phone's own account (not after an
//   error, a timeout, hold/resume, or switching calls), and hang-up sends no `Record: off`
//   (the server's recording ends with the call).
// - A final error (403, other 4xx–6xx) means the server did not act on the request (Asterisk
//   answers 403 before toggling), so the state stays. A 401/407 challenge is not acted on
//   either; the one retry with credentials (same press, new CSeq) is the request that counts.
// - A timeout means no copy of the request got any answer although it was retransmitted for
//   64·T1 (RFC 3261 §17.1.2.2), and a server answers every retransmission of a request it
//   received (§17.2.2), so the phone takes it as "not done" and keeps its state.
// - Retransmissions of one INFO are one transaction: the server toggles once.
// - URL record with one URL is a toggle by design: each 2xx flips the phone's state. With
//   separate on/off URLs the phone asks explicitly, as for INFO.

import Config
import HTTP
import Indicators
import Keys
import Reactor
import SIP

/// The record key of a desk phone, per call (admin guide "Call Recording"): a press during an
/// established call asks the server to start or stop recording, by SIP INFO in the call's dialog
/// (`Record: on` / `Record: off`, no body; RFC 3261 §12.2.1.1, legacy INFO of RFC 6086 §2) or
/// by an HTTP GET of a configured URL, and the LED, icon and LCD line show what the server answered.
///
/// This is the runtime around `RecordingLogic` (which decides everything): it maps calls to
/// numbers, feeds the logic what happens and carries out its actions with the reactor's timers,
/// `SIPCall.sendRequest` and the HTTP GET. The phone wires it: key events to `handle(_:)`, every
/// call state change to `callStateChanged(_:_:)`, the call on screen to `setActiveCall(_:)`.
/// `close()` cancels its timers and drops its references.
public final class RecordingController {
    public var configuration: RecordingConfiguration { logic.configuration }
    /// Every change of a call's recording state or message.
    public var onEvent: ((RecordingEvent) -> Void)?
    /// Log lines (`call 1: recording on (200 OK)`).
    public var onLog: ((String) -> Void)?
    /// Each brief message as it appears ("no call to record", "recording not allowed", "cannot
    /// start recording", the server's text), for a phone that shows messages itself
    /// (`PhoneStateMachine.showMessages(of:)`), with how long it stays: the configured message time
    /// (`features.record.message_time`, `configuration.messageNanoseconds`), as in the status log.
    public var onMessage: ((_ text: String, _ nanoseconds: Int64) -> Void)?
    /// Benchmark hook: a press that sent a request reports the key event's time and the time
    /// the request was handed to the transport (reactor nanoseconds).
    public var onRequestSent: ((_ pressTime: Int64, _ sentTime: Int64) -> Void)?

    private let reactor: Reactor
    private let expandURL: (String, SIPCall) -> String
    private let performGET: (String, @escaping (HTTPGetResult) -> Void) -> Void
    private let serverText: ([UInt8]) -> String?

    private let logic: RecordingLogic

    /// What the runtime holds for one call the logic tracks: the call and its running timers.
    private final class Tracked {
        let call: SIPCall
        var messageTimer: TimerID? = nil
        var requestGuard: TimerID? = nil
        init(call: SIPCall) { self.call = call }
    }

    private var calls: [Tracked] = []
    private var noticeTimer: TimerID? = nil

    /// The call the record key acts on and whose state is shown (nil: none).
    public var activeCallID: Int? { logic.activeCallID }

    /// What the record LED, the recording icon and the record line keys' LEDs show: the active
    /// call's indication (`.idle` when none).
    public private(set) var indication: RecordingIndication = .idle
    /// The text for the active call ("recording", "starting recording...", a message), "" when none.
    public private(set) var shownText = ""
    /// `indication` or `shownText` changed. The controller writes no indicator itself: the
    /// phone's one writer (`PhoneStateMachine.showRecording(of:)`) draws it.
    public var onIndication: ((RecordingIndication) -> Void)?

    /// A controller for `configuration`'s keys; what it shows is `indication` and `shownText`
    /// (reported through `onIndication`) and its messages (`onMessage`). URL record goes through
    /// `performGET` (the HTTP client's `get`), URLs are expanded with `expandURL`
    /// (`RecordURLTemplate.expand` with the call's variables) and a 2xx body's text is found by
    /// `serverText` (`PhoneTextXML.text(in:)`).
    public init(
        reactor: Reactor, configuration: RecordingConfiguration,
        expandURL: @escaping (String, SIPCall) -> String,
        performGET: @escaping (String, @escaping (HTTPGetResult) -> Void) -> Void,
        serverText: @escaping ([UInt8]) -> String? = { _ in nil }
    ) {
        self.reactor = reactor
        self.logic = RecordingLogic(configuration: configuration)
        self.expandURL = expandURL
        self.performGET = performGET
        self.serverText = serverText
    }

    // MARK: what the phone asks

    /// The recording phase of call `id` (`.off` for a call the controller does not track).
    public func phase(ofCall id: Int) -> RecordingPhase { logic.phase(ofCall: id) }

    /// What call `id`'s indication would show (the LED and icon show the active call's).
    public func indication(ofCall id: Int) -> RecordingIndication { logic.indication(ofCall: id) }

    /// The LCD message of call `id` ("" when none).
    public func text(ofCall id: Int) -> String { logic.text(ofCall: id) }

    /// Number of calls with recording state (ended calls are dropped at once).
    public var trackedCallCount: Int { logic.trackedCallCount }

    /// Number of timers the controller holds (messages, URL request guards), for leak checks.
    public var pendingTimerCount: Int {
        var n = noticeTimer == nil ? 0 : 1
        for entry in calls {
            if entry.messageTimer != nil { n += 1 }
            if entry.requestGuard != nil { n += 1 }
        }
        return n
    }

    // MARK: inputs

    /// A key event: a press of a record key acts; every event of a record key is consumed
    /// (returns true), other keys are left to the phone (false).
    @discardableResult
    public func handle(_ event: KeyEvent) -> Bool {
        guard let binding = logic.configuration.binding(for: event.key) else { return false }
        if event.kind == .press { feed(.press(binding, time: event.time)) }
        return true
    }

    /// A press of `key` now (same as `handle` with a press event).
    @discardableResult
    public func keyPressed(_ key: PhoneKey) -> Bool {
        handle(KeyEvent(key: key, kind: .press, time: reactor.now))
    }

    /// A press of the record key (`line` nil) or of record line key `line`, as
    /// `PhoneStateMachine.onRecordKey` reports it; `time` is the key event's reactor time.
    @discardableResult
    public func recordKeyPressed(line: Int?, time: Int64? = nil) -> Bool {
        handle(KeyEvent(key: line.map { PhoneKey.line($0) } ?? .record, kind: .press, time: time ?? reactor.now))
    }

    /// The line keys configured as Record / URL Record (for `PhoneStateMachine.recordLineKeys`).
    public var recordLineKeys: [Int] {
        var keys: [Int] = []
        for binding in logic.configuration.keys {
            if case .line(let n) = binding.key { keys.append(n) }
        }
        return keys
    }

    /// New key settings (a provisioning reload). Calls keep their recording state; the next
    /// press acts by the new settings.
    public func update(configuration: RecordingConfiguration) {
        feed(.configure(configuration))
    }

    /// A call's state changed (wire to `Softphone.onCallState`). Established calls are
    /// tracked; the first one becomes active when none is; an ended call's state is dropped
    /// and its indication turned off.
    public func callStateChanged(_ call: SIPCall, _ state: SIPCallState) {
        if state.isEnded {
            feed(.callEnded(call: call.id, cause: "call " + state.description))
        } else {
            hold(call)
            feed(.callChanged(call: call.id, established: state.isEstablished))
        }
    }

    /// The call the screen shows (nil: none); its recording state goes to the LED, icon and
    /// LCD line, and the record key acts on it.
    public func setActiveCall(_ call: SIPCall?) {
        if let call, !call.state.isEnded {
            hold(call)
            feed(.activeCall(call.id, established: call.state.isEstablished))
        } else {
            feed(.activeCall(nil, established: false))
        }
    }

    /// Drops every call's state, cancels timers, turns the indication off.
    public func close() {
        guard !logic.isClosed else { return }
        feed(.close)
        onEvent = nil
        onLog = nil
        onMessage = nil
        onRequestSent = nil
        onIndication = nil
    }

    // MARK: carrying out

    private func hold(_ call: SIPCall) {
        guard !logic.isClosed, tracked(call.id) == nil else { return }
        calls.append(Tracked(call: call))
    }

    private func tracked(_ id: Int) -> Tracked? {
        for entry in calls where entry.call.id == id { return entry }
        return nil
    }

    /// Hands `input` to the logic, the calls' current established state first, and carries
    /// out the actions in order.
    private func feed(_ input: RecordingInput) {
        for entry in calls { logic.noteEstablished(call: entry.call.id, entry.call.state.isEstablished) }
        for action in logic.handle(input) { perform(action) }
    }

    private func perform(_ action: RecordingAction) {
        switch action {
        case .sendINFO(let id, let request, let on):
            guard let call = tracked(id)?.call else { return }
            call.sendRequest(method: .info, headers: [("Record", on ? "on" : "off")]) { [self] result in
                let outcome: RecordingINFOOutcome
                switch result {
                case .response(let response):
                    outcome = .response(status: response.status ?? 0, reason: response.reason ?? "")
                case .timeout: outcome = .timeout
                case .transportError: outcome = .transportError
                case .callGone: outcome = .callGone
                }
                feed(.infoAnswer(call: id, request: request, on: on, outcome))
            }
        case .get(let id, let request, let on, let template):
            guard let call = tracked(id)?.call else { return }
            let url = expandURL(template, call)
            onLog?("call " + String(id) + ": GET " + url)
            performGET(url) { [self] result in
                let outcome: RecordingURLOutcome
                switch result {
                case .response(let response):
                    outcome = .response(
                        status: response.status, reason: response.reason, text: serverText(response.body))
                case .failed(let why): outcome = .failed(why)
                }
                feed(.urlAnswer(call: id, request: request, on: on, outcome))
            }
        case .requestSent(let pressTime):
            onRequestSent?(pressTime, reactor.now)
        case .startTimer(let timer, let nanoseconds):
            cancel(timer)
            let id = reactor.after(nanoseconds) { [self] in
                clear(timer)
                feed(.timerExpired(timer))
            }
            switch timer {
            case .notice: noticeTimer = id
            case .message(let call): tracked(call)?.messageTimer = id
            case .requestGuard(let call): tracked(call)?.requestGuard = id
            }
        case .cancelTimer(let timer):
            cancel(timer)
        case .forgetCall(let id):
            if let entry = tracked(id) {
                if let t = entry.messageTimer { reactor.cancel(t) }
                if let t = entry.requestGuard { reactor.cancel(t) }
                entry.messageTimer = nil
                entry.requestGuard = nil
            }
            calls.removeAll { $0.call.id == id }
        case .log(let line):
            onLog?(line)
        case .message(let text, let nanoseconds):
            onMessage?(text, nanoseconds)
        case .event(let event):
            onEvent?(event)
        case .indication(let shown, let text):
            indication = shown
            shownText = text
            onIndication?(shown)
        }
    }

    /// Cancels `timer` if it runs.
    private func cancel(_ timer: RecordingTimer) {
        if let t = clear(timer) { reactor.cancel(t) }
    }

    /// Forgets `timer`'s reactor id and returns it.
    @discardableResult
    private func clear(_ timer: RecordingTimer) -> TimerID? {
        var id: TimerID? = nil
        switch timer {
        case .notice:
            id = noticeTimer
            noticeTimer = nil
        case .message(let call):
            guard let entry = tracked(call) else { return nil }
            id = entry.messageTimer
            entry.messageTimer = nil
        case .requestGuard(let call):
            guard let entry = tracked(call) else { return nil }
            id = entry.requestGuard
            entry.requestGuard = nil
        }
        return id
    }
}
