// The record key's decisions without any I/O (sans-IO): `RecordingLogic` takes what happened
// (a record-key press, a call's state, the server's answer, a timer's expiry) and returns what
// should happen (send an INFO, GET a URL, start or cancel a timer, log, show). The policy is the
// one in RecordingController.swift's header comment; `RecordingController` is the runtime that
// carries the actions out on the reactor, the SIP call and the HTTP client.

import Indicators
import Keys

/// A timer the recording logic asks for; the runtime starts it and reports its expiry.
public enum RecordingTimer: Equatable, Sendable {
    /// Call `call`'s message (and alert) disappears.
    case message(call: Int)
    /// The "no call to record" notice disappears.
    case notice
    /// Call `call`'s URL request got no answer from the HTTP client (a guard behind its own timeout).
    case requestGuard(call: Int)
}

/// How a `Record: on|off` INFO ended (`SIPInDialogResult` as values).
public enum RecordingINFOOutcome: Sendable {
    /// A final response: its status and reason phrase.
    case response(status: Int, reason: String)
    case timeout
    case transportError
    /// No dialog to send in (the call ended or never connected).
    case callGone
}

/// How a URL record GET ended: a response with the text the server put in its body (nil when
/// none), or no response and why.
public enum RecordingURLOutcome: Sendable {
    case response(status: Int, reason: String, text: String?)
    case failed(String)
}

/// What happened, for `RecordingLogic.handle(_:)`. Calls are numbers (`SIPCall.id`).
public enum RecordingInput: Sendable {
    /// A press of a record key bound as `binding`, at reactor time `time`.
    case press(RecordKeyBinding, time: Int64)
    /// Call `call` is alive (not ended); `established`: it has an established dialog.
    case callChanged(call: Int, established: Bool)
    /// Call `call` ended (`cause`: `call ended (remote hang-up)`).
    case callEnded(call: Int, cause: String)
    /// The screen now shows call `call` (nil: none, or an ended call).
    case activeCall(Int?, established: Bool)
    /// The answer to the INFO sent by `RecordingAction.sendINFO` with these values.
    case infoAnswer(call: Int, request: Int, on: Bool, RecordingINFOOutcome)
    /// The answer to the GET sent by `RecordingAction.get` with these values.
    case urlAnswer(call: Int, request: Int, on: Bool, RecordingURLOutcome)
    case timerExpired(RecordingTimer)
    /// New key settings (a provisioning reload); calls keep their state.
    case configure(RecordingConfiguration)
    /// Drop every call's state and take no more input.
    case close
}

/// What should happen, in order, for the runtime (`RecordingController`) to carry out.
public enum RecordingAction: Equatable, Sendable {
    /// Send `Record: on` (`on`) or `Record: off` by INFO in call `call`'s dialog; answer with
    /// `RecordingInput.infoAnswer` carrying the same `call`, `request` and `on`.
    case sendINFO(call: Int, request: Int, on: Bool)
    /// GET `url` (a template to expand with the call's variables) for call `call`; answer
    /// with `RecordingInput.urlAnswer` carrying the same `call`, `request` and `on`.
    case get(call: Int, request: Int, on: Bool, url: String)
    /// The request of a press at `pressTime` was handed over (benchmark hook).
    case requestSent(pressTime: Int64)
    case startTimer(RecordingTimer, nanoseconds: Int64)
    case cancelTimer(RecordingTimer)
    /// The logic dropped call `call`: release what the runtime holds for it.
    case forgetCall(Int)
    case log(String)
    /// A brief message and how long it stays.
    case message(String, nanoseconds: Int64)
    case event(RecordingEvent)
    /// What the record LED, the recording icon and the LCD line show changed.
    case indication(RecordingIndication, text: String)
}

/// The record key's state machine, per call: events in, actions out, no I/O (see the policy in
/// RecordingController.swift). One entry point, `handle(_:)`.
public final class RecordingLogic {
    /// One call's recording.
    final class Entry {
        let id: Int
        var established: Bool
        var phase: RecordingPhase = .off
        /// Serial of the request in flight, 0 when none.
        var request = 0
        /// A failure shown instead of the phase's indication until the message expires.
        var alert: RecordingIndication? = nil
        var message = ""
        var hasMessageTimer = false
        /// The URL request's guard timer runs; its timeout in seconds, for the failure text.
        var hasGuard = false
        var guardSeconds = 0

