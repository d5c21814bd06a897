// Requests inside a call's dialog (RFC 3261 §12.2): INFO and BYE with digest, requests from the far
// end, and re-INVITE hold and resume both ways (§14, RFC 3264 §8.4), with glare (491) handling.

import Digest
import Reactor

extension SIPCall {
    // MARK: requests in the dialog (RFC 3261 §12.2.1)

    /// Sends `method` in the call's established dialog with extra `headers` and an optional
    /// body. A 401/407 is answered once with the account's credentials (a new CSeq); the final
    /// response, the timeout or the transport error goes to `completion`. A 481 also ends the
    /// call (the dialog is gone, §12.2.1.2). Without an established dialog `completion` gets
    /// `.callGone` (on the next loop pass).
    public func sendRequest(
        method: SIPMethod, headers: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil,
        completion: @escaping (SIPInDialogResult) -> Void
    ) {
        guard let ua = userAgent else {
            completion(.callGone)
            return
        }
        guard state.isEstablished, method != .ack, method != .cancel, method != .invite, var dialog,
            let peer = ua.peer(for: dialog.nextHopURI)
        else {
            ua.reactor.runSoon { completion(.callGone) }
            return
        }
        var request = dialog.makeRequest(method, via: ua.newVia(peer.transport))
        self.dialog = dialog
        for (name, value) in headers {
            do throws(SIPError) {
                try request.addHeader(name, value)
            } catch {
                ua.log("call " + String(id) + ": header " + name + " left out: " + error.description)
            }
        }
        if let body {
            request.body = body
            if let contentType { request.contentType = contentType }
        }
        ua.decorate(&request)
        sendAuthenticated(request, to: peer) { [self] result in
            if result.status == 481 && !state.isEnded { end(.dialogGone) }
            completion(result)
        }
    }

    /// Sends a non-INVITE request in the dialog, answering one 401/407 with credentials.
    func sendAuthenticated(
        _ request: SIPMessage, to peer: SIPPeer, retried: Bool = false,
        completion: @escaping (SIPInDialogResult) -> Void
    ) {
        guard let ua = userAgent else { return }
        ua.startTransaction(request, to: peer) { [self] event in
            switch event {
            case .provisional, .additionalSuccess:
                return
            case .timeout:
                completion(.timeout)
            case .transportError:
                completion(.transportError)
            case .final(let response):
                let status = response.status ?? 0
                if (status == 401 || status == 407) && !retried, var dialog = self.dialog {
                    dialog.localSequence &+= 1
                    if let next = ua.authorized(request, challenge: response, newSequence: dialog.localSequence) {
                        self.dialog = dialog
                        sendAuthenticated(next, to: peer, retried: true, completion: completion)
                        return
                    }
                }
                if status != 401 && status != 407 { ua.digest.requestSucceeded() }
                completion(.response(response))
            }
        }
    }

    /// A request from the peer inside our dialog (§12.2.2).
    func receiveInDialog(_ transaction: SIPServerTransaction) {
        guard let ua = userAgent, var dialog else {
            return
        }
        let request = transaction.request
        guard let method = request.method else { return }
        if let last = dialog.remoteSequence, request.cseq.number <= last {
            respond(transaction, 500, reason: "Out of order CSeq")
            return
        }
        dialog.remoteSequence = request.cseq.number
        self.dialog = dialog
        switch method {
        case .bye:
            respond(transaction, 200)
            if let server = inviteServer, !state.isEstablished, server.state == .proceeding {
                respond(server, 487)
            }
            end(.remoteHangUp)
        case .invite:
            receiveReinvite(transaction)
        case .info:
            respond(transaction, 200)
            ua.onInfo?(self, request)
        case .options:
            ua.respond(transaction, 200, toTag: dialog.localTag, capabilities: true)
        case .prack:
            receivePRACK(transaction)
        case .update:
            receiveUpdate(transaction)
        case .refer:
            receiveRefer(transaction)
        case .notify:
            receiveNotify(transaction)
        default:
            ua.respond(transaction, 405, toTag: dialog.localTag, capabilities: true)
        }
    }

    /// 500 with Retry-After: 1: an offer/answer of the peer's is still being completed (RFC 3261
    /// §14.2, RFC 3311 §5.2).
    func respondRetryLater(_ transaction: SIPServerTransaction) {
        var response = SIPMessage.response(to: transaction.request, status: 500, toTag: dialog?.localTag)
        SIPUserAgent.add(&response, "Retry-After", "1")
        transaction.respond(response)
    }

    func respond(_ transaction: SIPServerTransaction, _ status: Int, reason: String? = nil) {
        guard let ua = userAgent else { return }
        var response = SIPMessage.response(
            to: transaction.request, status: status, reason: reason, toTag: dialog?.localTag)
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        transaction.respond(response)
    }

