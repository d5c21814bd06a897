// UPDATE (RFC 3311) in a call's dialog: answered from the peer (a session refresh, RFC 4028, or
// a new offer, e.g. hold, in a confirmed dialog), and sent by the phone as its session refresh
// when the peer allows UPDATE (an offer-less UPDATE: no SDP, no ACK, the media untouched);
// otherwise, or when the peer refuses it, the refresh is a re-INVITE.

import Reactor

extension SIPCall {
    /// Remembers whether the peer's Allow (in its INVITE, re-INVITE, UPDATE or their 2xx)
    /// lists UPDATE. A message without Allow changes nothing; after a 405 or 501 to our UPDATE
    /// the peer's Allow is not believed again in this call.
    func noteAllow(_ message: SIPMessage) {
        guard !message.headers("Allow").isEmpty, !peerRefusedUpdate else { return }
        peerAllowsUpdate = SIPSessionTimerNegotiation.lists(message, "Allow", "update")
    }

    /// An UPDATE from the peer (§5.2). Without a body: 200 with the session-timer headers. With
    /// an offer: answered like a re-INVITE's, but only in a confirmed dialog with no other
    /// offer/answer under way (491 while ours is outstanding, 500 with Retry-After otherwise).
    func receiveUpdate(_ transaction: SIPServerTransaction) {
        let offered = !transaction.request.body.isEmpty
        if offered {
            if reinviteClient != nil {
                respond(transaction, 491)
                return
            }
            if !state.isEstablished || reinviteServer != nil || successRetransmission != nil {
                respondRetryLater(transaction)
                return
            }
        }
        guard case (var response, let timer)? = targetRefreshSuccess(transaction) else { return }
        if offered {
            guard let config = audioConfiguration(direction: wantedDirection) else {
                respond(transaction, 500, reason: "No Media Port")
                return
            }
            guard let (offer, answer) = answerOffer(in: transaction, config) else { return }
            SIPCall.attach(answer, to: &response)
            transaction.respond(response)
            _ = completeNegotiation(offer: offer, answer: answer, localIsOfferer: false)
            updateEstablishedState()
        } else {
            transaction.respond(response)
        }
        if state.isEstablished { restartSessionTimer(timer) }
    }

    /// The phone's session refresh by UPDATE (RFC 4028 §7.4, RFC 3311 §5.1): no body, our
    /// Contact, the session-timer headers. A 2xx restarts the timer with what it settled; 405
    /// or 501 (the peer does not do UPDATE after all) and other refusals fall back to a
    /// re-INVITE; 422 asks once more with the Min-SE; no answer at all ends the call with BYE.
    /// False when an UPDATE is already under way.
    func sendRefreshUpdate(seconds: Int? = nil) -> Bool {
        guard !updatePending, reinviteClient == nil, let ua = userAgent, let dialog,
            let peer = ua.peer(for: dialog.nextHopURI)
        else { return false }
        let settings = sessionSettings
        askedSessionExpires = seconds ?? sessionTimer?.interval ?? settings.expires
        let headers =
            [("Contact", ua.contact(transport: peer.transport).description), ("Allow", SIPUserAgent.allowedMethods)]
            + SIPSessionTimerNegotiation.requestHeaders(
                settings, seconds: askedSessionExpires, weRefresh: sessionTimer?.weRefresh)
        updatePending = true
        sendRequest(method: .update, headers: headers) { [self] result in
            updatePending = false
            guard let ua = userAgent, !state.isEnded else { return }
            switch result {
            case .response(let response):
                let status = response.status ?? 0
                if status >= 200 && status < 300 {
                    noteAllow(response)
                    if var current = self.dialog, let contact = response.contacts.first?.address?.uri {
                        current.remoteTarget = contact
                        self.dialog = current
                    }
                    runSessionTimer(
                        SIPSessionTimerNegotiation.settled(by: response, sessionSettings, asked: askedSessionExpires))
                    return
                }
                if status == 408 {
                    // RFC 4028 §10: the refresh timed out on the way; end the session.
                    sendBye()
                    end(.timeout)
                    return
                }
                if status == 422, seconds == nil,
                    let longer = SIPSessionTimerNegotiation.retryInterval(after: response, asked: askedSessionExpires),
                    sendRefreshUpdate(seconds: longer)
                {
                    return
                }
                if status == 405 || status == 501 {
                    peerRefusedUpdate = true
                    peerAllowsUpdate = false
                }
                ua.log("call " + String(id) + ": UPDATE refused " + String(status) + ": refreshing with re-INVITE")
                if !sendReinvite(hold: isLocalHold, refresh: true) { runSessionTimer(sessionTimer) }
            case .timeout, .transportError:
                // RFC 4028 §10 with RFC 3261 §12.2.1.2: a refresh that gets no answer ends the session.
                ua.log("call " + String(id) + ": session refresh (UPDATE) unanswered: BYE")
                sendBye()
                end(.timeout)
            case .callGone:
                return
            }
        }
        return true
    }
}
