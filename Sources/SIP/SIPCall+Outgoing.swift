// The caller's side of a call (RFC 3261 §13.2): INVITE, its responses, ACK, 2xx retransmissions.

import Digest
import Reactor

extension SIPCall {
    // MARK: outgoing (UAC, RFC 3261 §13.2)

    func startOutgoing() {
        guard let ua = userAgent, let dialog, let peer = ua.peer(for: dialog.nextHopURI) else {
            end(.failed("no route"))
            return
        }
        guard let config = audioConfiguration(direction: .sendrecv) else {
            end(.failed("no free RTP port"))
            return
        }
        let offer = SDPOfferAnswer.offer(config)
        localSDP = offer
        self.dialog = dialog
        guard let request = makeInvite(offer: offer, peer: peer) else {
            end(.failed("no route"))
            return
        }
        setState(.calling)
        sendInvite(request, to: peer)
    }

    /// The initial INVITE carrying `offer` (a new CSeq each time: also the retry after a 422).
    func makeInvite(offer: SDPSession, peer: SIPPeer, sessionSeconds: Int? = nil) -> SIPMessage? {
        guard let ua = userAgent, var dialog else { return nil }
        var request = dialog.makeRequest(.invite, via: ua.newVia(peer.transport))
        self.dialog = dialog
        SIPUserAgent.add(&request, "Contact", ua.contact(transport: peer.transport).description)
        SIPUserAgent.add(&request, "Allow", SIPUserAgent.allowedMethods)
        addSessionTimerHeaders(&request, seconds: sessionSeconds)
        if ua.account.reliableProvisional { SIPUserAgent.add(&request, "Supported", "100rel") }
        for (name, value) in transfer.inviteHeaders { SIPUserAgent.add(&request, name, value) }
        ua.decorate(&request)
        SIPCall.attach(offer, to: &request)
        return request
    }

    func sendInvite(_ request: SIPMessage, to peer: SIPPeer) {
        guard let ua = userAgent else { return }
        inviteRequest = request
        inviteClient = ua.startTransaction(request, to: peer) { [self] event in
            inviteEvent(event, request: request, peer: peer)
        }
    }

    func inviteEvent(_ event: SIPClientTransactionEvent, request: SIPMessage, peer: SIPPeer) {
        switch event {
        case .provisional(let response):
            guard !state.isEnded, let status = response.status, status > 100 else { return }
            if let tag = response.to.tag, var dialog, dialog.remoteTag.isEmpty || dialog.remoteTag == tag {
                let early = SIPDialog.uac(request: request, response: response)
                dialog.remoteTag = tag
                dialog.remoteTarget = early.remoteTarget
                dialog.routeSet = early.routeSet
                self.dialog = dialog
            }
            guard acknowledgeReliable(response, request: request, peer: peer) else { return }
            if let answer = SIPCall.sdp(of: response), negotiatedAudio == nil, let offer = localSDP {
                _ = completeNegotiation(offer: offer, answer: answer, localIsOfferer: true)
            }
            setState(.ringing(early: response.to.tag != nil))
        case .final(let response):
            inviteFinal(response, request: request, peer: peer)
        case .additionalSuccess(let response):
            receiveRetransmittedSuccess(response)
        case .timeout:
            end(.timeout)
        case .transportError:
            end(.transportError)
        }
    }

