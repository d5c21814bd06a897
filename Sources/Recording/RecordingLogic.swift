// The record key's decisions without any I/O (sans-IO): `RecordingLogic` takes what happened
// (a record-key press, a call's state, the server's answer, a timer's expiry) and returns what
// should happen (send an INFO, GET a URL, start or cancel a timer, log, show). The policy is the
// one in RecordingController.swift's header comment; `RecordingController` is the runtime that
// carries the actions out on the reactor, the SIP call and the HTTP client.

import Indicators

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
public enum RecordingINFOOutcome: Equatable, Sendable {
    /// A final response: its status and reason phrase.
    case response(status: Int, reason: String)
    case timeout
    case transportError
    /// No dialog to send in (the call ended or never connected).
    case callGone
}

/// How a URL record GET ended: a response with the text the server put in its body (nil when
/// none), or no response and why.
public enum RecordingURLOutcome: Equatable, Sendable {
    case response(status: Int, reason: String, text: String?)
    case failed(String)
}

/// What happened, for `RecordingLogic.handle(_:)`. Calls are numbers (`SIPCall.id`).
public enum RecordingInput: Equatable, Sendable {
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
public struct RecordingLogic {
    /// One call's recording.
    struct Entry {
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
        guard let i = index(id) else { return .off }
        return calls[i].phase
    }

    /// What call `id`'s indication would show (`.idle` for an untracked call).
    public func indication(ofCall id: Int) -> RecordingIndication {
        guard let i = index(id) else { return .idle }
        return indication(of: calls[i])
    }

    /// The LCD message of call `id` ("" when none).
    public func text(ofCall id: Int) -> String {
        guard let i = index(id) else { return "" }
        return text(of: calls[i])
    }

    public var trackedCallCount: Int { calls.count }

    /// Whether call `id` is tracked.
    public func tracks(_ id: Int) -> Bool { index(id) != nil }

    /// Tells the logic whether a tracked call is established now, without acting on it (the
    /// runtime keeps it in step with the call before each input).
    public mutating func noteEstablished(call id: Int, _ established: Bool) {
        if let i = index(id) { calls[i].established = established }
    }

    // MARK: the entry point

