// Server transactions: INVITE (RFC 3261 §17.2.1, RFC 6026 §7.1 / §8.7) and non-INVITE
// (§17.2.2), with transport errors (§17.2.4).

import Reactor

/// Why a server transaction failed (RFC 3261 §17.2.1: Timer H; §17.2.4: transport error).
public enum SIPServerTransactionFailure: Equatable, Sendable, CustomStringConvertible {
    /// Timer H fired: no ACK for a 3xx–6xx final response.
    case timeout
    /// The transport could not send a response.
    case transportError

    public var description: String {
        switch self {
        case .timeout: return "timeout"
        case .transportError: return "transport error"
        }
    }
}

/// One server transaction: the TU answers the request through `respond(_:)`; the transaction
/// absorbs request retransmissions (re-sending the last response), retransmits an INVITE's
/// 3xx–6xx until the ACK (Timer G) and gives up after Timer H (RFC 3261 §17.2.1 INVITE,
/// §17.2.2 non-INVITE; RFC 6026 Accepted state after a 2xx to an INVITE).
///
/// Responses are handed to the transport with `peer`, the address (and TCP connection) the
/// request came from; the transport routes them by their top Via (§18.2.2, RFC 3581).
public final class SIPServerTransaction: CustomStringConvertible {
    /// Server states of RFC 3261 Figures 7 and 8 (`accepted` from RFC 6026).
    public enum State: Equatable, Sendable, CustomStringConvertible {
        case trying, proceeding, completed, confirmed, accepted, terminated

        public var description: String {
            switch self {
            case .trying: return "Trying"
            case .proceeding: return "Proceeding"
            case .completed: return "Completed"
            case .confirmed: return "Confirmed"
            case .accepted: return "Accepted"
            case .terminated: return "Terminated"
            }
        }
    }

    /// The request that created the transaction (the TU sees it once).
    public let request: SIPMessage
    /// Where the request came from, where the responses go.
    public let peer: SIPPeer
    public let method: SIPMethod
    public private(set) var state: State
    /// The last response sent (re-sent when the request is retransmitted).
    public private(set) var lastResponse: SIPMessage?
    /// For a CANCEL: the INVITE server transaction it cancels (§9.2), nil when none matched
    /// (the TU then answers 481). The TU answers 200 to the CANCEL and, if that INVITE is
    /// still `proceeding`, 487 to the INVITE.
    public internal(set) var cancelledTransaction: SIPServerTransaction?
    /// Called once if the transaction fails (Timer H, or a response the transport refused).
    /// Set it when the transaction is handed over; it is dropped at termination.
    public var onFailure: ((SIPServerTransactionFailure) -> Void)?
    /// Number of response retransmissions so far (Timer G and absorbed requests).
    public private(set) var retransmissions = 0

    public var isInvite: Bool { method == .invite }

    let key: String
    private let layer: SIPTransactionLayer
    private var tryingTimer: TimerID?
    private var retransmitTimer: TimerID?
    private var stateTimer: TimerID?
    private var retransmitInterval: Int64 = 0

    init(request: SIPMessage, peer: SIPPeer, key: String, layer: SIPTransactionLayer) {
        self.request = request
        self.peer = peer
        self.key = key
        self.layer = layer
        self.method = request.method ?? request.cseq.method
        self.state = request.method == .invite ? .proceeding : .trying
    }

    public var description: String {
        "server " + method.name + " " + state.description + " from " + peer.description
    }

    /// An INVITE server transaction sends 100 Trying after `tryingDelay` unless the TU answers
    /// first (§17.2.1; at once when the delay is 0).
    func start() {
        guard isInvite else { return }
        let delay = layer.timers.tryingDelay
        if delay == 0 {
            sendTrying()
        } else {
            tryingTimer = layer.reactor.after(delay) { [self] in
                tryingTimer = nil
                if state == .proceeding && lastResponse == nil { sendTrying() }
            }
        }
    }

    private func sendTrying() {
        var trying = SIPMessage.response(to: request, status: 100)
        // §8.2.6.1: a 100 copies the request's Timestamp (if `response(to:)` did not already).
        if trying.header("Timestamp") == nil, let timestamp = request.header("Timestamp") {
            do throws(SIPError) {
                try trying.addHeader("Timestamp", timestamp)
            } catch {
                // A Timestamp that parsed in the request parses again.
            }
        }
        lastResponse = trying
        _ = transmit(trying)
    }

    // MARK: the TU's responses

