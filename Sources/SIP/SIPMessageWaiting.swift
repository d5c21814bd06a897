// Message waiting for one account (RFC 3842 over RFC 6665): the SUBSCRIBE to the account's
// server, refreshed before expiry and retried after failures with a backoff; and the NOTIFYs,
// in the subscription's dialog or unsolicited (as many servers send them without a
// subscription), parsed by `SIPMessageSummary` and handed to `SIPUserAgent.onMessageSummary`.
//
// Timing policy: a subscription granted for E seconds is refreshed as a registration is
// (`SIPRegistration.refreshDelay`: E - 32 s when E > 64, else E/2); a failure (timeout,
// transport error, 4xx-6xx but 401/407/423) retries after 30 s, 60, 120, ... capped at 600 s;
// a NOTIFY with `Subscription-State: terminated` subscribes again at once (reason
// `deactivated`/`timeout`), after its `retry-after`, not at all (`rejected`, `noresource`), or
// else after the backoff.

import Config
import Digest
import Net
import Reactor

/// Message waiting settings of one account (Yealink's keys): `account.N.subscribe_mwi`,
/// `account.N.subscribe_mwi_expires`, `account.N.subscribe_mwi_to_vm`, `voice_mail.number.N`,
/// `account.N.display_mwi.enable`.
public struct SIPMWISettings: Equatable, Sendable {
    /// SUBSCRIBE to message-summary (`account.N.subscribe_mwi`, default off).
    public var subscribe = false
    /// The subscription's lifetime asked for, seconds (`account.N.subscribe_mwi_expires`, 3600).
    public var expires = 3600
    /// Subscribe to the voicemail number's URI instead of the account's own
    /// (`account.N.subscribe_mwi_to_vm`, default off).
    public var toVoicemail = false
    /// The voicemail number (`voice_mail.number.N`): the Message key dials it.
    public var voicemailNumber: String? = nil
    /// NOTIFYs of message-summary are taken (and the LED/LCD show them) (`account.N.display_mwi.enable`,
    /// default on); off: unsolicited ones are refused with 489 and no SUBSCRIBE is sent.
    public var display = true

    public init() {}

    public init(_ file: ConfigFile, account index: Int) throws(ConfigError) {
        let prefix = "account." + String(index) + "."
        subscribe = try file.bool(prefix + "subscribe_mwi", default: false)
        expires = try file.int(prefix + "subscribe_mwi_expires", default: 3600, in: 60...86400)
        toVoicemail = try file.bool(prefix + "subscribe_mwi_to_vm", default: false)
        display = try file.bool(prefix + "display_mwi.enable", default: true)
        let key = "voice_mail.number." + String(index)
        if let number = file.string(key), !number.isEmpty {
            for c in number.utf8 {
                let ok = (c >= 0x30 && c <= 0x39) || c == 0x2A || c == 0x23 || c == 0x2B
                if !ok { throw file.error(key, key + " = '" + number + "': expected digits, *, # and + only") }
            }
            voicemailNumber = number
        }
        if toVoicemail && voicemailNumber == nil && subscribe {
            throw file.error(prefix + "subscribe_mwi_to_vm", prefix + "subscribe_mwi_to_vm = 1 needs " + key)
        }
    }
}

/// Where the message-summary subscription stands.
public enum SIPMWISubscriptionState: Equatable, Sendable, CustomStringConvertible {
    case idle
    case subscribing
    case active(expires: Int)
    case failed(reason: String, retrying: Bool)

    public var description: String {
        switch self {
        case .idle: return "idle"
        case .subscribing: return "subscribing"
        case .active(let expires): return "active (" + String(expires) + " s)"
        case .failed(let reason, let retrying): return "failed: " + reason + (retrying ? ", will retry" : "")
        }
    }
}

/// The message-summary subscription of one account (RFC 6665 §4.1 subscriber, RFC 3842):
/// SUBSCRIBE with `Event: message-summary`, digest authentication, refresh, backoff and
/// un-subscription. See the timing policy at the top of the file.
public final class SIPMWISubscription: CustomStringConvertible {
    public private(set) var state: SIPMWISubscriptionState = .idle
    public private(set) var failureCount = 0
    public let callID: String
    public var retryBase = 30
    public var retryCap = 600

