// Registration of the account's contact at its registrar (RFC 3261 §10.2), kept fresh,
// retried after failures, removed at shutdown.
//
// Timing policy:
// - refresh: a binding granted for E seconds is refreshed E - 32 s after it was granted when
//   E > 64, else at E/2 (so a 3600 s binding is renewed at 3568 s, a 60 s one at 30 s);
// - failure (timeout, transport error, 5xx/6xx, other 4xx): retry after 30 s, then 60, 120, 240,
//   capped at 600 s, until a registration succeeds (which resets the backoff);
// - 401/407 is answered with digest credentials; a second challenge for the same credentials
//   (wrong password) or 403 is final: state `.failed`, no automatic retry (no loop);
// - 423 Interval Too Brief: asks again at once with the Min-Expires value (once per value);
// - `unregister` sends Expires: 0 and calls back when the registrar answered (or gave up).

import Reactor

/// Where the registration stands.
public enum SIPRegistrationState: Equatable, Sendable, CustomStringConvertible {
    /// Not registered (initially and after unregistering).
    case unregistered
    /// A REGISTER is in flight.
    case registering
    /// Bound for `expires` seconds.
    case registered(expires: Int)
    /// The last attempt failed; `retrying` when another attempt is scheduled.
    case failed(reason: String, retrying: Bool)

    public var description: String {
        switch self {
        case .unregistered: return "unregistered"
        case .registering: return "registering"
        case .registered(let expires): return "registered (" + String(expires) + " s)"
        case .failed(let reason, let retrying):
            return "failed: " + reason + (retrying ? ", will retry" : "")
        }
    }
}

/// The account's registration (RFC 3261 §10.2): REGISTER with Contact and Expires to the
/// configured server, digest authentication (§22), refresh before expiry, backoff after
/// failures, 423 handling (§10.2.8) and unregistration. See the timing policy above.
public final class SIPRegistration: CustomStringConvertible {
    public private(set) var state: SIPRegistrationState = .unregistered
    /// The lifetime asked for (raised by a 423's Min-Expires).
    public private(set) var requestedExpires: Int
    /// Consecutive failures (drives the backoff).
    public private(set) var failureCount = 0
    /// When the next REGISTER is due (reactor time), nil when none is scheduled.
    public var nextAttemptTime: Int64? { timer.flatMap { userAgent?.reactor.deadline(of: $0) } }
    /// Backoff bounds in seconds.
    public var retryBase = 30
    public var retryCap = 600

    private var userAgent: SIPUserAgent?
    private let callID: String
    private let fromTag: String
    private var sequence: UInt32
    private var timer: TimerID?
    private var inFlight: SIPClientTransaction?
    private var unregisterCompletion: ((Bool) -> Void)?

    init(userAgent: SIPUserAgent) {
        self.userAgent = userAgent
        self.requestedExpires = userAgent.account.expires
        self.callID = SIPTransactionLayer.randomToken(byteCount: 12)
        self.fromTag = SIPTransactionLayer.randomToken(byteCount: 4)
        self.sequence = SIPDialog.initialSequence()
    }

    public var description: String { "registration " + callID + ": " + state.description }

    /// Refresh delay for a granted lifetime, seconds (see the policy at the top of the file).
    public static func refreshDelay(granted: Int) -> Int {
        granted > 64 ? granted - 32 : max(1, granted / 2)
    }

    /// Retry delay after `failures` consecutive failures, seconds.
    public func retryDelay(failures: Int) -> Int {
        var delay = retryBase
        var n = 1
        while n < failures && delay < retryCap {
            delay *= 2
            n += 1
        }
        return min(delay, retryCap)
    }

    /// Sends the first REGISTER.
    public func start() {
        register(expires: requestedExpires)
    }

    /// Sends REGISTER with Expires: 0 (§10.2.2) and calls `completion(true)` on a 2xx,
    /// `completion(false)` on a failure or timeout. Without a binding it completes at once.
    public func unregister(completion: @escaping (Bool) -> Void) {
        cancelTimer()
        guard let ua = userAgent else {
            completion(false)
            return
        }
        switch state {
        case .registered, .registering:
            unregisterCompletion = completion
            register(expires: 0)
        default:
            setState(.unregistered)
            ua.reactor.runSoon { completion(true) }
        }
    }