    /// Sends a response from the TU (§17.2.1, §17.2.2). 1xx keeps the transaction in
    /// Proceeding; a final response moves it to Completed (3xx–6xx to an INVITE: Timers G and
    /// H; non-INVITE: Timer J) or, for a 2xx to an INVITE, to Accepted (RFC 6026; the TU may
    /// pass 2xx retransmissions through here) or Terminated (RFC 3261). Returns false when the
    /// response is not acceptable in the current state or the transport refused it (then the
    /// transaction terminates and `onFailure` gets `.transportError`).
    @discardableResult
    public func respond(_ response: SIPMessage) -> Bool {
        guard let status = response.status, status >= 100, status <= 699 else { return false }
        if let id = tryingTimer {
            layer.reactor.cancel(id)
            tryingTimer = nil
        }
        switch state {
        case .trying, .proceeding:
            if status < 200 {
                state = .proceeding
                lastResponse = response
                return transmit(response)
            }
            return isInvite ? respondInviteFinal(response, status: status) : respondNonInviteFinal(response)
        case .accepted:
            guard status >= 200 && status < 300 else { return false }
            return transmit(response)
        case .completed, .confirmed, .terminated:
            return false
        }
    }

    private func respondNonInviteFinal(_ response: SIPMessage) -> Bool {
        state = .completed
        lastResponse = response
        guard transmit(response) else { return false }
        // OPTIONS is answered as a stateless UAS would (§8.2.7, §11.2): the answer is the same
        // for a retransmission, so nothing is kept for Timer J and an OPTIONS flood (or a
        // scanner's sweep) leaves no state behind.
        terminate(after: method == .options ? 0 : layer.timers.timerJ(peer.transport))
        return true
    }

    private func respondInviteFinal(_ response: SIPMessage, status: Int) -> Bool {
        lastResponse = response
        if status < 300 {
            guard transmit(response) else { return false }
            if layer.acceptedState {
                state = .accepted
                stateTimer = layer.reactor.after(layer.timers.timerL) { [self] in
                    stateTimer = nil
                    terminate()
                }
            } else {
                terminate()
            }
            return true
        }
        state = .completed
        guard transmit(response) else { return false }
        if !peer.transport.isReliable {
            retransmitInterval = layer.timers.timerG
            scheduleRetransmission()
        }
        stateTimer = layer.reactor.after(layer.timers.timerH) { [self] in
            stateTimer = nil
            if state == .completed { fail(.timeout) }
        }
        return true
    }

    private func scheduleRetransmission() {
        retransmitTimer = layer.reactor.after(retransmitInterval) { [self] in
            retransmitTimer = nil
            guard state == .completed, let response = lastResponse else { return }
            retransmissions += 1
            guard transmit(response) else { return }
            retransmitInterval = layer.timers.doubled(retransmitInterval, capped: true)
            scheduleRetransmission()
        }
    }

    // MARK: requests from the network

    /// The request was retransmitted (§17.2.1, §17.2.2): the last response goes out again; the
    /// TU does not see it. An INVITE retransmitted before any response gets 100 Trying now.
    func receiveRetransmission() {
        switch state {
        case .proceeding:
            if let response = lastResponse {
                retransmissions += 1
                _ = transmit(response)
            } else if isInvite {
                if let id = tryingTimer {
                    layer.reactor.cancel(id)
                    tryingTimer = nil
                }
                sendTrying()
            }
        case .completed:
            if let response = lastResponse {
                retransmissions += 1
                _ = transmit(response)
            }
        case .trying, .confirmed, .accepted, .terminated:
            break
        }
    }

    /// An ACK matched this INVITE transaction. Returns true when the transaction absorbed it
    /// (Completed → Confirmed with Timer I, or a retransmitted ACK in Confirmed); false when
    /// it belongs to the TU (Accepted, RFC 6026 §8.7) or makes no sense here (Proceeding).
    func receiveACK() -> Bool {
        switch state {
        case .completed:
            cancelTimers()
            state = .confirmed
            terminate(after: layer.timers.timerI(peer.transport))
            return true
        case .confirmed:
            return true
        case .trying, .proceeding, .accepted, .terminated:
            return false
        }
    }

    // MARK: ending

    private func transmit(_ response: SIPMessage) -> Bool {
        if layer.transmit(response, to: peer) { return true }
        fail(.transportError)
        return false
    }

    private func cancelTimers() {
        if let id = tryingTimer { layer.reactor.cancel(id) }
        if let id = retransmitTimer { layer.reactor.cancel(id) }
        if let id = stateTimer { layer.reactor.cancel(id) }
        tryingTimer = nil
        retransmitTimer = nil
        stateTimer = nil
    }

    /// Terminates and tells the TU why.
    func fail(_ failure: SIPServerTransactionFailure) {
        guard state != .terminated else { return }
        let callback = onFailure
        terminate()
        callback?(failure)
    }

    /// Terminates after `wait` nanoseconds (Timer I or J), at once when it is 0 (reliable transport).
    private func terminate(after wait: Int64) {
        if wait == 0 {
            terminate()
        } else {
            stateTimer = layer.reactor.after(wait) { [self] in
                stateTimer = nil
                terminate()
            }
        }
    }

    /// Terminated: timers stop, the layer forgets the transaction, `onFailure` is dropped.
    func terminate() {
        guard state != .terminated else { return }
        state = .terminated
        cancelTimers()
        onFailure = nil
        layer.remove(self)
    }
}