    private var userAgent: SIPUserAgent?
    private let fromTag: String
    private var sequence: UInt32 = 0
    /// The notifier's tag and target once a 2xx or NOTIFY made the dialog.
    private var remoteTag: String?
    private var remoteTarget: SIPURI?
    private var timer: TimerID?
    private var generation = 0
    private var expiresAsked: Int

    init(userAgent: SIPUserAgent) {
        self.userAgent = userAgent
        callID = SIPTransactionLayer.randomToken(byteCount: 12) + "@mwi"
        fromTag = SIPTransactionLayer.randomToken(byteCount: 4)
        expiresAsked = userAgent.account.mwi.expires
    }

    public var description: String { "mwi subscription: " + state.description }

    /// When the next SUBSCRIBE is due (reactor time), nil when none is scheduled.
    public var nextAttemptTime: Int64? { timer.flatMap { userAgent?.reactor.deadline(of: $0) } }

    /// Whether `request` (a NOTIFY) is in this subscription's dialog (RFC 6665 §4.4.1: Call-ID
    /// and our From tag as its To tag).
    func matches(_ request: SIPMessage) -> Bool {
        request.callID == callID && request.to.tag == fromTag
    }

    /// The URI subscribed to: the account's (or its voicemail number's) at the server.
    var resource: SIPURI? {
        guard let ua = userAgent, let server = ua.account.serverAddress else { return nil }
        let mwi = ua.account.mwi
        let user = mwi.toVoicemail ? (mwi.voicemailNumber ?? ua.account.userName) : ua.account.userName
        var uri = SIPURI(user: user, host: SIPAccountConfiguration.host(server))
        if ua.account.serverPort != ua.account.transport.defaultPort { uri.port = Int(ua.account.serverPort) }
        return uri
    }

    public func start() {
        subscribe()
    }

    /// Sends SUBSCRIBE with Expires: 0 in the dialog (fire and forget), then stops.
    public func unsubscribe() {
        cancelTimer()
        generation += 1
        if remoteTag != nil, case .active = state { send(expires: 0) }
        state = .idle
    }

    func close() {
        cancelTimer()
        generation += 1
        userAgent = nil
    }

    private func cancelTimer() {
        if let timer, let ua = userAgent { ua.reactor.cancel(timer) }
        timer = nil
    }

    private func schedule(after seconds: Int) {
        cancelTimer()
        guard let ua = userAgent else { return }
        timer = ua.reactor.after(Int64(seconds) * SIPTimerValues.second) { [self] in
            timer = nil
            subscribe()
        }
    }

    private func setState(_ new: SIPMWISubscriptionState) {
        state = new
        userAgent?.log(description)
    }

    /// A new SUBSCRIBE: in the dialog when there is one (a refresh), else a new one.
    private func subscribe() {
        cancelTimer()
        if case .active = state {} else { setState(.subscribing) }
        send(expires: expiresAsked)
    }

    private func send(expires: Int) {
        guard let ua = userAgent, let resource else {
            failed("no server to subscribe to", retry: false)
            return
        }
        let uri = remoteTag != nil ? (remoteTarget ?? resource) : resource
        let route = ua.outboundRoute
        guard let peer = ua.peer(for: route.first?.uri ?? uri) else {
            failed("the server is not located yet", retry: true)
            return
        }
        var from = SIPNameAddress(uri: ua.account.addressOfRecord(localHost: ua.localHost))
        from.tag = fromTag
        var to = SIPNameAddress(uri: resource)
        to.tag = remoteTag
        sequence &+= 1
        var request = SIPMessage.request(
            method: .subscribe, uri: uri, from: from, to: to, callID: callID, cseq: sequence,
            via: ua.newVia(peer.transport))
        if !route.isEmpty { request.routes = route }
        SIPUserAgent.add(&request, "Contact", ua.contact(transport: peer.transport).description)
        SIPUserAgent.add(&request, "Event", SIPMessageSummary.eventPackage)
        SIPUserAgent.add(&request, "Accept", SIPMessageSummary.mediaType)
        SIPUserAgent.add(&request, "Expires", String(expires))
        ua.decorate(&request)
        for item in ua.digest.cachedCredentials(method: "SUBSCRIBE", uri: uri.description) {
            SIPUserAgent.add(&request, item.headerName, item.headerValue)
        }
        ua.log("mwi: SUBSCRIBE (expires " + String(expires) + ") to " + uri.description)
        start(request, to: peer, expires: expires)
    }

