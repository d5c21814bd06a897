// RFC 5626 outbound in the registration (policy in SIPOutbound.swift): the REGISTER's Contact
// parameters and Supported header, the registrar's verdict in its 2xx, STUN keep-alives on a UDP
// flow with their retransmissions and the flow failure their absence means, and the §4.5 backoff.

import Net
import Reactor

/// The registration's RFC 5626 state: whether the binding is an outbound flow, the STUN
/// keep-alive in flight, the NAT mapping the last response reported.
struct SIPOutboundFlowState {
    /// The flow's reg-id while the binding is an outbound flow (the 2xx said Require: outbound).
    var regID: Int?
    /// The registrar's Flow-Timer, seconds.
    var flowTimer: Int?
    /// The binding request waiting for its response (transaction id), when it was first sent and
    /// how many retransmissions followed.
    var pending: [UInt8]?
    var sentAt: Int64 = 0
    var retransmissions = 0
    /// The address the last STUN response reported.
    var mapped: SocketAddress?
    var loggedUnsupported = false
    var requestsSent = 0
    var responsesMatched = 0

    /// The flow is gone (a failed attempt, no network): back to no flow.
    mutating func end() {
        regID = nil
        flowTimer = nil
        pending = nil
        mapped = nil
    }
}

extension SIPRegistration {
    /// Whether the binding is an RFC 5626 outbound flow (the registrar answered Require: outbound).
    public var isOutboundFlow: Bool { outbound.regID != nil }
    /// The flow's reg-id, nil without a flow.
    public var outboundRegID: Int? { outbound.regID }
    /// The registrar's Flow-Timer (seconds) for the flow, nil when it sent none.
    public var flowTimer: Int? { outbound.flowTimer }
    /// STUN binding requests sent (not counting retransmissions) and responses matched to them.
    public var stunRequestsSent: Int { outbound.requestsSent }
    public var stunResponsesMatched: Int { outbound.responsesMatched }
    /// The NAT mapping the last STUN response reported.
    public var stunMappedAddress: SocketAddress? { outbound.mapped }

    /// RFC 5626 §4.2: a REGISTER's Contact never has `ob`; with outbound on it carries the
    /// instance and `reg-id` (server 1 or 2), and the request says `Supported: outbound, path`.
    func decorateOutbound(
        _ request: inout SIPMessage, contact: inout SIPNameAddress, server index: Int, ua: SIPUserAgent
    ) {
        contact.uri.setParameter("ob", nil)
        guard ua.account.outbound.enabled else { return }
        contact.parameters += SIPOutbound.contactParameters(instance: ua.account.outbound.instance, regID: index + 1)
        SIPUserAgent.add(&request, "Supported", SIPOutbound.supported)
    }

    /// A 2xx to REGISTER from server `index`: with outbound on, `Require: outbound` makes the binding
    /// a flow (§4.2.1), with the 2xx's Flow-Timer; without it the binding is a plain one (logged).
    func takeOutbound(from response: SIPMessage, server index: Int, ua: SIPUserAgent) {
        guard ua.account.outbound.enabled else { return }
        guard SIPOutbound.registrarSupportsOutbound(response) else {
            if outbound.regID != nil || !outbound.loggedUnsupported {
                ua.log("registration: the registrar does not support outbound (no Require: outbound): a plain binding")
                outbound.loggedUnsupported = true
            }
            outbound.end()
            return
        }
        let timer = SIPOutbound.flowTimer(response)
        if outbound.regID != index + 1 || outbound.flowTimer != timer {
            ua.log(
                "registration: outbound flow (RFC 5626), reg-id " + String(index + 1) + ", "
                    + (timer.map { "Flow-Timer " + String($0) + " s" } ?? "no Flow-Timer: keep-alives every "
                        + String(ua.account.keepAlive.interval) + " s"))
        }
        outbound.regID = index + 1
        outbound.flowTimer = timer
    }

    /// Whether keep-alives run: configured on, or an outbound flow (§4.4: a flow is kept alive).
    func keepAlivesWanted(_ ua: SIPUserAgent) -> Bool { ua.account.keepAlive.enabled || isOutboundFlow }

    /// The next keep-alive's interval, seconds: the flow's (§4.4.1) or the configured one.
    func keepAliveSeconds(_ ua: SIPUserAgent) -> Int {
        guard isOutboundFlow else { return ua.account.keepAlive.interval }
        return SIPOutbound.keepAliveInterval(
            flowTimer: outbound.flowTimer, configured: ua.account.keepAlive.interval, random: ua.random)
    }