        init(id: Int, established: Bool) {
            self.id = id
            self.established = established
        }
    }

    public private(set) var configuration: RecordingConfiguration
    /// Tracked calls in the order the logic learnt of them.
    private var calls: [Entry] = []
    public private(set) var activeCallID: Int? = nil
    private var serial = 0
    private var notice = ""
    private var hasNoticeTimer = false
    public private(set) var isClosed = false
    /// What is shown for the active call (reported by `.indication` actions).
    public private(set) var indication: RecordingIndication = .idle
    public private(set) var shownText = ""
    /// The actions of the input being handled.
    private var out: [RecordingAction] = []

    public init(configuration: RecordingConfiguration) {
        self.configuration = configuration
    }

    // MARK: what the runtime asks

    /// The recording phase of call `id` (`.off` for a call the logic does not track).
    public func phase(ofCall id: Int) -> RecordingPhase {
        guard let entry = find(id) else { return .off }
        return entry.phase
    }

    /// What call `id`'s indication would show (`.idle` for an untracked call).
    public func indication(ofCall id: Int) -> RecordingIndication {
        guard let entry = find(id) else { return .idle }
        return indication(of: entry)
    }

    /// The LCD message of call `id` ("" when none).
    public func text(ofCall id: Int) -> String {
        guard let entry = find(id) else { return "" }
        return text(of: entry)
    }

    public var trackedCallCount: Int { calls.count }

    /// Tells the logic whether a tracked call is established now, without acting on it (the
    /// runtime keeps it in step with the call before each input).
    public func noteEstablished(call id: Int, _ established: Bool) {
        if let entry = find(id) { entry.established = established }
    }

    // MARK: the entry point

    /// Handles one input and returns what should happen, in order.
    public func handle(_ input: RecordingInput) -> [RecordingAction] {
        out = []
        if isClosed { return out }
        switch input {
        case .press(let binding, let time):
            press(binding, at: time)
        case .callChanged(let id, let established):
            track(id, established: established)
            if established && (activeCallID == nil || find(activeCallID ?? 0) == nil) {
                activeCallID = id
                refresh()
            }
        case .callEnded(let id, let cause):
            endCall(id, cause: cause)
        case .activeCall(let id, let established):
            if let id { track(id, established: established) }
            activeCallID = id
            refresh()
        case .infoAnswer(let id, let request, let on, let outcome):
            infoAnswered(id, request: request, starting: on, outcome)
        case .urlAnswer(let id, let request, let on, let outcome):
            urlAnswered(id, request: request, starting: on, outcome)
        case .timerExpired(let timer):
            expired(timer)
        case .configure(let configuration):
            self.configuration = configuration
        case .close:
            for entry in calls {
                if entry.hasMessageTimer { emit(.cancelTimer(.message(call: entry.id))) }
                if entry.hasGuard { emit(.cancelTimer(.requestGuard(call: entry.id))) }
                emit(.forgetCall(entry.id))
            }
            calls.removeAll()
            activeCallID = nil
            if hasNoticeTimer { emit(.cancelTimer(.notice)) }
            hasNoticeTimer = false
            notice = ""
            refresh()
            isClosed = true
        }
        let result = out
        out = []
        return result
    }

    // MARK: pressing

    private func press(_ binding: RecordKeyBinding, at pressTime: Int64) {
        guard let id = activeCallID, let entry = find(id), entry.established else {
            showNotice("no call to record", cause: "key " + binding.key.name + " without an established call")
            return
        }
        if entry.request != 0 {
            log("call " + String(id) + ": record key ignored: a request is in flight")
            return
        }
        let starting = entry.phase == .off
        serial += 1
        entry.request = serial
        entry.phase = starting ? .starting : .stopping
        clearMessage(entry)
        changed(entry, cause: "key " + binding.key.name)
        switch binding.mode {
        case .info:
            let value = starting ? "on" : "off"
            log("call " + String(id) + ": INFO Record: " + value)
            emit(.sendINFO(call: id, request: serial, on: starting))
        case .url(let urls):
            // The HTTP client times out by itself; this guard catches a client that never answers.
            entry.hasGuard = true
            entry.guardSeconds = configuration.requestTimeoutSeconds
            emit(
                .startTimer(
                    .requestGuard(call: id), nanoseconds: configuration.requestTimeoutNanoseconds + 1_000_000_000))
            emit(.get(call: id, request: serial, on: starting, url: urls.url(starting: starting)))
        }
        emit(.requestSent(pressTime: pressTime))
    }