    // MARK: re-INVITE (RFC 3261 §14, RFC 3264 §8)

    /// Puts the far end on hold: a re-INVITE offering sendonly (RFC 3264 §8.4). False when the
    /// call is not established or a re-INVITE is already in flight.
    @discardableResult
    public func hold() -> Bool {
        guard state.isEstablished, !isLocalHold else { return false }
        return sendReinvite(hold: true)
    }

    /// Takes the call off hold: a re-INVITE offering sendrecv.
    @discardableResult
    public func resume() -> Bool {
        guard state.isEstablished, isLocalHold else { return false }
        return sendReinvite(hold: false)
    }

    /// Offers the session again with the address the media layer gives now (the phone's address
    /// changed): a re-INVITE with the same direction, `c=` and `o=` on the new address and
    /// media-level `c=` lines dropped. False when the call is not established or a re-INVITE is
    /// in flight.
    @discardableResult
    public func moveMedia() -> Bool {
        guard state.isEstablished, let ua = userAgent else { return false }
        return sendReinvite(hold: isLocalHold, mediaHost: ua.mediaAddress(self).host)
    }

    /// `refresh`: a session refresh (RFC 4028 §7.4): the same offer, version unchanged (no
    /// change to the session, RFC 3264 §8).
    func sendReinvite(hold: Bool, retried: Bool = false, refresh: Bool = false, mediaHost: String? = nil) -> Bool {
        guard reinviteClient == nil, reinviteServer == nil, successRetransmission == nil, let ua = userAgent,
            var dialog, let previous = localSDP, let peer = ua.peer(for: dialog.nextHopURI)
        else { return false }
        var offer = previous
        if !refresh {
            offer = SDPOfferAnswer.reoffer(
                previous, direction: hold ? .sendonly : .sendrecv, cryptos: ua.account.srtp == .off ? nil : SIPCall.freshCryptos())
            sessionVersion = max(sessionVersion, offer.origin.sessionVersion)
            offer.origin.sessionVersion = sessionVersion
        }
        if let mediaHost {
            let connection = SDPConnection(address: mediaHost)
            offer.connection = connection
            offer.origin.address = mediaHost
            offer.origin.addressType = connection.addressType
            for index in offer.media.indices { offer.media[index].connections = [] }
        }
        var request = dialog.makeRequest(.invite, via: ua.newVia(peer.transport))
        self.dialog = dialog
        SIPUserAgent.add(&request, "Contact", ua.contact(transport: peer.transport).description)
        SIPUserAgent.add(&request, "Allow", SIPUserAgent.allowedMethods)
        addSessionTimerHeaders(&request)
        ua.decorate(&request)
        SIPCall.attach(offer, to: &request)
        startReinvite(request, offer: offer, hold: hold, peer: peer, retried: retried)
        return true
    }

    func startReinvite(_ request: SIPMessage, offer: SDPSession, hold: Bool, peer: SIPPeer, retried: Bool) {
        guard let ua = userAgent else { return }
        reinviteClient = ua.startTransaction(request, to: peer) { [self] event in
            switch event {
            case .provisional:
                return
            case .additionalSuccess(let response):
                receiveRetransmittedSuccess(response)
            case .timeout, .transportError:
                reinviteClient = nil
                // §14.1: a re-INVITE that times out ends the dialog.
                sendBye()
                end(.timeout)
            case .final(let response):
                reinviteClient = nil
                reinviteFinal(response, request: request, offer: offer, hold: hold, peer: peer, retried: retried)
            }
        }
    }

    func reinviteFinal(
        _ response: SIPMessage, request: SIPMessage, offer: SDPSession, hold: Bool, peer: SIPPeer, retried: Bool
    ) {
        guard let ua = userAgent, let status = response.status, !state.isEnded else { return }
        if status >= 200 && status < 300 {
            if var dialog, let contact = response.contacts.first?.address?.uri {
                dialog.remoteTarget = contact
                self.dialog = dialog
            }
            noteAllow(response)
            sendACK(for: response, inviteRequest: request)
            isLocalHold = hold
            if let answer = SIPCall.sdp(of: response) {
                _ = completeNegotiation(offer: offer, answer: answer, localIsOfferer: true)
            }
            updateEstablishedState()
            runSessionTimer(SIPSessionTimerNegotiation.settled(by: response, sessionSettings, asked: askedSessionExpires))
            return
        }
        if (status == 401 || status == 407) && !retried, var dialog {
            dialog.localSequence &+= 1
            if let next = ua.authorized(request, challenge: response, newSequence: dialog.localSequence) {
                self.dialog = dialog
                startReinvite(next, offer: offer, hold: hold, peer: peer, retried: true)
                return
            }
        }
        if status == 481 || status == 408 {
            end(.dialogGone)
            return
        }
        if status == 491 && !retried {
            // §14.1: glare; the Call-ID owner waits 2.1–4 s, the other 0–2 s. One retry.
            let delay: Int64 = direction == .outgoing ? 2_500_000_000 : 1_000_000_000
            retryTimer = ua.reactor.after(delay) { [self] in
                retryTimer = nil
                _ = sendReinvite(hold: hold, retried: true)
            }
            return
        }
        ua.log("call " + String(id) + ": re-INVITE refused " + String(status) + ", state kept")
    }

