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
    /// The account the call is on (`account.N`, its user agent's `accountNumber`).
    public let accountNumber: Int
    public let direction: Direction
    public internal(set) var state: SIPCallState = .idle
    /// The dialog (early or confirmed); for an outgoing call the remote tag stays empty until
    /// a response carries one.
    public internal(set) var dialog: SIPDialog?
    /// The Call-ID (the key for logs and recording URLs).
    public let callID: String
    /// The far end as From/To names it.
    public internal(set) var remoteParty: SIPNameAddress
    /// The last negotiated audio stream, nil before the first offer/answer completes.
    public internal(set) var negotiatedAudio: SDPNegotiatedAudio?
    /// The call's audio is SRTP (its last offer/answer settled on keys).
    public var isEncrypted: Bool { negotiatedAudio?.srtp != nil }
    /// The plain-transport SDES warning was given (once per call).
    var warnedPlainSDES = false
    /// We asked for hold (our last offer said sendonly).
    public internal(set) var isLocalHold = false
    /// The far end holds us (its last description does not receive).
    public internal(set) var isRemoteHold = false

    var userAgent: SIPUserAgent?
    // UAC
    var inviteClient: SIPClientTransaction?
    var inviteRequest: SIPMessage?
    var lastACK: SIPMessage?
    var cancelRequested = false
    // UAS
    var inviteServer: SIPServerTransaction?
    var successRetransmission: SIPSuccessRetransmission?
    /// We sent an offer in a 2xx and wait for the answer in the ACK.
    var offerInSuccess: SDPSession?
    // offer/answer
    var localSDP: SDPSession?
    var remoteSDP: SDPSession?
    let sessionID: String
    var sessionVersion: UInt64 = 1
    /// Our re-INVITE in flight (glare: theirs gets 491, §14.1).
    var reinviteClient: SIPClientTransaction?
    var reinviteServer: SIPServerTransaction?
    var retryTimer: TimerID?
    /// Ends an incoming call nobody answers (`account.ringTimeoutSeconds`).
    var ringTimer: TimerID?
    // reliable provisional responses (RFC 3262)
    /// Our reliable 1xx waiting for its PRACK.
    var pendingReliable: SIPReliableProvisional?
    /// The RSeq of the last reliable 1xx sent (UAS) or acknowledged (UAC).
    var lastReliableRSeq: UInt32?
    // session timer (RFC 4028)
    /// The session timer running in the dialog, nil when there is none.
    public internal(set) var sessionTimer: SIPSessionTimer?
    var sessionTimerID: TimerID?
    /// The Session-Expires our last INVITE asked for.
    var askedSessionExpires = 0
    /// What a UAS agreed for the incoming INVITE, applied with the 2xx.
    var offeredSessionTimer: SIPSessionTimer?
    var sessionTimerHeaders: [(String, String)] = []
    /// Our INVITE was already sent again after a 422.
    var retriedAfter422 = false
    /// The peer's Allow lists UPDATE: the phone refreshes the session by UPDATE (RFC 3311).
    var peerAllowsUpdate = false
    /// The peer answered our UPDATE 405 or 501, whatever its Allow says.
    var peerRefusedUpdate = false
    /// A refresh UPDATE of ours is waiting for its answer.
    var updatePending = false
    /// The call's part in a transfer (RFC 3515; `SIPCall+Transfer.swift`).
    var transfer = SIPCallTransfer()

    // MARK: creation

    init(userAgent: SIPUserAgent, id: Int, outgoingTo target: SIPURI) {
        self.userAgent = userAgent
        self.id = id
        self.accountNumber = userAgent.accountNumber
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
            localSequence: SIPDialog.initialSequence(), remoteSequence: nil, remoteTarget: target,
            routeSet: userAgent.outboundRoute,
            isConfirmed: false)
    }

    init(userAgent: SIPUserAgent, id: Int, incoming transaction: SIPServerTransaction) {
        self.userAgent = userAgent
        self.id = id
        self.accountNumber = userAgent.accountNumber
        self.direction = .incoming
        self.callID = transaction.request.callID
        var remote = transaction.request.from
        remote.tag = nil
        self.remoteParty = remote
        self.sessionID = SIPCall.numericID()
        self.inviteServer = transaction
        dialog = SIPDialog.uas(request: transaction.request, localTag: SIPTransactionLayer.randomToken(byteCount: 4))
        noteAllow(transaction.request)
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
        cancelSessionTimer()
        inviteClient = nil
        inviteServer = nil
        reinviteClient = nil
        reinviteServer = nil
        userAgent = nil
    }

    func setState(_ newState: SIPCallState) {
        guard newState != state, !state.isEnded else { return }
        state = newState
        userAgent?.callStateChanged(self, newState)
        if transfer.referrer != nil { reportToReferrer(newState) }
    }

    func end(_ reason: SIPCallEndReason) {
        guard !state.isEnded else { return }
        if let timer = retryTimer { userAgent?.reactor.cancel(timer) }
        retryTimer = nil
        cancelRingTimer()
        cancelSessionTimer()
        stopReliableRetransmission()
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
    func audioConfiguration(direction: SDPDirection) -> SDPAudioConfiguration? {
        guard let ua = userAgent else { return nil }
        let media = ua.mediaAddress(self)
        guard media.port != 0 else {
            ua.log("call " + String(id) + ": no RTP port for the call")
            return nil
        }
        sessionVersion += 1
        var config = SDPAudioConfiguration(
            address: media.host, rtpPort: Int(media.port), sessionID: sessionID, sessionVersion: sessionVersion,
            codecs: ua.account.codecs, ptime: ua.account.ptime, direction: direction,
            telephoneEvent: ua.account.telephoneEvent)
        config.srtp = ua.account.srtp
        if config.srtp != .off {
            guard let keys = SIPCall.freshCryptos() else {
                ua.log("call " + String(id) + ": no randomness for SRTP keys")
                return nil
            }
            config.cryptos = keys
        }
        return config
    }

    /// One fresh key per supported suite, in the order offered (tags 1, 2, 3); nil when
    /// getrandom(2) fails. Never logged.
    static func freshCryptos() -> [SDESCrypto]? {
        var keys: [SDESCrypto] = []
        let suites: [SRTPCryptoSuite] = [.aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM]
        for (index, suite) in suites.enumerated() {
            guard let key = SDESCrypto.fresh(tag: index + 1, suite: suite) else { return nil }
            keys.append(key)
        }
        return keys
    }

    /// The transport the call's signalling goes over (the dialog's next hop), nil before a dialog.
    var signallingTransport: SIPTransportProtocol? {
        guard let ua = userAgent, let dialog else { return nil }
        return ua.peer(for: dialog.nextHopURI)?.transport
    }

    var wantedDirection: SDPDirection { isLocalHold ? .sendonly : .sendrecv }

    static func sdp(of message: SIPMessage) -> SDPSession? {
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

    static func attach(_ sdp: SDPSession, to message: inout SIPMessage) {
        message.body = sdp.serialized()
        message.contentType = "application/sdp"
    }

    /// Completes an offer/answer exchange; false when nothing usable was agreed.
    func completeNegotiation(offer: SDPSession, answer: SDPSession, localIsOfferer: Bool) -> Bool {
        let audio: SDPNegotiatedAudio
        do throws(SDPError) {
            audio = try SDPOfferAnswer.negotiate(
                offer: offer, answer: answer, localIsOfferer: localIsOfferer, srtp: userAgent?.account.srtp ?? .off)
        } catch {
            userAgent?.log("call " + String(id) + ": offer/answer failed: " + error.description)
            return false
        }
        localSDP = localIsOfferer ? offer : answer
        remoteSDP = localIsOfferer ? answer : offer
        negotiatedAudio = audio
        isRemoteHold = !audio.remoteDirection.receives
        if audio.srtp != nil, !warnedPlainSDES, let ua = userAgent, !(signallingTransport?.isEncrypted ?? false) {
            warnedPlainSDES = true
            let transport = signallingTransport?.name ?? "UDP"
            ua.log("call " + String(id) + ": warning: SRTP keys (SDES) went over plain " + transport
                + ": whoever reads the signalling can decrypt the call")
            ua.onSecurityWarning?(self, "SRTP keys sent over plain " + transport)
        }
        if let ua = userAgent { ua.onMediaNegotiated?(self, audio) }
        return true
    }

    func updateEstablishedState() {
        if isLocalHold {
            setState(.held)
        } else if isRemoteHold {
            setState(.remoteHeld)
        } else {
            setState(.connected)
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
    func sendBye() {
        guard let ua = userAgent, var dialog, let peer = ua.peer(for: dialog.nextHopURI) else { return }
        var bye = dialog.makeRequest(.bye, via: ua.newVia(peer.transport))
        self.dialog = dialog
        ua.decorate(&bye)
        sendAuthenticated(bye, to: peer) { _ in }
    }
}
