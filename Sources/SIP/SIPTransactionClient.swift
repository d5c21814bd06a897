// Client transactions: INVITE (RFC 3261 §17.1.1, RFC 6026 §7.2 / §8.4) and non-INVITE
// (§17.1.2), with transport errors (§17.1.4) and CANCEL (§9.1).

import Reactor

/// What a client transaction tells its TU. `final`, `timeout` and `transportError` end the
/// story (exactly one of them is delivered); `additionalSuccess` may follow a 2xx `final`
/// while an INVITE transaction is Accepted (RFC 6026): a retransmitted 2xx or another fork's
/// answer, which the UAC core must ACK as well.
public enum SIPClientTransactionEvent: CustomStringConvertible {
    /// A 1xx response (RFC 3261 §17.1.1.2, §17.1.2.2).
    case provisional(SIPMessage)
    /// The final response (2xx–6xx). For an INVITE 3xx–6xx the transaction has sent the ACK.
    case final(SIPMessage)
    /// A further 2xx to an INVITE after the first (RFC 6026 Accepted state).
    case additionalSuccess(SIPMessage)
    /// Timer B or F fired without a final response (§17.1.1.2, §17.1.2.2).
    case timeout
    /// The transport could not send the request (§17.1.4).
    case transportError

    public var description: String {
        switch self {
        case .provisional(let response): return "provisional " + String(response.status ?? 0)
        case .final(let response): return "final " + String(response.status ?? 0)
        case .additionalSuccess(let response): return "additional success " + String(response.status ?? 0)
        case .timeout: return "timeout"
        case .transportError: return "transport error"
        }
    }
}

/// One client transaction: sends a request, retransmits it on unreliable transports, matches
/// its responses and reports them (RFC 3261 §17.1.1 INVITE, §17.1.2 non-INVITE; RFC 6026
/// Accepted state for INVITE). Created by `SIPTransactionLayer.start(_:to:onEvent:)`; it leaves
/// the layer's table when it reaches Terminated.
public final class SIPClientTransaction: CustomStringConvertible {
    /// Client states of RFC 3261 Figures 5 and 6 (`accepted` from RFC 6026).
    public enum State: Equatable, Sendable, CustomStringConvertible {
        case calling, trying, proceeding, completed, accepted, terminated

        public var description: String {
            switch self {
            case .calling: return "Calling"
            case .trying: return "Trying"
            case .proceeding: return "Proceeding"
            case .completed: return "Completed"
            case .accepted: return "Accepted"
            case .terminated: return "Terminated"
            }
        }
    }

    /// The request as sent (its top Via carries `branch`).
    public let request: SIPMessage
    /// Where the request goes.
    public let peer: SIPPeer
    /// The top Via branch, the transaction's identity.
    public let branch: String
    /// The request method (INVITE or not decides the state machine).
    public let method: SIPMethod
    public private(set) var state: State
    /// Whether a provisional response arrived (a CANCEL may be sent only then, §9.1).
    public private(set) var hasProvisionalResponse = false
    /// The ACK sent for a 3xx–6xx final response to an INVITE.
    public private(set) var ack: SIPMessage?
    /// The CANCEL transaction started by `cancel(onEvent:)`, once it is sent.
    public private(set) var cancellation: SIPClientTransaction?
    /// Number of retransmissions of the request so far.
    public private(set) var retransmissions = 0

    public var isInvite: Bool { method == .invite }

    let key: String
    private let layer: SIPTransactionLayer
    private var onEvent: ((SIPClientTransactionEvent) -> Void)?
    private var retransmitTimer: TimerID?
    private var stateTimer: TimerID?
    private var retransmitInterval: Int64 = 0
    private var pendingCancel: ((SIPClientTransactionEvent) -> Void)?
    private var endReported = false

    init(
        request: SIPMessage, peer: SIPPeer, branch: String, key: String, layer: SIPTransactionLayer,
        onEvent: @escaping (SIPClientTransactionEvent) -> Void
    ) {
        self.request = request
        self.peer = peer
        self.branch = branch
        self.key = key
        self.layer = layer
        self.onEvent = onEvent
        self.method = request.method ?? request.cseq.method
        self.state = request.method == .invite ? .calling : .trying
    }

    public var description: String {
        "client " + method.name + " " + branch + " " + state.description + " to " + peer.description
    }

    // MARK: sending

    /// Sends the request and arms Timers A/B (INVITE) or E/F (non-INVITE). A failed first send
    /// terminates the transaction at once and reports `transportError` on the next loop pass,
    /// so the TU first gets its handle.
    func start() {
        guard layer.transmit(request, to: peer) else {
            let callback = onEvent
            terminate()
            endReported = true
            layer.reactor.runSoon { callback?(.transportError) }
            return
        }
        let timers = layer.timers
        if !peer.transport.isReliable {
            retransmitInterval = isInvite ? timers.timerA : timers.timerE
            scheduleRetransmission()
        }
        stateTimer = layer.reactor.after(isInvite ? timers.timerB : timers.timerF) { [self] in
            stateTimer = nil
            if state == .calling || state == .trying || state == .proceeding { finish(.timeout) }
        }
    }

    private func scheduleRetransmission() {
        retransmitTimer = layer.reactor.after(retransmitInterval) { [self] in
            retransmitTimer = nil
            retransmit()
        }
    }

