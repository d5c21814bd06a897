// The UAS core's 2xx retransmission of RFC 3261 §13.3.1.4: the INVITE server transaction does
// not retransmit a 2xx; the UAS core does, until the ACK arrives.

import Reactor

/// Retransmits a 2xx response to an INVITE at T1, 2·T1, ... capped at T2, until the dialog
/// sees the ACK (`acknowledge()`), and reports `.timeout` after 64·T1 without one (the UAS
/// should then send BYE) or `.transportError` if the transport refuses a copy
/// (RFC 3261 §13.3.1.4). The first copy is sent by the server transaction's `respond(_:)`.
///
/// It retransmits on TCP too, as RFC 3261 asks (the 2xx travels end to end, maybe over UDP
/// hops behind a proxy); pass `retransmitOnReliable: false` to only wait for the ACK there.
public final class SIPSuccessRetransmission: CustomStringConvertible {
    /// The 2xx being retransmitted.
    public let response: SIPMessage
    public let peer: SIPPeer
    /// Whether it still waits for the ACK.
    public private(set) var isActive = true
    /// Copies sent so far (the first one, sent by the transaction, not counted).
    public private(set) var retransmissions = 0

    private let reactor: Reactor
    private let timers: SIPTimerValues
    private var send: ((SIPMessage, SIPPeer) -> Bool)?
    private var onFailure: ((SIPServerTransactionFailure) -> Void)?
    private var interval: Int64
    private var retransmitTimer: TimerID?
    private var giveUpTimer: TimerID?

    public init(
        response: SIPMessage, peer: SIPPeer, reactor: Reactor, timers: SIPTimerValues,
        retransmitOnReliable: Bool = true, send: @escaping (SIPMessage, SIPPeer) -> Bool,
        onFailure: @escaping (SIPServerTransactionFailure) -> Void
    ) {
        self.response = response
        self.peer = peer
        self.reactor = reactor
        self.timers = timers
        self.send = send
        self.onFailure = onFailure
        self.interval = timers.t1
        if retransmitOnReliable || !peer.transport.isReliable { schedule() }
        giveUpTimer = reactor.after(timers.timerH) { [self] in
            giveUpTimer = nil
            end(.timeout)
        }
    }

    public var description: String {
        "2xx retransmission " + String(response.status ?? 0) + " to " + peer.description
            + (isActive ? " active" : " done")
    }

    /// Whether `ack` acknowledges this response: same Call-ID, CSeq number, From tag and To
    /// tag (the dialog and the INVITE it answers, §13.2.2.4, §17.2.3).
    public func matches(ack: SIPMessage) -> Bool {
        ack.method == .ack && ack.callID == response.callID && ack.cseq.number == response.cseq.number
            && ack.from.tag == response.from.tag && ack.to.tag == response.to.tag
    }

    /// The ACK arrived: stop retransmitting.
    public func acknowledge() {
        end(nil)
    }

    private func schedule() {
        retransmitTimer = reactor.after(interval) { [self] in
            retransmitTimer = nil
            guard isActive, let send else { return }
            retransmissions += 1
            if !send(response, peer) {
                end(.transportError)
                return
            }
            interval = timers.doubled(interval, capped: true)
            schedule()
        }
    }

    private func end(_ failure: SIPServerTransactionFailure?) {
        guard isActive else { return }
        isActive = false
        if let id = retransmitTimer { reactor.cancel(id) }
        if let id = giveUpTimer { reactor.cancel(id) }
        retransmitTimer = nil
        giveUpTimer = nil
        let callback = onFailure
        onFailure = nil
        send = nil
        if let failure { callback?(failure) }
    }
}
