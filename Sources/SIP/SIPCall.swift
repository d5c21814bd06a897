// One call: the INVITE session of RFC 3261 §13 (UAC §13.2, UAS §13.3), its dialog (§12),
// CANCEL (§9), BYE (§15), re-INVITE hold and resume (§14, RFC 3264 §8.4) and requests sent
// inside the dialog (INFO for call recording).

import Reactor

/// A phone call, outgoing or incoming (RFC 3261 §13–§15). Created by `SIPUserAgent.call(_:)`
/// or for an incoming INVITE (state `.incoming`, announced through `onCallState`). The phone
/// drives it with `answer()`, `reject(status:)`, `hangUp()`, `hold()`, `resume()` and sends
/// in-dialog requests with `sendRequest(method:headers:body:contentType:completion:)`.
public final class SIPCall: CustomStringConvertible {
    public enum Direction: Equatable, Sendable {
        case outgoing
        case incoming
    }

    /// The UA's number for this call (1, 2, ...), for logs.
    public let id: Int
    public let direction: Direction
    public private(set) var state: SIPCallState = .idle
    /// The dialog (early or confirmed); for an outgoing call the remote tag stays empty until
    /// a response carries one.
    public private(set) var dialog: SIPDialog?
    /// The Call-ID (the key for logs and recording URLs).
    public let callID: String
    /// The far end as From/To names it.
    public private(set) var remoteParty: SIPNameAddress
    /// The last negotiated audio stream, nil before the first offer/answer completes.
    public private(set) var negotiatedAudio: SDPNegotiatedAudio?
    /// We asked for hold (our last offer said sendonly).
    public private(set) var isLocalHold = false
    /// The far end holds us (its last description does not receive).
    public private(set) var isRemoteHold = false

    var userAgent: SIPUserAgent?
    // UAC
    private var inviteClient: SIPClientTransaction?
    private var inviteRequest: SIPMessage?
    private var lastACK: SIPMessage?
    private var cancelRequested = false
    // UAS
    private(set) var inviteServer: SIPServerTransaction?
    private var successRetransmission: SIPSuccessRetransmission?
    /// We sent an offer in a 2xx and wait for the answer in the ACK.
    private var offerInSuccess: SDPSession?
    // offer/answer
    private var localSDP: SDPSession?
    private var remoteSDP: SDPSession?
    private let sessionID: String
    private var sessionVersion: UInt64 = 1
    /// Our re-INVITE in flight (glare: theirs gets 491, §14.1).
    private var reinviteClient: SIPClientTransaction?
    private var reinviteServer: SIPServerTransaction?
    private var retryTimer: TimerID?
    /// Ends an incoming call nobody answers (`account.ringTimeoutSeconds`).
    private var ringTimer: TimerID?

    // MARK: creation

    init(userAgent: SIPUserAgent, id: Int, outgoingTo target: SIPURI) {
        self.userAgent = userAgent
        self.id = id
        self.direction = .outgoing
        self.callID = SIPTransactionLayer.randomToken(byteCount: 12)
        self.remoteParty = SIPNameAddress(uri: target)
        self.sessionID = SIPCall.numericID()
        let account = userAgent.account
        let local = SIPNameAddress(
            displayName: account.displayName, uri: account.addressOfRecord(localHost: userAgent.localHost))
        dialog = SIPDialog(
            callID: callID, localTag: SIPTransactionLayer.randomToken(byteCount: 4), remoteTag: "",
            localAddress: local, remoteAddress: SIPNameAddress(uri: target),
            localSequence: SIPDialog.initialSequence(), remoteSequence: nil, remoteTarget: target, routeSet: [],
            isConfirmed: false)
    }

    init(userAgent: SIPUserAgent, id: Int, incoming transaction: SIPServerTransaction) {
        self.userAgent = userAgent
        self.id = id
        self.direction = .incoming
        self.callID = transaction.request.callID
        var remote = transaction.request.from
        remote.tag = nil
        self.remoteParty = remote
        self.sessionID = SIPCall.numericID()
        self.inviteServer = transaction
        dialog = SIPDialog.uas(request: transaction.request, localTag: SIPTransactionLayer.randomToken(byteCount: 4))
    }