    /// Timer A (INVITE, Calling) or E (non-INVITE, Trying/Proceeding) fired.
    private func retransmit() {
        guard state == .calling || state == .trying || state == .proceeding else { return }
        guard layer.transmit(request, to: peer) else {
            finish(.transportError)
            return
        }
        retransmissions += 1
        if isInvite {
            retransmitInterval = layer.timers.doubled(retransmitInterval, capped: false)
        } else if state == .proceeding {
            retransmitInterval = layer.timers.t2
        } else {
            retransmitInterval = layer.timers.doubled(retransmitInterval, capped: true)
        }
        scheduleRetransmission()
    }

    // MARK: responses

    /// A response matched this transaction (§17.1.3).
    func receive(_ response: SIPMessage) {
        guard let status = response.status, status >= 100, status <= 699 else { return }
        switch state {
        case .calling, .trying, .proceeding:
            if status < 200 {
                receiveProvisional(response)
            } else if isInvite && status < 300 {
                receiveInviteSuccess(response)
            } else if isInvite {
                receiveInviteFailure(response)
            } else {
                cancelTimers()
                state = .completed
                let wait = layer.timers.timerK(peer.transport)
                if wait == 0 {
                    finish(.final(response))
                } else {
                    stateTimer = layer.reactor.after(wait) { [self] in
                        stateTimer = nil
                        finish(nil)
                    }
                    report(.final(response), ends: true)
                }
            }
        case .completed:
            // §17.1.1.2: a retransmitted 3xx–6xx is answered with the ACK again, not reported.
            if isInvite && status >= 300, let ack {
                if !layer.transmit(ack, to: peer) { finish(nil) }
            }
        case .accepted:
            if status >= 200 && status < 300 { report(.additionalSuccess(response), ends: false) }
        case .terminated:
            break
        }
    }

    private func receiveProvisional(_ response: SIPMessage) {
        if isInvite && state == .calling {
            // Timer A stops; Timer B applies only in Calling (Figure 5).
            cancelTimers()
        }
        state = .proceeding
        hasProvisionalResponse = true
        report(.provisional(response), ends: false)
        if state == .proceeding, let callback = pendingCancel {
            pendingCancel = nil
            sendCancel(callback)
        }
    }

    private func receiveInviteSuccess(_ response: SIPMessage) {
        pendingCancel = nil
        guard layer.acceptedState else {
            finish(.final(response))
            return
        }
        cancelTimers()
        state = .accepted
        stateTimer = layer.reactor.after(layer.timers.timerM) { [self] in
            stateTimer = nil
            finish(nil)
        }
        report(.final(response), ends: true)
    }

    private func receiveInviteFailure(_ response: SIPMessage) {
        pendingCancel = nil
        cancelTimers()
        state = .completed
        guard let ack = SIPTransactionMatching.ackRequest(for: request, response: response) else {
            finish(.final(response))
            return
        }
        self.ack = ack
        // A failed ACK ends the transaction; the TU still learns the final response, which is
        // what it cares about (RFC 3261 would also report the transport error).
        let acked = layer.transmit(ack, to: peer)
        let wait = layer.timers.timerD(peer.transport)
        if !acked || wait == 0 {
            finish(.final(response))
            return
        }
        stateTimer = layer.reactor.after(wait) { [self] in
            stateTimer = nil
            finish(nil)
        }
        report(.final(response), ends: true)
    }

    // MARK: CANCEL

    /// Cancels a pending INVITE (§9.1): builds the CANCEL and sends it as its own non-INVITE
    /// client transaction whose events go to `onEvent`. If no provisional response has arrived
    /// yet, the CANCEL waits for the first one (it is dropped if a final response comes first).
    /// Returns false when there is nothing to cancel: not an INVITE, already cancelled, or the
    /// transaction is past Proceeding.
    @discardableResult
    public func cancel(onEvent: @escaping (SIPClientTransactionEvent) -> Void = { _ in }) -> Bool {
        guard isInvite, cancellation == nil, pendingCancel == nil else { return false }
        switch state {
        case .calling:
            pendingCancel = onEvent
            return true
        case .proceeding:
            sendCancel(onEvent)
            return cancellation != nil
        default:
            return false
        }
    }

    /// Whether a CANCEL waits for the first provisional response.
    public var isCancelPending: Bool { pendingCancel != nil }

    private func sendCancel(_ callback: @escaping (SIPClientTransactionEvent) -> Void) {
        guard let cancelRequest = SIPTransactionMatching.cancelRequest(for: request) else { return }
        do throws(SIPError) {
            cancellation = try layer.start(cancelRequest, to: peer, onEvent: callback)
        } catch {
            // Only a CANCEL already in the table could fail here; cancellation stays nil.
        }
    }

    // MARK: ending

    private func cancelTimers() {
        if let id = retransmitTimer { layer.reactor.cancel(id) }
        if let id = stateTimer { layer.reactor.cancel(id) }
        retransmitTimer = nil
        stateTimer = nil
    }

    private func report(_ event: SIPClientTransactionEvent, ends: Bool) {
        if ends {
            if endReported { return }
            endReported = true
        }
        onEvent?(event)
    }

    /// Terminates, then reports `event` (if any, and if no ending event was reported before).
    func finish(_ event: SIPClientTransactionEvent?) {
        guard state != .terminated else { return }
        let callback = onEvent
        terminate()
        guard let event, !endReported else { return }
        endReported = true
        callback?(event)
    }

    /// Terminated: timers stop, the layer forgets the transaction, the TU callback is dropped
    /// (it usually captures the TU, which holds this transaction).
    func terminate() {
        guard state != .terminated else { return }
        state = .terminated
        cancelTimers()
        pendingCancel = nil
        onEvent = nil
        layer.remove(self)
    }
}