    private func start(_ request: SIPMessage, to peer: SIPPeer, expires: Int) {
        guard let ua = userAgent else { return }
        let attempt = generation
        ua.startTransaction(request, to: peer) { [self] event in
            guard expires == 0 || attempt == generation else { return }
            switch event {
            case .provisional, .additionalSuccess: return
            case .timeout: if expires > 0 { failed("no answer to SUBSCRIBE", retry: true) }
            case .transportError: if expires > 0 { failed("transport error", retry: true) }
            case .final(let response): if expires > 0 { receiveFinal(response, request: request, peer: peer) }
            }
        }
    }

    private func receiveFinal(_ response: SIPMessage, request: SIPMessage, peer: SIPPeer) {
        guard let ua = userAgent, let status = response.status else { return }
        switch status {
        case 200..<300:
            ua.digest.requestSucceeded()
            failureCount = 0
            if remoteTag == nil { remoteTag = response.to.tag }
            if let target = response.contacts.first?.address?.uri { remoteTarget = target }
            let granted = max(0, min(response.expires ?? expiresAsked, expiresAsked))
            if granted == 0 {
                forgetDialog()
                failed("subscription granted for 0 s", retry: true)
                return
            }
            setState(.active(expires: granted))
            schedule(after: SIPRegistration.refreshDelay(granted: granted))
        case 401, 407:
            sequence &+= 1
            if let next = ua.authorized(request, challenge: response, newSequence: sequence) {
                start(next, to: peer, expires: request.expires ?? expiresAsked)
            } else {
                failed("credentials rejected (" + String(status) + ")", retry: false)
            }
        case 423:
            if let text = response.header("Min-Expires"), let minimum = Int(text), minimum > expiresAsked,
                minimum <= 86400
            {
                expiresAsked = minimum
                send(expires: minimum)
            } else {
                failed("423 without a usable Min-Expires", retry: true)
            }
        case 481:
            // The notifier forgot the dialog (RFC 6665 §4.1.2.2): a new subscription.
            let hadDialog = remoteTag != nil
            forgetDialog()
            if hadDialog { send(expires: expiresAsked) } else { failed("481", retry: true) }
        default:
            forgetDialog()
            failed(String(status) + " " + (response.reason ?? ""), retry: true)
        }
    }

    private func forgetDialog() {
        remoteTag = nil
        remoteTarget = nil
    }

    private func failed(_ reason: String, retry: Bool) {
        failureCount += 1
        setState(.failed(reason: reason, retrying: retry))
        if retry { schedule(after: SIPRegistration.retryDelay(failures: failureCount, base: retryBase, cap: retryCap)) }
    }

    /// A NOTIFY in our dialog: learn the notifier's tag (a NOTIFY may beat the 2xx, RFC 6665
    /// §4.1.2.4) and act on `Subscription-State`.
    func notified(_ request: SIPMessage) {
        if remoteTag == nil { remoteTag = request.from.tag }
        if let target = request.contacts.first?.address?.uri { remoteTarget = target }
        guard let header = request.header("Subscription-State") else { return }
        let parts = SIPEventHeader.parts(header)
        guard parts.first == "terminated" else { return }
        var reason = ""
        var retryAfter: Int? = nil
        for part in parts.dropFirst() {
            if part.hasPrefix("reason=") { reason = String(part.dropFirst(7)) }
            if part.hasPrefix("retry-after=") {
                retryAfter = Int(String(part.dropFirst(12))).map { min(max($0, 0), 86400) }
            }
        }
        forgetDialog()
        cancelTimer()
        generation += 1
        userAgent?.log("mwi: subscription terminated" + (reason.isEmpty ? "" : " (" + reason + ")"))
        switch reason {
        case "rejected", "noresource":
            setState(.failed(reason: "terminated: " + reason, retrying: false))
        case "deactivated", "timeout":
            if let retryAfter {
                schedule(after: max(1, retryAfter))
            } else {
                userAgent?.reactor.runSoon { [self] in subscribe() }
            }
            setState(.subscribing)
        default:
            failureCount += 1
            let delay = retryAfter ?? SIPRegistration.retryDelay(failures: failureCount, base: retryBase, cap: retryCap)
            setState(.failed(reason: "terminated" + (reason.isEmpty ? "" : ": " + reason), retrying: true))
            schedule(after: max(1, delay))
        }
    }
}