    func inviteFinal(_ response: SIPMessage, request: SIPMessage, peer: SIPPeer) {
        guard let ua = userAgent, let status = response.status else { return }
        if status >= 200 && status < 300 {
            ua.digest.requestSucceeded()
            var confirmed = SIPDialog.uac(request: request, response: response)
            confirmed.localSequence = dialog?.localSequence ?? confirmed.localSequence
            dialog = confirmed
            noteAllow(response)
            sendACK(for: response, inviteRequest: request)
            if cancelRequested || state.isEnded {
                // The 200 crossed our CANCEL (§9.1): confirm and end the session at once.
                sendBye()
                end(.cancelled)
                return
            }
            guard answeredEarly(by: SIPCall.sdp(of: response)) || acceptAnswer(in: response) else {
                sendBye()
                end(.failed("no usable SDP answer"))
                return
            }
            updateEstablishedState()
            runSessionTimer(SIPSessionTimerNegotiation.settled(by: response, sessionSettings, asked: askedSessionExpires))
            return
        }
        if status == 422 && !retriedAfter422 && !cancelRequested, let offer = localSDP,
            let seconds = SIPSessionTimerNegotiation.retryInterval(after: response, asked: askedSessionExpires),
            let next = makeInvite(offer: offer, peer: peer, sessionSeconds: seconds)
        {
            // RFC 4028 §7.3: the far end wants a longer interval; ask again once with its Min-SE.
            retriedAfter422 = true
            ua.log("call " + String(id) + ": 422 Session Interval Too Small: asking for " + String(seconds) + " s")
            sendInvite(next, to: peer)
            return
        }
        if (status == 401 || status == 407) && !cancelRequested, var dialog {
            dialog.localSequence &+= 1
            if let next = ua.authorized(request, challenge: response, newSequence: dialog.localSequence) {
                self.dialog = dialog
                sendInvite(next, to: peer)
                return
            }
        }
        if status == 487 && cancelRequested {
            end(.cancelled)
        } else {
            end(.rejected(status: status, reason: response.reason ?? ""))
        }
    }

    /// The answer came already, in a (reliable) provisional with SDP (RFC 3262 §5, early media),
    /// and the 2xx brings none or the same one again (same o= line): nothing to negotiate.
    func answeredEarly(by answer: SDPSession?) -> Bool {
        guard negotiatedAudio != nil, let early = remoteSDP else { return false }
        return answer == nil || answer?.origin == early.origin
    }

    /// The SDP answer in a 2xx to our INVITE, negotiated against our offer.
    func acceptAnswer(in response: SIPMessage) -> Bool {
        guard let answer = SIPCall.sdp(of: response), let offer = localSDP else { return false }
        return completeNegotiation(offer: offer, answer: answer, localIsOfferer: true)
    }

    /// The ACK of a 2xx (§13.2.2.4): same CSeq number, the dialog's route set and target, the
    /// INVITE's credentials.
    func sendACK(for response: SIPMessage, inviteRequest: SIPMessage) {
        guard let ua = userAgent, var dialog else { return }
        guard let peer = ua.peer(for: dialog.nextHopURI) else { return }
        var ack = dialog.makeRequest(.ack, via: ua.newVia(peer.transport), sequence: response.cseq.number)
        for name in ["Authorization", "Proxy-Authorization"] {
            for value in inviteRequest.headers(name) { SIPUserAgent.add(&ack, name, value) }
        }
        ua.decorate(&ack)
        lastACK = ack
        self.dialog = dialog
        ua.transactions.sendWithoutTransaction(ack, to: peer)
    }

    /// A retransmitted 2xx (or another fork's): ACK it again (§13.2.2.4); another fork's
    /// answer gets ACK and BYE, the phone keeps one call.
    func receiveRetransmittedSuccess(_ response: SIPMessage) {
        guard let ua = userAgent, let dialog else { return }
        if response.to.tag == dialog.remoteTag, let ack = lastACK, ack.cseq.number == response.cseq.number {
            if let peer = ua.peer(for: dialog.nextHopURI) { ua.transactions.sendWithoutTransaction(ack, to: peer) }
            return
        }
        guard direction == .outgoing, let request = inviteRequest, response.cseq.number == request.cseq.number else {
            return
        }
        var other = SIPDialog.uac(request: request, response: response)
        guard let peer = ua.peer(for: other.nextHopURI) else { return }
        var ack = other.makeRequest(.ack, via: ua.newVia(peer.transport), sequence: response.cseq.number)
        ua.decorate(&ack)
        ua.transactions.sendWithoutTransaction(ack, to: peer)
        var bye = other.makeRequest(.bye, via: ua.newVia(peer.transport))
        ua.decorate(&bye)
        ua.startTransaction(bye, to: peer) { _ in }
    }
}