    func close() {
        cancelTimer()
        unregisterCompletion = nil
        inFlight = nil
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
            register(expires: requestedExpires)
        }
    }

    private func setState(_ newState: SIPRegistrationState) {
        guard newState != state else { return }
        state = newState
        userAgent?.log(description)
        userAgent?.onRegistrationState?(newState)
    }

    private func makeRequest(expires: Int) -> (SIPMessage, SIPPeer)? {
        guard let ua = userAgent, let peer = ua.account.serverPeer, let server = ua.account.serverAddress else {
            return nil
        }
        var registrar = SIPURI(host: SIPAccountConfiguration.host(server))
        if ua.account.serverPort != 5060 { registrar.port = Int(ua.account.serverPort) }
        let aor = SIPNameAddress(
            displayName: ua.account.displayName, uri: ua.account.addressOfRecord(localHost: ua.localHost))
        var from = aor
        from.tag = fromTag
        sequence &+= 1
        var request = SIPMessage.request(
            method: .register, uri: registrar, from: from, to: aor, callID: callID, cseq: sequence,
            via: ua.newVia(peer.transport))
        var contact = ua.contact(transport: peer.transport)
        contact.parameters.append(SIPParameter(name: "expires", value: String(expires)))
        SIPUserAgent.add(&request, "Contact", contact.description)
        SIPUserAgent.add(&request, "Expires", String(expires))
        SIPUserAgent.add(&request, "Allow", SIPUserAgent.allowedMethods)
        ua.decorate(&request)
        // §22.3: reuse the credentials of the last challenge (refreshes and the unregistration
        // then pass without a new round trip while the nonce lasts).
        for item in ua.digest.cachedCredentials(method: "REGISTER", uri: registrar.description) {
            SIPUserAgent.add(&request, item.headerName, item.headerValue)
        }
        return (request, peer)
    }

    private func register(expires: Int) {
        guard let ua = userAgent, let (request, peer) = makeRequest(expires: expires) else { return }
        if expires > 0 { setState(.registering) }
        send(request, to: peer, expires: expires, ua: ua)
    }

    private func send(_ request: SIPMessage, to peer: SIPPeer, expires: Int, ua: SIPUserAgent) {
        inFlight = ua.startTransaction(request, to: peer) { [self] event in
            switch event {
            case .provisional, .additionalSuccess:
                return
            case .timeout:
                inFlight = nil
                failed("no answer from the registrar", expires: expires, retry: true)
            case .transportError:
                inFlight = nil
                failed("transport error", expires: expires, retry: true)
            case .final(let response):
                inFlight = nil
                receiveFinal(response, request: request, peer: peer, expires: expires)
            }
        }
    }

    private func receiveFinal(_ response: SIPMessage, request: SIPMessage, peer: SIPPeer, expires: Int) {
        guard let ua = userAgent, let status = response.status else { return }
        switch status {
        case 200..<300:
            ua.digest.requestSucceeded()
            if expires == 0 {
                setState(.unregistered)
                finishUnregister(true)
                return
            }
            failureCount = 0
            let granted = grantedExpires(response, asked: expires)
            setState(.registered(expires: granted))
            schedule(after: SIPRegistration.refreshDelay(granted: granted))
        case 401, 407:
            sequence &+= 1
            if let next = ua.authorized(request, challenge: response, newSequence: sequence) {
                send(next, to: peer, expires: expires, ua: ua)
            } else {
                failed("credentials rejected (" + String(status) + ")", expires: expires, retry: false)
            }
        case 423:
            if let text = response.header("Min-Expires"), let minimum = Int(text), minimum > requestedExpires,
                expires > 0
            {
                requestedExpires = minimum
                register(expires: minimum)
            } else {
                failed("423 without a usable Min-Expires", expires: expires, retry: true)
            }
        case 403:
            failed("forbidden (403)", expires: expires, retry: false)
        default:
            failed(String(status) + " " + (response.reason ?? ""), expires: expires, retry: true)
        }
    }

    /// Our binding's lifetime: the Contact's expires in the 2xx, else Expires, else ours.
    private func grantedExpires(_ response: SIPMessage, asked: Int) -> Int {
        guard let ua = userAgent else { return asked }
        let ours = ua.contact(transport: ua.account.transport).uri
        for contact in response.contacts {
            guard let address = contact.address, address.uri.user == ours.user, address.uri.host == ours.host,
                (address.uri.port ?? 5060) == (ours.port ?? 5060)
            else { continue }
            if let value = contact.expires { return value }
        }
        return response.expires ?? asked
    }

    private func failed(_ reason: String, expires: Int, retry: Bool) {
        if expires == 0 {
            setState(.unregistered)
            finishUnregister(false)
            return
        }
        failureCount += 1
        setState(.failed(reason: reason, retrying: retry))
        if retry { schedule(after: retryDelay(failures: failureCount)) }
    }

    private func finishUnregister(_ success: Bool) {
        let completion = unregisterCompletion
        unregisterCompletion = nil
        completion?(success)
    }
}