    private func infoAnswered(_ id: Int, request: Int, starting: Bool, _ outcome: RecordingINFOOutcome) {
        let cause: String
        switch outcome {
        case .response(let status, let reason): cause = String(status) + " " + reason
        case .timeout: cause = "timeout"
        case .transportError: cause = "transport error"
        case .callGone: cause = "call gone"
        }
        guard let entry = find(id), entry.request == request else {
            log(
                "call " + String(id) + ": answer to Record: " + (starting ? "on" : "off") + " (" + cause
                    + ") after the call's recording state was dropped")
            return
        }
        entry.request = 0
        switch outcome {
        case .response(let status, _):
            if status >= 200 && status < 300 {
                entry.phase = starting ? .on : .off
                changed(entry, cause: cause)
            } else if status == 481 {
                endCall(id, cause: cause + ": call gone")
            } else if status == 403 {
                failed(entry, starting: starting, alert: .notAllowed, text: "recording not allowed", cause: cause)
            } else {
                failed(entry, starting: starting, alert: nil, text: nil, cause: cause)
            }
        case .timeout:
            failed(entry, starting: starting, alert: nil, text: nil, cause: "timeout (no answer)")
        case .transportError:
            failed(entry, starting: starting, alert: nil, text: nil, cause: cause)
        case .callGone:
            endCall(id, cause: cause)
        }
    }

    private func urlAnswered(_ id: Int, request: Int, starting: Bool, _ outcome: RecordingURLOutcome) {
        var cause: String
        var serverText: String? = nil
        var success = false
        switch outcome {
        case .response(let status, let reason, let text):
            cause = String(status) + (reason.isEmpty ? "" : " " + reason)
            success = status >= 200 && status < 300
            if let text, !text.isEmpty { serverText = text }
        case .failed(let why): cause = why
        }
        guard let entry = find(id), entry.request == request else {
            log("call " + String(id) + ": late URL record answer (" + cause + ") ignored")
            return
        }
        entry.request = 0
        if entry.hasGuard { emit(.cancelTimer(.requestGuard(call: id))) }
        entry.hasGuard = false
        if success {
            entry.phase = starting ? .on : .off
            if let serverText { showMessage(entry, serverText) }
            changed(entry, cause: cause)
        } else {
            failed(entry, starting: starting, alert: serverText == nil ? nil : .failed, text: serverText, cause: cause)
        }
    }

    /// The request did not change the state: back to on/off, the alert and message shown for a while.
    private func failed(
        _ entry: Entry, starting: Bool, alert: RecordingIndication?, text: String?, cause: String
    ) {
        entry.phase = starting ? .off : .on
        entry.alert = alert ?? (starting ? .cannotStart : .cannotStop)
        showMessage(entry, text ?? (starting ? "cannot start recording" : "cannot stop recording"))
        changed(entry, cause: cause)
    }

    private func expired(_ timer: RecordingTimer) {
        switch timer {
        case .message(let id):
            guard let entry = find(id), entry.hasMessageTimer else { return }
            entry.hasMessageTimer = false
            entry.message = ""
            entry.alert = nil
            changed(entry, cause: "message expired")
        case .notice:
            guard hasNoticeTimer else { return }
            hasNoticeTimer = false
            notice = ""
            emit(
                .event(
                    RecordingEvent(
                        call: 0, phase: .off, indication: .idle, text: "", cause: "message expired", isActive: true)))
            refresh()
        case .requestGuard(let id):
            guard let entry = find(id), entry.hasGuard else { return }
            entry.hasGuard = false
            let seconds = entry.guardSeconds
            urlAnswered(
                id, request: entry.request, starting: entry.phase == .starting,
                .failed("timeout after " + String(seconds) + " s"))
        }
    }