    /// An SDP session id: decimal digits from random bits (RFC 8866 §5.2).
    static func numericID() -> String {
        var value: UInt64 = 0
        for c in SIPTransactionLayer.randomToken(byteCount: 6).utf8 {
            value = value &* 16 &+ UInt64(c <= 0x39 ? c - 0x30 : c - 0x57)
        }
        return String(value % 1_000_000_000_000 + 1)
    }

    public var description: String {
        "call " + String(id) + " " + (direction == .outgoing ? "to " : "from ") + remoteParty.uri.description + " "
            + state.description
    }

    /// Drops every reference without sending anything (UA shutdown).
    func close() {
        successRetransmission?.acknowledge()
        successRetransmission = nil
        if let timer = retryTimer { userAgent?.reactor.cancel(timer) }
        retryTimer = nil
        cancelRingTimer()
        inviteClient = nil
        inviteServer = nil
        reinviteClient = nil
        reinviteServer = nil
        userAgent = nil
    }

    private func setState(_ newState: SIPCallState) {
        guard newState != state, !state.isEnded else { return }
        state = newState
        userAgent?.callStateChanged(self, newState)
    }

    private func end(_ reason: SIPCallEndReason) {
        guard !state.isEnded else { return }
        if let timer = retryTimer { userAgent?.reactor.cancel(timer) }
        retryTimer = nil
        cancelRingTimer()
        successRetransmission?.acknowledge()
        successRetransmission = nil
        let hadMedia = negotiatedAudio != nil
        setState(.ended(reason))
        if hadMedia, let ua = userAgent { ua.onMediaStopped?(self) }
        inviteClient = nil
        reinviteClient = nil
        reinviteServer = nil
        inviteServer = nil
    }

    // MARK: SDP

    /// Our side of the next offer/answer; nil when the media layer has no stream for the call
    /// (port 0: no free RTP port).
    private func audioConfiguration(direction: SDPDirection) -> SDPAudioConfiguration? {
        guard let ua = userAgent else { return nil }
        let media = ua.mediaAddress(self)
        guard media.port != 0 else {
            ua.log("call " + String(id) + ": no RTP port for the call")
            return nil
        }
        sessionVersion += 1
        return SDPAudioConfiguration(
            address: media.host, rtpPort: Int(media.port), sessionID: sessionID, sessionVersion: sessionVersion,
            codecs: ua.account.codecs, ptime: ua.account.ptime, direction: direction,
            telephoneEvent: ua.account.telephoneEvent)
    }

    private var wantedDirection: SDPDirection { isLocalHold ? .sendonly : .sendrecv }

    private static func sdp(of message: SIPMessage) -> SDPSession? {
        guard !message.body.isEmpty else { return nil }
        if let type = message.contentType, !SIPCall.isSDP(type) { return nil }
        do throws(SDPError) {
            return try SDPSession.parse(message.body)
        } catch {
            return nil
        }
    }

    static func isSDP(_ contentType: String) -> Bool {
        ConfigFileText.asciiLowercase(contentType).hasPrefix("application/sdp")
    }

    private static func attach(_ sdp: SDPSession, to message: inout SIPMessage) {
        message.body = sdp.serialized()
        message.contentType = "application/sdp"
    }