    /// A re-INVITE from the peer: answered with our current direction (sendonly while we hold),
    /// or with an offer when it carries none (the answer then comes in the ACK).
    func receiveReinvite(_ transaction: SIPServerTransaction) {
        if reinviteClient != nil {
            respond(transaction, 491)
            return
        }
        if reinviteServer != nil || successRetransmission != nil {
            respondRetryLater(transaction)
            return
        }
        guard case (var response, let timer)? = targetRefreshSuccess(transaction) else { return }
        let request = transaction.request
        guard let config = audioConfiguration(direction: wantedDirection) else {
            respond(transaction, 500, reason: "No Media Port")
            return
        }
        if request.body.isEmpty {
            var offer =
                localSDP.map { SDPOfferAnswer.reoffer($0, direction: wantedDirection, cryptos: config.cryptos) }
                ?? SDPOfferAnswer.offer(config)
            sessionVersion = max(sessionVersion, offer.origin.sessionVersion)
            offer.origin.sessionVersion = sessionVersion
            offerInSuccess = offer
            SIPCall.attach(offer, to: &response)
            transaction.respond(response)
            retransmitSuccess(response, peer: transaction.peer)
        } else {
            guard let (offer, answer) = answerOffer(in: transaction, config) else { return }
            SIPCall.attach(answer, to: &response)
            transaction.respond(response)
            retransmitSuccess(response, peer: transaction.peer)
            _ = completeNegotiation(offer: offer, answer: answer, localIsOfferer: false)
            updateEstablishedState()
        }
        restartSessionTimer(timer)
    }

    /// The 2xx to a target-refresh request from the peer (re-INVITE, UPDATE): its Contact becomes
    /// the dialog's remote target (§12.2.2), ours, Allow, Server and the session-timer headers go
    /// in; nil after refusing it with 422 (an interval below our Min-SE, RFC 4028 §5).
    func targetRefreshSuccess(_ transaction: SIPServerTransaction) -> (SIPMessage, SIPSessionTimer?)? {
        guard let ua = userAgent, var dialog else { return nil }
        let request = transaction.request
        var timer: SIPSessionTimer? = nil
        var timerHeaders: [(String, String)] = []
        switch SIPSessionTimerNegotiation.serve(request, sessionSettings) {
        case .none: break
        case .tooSmall(let minSE):
            refuseTooSmall(transaction, minSE: minSE)
            return nil
        case .accept(let settled, let headers):
            timer = settled
            timerHeaders = headers
        }
        noteAllow(request)
        if let contact = request.contacts.first?.address?.uri {
            dialog.remoteTarget = contact
            self.dialog = dialog
        }
        var response = SIPMessage.response(to: request, status: 200, toTag: dialog.localTag)
        SIPUserAgent.add(&response, "Contact", ua.contact(transport: transaction.peer.transport).description)
        SIPUserAgent.add(&response, "Allow", SIPUserAgent.allowedMethods)
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        for (name, value) in timerHeaders { SIPUserAgent.add(&response, name, value) }
        return (response, timer)
    }

    /// Our answer to the SDP offer in the peer's re-INVITE or UPDATE; nil after refusing the
    /// request (415: no SDP body; 488: nothing acceptable, the session stays as it was).
    func answerOffer(in transaction: SIPServerTransaction, _ config: SDPAudioConfiguration)
        -> (offer: SDPSession, answer: SDPSession)?
    {
        guard let offer = SIPCall.sdp(of: transaction.request) else {
            respond(transaction, 415)
            return nil
        }
        var answer = SDPOfferAnswer.answer(to: offer, config)
        if let previous = localSDP {
            // Same session: keep the o= id, next version (RFC 3264 §8).
            answer.origin.sessionID = previous.origin.sessionID
        }
        do throws(SDPError) {
            _ = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false, srtp: config.srtp)
        } catch {
            respond(transaction, 488)
            return nil
        }
        return (offer, answer)
    }

    /// Every 2xx to a re-INVITE or UPDATE restarts the session timer with what it settled (RFC 4028 §10).
    func restartSessionTimer(_ timer: SIPSessionTimer?) {
        if sessionSettings.enabled { runSessionTimer(timer) }
    }
}
