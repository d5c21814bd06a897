// Reliable provisional responses (RFC 3262, option tag `100rel`). As the called side: the 180 goes
// reliably (Require: 100rel, RSeq) when the caller requires it, or supports it and
// `account.N.100rel_enable` is on; it is sent again at T1, 2·T1, ... until its PRACK, which gets
// 200; no PRACK within 64·T1 ends the call with 500 (§3). As the caller: a reliable 1xx (in RSeq
// order) is answered with a PRACK inside the early dialog carrying `RAck: RSeq CSeq INVITE` (§4);
// a retransmission of one already acknowledged is not acknowledged again.

import Reactor

/// The reliable 1xx we sent and wait for a PRACK for.
struct SIPReliableProvisional {
    var rseq: UInt32
    var response: SIPMessage
    var timer: TimerID?
    var interval: Int64
    var elapsed: Int64
}

extension SIPCall {
    /// Whether our 180 to `request` goes reliably (§3).
    func wantsReliableProvisional(_ request: SIPMessage, account: SIPAccountConfiguration) -> Bool {
        SIPSessionTimerNegotiation.lists(request, "Require", "100rel")
            || (account.reliableProvisional && SIPSessionTimerNegotiation.lists(request, "Supported", "100rel"))
    }

    /// Sends `response` (a 101-199 with a To tag) reliably: RSeq, Require: 100rel, and its
    /// retransmissions until the PRACK.
    func sendReliably(_ response: SIPMessage) {
        guard let ua = userAgent, let transaction = inviteServer else { return }
        var response = response
        // §3: the first RSeq is random in 1...2^31-1; each next one adds one.
        let rseq = pendingReliable.map { $0.rseq &+ 1 } ?? lastReliableRSeq.map { $0 &+ 1 } ?? ua.random(0x7FFF_FFFF) + 1
        SIPUserAgent.add(&response, "Require", "100rel")
        SIPUserAgent.add(&response, "RSeq", String(rseq))
        stopReliableRetransmission()
        let t1 = ua.transactions.timers.t1
        pendingReliable = SIPReliableProvisional(rseq: rseq, response: response, timer: nil, interval: t1, elapsed: 0)
        lastReliableRSeq = rseq
        transaction.respond(response)
        scheduleReliableRetransmission()
    }

    /// The next retransmission, T1 doubling each time, or the end of the 64·T1 wait.
    private func scheduleReliableRetransmission() {
        guard let ua = userAgent, let pending = pendingReliable else { return }
        let t1 = ua.transactions.timers.t1
        let delay = min(pending.interval, 64 * t1 - pending.elapsed)
        pendingReliable?.timer = ua.reactor.after(delay) { [self] in
            guard var pending = pendingReliable else { return }
            pending.timer = nil
            pending.elapsed += delay
            pending.interval *= 2
            pendingReliable = pending
            guard state == .incoming, let transaction = inviteServer, transaction.state == .proceeding else {
                pendingReliable = nil
                return
            }
            if pending.elapsed >= 64 * t1 {
                pendingReliable = nil
                userAgent?.log("call " + String(id) + ": no PRACK for our reliable " + String(pending.response.status ?? 0))
                refuse(status: 500, reason: .failed("no PRACK"))
                return
            }
            transaction.respond(pending.response)
            scheduleReliableRetransmission()
        }
    }

    func stopReliableRetransmission() {
        if let timer = pendingReliable?.timer { userAgent?.reactor.cancel(timer) }
        pendingReliable = nil
    }

    /// A PRACK in our dialog (§3): 200 when its RAck names our unacknowledged reliable 1xx, 481
    /// otherwise.
    func receivePRACK(_ transaction: SIPServerTransaction) {
        guard let pending = pendingReliable, let invite = inviteServer?.request,
            let rack = SIPCall.rack(transaction.request.header("RAck")),
            rack.rseq == pending.rseq, rack.cseq == invite.cseq.number, rack.method == "INVITE"
        else {
            respond(transaction, 481)
            return
        }
        stopReliableRetransmission()
        respond(transaction, 200)
    }

    /// `RAck: response-num CSeq-num Method` (RFC 3262 §7.2).
    public static func rack(_ value: String?) -> (rseq: UInt32, cseq: UInt32, method: String)? {
        guard let value else { return nil }
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 3, let rseq = UInt32(parts[0]), let cseq = UInt32(parts[1]) else { return nil }
        return (rseq, cseq, String(parts[2]))
    }

    /// As the caller (§4): a reliable 1xx gets its PRACK, once, in RSeq order. False for a 1xx
    /// to ignore (a retransmission or one out of order).
    func acknowledgeReliable(_ response: SIPMessage, request: SIPMessage, peer: SIPPeer) -> Bool {
        guard SIPSessionTimerNegotiation.lists(response, "Require", "100rel") else { return true }
        guard let ua = userAgent, response.to.tag != nil, let text = response.header("RSeq"), let rseq = UInt32(text),
            var dialog
        else {
            return false
        }
        if let last = lastReliableRSeq, rseq != last &+ 1 { return false }
        lastReliableRSeq = rseq
        var prack = dialog.makeRequest(.prack, via: ua.newVia(peer.transport))
        self.dialog = dialog
        SIPUserAgent.add(&prack, "RAck", text + " " + String(request.cseq.number) + " INVITE")
        ua.decorate(&prack)
        let target = ua.peer(for: dialog.nextHopURI) ?? peer
        _ = ua.startTransaction(prack, to: target) { [self] event in
            if case .final(let answer) = event, let status = answer.status, status >= 300 {
                userAgent?.log("call " + String(id) + ": PRACK answered " + String(status))
            }
        }
        return true
    }
}