/// The Event and Subscription-State headers' parts (RFC 6665 §8.2.1): the value and its
/// parameters, lower-cased, spaces and quotes dropped.
enum SIPEventHeader {
    static func parts(_ value: String) -> [String] {
        var parts: [String] = []
        for part in value.split(separator: ";") {
            let text = ConfigFileText.asciiLowercase(String(ConfigFileText.trim(part)))
            parts.append(String(text.unicodeScalars.filter { $0 != " " && $0 != "\t" && $0 != "\"" }))
        }
        return parts
    }

    /// The event package of a request (`message-summary`), nil without an Event header.
    static func package(_ request: SIPMessage) -> String? {
        guard let event = request.header("Event") else { return nil }
        return parts(event).first
    }
}

extension SIPRegistration {
    /// The backoff: `base`, doubling per failure, capped at `cap` (seconds).
    static func retryDelay(failures: Int, base: Int, cap: Int) -> Int {
        var delay = base
        var n = 1
        while n < failures && delay < cap {
            delay *= 2
            n += 1
        }
        return min(delay, cap)
    }
}

extension SIPUserAgent {
    /// A NOTIFY the UA core passes here first; false when it is not ours (check-sync, or a
    /// NOTIFY in a call's dialog), so the core goes on. Ours: message-summary for this account
    /// (in the subscription's dialog, or unsolicited without a To tag), and unsolicited NOTIFYs
    /// of events the phone does not know (489 Bad Event, RFC 6665 §8.3.2).
    func receiveEventNotify(_ transaction: SIPServerTransaction) -> Bool {
        let request = transaction.request
        let package = SIPEventHeader.package(request)
        let inSubscription = mwiSubscription?.matches(request) ?? false
        if package != SIPMessageSummary.eventPackage {
            if request.to.tag == nil && package != "check-sync" {
                log(
                    "NOTIFY from " + transaction.peer.remote.description + " for event '" + (package ?? "")
                        + "' refused: 489 Bad Event")
                respondBadEvent(transaction)
                return true
            }
            return false
        }
        if request.to.tag != nil && !inSubscription { return false }  // 481 by the core
        guard account.mwi.display else {
            log("message-summary NOTIFY refused: 489 (account." + String(accountNumber) + ".display_mwi.enable = 0)")
            respondBadEvent(transaction)
            return true
        }
        if inSubscription { mwiSubscription?.notified(request) }
        if request.body.isEmpty {
            respond(transaction, 200)  // a NOTIFY of a pending subscription may carry no body
            return true
        }
        if let type = request.contentType,
            ConfigFileText.asciiLowercase(
                String(type.split(separator: ";").first.map { ConfigFileText.trim($0) } ?? ""))
                != SIPMessageSummary.mediaType
        {
            log("message-summary NOTIFY refused: 415 (Content-Type " + type + ")")
            var response = SIPMessage.response(
                to: request, status: 415, toTag: SIPTransactionLayer.randomToken(byteCount: 4))
            SIPUserAgent.add(&response, "Accept", SIPMessageSummary.mediaType)
            transaction.respond(response)
            return true
        }
        let summary: SIPMessageSummary
        do throws(SIPError) {
            summary = try SIPMessageSummary.parse(request.body)
        } catch {
            log(
                "message-summary NOTIFY from " + transaction.peer.remote.description + " refused (400): "
                    + error.description + "; the message state is kept")
            respond(transaction, 400)
            return true
        }
        respond(transaction, 200)
        log("mwi: " + (inSubscription ? "" : "unsolicited ") + "message-summary " + summary.description)
        onMessageSummary?(summary)
        return true
    }

    private func respondBadEvent(_ transaction: SIPServerTransaction) {
        var response = SIPMessage.response(
            to: transaction.request, status: 489, toTag: SIPTransactionLayer.randomToken(byteCount: 4))
        SIPUserAgent.add(&response, "Allow-Events", account.mwi.display ? SIPMessageSummary.eventPackage : "check-sync")
        SIPUserAgent.add(&response, "Server", userAgentHeader)
        transaction.respond(response)
    }
}