    /// The wait after a failed attempt: §4.5's with outbound on, else the plain backoff.
    func failureDelay(_ ua: SIPUserAgent) -> Int {
        guard ua.account.outbound.enabled else { return retryDelay(failures: failureCount) }
        return SIPOutbound.recoveryDelay(failures: failureCount, allFailed: true, random: ua.random)
    }

    // MARK: STUN keep-alives (§4.4.2)

    /// Waits after the first request and each retransmission, ms (RFC 5389 §7.2.1, RTO 500 ms
    /// doubling, cut short): retransmissions at 0.5, 1.5, 3.5 and 7.5 s, the flow failed at 9.5 s.
    static let stunWaits: [Int64] = [500, 1000, 2000, 4000, 2000]

    /// Sends a binding request on the UDP flow to `peer` and waits for its response.
    func sendBindingRequest(to peer: SIPPeer, ua: SIPUserAgent) {
        var id: [UInt8] = []
        for _ in 0..<12 { id.append(UInt8(truncatingIfNeeded: ua.random(256))) }
        outbound.pending = id
        outbound.sentAt = ua.reactor.now
        outbound.retransmissions = 0
        outbound.requestsSent += 1
        ua.sendDatagram?(STUNMessage.bindingRequest(transactionID: id), peer)
        armSTUNTimer(to: peer, ua: ua)
    }

    private func armSTUNTimer(to peer: SIPPeer, ua: SIPUserAgent) {
        let step = outbound.retransmissions
        let waits = SIPRegistration.stunWaits
        keepAliveTimer = ua.reactor.after(waits[step] * 1_000_000) { [self] in
            keepAliveTimer = nil
            guard let ua = userAgent, let id = outbound.pending else { return }
            if step + 1 < waits.count {
                outbound.retransmissions += 1
                ua.sendDatagram?(STUNMessage.bindingRequest(transactionID: id), peer)
                armSTUNTimer(to: peer, ua: ua)
            } else {
                outbound.pending = nil
                var total: Int64 = 0
                for wait in waits { total += wait }
                flowFailed("no STUN response within " + String(total / 1000) + "." + String(total % 1000 / 100) + " s")
            }
        }
    }

    /// A STUN message from `peer`: true when it answers the binding request in flight (the flow
    /// lives; the next keep-alive is scheduled), false when it is not ours. A changed mapping is
    /// a flow failure (§4.4.2): the phone registers again at once.
    func receiveSTUN(_ message: STUNMessage, from peer: SIPPeer) -> Bool {
        guard let ua = userAgent, let id = outbound.pending, message.transactionID == id,
            message.type == STUNMessage.bindingSuccessType || message.type == STUNMessage.bindingErrorType,
            let target = boundTarget, target.peer.remote == peer.remote
        else { return false }
        outbound.pending = nil
        outbound.responsesMatched += 1
        if let timer = keepAliveTimer { ua.reactor.cancel(timer) }
        keepAliveTimer = nil
        if message.type == STUNMessage.bindingErrorType {
            ua.log("registration: STUN error response from " + peer.remote.description + " (the flow is alive)")
        }
        if let mapped = message.mapped {
            if let before = outbound.mapped, before != mapped {
                outbound.mapped = nil
                flowFailed("the NAT mapping changed from " + before.description + " to " + mapped.description)
                return true
            }
            if outbound.mapped == nil {
                ua.log(
                    "registration: STUN keep-alive answered by " + peer.remote.description
                        + ": the flow's NAT mapping is " + mapped.description)
            }
            outbound.mapped = mapped
        }
        scheduleKeepAlive(elapsed: ua.reactor.now - outbound.sentAt)
        return true
    }
}

extension SIPUserAgent {
    /// A STUN datagram from the transport (RFC 5626 §4.4.2): true when it answered this account's
    /// keep-alive. A malformed one is logged (rate-limited) and dropped.
    @discardableResult
    public func receiveSTUN(_ bytes: [UInt8], from peer: SIPPeer) -> Bool {
        do throws(SIPError) {
            let message = try STUNMessage.parse(bytes)
            return registration?.receiveSTUN(message, from: peer) ?? false
        } catch {
            let verdict = stunLog.admit(now: reactor.now)
            if verdict.write {
                log(
                    "STUN from " + peer.remote.description + " dropped: " + error.description
                        + (verdict.dropped > 0 ? " (" + String(verdict.dropped) + " more not logged)" : ""))
            }
            return false
        }
    }
}
