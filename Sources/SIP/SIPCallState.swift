// The states a call goes through and why it ended, for the phone's logic and its logs.

/// Why a call ended.
public enum SIPCallEndReason: Equatable, Sendable, CustomStringConvertible {
    /// We hung up a connected call (BYE sent).
    case localHangUp
    /// The peer sent BYE.
    case remoteHangUp
    /// We cancelled our unanswered call (RFC 3261 §9.1).
    case cancelled
    /// The caller cancelled before we answered (§9.2).
    case remoteCancelled
    /// Our INVITE got a final failure response (3xx–6xx).
    case rejected(status: Int, reason: String)
    /// We declined the incoming call with this status (486, 603, ...).
    case declined(status: Int)
    /// No answer in time (Timer B), or no ACK for our 2xx (§13.3.1.4).
    case timeout
    /// An incoming call rang for the ring timeout with nobody answering; refused with 480.
    case notAnswered
    /// The transport could not reach the peer.
    case transportError
    /// The peer says the dialog does not exist any more (481 to an in-dialog request).
    case dialogGone
    /// Offer/answer failed or another protocol error.
    case failed(String)

    public var description: String {
        switch self {
        case .localHangUp: return "local hang-up"
        case .remoteHangUp: return "remote hang-up"
        case .cancelled: return "cancelled"
        case .remoteCancelled: return "cancelled by caller"
        case .rejected(let status, let reason): return "rejected " + String(status) + " " + reason
        case .declined(let status): return "declined " + String(status)
        case .timeout: return "timeout"
        case .notAnswered: return "not answered"
        case .transportError: return "transport error"
        case .dialogGone: return "dialog gone (481)"
        case .failed(let why): return "failed: " + why
        }
    }
}

/// Where a call stands (RFC 3261 §13 INVITE, §15 BYE, RFC 3264 §8.4 hold).
public enum SIPCallState: Equatable, Sendable, CustomStringConvertible {
    /// Created, nothing sent yet.
    case idle
    /// Our INVITE is out, no ringing yet (100 Trying at most).
    case calling
    /// The far end rings (18x); `early` when a To tag made an early dialog (§12.1).
    case ringing(early: Bool)
    /// An INVITE came in and rings here (180 sent).
    case incoming
    /// Talking, media both ways as negotiated.
    case connected
    /// We put the call on hold (our offer said sendonly or inactive).
    case held
    /// The far end put us on hold (its description says sendonly or inactive).
    case remoteHeld
    /// Over.
    case ended(SIPCallEndReason)

    /// True once the call is over.
    public var isEnded: Bool {
        if case .ended = self { return true }
        return false
    }

    /// True while a confirmed dialog carries the call (connected or on hold either way).
    public var isEstablished: Bool {
        switch self {
        case .connected, .held, .remoteHeld: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .idle: return "idle"
        case .calling: return "calling"
        case .ringing(let early): return early ? "ringing (early dialog)" : "ringing"
        case .incoming: return "incoming"
        case .connected: return "connected"
        case .held: return "held"
        case .remoteHeld: return "held by remote"
        case .ended(let reason): return "ended (" + reason.description + ")"
        }
    }
}

/// The outcome of a request sent inside a call's dialog (`SIPCall.sendRequest`).
public enum SIPInDialogResult: CustomStringConvertible {
    /// The final response (2xx–6xx). A 401/407 arrives here only when answering it once with
    /// credentials did not help (or the credentials are known to be wrong).
    case response(SIPMessage)
    /// No final response in 64·T1 (Timer F).
    case timeout
    /// The transport could not send the request.
    case transportError
    /// There is no established dialog to send in (the call ended or never connected).
    case callGone

    /// The final status, nil for the other outcomes.
    public var status: Int? {
        if case .response(let message) = self { return message.status }
        return nil
    }

    public var description: String {
        switch self {
        case .response(let message):
            return String(message.status ?? 0) + " " + (message.reason ?? "")
        case .timeout: return "timeout"
        case .transportError: return "transport error"
        case .callGone: return "call gone"
        }
    }
}
