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
/// The phone wires it: key events to `handle(_:)`, every call state change to
/// `callStateChanged(_:_:)`, the call on screen to `setActiveCall(_:)`. Everything runs on the
/// reactor; `close()` cancels its timers and drops its references.
public final class RecordingController {
    public private(set) var configuration: RecordingConfiguration
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

    /// One call's recording.
    private final class CallRecording {
        let call: SIPCall
        var phase: RecordingPhase = .off
        /// Serial of the request in flight, 0 when none.
        var request = 0
        /// A failure shown instead of the phase's indication until the message expires.
        var alert: RecordingIndication? = nil
        var message = ""
        var messageTimer: TimerID? = nil
        var requestGuard: TimerID? = nil

        init(call: SIPCall) { self.call = call }
    }

    private var calls: [Int: CallRecording] = [:]
    /// Call numbers in the order the controller learnt of them.
    private var order: [Int] = []
    public private(set) var activeCallID: Int? = nil
    private var serial = 0
    private var notice = ""
    private var noticeTimer: TimerID? = nil
    private var closed = false

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
        self.configuration = configuration
        self.expandURL = expandURL
        self.performGET = performGET
        self.serverText = serverText
    }

    // MARK: what the phone asks

    /// The recording phase of call `id` (`.off` for a call the controller does not track).
    public func phase(ofCall id: Int) -> RecordingPhase { calls[id]?.phase ?? .off }

    /// What call `id`'s indication would show (the LED and icon show the active call's).
    public func indication(ofCall id: Int) -> RecordingIndication {
        guard let entry = calls[id] else { return .idle }
        return indication(of: entry)
    }

    /// The LCD message of call `id` ("" when none).
    public func text(ofCall id: Int) -> String {
        guard let entry = calls[id] else { return "" }
        return text(of: entry)
    }

    /// Number of calls with recording state (ended calls are dropped at once).
    public var trackedCallCount: Int { calls.count }

    /// Number of timers the controller holds (messages, URL request guards), for leak checks.
    public var pendingTimerCount: Int {
        var n = noticeTimer == nil ? 0 : 1
        for (_, entry) in calls {
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
        guard let binding = configuration.binding(for: event.key) else { return false }
        if event.kind == .press { press(binding, at: event.time) }
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
        for binding in configuration.keys {
            if case .line(let n) = binding.key { keys.append(n) }
        }
        return keys
    }

    /// New key settings (a provisioning reload). Calls keep their recording state; the next
    /// press acts by the new settings.
    public func update(configuration: RecordingConfiguration) {
        self.configuration = configuration
    }

    /// A call's state changed (wire to `Softphone.onCallState`). Established calls are
    /// tracked; the first one becomes active when none is; an ended call's state is dropped
    /// and its indication turned off.
    public func callStateChanged(_ call: SIPCall, _ state: SIPCallState) {
        guard !closed else { return }
        if state.isEnded {
            endCall(call.id, cause: "call " + state.description)
            return
        }
        let entry = track(call)
        if state.isEstablished && (activeCallID == nil || calls[activeCallID ?? 0] == nil) {
            activeCallID = call.id
            refresh()
        }
        _ = entry
    }

    /// The call the screen shows (nil: none); its recording state goes to the LED, icon and
    /// LCD line, and the record key acts on it.
    public func setActiveCall(_ call: SIPCall?) {
        guard !closed else { return }
        if let call, !call.state.isEnded {
            _ = track(call)
            activeCallID = call.id
        } else {
            activeCallID = nil
        }
        refresh()
    }

    /// Drops every call's state, cancels timers, turns the indication off.
    public func close() {
        guard !closed else { return }
        for id in order { cancelTimers(calls[id]) }
        calls.removeAll()
        order.removeAll()
        activeCallID = nil
        if let t = noticeTimer { reactor.cancel(t) }
        noticeTimer = nil
        notice = ""
        refresh()
        closed = true
        onEvent = nil
        onLog = nil
        onMessage = nil
        onRequestSent = nil
        onIndication = nil
    }

    // MARK: pressing

    private func press(_ binding: RecordKeyBinding, at pressTime: Int64) {
        guard !closed else { return }
        guard let id = activeCallID, let entry = calls[id], entry.call.state.isEstablished else {
            showNotice("no call to record", cause: "key " + binding.key.name + " without an established call")
            return
        }
        if entry.request != 0 {
            log("call " + String(id) + ": record key ignored: a request is in flight")
            return
        }
        let starting = entry.phase == .off
        serial += 1
        let request = serial
        entry.request = request
        entry.phase = starting ? .starting : .stopping
        clearMessage(entry)
        changed(entry, cause: "key " + binding.key.name)
        switch binding.mode {
        case .info:
            let value = starting ? "on" : "off"
            log("call " + String(id) + ": INFO Record: " + value)
            entry.call.sendRequest(method: .info, headers: [("Record", value)]) { [self] result in
                infoFinished(id, request: request, starting: starting, result)
            }
        case .url(let urls):
            let url = expandURL(urls.url(starting: starting), entry.call)
            log("call " + String(id) + ": GET " + url)
            let seconds = configuration.requestTimeoutSeconds
            // The HTTP client times out by itself; this guard catches a client that never answers.
            entry.requestGuard = reactor.after(configuration.requestTimeoutNanoseconds + 1_000_000_000) { [self] in
                calls[id]?.requestGuard = nil
                urlFinished(
                    id, request: request, starting: starting, .failed("timeout after " + String(seconds) + " s"))
            }
            performGET(url) { [self] result in
                urlFinished(id, request: request, starting: starting, result)
            }
        }
        onRequestSent?(pressTime, reactor.now)
    }

    private func infoFinished(_ id: Int, request: Int, starting: Bool, _ result: SIPInDialogResult) {
        guard let entry = calls[id], entry.request == request else {
            if !closed {
                log(
                    "call " + String(id) + ": answer to Record: " + (starting ? "on" : "off") + " ("
                        + result.description + ") after the call's recording state was dropped")
            }
            return
        }
        entry.request = 0
        switch result {
        case .response(let response):
            let status = response.status ?? 0
            if status >= 200 && status < 300 {
                entry.phase = starting ? .on : .off
                changed(entry, cause: result.description)
            } else if status == 481 {
                endCall(id, cause: result.description + ": call gone")
            } else if status == 403 {
                failed(
                    entry, starting: starting, alert: .notAllowed, text: "recording not allowed",
                    cause: result.description)
            } else {
                failed(entry, starting: starting, alert: nil, text: nil, cause: result.description)
            }
        case .timeout:
            failed(entry, starting: starting, alert: nil, text: nil, cause: "timeout (no answer)")
        case .transportError:
            failed(entry, starting: starting, alert: nil, text: nil, cause: "transport error")
        case .callGone:
            endCall(id, cause: "call gone")
        }
    }

    private func urlFinished(_ id: Int, request: Int, starting: Bool, _ result: HTTPGetResult) {
        let cause: String
        switch result {
        case .response(let response):
            cause = String(response.status) + (response.reason.isEmpty ? "" : " " + response.reason)
        case .failed(let why): cause = why
        }
        guard let entry = calls[id], entry.request == request else {
            if !closed { log("call " + String(id) + ": late URL record answer (" + cause + ") ignored") }
            return
        }
        entry.request = 0
        if let t = entry.requestGuard { reactor.cancel(t) }
        entry.requestGuard = nil
        switch result {
        case .response(let response):
            let text = serverText(response.body)
            if response.status >= 200 && response.status < 300 {
                entry.phase = starting ? .on : .off
                if let text, !text.isEmpty { showMessage(entry, text) }
                changed(entry, cause: cause)
            } else if let text, !text.isEmpty {
                failed(entry, starting: starting, alert: .failed, text: text, cause: cause)
            } else {
                failed(entry, starting: starting, alert: nil, text: nil, cause: cause)
            }
        case .failed:
            failed(entry, starting: starting, alert: nil, text: nil, cause: cause)
        }
    }

    /// The request did not change the state: back to on/off, the alert and message shown for a while.
    private func failed(
        _ entry: CallRecording, starting: Bool, alert: RecordingIndication?, text: String?, cause: String
    ) {
        entry.phase = starting ? .off : .on
        entry.alert = alert ?? (starting ? .cannotStart : .cannotStop)
        showMessage(entry, text ?? (starting ? "cannot start recording" : "cannot stop recording"))
        changed(entry, cause: cause)
    }

    // MARK: calls

    private func track(_ call: SIPCall) -> CallRecording {
        if let entry = calls[call.id] { return entry }
        let entry = CallRecording(call: call)
        calls[call.id] = entry
        order.append(call.id)
        return entry
    }

    private func endCall(_ id: Int, cause: String) {
        guard let entry = calls.removeValue(forKey: id) else { return }
        order.removeAll { $0 == id }
        cancelTimers(entry)
        let wasActive = activeCallID == id
        if wasActive {
            // The newest call still established takes the screen.
            activeCallID = nil
            for other in order.reversed() where calls[other]?.call.state.isEstablished == true {
                activeCallID = other
                break
            }
        }
        if entry.phase != .off || entry.alert != nil {
            log("call " + String(id) + ": recording state cleared (" + cause + ")")
        }
        emit(RecordingEvent(call: id, phase: .off, indication: .idle, text: "", cause: cause, isActive: wasActive))
        refresh()
    }

    private func cancelTimers(_ entry: CallRecording?) {
        guard let entry else { return }
        if let t = entry.messageTimer { reactor.cancel(t) }
        if let t = entry.requestGuard { reactor.cancel(t) }
        entry.messageTimer = nil
        entry.requestGuard = nil
    }

    // MARK: showing

    private func indication(of entry: CallRecording) -> RecordingIndication {
        if let alert = entry.alert { return alert }
        switch entry.phase {
        case .off: return .idle
        case .on: return .recording
        case .starting, .stopping: return .pending
        }
    }

    private func text(of entry: CallRecording) -> String {
        if !entry.message.isEmpty { return entry.message }
        switch entry.phase {
        case .off: return ""
        case .on: return "recording"
        case .starting: return "starting recording..."
        case .stopping: return "stopping recording..."
        }
    }

    private func showMessage(_ entry: CallRecording, _ text: String) {
        if let t = entry.messageTimer { reactor.cancel(t) }
        entry.message = text
        onMessage?(text, configuration.messageNanoseconds)
        let id = entry.call.id
        entry.messageTimer = reactor.after(configuration.messageNanoseconds) { [self] in
            guard let entry = calls[id] else { return }
            entry.messageTimer = nil
            entry.message = ""
            entry.alert = nil
            changed(entry, cause: "message expired")
        }
    }

    private func clearMessage(_ entry: CallRecording) {
        if let t = entry.messageTimer { reactor.cancel(t) }
        entry.messageTimer = nil
        entry.message = ""
        entry.alert = nil
    }

    private func showNotice(_ text: String, cause: String) {
        if let t = noticeTimer { reactor.cancel(t) }
        notice = text
        onMessage?(text, configuration.messageNanoseconds)
        log(text + " (" + cause + ")")
        emit(RecordingEvent(call: 0, phase: .off, indication: .idle, text: text, cause: cause, isActive: true))
        refresh()
        noticeTimer = reactor.after(configuration.messageNanoseconds) { [self] in
            noticeTimer = nil
            notice = ""
            emit(
                RecordingEvent(
                    call: 0, phase: .off, indication: .idle, text: "", cause: "message expired",
                    isActive: true))
            refresh()
        }
    }

    private func changed(_ entry: CallRecording, cause: String) {
        let id = entry.call.id
        let event = RecordingEvent(
            call: id, phase: entry.phase, indication: indication(of: entry), text: text(of: entry), cause: cause,
            isActive: activeCallID == id)
        log(
            "call " + String(id) + ": recording " + entry.phase.description + " (" + event.indication.description
                + ") after " + cause + (event.text.isEmpty ? "" : ": " + event.text))
        emit(event)
        if activeCallID == id { refresh() }
    }

    /// Works out the active call's indication and text and reports a change.
    private func refresh() {
        var shown = RecordingIndication.idle
        var text = notice
        if let id = activeCallID, let entry = calls[id] {
            shown = indication(of: entry)
            if text.isEmpty { text = self.text(of: entry) }
        }
        if shown != indication || text != shownText {
            indication = shown
            shownText = text
            onIndication?(shown)
        }
    }

    private func emit(_ event: RecordingEvent) {
        onEvent?(event)
    }

    private func log(_ line: String) {
        onLog?(line)
    }
}