    /// Completes an offer/answer exchange; false when nothing usable was agreed.
    private func completeNegotiation(offer: SDPSession, answer: SDPSession, localIsOfferer: Bool) -> Bool {
        let audio: SDPNegotiatedAudio
        do throws(SDPError) {
            audio = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: localIsOfferer)
        } catch {
            userAgent?.log("call " + String(id) + ": offer/answer failed: " + error.description)
            return false
        }
        localSDP = localIsOfferer ? offer : answer
        remoteSDP = localIsOfferer ? answer : offer
        negotiatedAudio = audio
        isRemoteHold = !audio.remoteDirection.receives
        if let ua = userAgent { ua.onMediaNegotiated?(self, audio) }
        return true
    }

    private func updateEstablishedState() {
        if isLocalHold {
            setState(.held)
        } else if isRemoteHold {
            setState(.remoteHeld)
        } else {
            setState(.connected)
        }
    }

    // MARK: outgoing (UAC, RFC 3261 §13.2)

    func startOutgoing() {
        guard let ua = userAgent, var dialog, let peer = ua.peer(for: dialog.remoteTarget) else {
            end(.failed("no route"))
            return
        }
        guard let config = audioConfiguration(direction: .sendrecv) else {
            end(.failed("no free RTP port"))
            return
        }
        let offer = SDPOfferAnswer.offer(config)
        localSDP = offer
        var request = dialog.makeRequest(.invite, via: ua.newVia(peer.transport))
        self.dialog = dialog
        SIPUserAgent.add(&request, "Contact", ua.contact(transport: peer.transport).description)
        SIPUserAgent.add(&request, "Allow", SIPUserAgent.allowedMethods)
        ua.decorate(&request)
        SIPCall.attach(offer, to: &request)
        setState(.calling)
        sendInvite(request, to: peer)
    }

    private func sendInvite(_ request: SIPMessage, to peer: SIPPeer) {
        guard let ua = userAgent else { return }
        inviteRequest = request
        inviteClient = ua.startTransaction(request, to: peer) { [self] event in
            inviteEvent(event, request: request, peer: peer)
        }
    }

    private func inviteEvent(_ event: SIPClientTransactionEvent, request: SIPMessage, peer: SIPPeer) {
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

    private func inviteFinal(_ response: SIPMessage, request: SIPMessage, peer: SIPPeer) {
        guard let ua = userAgent, let status = response.status else { return }
        if status >= 200 && status < 300 {
            ua.digest.requestSucceeded()
            var confirmed = SIPDialog.uac(request: request, response: response)
            confirmed.localSequence = dialog?.localSequence ?? confirmed.localSequence
            dialog = confirmed
            sendACK(for: response, inviteRequest: request)
            if cancelRequested || state.isEnded {
                // The 200 crossed our CANCEL (§9.1): confirm and end the session at once.
                sendBye()
                end(.cancelled)
                return
            }
            guard let answer = SIPCall.sdp(of: response), let offer = localSDP,
                completeNegotiation(offer: offer, answer: answer, localIsOfferer: true)
            else {
                sendBye()
                end(.failed("no usable SDP answer"))
                return
            }
            updateEstablishedState()
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

    /// The ACK of a 2xx (§13.2.2.4): same CSeq number, the dialog's route set and target, the
    /// INVITE's credentials.
    private func sendACK(for response: SIPMessage, inviteRequest: SIPMessage) {
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
                    offer: offer, answer: SDPOfferAnswer.answer(to: offer, config), localIsOfferer: false)
            } catch {
                ua.log("call " + String(id) + ": cannot answer the offer: " + error.description)
                reject(status: 488)
                return
            }
            remoteSDP = offer
        }
        respondProvisional(180)
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

    private func cancelRingTimer() {
        if let timer = ringTimer { userAgent?.reactor.cancel(timer) }
        ringTimer = nil
    }

    private func respondProvisional(_ status: Int) {
        guard let ua = userAgent, let transaction = inviteServer, let dialog else { return }
        var response = SIPMessage.response(to: transaction.request, status: status, toTag: dialog.localTag)
        SIPUserAgent.add(&response, "Contact", ua.contact(transport: transaction.peer.transport).description)
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        transaction.respond(response)
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
        transaction.respond(response)
        retransmitSuccess(response, peer: transaction.peer)
        updateEstablishedState()
        return true
    }

    private func retransmitSuccess(_ response: SIPMessage, peer: SIPPeer) {
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

    private func refuse(status: Int, reason: SIPCallEndReason) {
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

    // MARK: ending

    /// Ends the call whatever its state: CANCEL while our INVITE is unanswered, 603 to a
    /// ringing incoming call, BYE once connected.
    public func hangUp() {
        guard !state.isEnded else { return }
        switch state {
        case .calling, .ringing:
            guard direction == .outgoing else { return }
            cancelRequested = true
            if let client = inviteClient, client.cancel() { return }
            // Nothing to cancel (no transaction): just end.
            end(.cancelled)
        case .incoming, .idle:
            reject(status: 603)
        default:
            sendBye()
            end(.localHangUp)
        }
    }

    /// BYE (§15.1.1); answered once with credentials when challenged.
    private func sendBye() {
        guard let ua = userAgent, var dialog, let peer = ua.peer(for: dialog.nextHopURI) else { return }
        var bye = dialog.makeRequest(.bye, via: ua.newVia(peer.transport))
        self.dialog = dialog
        ua.decorate(&bye)
        sendAuthenticated(bye, to: peer) { _ in }
    }

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
    private func sendAuthenticated(
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
        default:
            ua.respond(transaction, 405, toTag: dialog.localTag, capabilities: true)
        }
    }

    private func respond(_ transaction: SIPServerTransaction, _ status: Int, reason: String? = nil) {
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

    private func sendReinvite(hold: Bool, retried: Bool = false) -> Bool {
        guard reinviteClient == nil, reinviteServer == nil, let ua = userAgent, var dialog,
            let previous = localSDP, let peer = ua.peer(for: dialog.nextHopURI)
        else { return false }
        var offer = SDPOfferAnswer.reoffer(previous, direction: hold ? .sendonly : .sendrecv)
        sessionVersion = max(sessionVersion, offer.origin.sessionVersion)
        offer.origin.sessionVersion = sessionVersion
        var request = dialog.makeRequest(.invite, via: ua.newVia(peer.transport))
        self.dialog = dialog
        SIPUserAgent.add(&request, "Contact", ua.contact(transport: peer.transport).description)
        SIPUserAgent.add(&request, "Allow", SIPUserAgent.allowedMethods)
        ua.decorate(&request)
        SIPCall.attach(offer, to: &request)
        startReinvite(request, offer: offer, hold: hold, peer: peer, retried: retried)
        return true
    }

    private func startReinvite(_ request: SIPMessage, offer: SDPSession, hold: Bool, peer: SIPPeer, retried: Bool) {
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

    private func reinviteFinal(
        _ response: SIPMessage, request: SIPMessage, offer: SDPSession, hold: Bool, peer: SIPPeer, retried: Bool
    ) {
        guard let ua = userAgent, let status = response.status, !state.isEnded else { return }
        if status >= 200 && status < 300 {
            if var dialog, let contact = response.contacts.first?.address?.uri {
                dialog.remoteTarget = contact
                self.dialog = dialog
            }
            sendACK(for: response, inviteRequest: request)
            isLocalHold = hold
            if let answer = SIPCall.sdp(of: response) {
                _ = completeNegotiation(offer: offer, answer: answer, localIsOfferer: true)
            }
            updateEstablishedState()
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
    private func receiveReinvite(_ transaction: SIPServerTransaction) {
        guard let ua = userAgent, var dialog else { return }
        if reinviteClient != nil {
            respond(transaction, 491)
            return
        }
        if reinviteServer != nil || successRetransmission != nil {
            var response = SIPMessage.response(to: transaction.request, status: 500, toTag: dialog.localTag)
            SIPUserAgent.add(&response, "Retry-After", "1")
            transaction.respond(response)
            return
        }
        let request = transaction.request
        if let contact = request.contacts.first?.address?.uri {
            dialog.remoteTarget = contact
            self.dialog = dialog
        }
        guard let config = audioConfiguration(direction: wantedDirection) else { return }
        var response = SIPMessage.response(to: request, status: 200, toTag: dialog.localTag)
        SIPUserAgent.add(&response, "Contact", ua.contact(transport: transaction.peer.transport).description)
        SIPUserAgent.add(&response, "Allow", SIPUserAgent.allowedMethods)
        SIPUserAgent.add(&response, "Server", ua.userAgentHeader)
        if request.body.isEmpty {
            var offer =
                localSDP.map { SDPOfferAnswer.reoffer($0, direction: wantedDirection) }
                ?? SDPOfferAnswer.offer(config)
            sessionVersion = max(sessionVersion, offer.origin.sessionVersion)
            offer.origin.sessionVersion = sessionVersion
            offerInSuccess = offer
            SIPCall.attach(offer, to: &response)
        } else {
            guard let offer = SIPCall.sdp(of: request) else {
                respond(transaction, 415)
                return
            }
            var answer = SDPOfferAnswer.answer(to: offer, config)
            if let previous = localSDP {
                // Same session: keep the o= id, next version (RFC 3264 §8).
                answer.origin.sessionID = previous.origin.sessionID
            }
            do throws(SDPError) {
                _ = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
            } catch {
                respond(transaction, 488)
                return
            }
            SIPCall.attach(answer, to: &response)
            transaction.respond(response)
            retransmitSuccess(response, peer: transaction.peer)
            _ = completeNegotiation(offer: offer, answer: answer, localIsOfferer: false)
            updateEstablishedState()
            return
        }
        transaction.respond(response)
        retransmitSuccess(response, peer: transaction.peer)
    }
}
