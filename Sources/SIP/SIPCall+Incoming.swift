// The called side of a call (RFC 3261 §13.3): ringing, answer, 2xx retransmission until the ACK,
// reject, CANCEL (§9.2), the ring timeout.

import Reactor

extension SIPCall {
    // MARK: incoming (UAS, RFC 3261 §13.3)

    func startIncoming() {
        guard let ua = userAgent, let transaction = inviteServer else { return }
        transaction.onFailure = { [self] failure in
            if !state.isEstablished { end(failure == .timeout ? .timeout : .transportError) }
        }
        // The media layer must have a stream for the call before it rings (RTP ports run out).
        guard ua.mediaAddress(self).port != 0 else {
            ua.log("call " + String(id) + ": no free RTP port: refused with 503")
            reject(status: 503)
            return
        }
        let request = transaction.request
        if !request.body.isEmpty {
            guard let offer = SIPCall.sdp(of: request), let config = audioConfiguration(direction: .sendrecv) else {
                reject(status: 415)
                return
            }
            do throws(SDPError) {
                _ = try SDPOfferAnswer.negotiate(
                    offer: offer, answer: SDPOfferAnswer.answer(to: offer, config), localIsOfferer: false,
                    srtp: config.srtp)
            } catch {
                ua.log("call " + String(id) + ": cannot answer the offer: " + error.description)
                reject(status: 488)
                return
            }
            remoteSDP = offer
        }
        switch SIPSessionTimerNegotiation.serve(request, ua.account.sessionTimer) {
        case .none: break
        case .tooSmall(let minSE):
            ua.log("call " + String(id) + ": Session-Expires below " + String(minSE) + " s: refused with 422")
            refuseTooSmall(transaction, minSE: minSE)
            end(.declined(status: 422))
            return
        case .accept(let timer, let headers):
            offeredSessionTimer = timer
            sessionTimerHeaders = headers
        }
        respondProvisional(180, reliably: wantsReliableProvisional(request, account: ua.account))
        // Nobody answers: refused after the ring timeout (scheduled first: the `.incoming`
        // handlers may answer or end the call at once, which cancels it).
        let seconds = ua.account.ringTimeoutSeconds
        ringTimer = ua.reactor.after(Int64(seconds) * SIPTimerValues.second) { [self] in
            ringTimer = nil
            guard state == .incoming else { return }
            userAgent?.log("call " + String(id) + ": not answered in " + String(seconds) + " s: refused with 480")
            refuse(status: 480, reason: .notAnswered)
        }
        setState(.incoming)
    }

    func cancelRingTimer() {
        if let timer = ringTimer { userAgent?.reactor.cancel(timer) }
        ringTimer = nil
    }

    func respondProvisional(_ status: Int, reliably: Bool = false) {
        guard let ua = userAgent, let transaction = inviteServer, let dialog else { return }
        var response = SIPMessage.response(to: transaction.request, status: status, toTag: dialog.localTag)
        SIPUserAgent.add(&response, "Contact", ua.contact(transport: transaction.peer.transport).description)
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        if reliably {
            sendReliably(response)
        } else {
            transaction.respond(response)
        }
    }

    /// Answers an incoming call with 200 and our SDP answer (or offer, when the INVITE had
    /// none); the 2xx is retransmitted until the ACK (§13.3.1.4). False when not ringing.
    @discardableResult
    public func answer() -> Bool {
        guard state == .incoming, let ua = userAgent, let transaction = inviteServer, var dialog,
            let config = audioConfiguration(direction: .sendrecv)
        else { return false }
        var response = SIPMessage.response(to: transaction.request, status: 200, toTag: dialog.localTag)
        SIPUserAgent.add(&response, "Contact", ua.contact(transport: transaction.peer.transport).description)
        SIPUserAgent.add(&response, "Allow", SIPUserAgent.allowedMethods)
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        for (name, value) in sessionTimerHeaders { SIPUserAgent.add(&response, name, value) }
        var negotiated = true
        if let offer = remoteSDP {
            let answer = SDPOfferAnswer.answer(to: offer, config)
            SIPCall.attach(answer, to: &response)
            negotiated = completeNegotiation(offer: offer, answer: answer, localIsOfferer: false)
        } else {
            let offer = SDPOfferAnswer.offer(config)
            offerInSuccess = offer
            localSDP = offer
            SIPCall.attach(offer, to: &response)
        }
        guard negotiated else {
            reject(status: 488)
            return false
        }
        dialog.isConfirmed = true
        self.dialog = dialog
        cancelRingTimer()
        // §3: a 2xx may go before the PRACK of a reliable 1xx without SDP (ours has none).
        stopReliableRetransmission()
        transaction.respond(response)
        retransmitSuccess(response, peer: transaction.peer)
        updateEstablishedState()
        runSessionTimer(offeredSessionTimer)
        return true
    }

    func retransmitSuccess(_ response: SIPMessage, peer: SIPPeer) {
        guard let ua = userAgent else { return }
        successRetransmission = ua.transactions.retransmitSuccess(response, to: peer) { [self] failure in
            successRetransmission = nil
            ua.log("call " + String(id) + ": no ACK for our 2xx (" + failure.description + ")")
            if !state.isEnded {
                sendBye()
                end(.timeout)
            }
        }
    }

    /// Declines a ringing incoming call (486 Busy Here, 603 Decline, ...).
    public func reject(status: Int = 486) {
        refuse(status: status, reason: .declined(status: status))
    }

    func refuse(status: Int, reason: SIPCallEndReason) {
        guard direction == .incoming, state == .incoming || state == .idle, let ua = userAgent,
            let transaction = inviteServer, let dialog
        else { return }
        var response = SIPMessage.response(
            to: transaction.request, status: max(300, min(699, status)), toTag: dialog.localTag)
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        transaction.respond(response)
        end(reason)
    }

    /// The caller cancelled (§9.2): 487 to the INVITE if we have not answered.
    func receiveCancel() {
        guard state == .incoming || state == .idle, let ua = userAgent, let transaction = inviteServer,
            let dialog
        else { return }
        var response = SIPMessage.response(to: transaction.request, status: 487, toTag: dialog.localTag)
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        transaction.respond(response)
        end(.remoteCancelled)
    }

    /// An ACK for our 2xx (initial or re-INVITE).
    func receiveACK(_ ack: SIPMessage) {
        guard let retransmission = successRetransmission, retransmission.matches(ack: ack) else { return }
        retransmission.acknowledge()
        successRetransmission = nil
        if let offer = offerInSuccess {
            offerInSuccess = nil
            guard let answer = SIPCall.sdp(of: ack),
                completeNegotiation(offer: offer, answer: answer, localIsOfferer: true)
            else {
                sendBye()
                end(.failed("no SDP answer in the ACK"))
                return
            }
            updateEstablishedState()
        }
    }
}