    /// Handles one input and returns what should happen, in order.
    public mutating func handle(_ input: RecordingInput) -> [RecordingAction] {
        out = []
        if isClosed { return out }
        switch input {
        case .press(let binding, let time):
            press(binding, at: time)
        case .callChanged(let id, let established):
            let i = track(id, established: established)
            calls[i].established = established
            if established && (activeCallID == nil || index(activeCallID ?? 0) == nil) {
                activeCallID = id
                refresh()
            }
        case .callEnded(let id, let cause):
            endCall(id, cause: cause)
        case .activeCall(let id, let established):
            if let id {
                let i = track(id, established: established)
                calls[i].established = established
            }
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
                if entry.hasMessageTimer { out.append(.cancelTimer(.message(call: entry.id))) }
                if entry.hasGuard { out.append(.cancelTimer(.requestGuard(call: entry.id))) }
                out.append(.forgetCall(entry.id))
            }
            calls.removeAll()
            activeCallID = nil
            if hasNoticeTimer { out.append(.cancelTimer(.notice)) }
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

    private mutating func press(_ binding: RecordKeyBinding, at pressTime: Int64) {
        guard let id = activeCallID, let i = index(id), calls[i].established else {
            showNotice("no call to record", cause: "key " + binding.key.name + " without an established call")
            return
        }
        if calls[i].request != 0 {
            log("call " + String(id) + ": record key ignored: a request is in flight")
            return
        }
        let starting = calls[i].phase == .off
        serial += 1
        calls[i].request = serial
        calls[i].phase = starting ? .starting : .stopping
        clearMessage(i)
        changed(i, cause: "key " + binding.key.name)
        switch binding.mode {
        case .info:
            let value = starting ? "on" : "off"
            log("call " + String(id) + ": INFO Record: " + value)
            out.append(.sendINFO(call: id, request: serial, on: starting))
        case .url(let urls):
            // The HTTP client times out by itself; this guard catches a client that never answers.
            calls[i].hasGuard = true
            calls[i].guardSeconds = configuration.requestTimeoutSeconds
            out.append(
                .startTimer(
                    .requestGuard(call: id), nanoseconds: configuration.requestTimeoutNanoseconds + 1_000_000_000))
            out.append(.get(call: id, request: serial, on: starting, url: urls.url(starting: starting)))
        }
        out.append(.requestSent(pressTime: pressTime))
    }

    private mutating func infoAnswered(_ id: Int, request: Int, starting: Bool, _ outcome: RecordingINFOOutcome) {
        let cause: String
        switch outcome {
        case .response(let status, let reason): cause = String(status) + " " + reason
        case .timeout: cause = "timeout"
        case .transportError: cause = "transport error"
        case .callGone: cause = "call gone"
        }
        guard let i = index(id), calls[i].request == request else {
            log(
                "call " + String(id) + ": answer to Record: " + (starting ? "on" : "off") + " (" + cause
                    + ") after the call's recording state was dropped")
            return
        }
        calls[i].request = 0
        switch outcome {
        case .response(let status, _):
            if status >= 200 && status < 300 {
                calls[i].phase = starting ? .on : .off
                changed(i, cause: cause)
            } else if status == 481 {
                endCall(id, cause: cause + ": call gone")
            } else if status == 403 {
                failed(i, starting: starting, alert: .notAllowed, text: "recording not allowed", cause: cause)
            } else {
                failed(i, starting: starting, alert: nil, text: nil, cause: cause)
            }
        case .timeout:
            failed(i, starting: starting, alert: nil, text: nil, cause: "timeout (no answer)")
        case .transportError:
            failed(i, starting: starting, alert: nil, text: nil, cause: cause)
        case .callGone:
            endCall(id, cause: cause)
        }
    }

    private mutating func urlAnswered(_ id: Int, request: Int, starting: Bool, _ outcome: RecordingURLOutcome) {
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
        guard let i = index(id), calls[i].request == request else {
            log("call " + String(id) + ": late URL record answer (" + cause + ") ignored")
            return
        }
        calls[i].request = 0
        if calls[i].hasGuard { out.append(.cancelTimer(.requestGuard(call: id))) }
        calls[i].hasGuard = false
        if success {
            calls[i].phase = starting ? .on : .off
            if let serverText { showMessage(i, serverText) }
            changed(i, cause: cause)
        } else {
            failed(i, starting: starting, alert: serverText == nil ? nil : .failed, text: serverText, cause: cause)
        }
    }

    /// The request did not change the state: back to on/off, the alert and message shown for a while.
    private mutating func failed(
        _ i: Int, starting: Bool, alert: RecordingIndication?, text: String?, cause: String
    ) {
        calls[i].phase = starting ? .off : .on
        calls[i].alert = alert ?? (starting ? .cannotStart : .cannotStop)
        showMessage(i, text ?? (starting ? "cannot start recording" : "cannot stop recording"))
        changed(i, cause: cause)
    }

    private mutating func expired(_ timer: RecordingTimer) {
        switch timer {
        case .message(let id):
            guard let i = index(id), calls[i].hasMessageTimer else { return }
            calls[i].hasMessageTimer = false
            calls[i].message = ""
            calls[i].alert = nil
            changed(i, cause: "message expired")
        case .notice:
            guard hasNoticeTimer else { return }
            hasNoticeTimer = false
            notice = ""
            out.append(
                .event(
                    RecordingEvent(
                        call: 0, phase: .off, indication: .idle, text: "", cause: "message expired", isActive: true)))
            refresh()
        case .requestGuard(let id):
            guard let i = index(id), calls[i].hasGuard else { return }
            calls[i].hasGuard = false
            let seconds = calls[i].guardSeconds
            urlAnswered(
                id, request: calls[i].request, starting: calls[i].phase == .starting,
                .failed("timeout after " + String(seconds) + " s"))
        }
    }

    // MARK: calls

    private func index(_ id: Int) -> Int? {
        for i in calls.indices where calls[i].id == id { return i }
        return nil
    }

    private mutating func track(_ id: Int, established: Bool) -> Int {
        if let i = index(id) { return i }
        calls.append(Entry(id: id, established: established))
        return calls.count - 1
    }

    private mutating func endCall(_ id: Int, cause: String) {
        guard let i = index(id) else { return }
        let entry = calls.remove(at: i)
        if entry.hasMessageTimer { out.append(.cancelTimer(.message(call: id))) }
        if entry.hasGuard { out.append(.cancelTimer(.requestGuard(call: id))) }
        out.append(.forgetCall(id))
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
        out.append(
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

    private mutating func showMessage(_ i: Int, _ text: String) {
        let timer = RecordingTimer.message(call: calls[i].id)
        if calls[i].hasMessageTimer { out.append(.cancelTimer(timer)) }
        calls[i].message = text
        out.append(.message(text, nanoseconds: configuration.messageNanoseconds))
        calls[i].hasMessageTimer = true
        out.append(.startTimer(timer, nanoseconds: configuration.messageNanoseconds))
    }

    private mutating func clearMessage(_ i: Int) {
        if calls[i].hasMessageTimer { out.append(.cancelTimer(.message(call: calls[i].id))) }
        calls[i].hasMessageTimer = false
        calls[i].message = ""
        calls[i].alert = nil
    }

    private mutating func showNotice(_ text: String, cause: String) {
        if hasNoticeTimer { out.append(.cancelTimer(.notice)) }
        notice = text
        out.append(.message(text, nanoseconds: configuration.messageNanoseconds))
        log(text + " (" + cause + ")")
        out.append(
            .event(RecordingEvent(call: 0, phase: .off, indication: .idle, text: text, cause: cause, isActive: true)))
        refresh()
        hasNoticeTimer = true
        out.append(.startTimer(.notice, nanoseconds: configuration.messageNanoseconds))
    }

    private mutating func changed(_ i: Int, cause: String) {
        let id = calls[i].id
        let event = RecordingEvent(
            call: id, phase: calls[i].phase, indication: indication(of: calls[i]), text: text(of: calls[i]),
            cause: cause, isActive: activeCallID == id)
        log(
            "call " + String(id) + ": recording " + calls[i].phase.description + " (" + event.indication.description
                + ") after " + cause + (event.text.isEmpty ? "" : ": " + event.text))
        out.append(.event(event))
        if activeCallID == id { refresh() }
    }

    /// Works out the active call's indication and text and reports a change.
    private mutating func refresh() {
        var shown = RecordingIndication.idle
        var text = notice
        if let id = activeCallID, let i = index(id) {
            shown = indication(of: calls[i])
            if text.isEmpty { text = self.text(of: calls[i]) }
        }
        if shown != indication || text != shownText {
            indication = shown
            shownText = text
            out.append(.indication(shown, text: text))
        }
    }

    private mutating func log(_ line: String) {
        out.append(.log(line))
    }
}