    // MARK: calls

    private func find(_ id: Int) -> Entry? {
        for entry in calls where entry.id == id { return entry }
        return nil
    }

    /// Tracks call `id` (from now on, if new) and notes whether it is established.
    private func track(_ id: Int, established: Bool) {
        if let entry = find(id) {
            entry.established = established
        } else {
            calls.append(Entry(id: id, established: established))
        }
    }

    private func endCall(_ id: Int, cause: String) {
        guard let i = calls.firstIndex(where: { $0.id == id }) else { return }
        let entry = calls.remove(at: i)
        if entry.hasMessageTimer { emit(.cancelTimer(.message(call: id))) }
        if entry.hasGuard { emit(.cancelTimer(.requestGuard(call: id))) }
        emit(.forgetCall(id))
        let wasActive = activeCallID == id
        if wasActive {
            // The newest call still established takes the screen.
            activeCallID = nil
            for other in calls.reversed() where other.established {
                activeCallID = other.id
                break
            }
        }
        if entry.phase != .off || entry.alert != nil {
            log("call " + String(id) + ": recording state cleared (" + cause + ")")
        }
        emit(
            .event(RecordingEvent(call: id, phase: .off, indication: .idle, text: "", cause: cause, isActive: wasActive)))
        refresh()
    }

    // MARK: showing

    private func indication(of entry: Entry) -> RecordingIndication {
        if let alert = entry.alert { return alert }
        switch entry.phase {
        case .off: return .idle
        case .on: return .recording
        case .starting, .stopping: return .pending
        }
    }

    private func text(of entry: Entry) -> String {
        if !entry.message.isEmpty { return entry.message }
        switch entry.phase {
        case .off: return ""
        case .on: return "recording"
        case .starting: return "starting recording..."
        case .stopping: return "stopping recording..."
        }
    }

    private func showMessage(_ entry: Entry, _ text: String) {
        let timer = RecordingTimer.message(call: entry.id)
        if entry.hasMessageTimer { emit(.cancelTimer(timer)) }
        entry.message = text
        emit(.message(text, nanoseconds: configuration.messageNanoseconds))
        entry.hasMessageTimer = true
        emit(.startTimer(timer, nanoseconds: configuration.messageNanoseconds))
    }

    private func clearMessage(_ entry: Entry) {
        if entry.hasMessageTimer { emit(.cancelTimer(.message(call: entry.id))) }
        entry.hasMessageTimer = false
        entry.message = ""
        entry.alert = nil
    }

    private func showNotice(_ text: String, cause: String) {
        if hasNoticeTimer { emit(.cancelTimer(.notice)) }
        notice = text
        emit(.message(text, nanoseconds: configuration.messageNanoseconds))
        log(text + " (" + cause + ")")
        emit(
            .event(RecordingEvent(call: 0, phase: .off, indication: .idle, text: text, cause: cause, isActive: true)))
        refresh()
        hasNoticeTimer = true
        emit(.startTimer(.notice, nanoseconds: configuration.messageNanoseconds))
    }

    private func changed(_ entry: Entry, cause: String) {
        let id = entry.id
        let event = RecordingEvent(
            call: id, phase: entry.phase, indication: indication(of: entry), text: text(of: entry),
            cause: cause, isActive: activeCallID == id)
        log(
            "call " + String(id) + ": recording " + entry.phase.description + " (" + event.indication.description
                + ") after " + cause + (event.text.isEmpty ? "" : ": " + event.text))
        emit(.event(event))
        if activeCallID == id { refresh() }
    }

    /// Works out the active call's indication and text and reports a change.
    private func refresh() {
        var shown = RecordingIndication.idle
        var text = notice
        if let id = activeCallID, let entry = find(id) {
            shown = indication(of: entry)
            if text.isEmpty { text = self.text(of: entry) }
        }
        if shown != indication || text != shownText {
            indication = shown
            shownText = text
            emit(.indication(shown, text: text))
        }
    }

    private func log(_ line: String) {
        emit(.log(line))
    }

    /// Appends `action` to the input's actions (one place, so each site stays small).
    @inline(never)
    private func emit(_ action: RecordingAction) {
        out.append(action)
    }
}
