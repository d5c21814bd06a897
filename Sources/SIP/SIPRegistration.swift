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
//
// Servers (RFC 3263 §4.3): each attempt (start, refresh, retry) first locates the account's
// servers (`account.1.sip_server.1/2`; a host name through `SIPServerLocator` and the UA's
// `DNSResolver`, on the reactor), then sends REGISTER to the first target; a transport error, no
// answer within the server's retry time (`retry_counts` retransmissions) or a 503 moves on to
// the next target, server 1's targets before server 2's. The first target that answers is the
// one the account is bound to (and calls go to); the next refresh starts from server 1's first
// target again (failback).

import Digest
import Net
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

    private(set) var userAgent: SIPUserAgent?
    private let callID: String
    private let fromTag: String
    private var sequence: UInt32
    private var timer: TimerID?
    private var inFlight: SIPClientTransaction?
    private var unregisterCompletion: ((Bool) -> Void)?
    /// The targets of this attempt, in order, with the index of the server each came from.
    public private(set) var candidates: [(target: SIPServerTarget, server: Int)] = []
    private var candidateIndex = 0
    /// Targets that answered 503 with Retry-After (RFC 3263 §4.3): not asked again before then.
    private var avoided: [SIPSocketAddress: Int64] = [:]
    /// Bumped by every new attempt and every move to another target: events of older
    /// transactions and locations are ignored.
    private var generation = 0
    private var targetTimer: TimerID?
    /// The next keep-alive, or the wait for a TCP pong or a STUN response.
    var keepAliveTimer: TimerID?
    /// RFC 5626 outbound (SIPRegistration+Outbound.swift).
    var outbound = SIPOutboundFlowState()
    /// Keep-alives sent so far.
    public private(set) var keepAlivesSent = 0
    /// The attempt (`generation`) that last learnt a public address.
    private var learnedInAttempt = -1
    /// The target the account is registered with (nil before the first success).
    public private(set) var boundTarget: SIPServerTarget?

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
        SIPRegistration.retryDelay(failures: failures, base: retryBase, cap: retryCap)
    }

    /// Locates the servers and sends the first REGISTER.
    public func start() {
        beginAttempt()
    }

    /// Sends REGISTER with Expires: 0 (§10.2.2) and calls `completion(true)` on a 2xx,
    /// `completion(false)` on a failure or timeout. Without a binding it completes at once.
    public func unregister(completion: @escaping (Bool) -> Void) {
        cancelTimer()
        cancelKeepAlive()
        guard let ua = userAgent else {
            completion(false)
            return
        }
        switch state {
        case .registered where currentTarget != nil, .registering where currentTarget != nil:
            cancelTargetTimer()
            generation += 1
            unregisterCompletion = completion
            register(expires: 0)
        default:
            generation += 1  // a location under way is dropped
            setState(.unregistered)
            ua.reactor.runSoon { completion(true) }
        }
    }

    /// Registers again at once, from server 1 (the phone's address changed); the backoff starts
    /// over. Nothing happens before `start()` or after unregistering.
    public func renew() {
        guard userAgent != nil, state != .unregistered else { return }
        failureCount = 0
        beginAttempt()
    }

    /// Stops registering (the network is gone): state `.failed(reason, retrying: false)`, no
    /// timer, a REGISTER in flight forgotten; `renew()` starts again.
    public func suspend(_ reason: String) {
        guard userAgent != nil, state != .unregistered else { return }
        cancelTimer()
        cancelTargetTimer()
        cancelKeepAlive()
        generation += 1
        inFlight = nil
        boundTarget = nil
        outbound.end()
        setState(.failed(reason: reason, retrying: false))
    }

    func close() {
        cancelTimer()
        cancelTargetTimer()
        cancelKeepAlive()
        generation += 1
        unregisterCompletion = nil
        inFlight = nil
        userAgent = nil
    }

    private func cancelTimer() {
        if let timer, let ua = userAgent { ua.reactor.cancel(timer) }
        timer = nil
    }

    private func cancelTargetTimer() {
        if let targetTimer, let ua = userAgent { ua.reactor.cancel(targetTimer) }
        targetTimer = nil
    }

    private func schedule(after seconds: Int) {
        cancelTimer()
        guard let ua = userAgent else { return }
        timer = ua.reactor.after(Int64(seconds) * SIPTimerValues.second) { [self] in
            timer = nil
            beginAttempt()
        }
    }

    // MARK: locating the servers (RFC 3263 §4)

    /// A new attempt: locate every server, then REGISTER to the first target.
    private func beginAttempt() {
        guard let ua = userAgent else { return }
        cancelTimer()
        cancelTargetTimer()
        cancelKeepAlive()
        generation += 1
        let attempt = generation
        setState(.registering)
        locate(server: 0, found: [], ua: ua) { [self] found in
            guard attempt == generation else { return }
            candidates = SIPRegistration.candidates(
                found, servers: ua.account.servers.count, viaProxies: !ua.account.outboundProxies.isEmpty)
            candidateIndex = 0
            skipAvoided(ua)
            if found.isEmpty {
                failed("no server address found", expires: requestedExpires, retry: true)
            } else if currentTarget == nil {
                failed("every server asked to wait (503 with Retry-After)", expires: requestedExpires, retry: true)
            } else {
                register(expires: expiresAsked)
            }
        }
    }

    /// With outbound proxies the targets located are the proxies', and each server is registered
    /// with through them in turn (server 1 through every proxy target, then server 2); without,
    /// the servers' own targets.
    static func candidates(
        _ found: [(target: SIPServerTarget, server: Int)], servers: Int, viaProxies: Bool
    ) -> [(target: SIPServerTarget, server: Int)] {
        guard viaProxies else { return found }
        var out: [(target: SIPServerTarget, server: Int)] = []
        for server in 0..<servers {
            for item in found { out.append((item.target, server)) }
        }
        return out
    }

    /// Locates the first hops one by one (RFC 3263 §4): the outbound proxies when there are any,
    /// else the servers; `server` in what it finds is the index of the hop.
    private func locate(
        server index: Int, found: [(target: SIPServerTarget, server: Int)], ua: SIPUserAgent,
        completion: @escaping ([(target: SIPServerTarget, server: Int)]) -> Void
    ) {
        let viaProxies = !ua.account.outboundProxies.isEmpty
        let hops = viaProxies ? ua.account.outboundProxies : ua.account.servers
        guard index < hops.count else {
            completion(found)
            return
        }
        let server = hops[index]
        let label = (viaProxies ? "outbound proxy " : "server ") + String(index + 1) + " " + server.address
        if let peer = server.literalPeer {
            locate(
                server: index + 1, found: found + [(SIPServerTarget(peer: peer, name: server.address), index)], ua: ua,
                completion: completion)
            return
        }
        guard let resolver = ua.resolver else {
            ua.log("registration: cannot locate " + label + ": no DNS resolver")
            locate(server: index + 1, found: found, ua: ua, completion: completion)
            return
        }
        SIPServerResolution.run(server.locator(random: ua.random), resolver: resolver) { [self] targets, notes in
            guard userAgent != nil else { return }
            var text = ""
            for target in targets { text += (text.isEmpty ? "" : ", ") + target.description }
            ua.log(
                "registration: " + label + " located: " + (targets.isEmpty ? "no target" : text) + " ["
                    + notes.joined(separator: "; ") + "]")
            var all = found
            for target in targets {
                all.append((target, index))
                // RFC 5922 §4.1: a TLS target's certificate must name the server's domain.
                if target.peer.transport == .tls { ua.transport?.setTLSServerName(server.address, for: target.peer.remote) }
            }
            locate(server: index + 1, found: all, ua: ua, completion: completion)
        }
    }

    /// The lifetime to ask the current target's server for: server 1's (raised by a 423), or
    /// server 2's own `expires`.
    private var expiresAsked: Int {
        guard let ua = userAgent, let (_, index) = currentTarget, index > 0, index < ua.account.servers.count else {
            return requestedExpires
        }
        return ua.account.servers[index].expires
    }

    /// The target REGISTER goes to now.
    private var currentTarget: (target: SIPServerTarget, server: Int)? {
        candidateIndex < candidates.count ? candidates[candidateIndex] : nil
    }

    /// Moves past the targets a 503's Retry-After still rules out (and forgets the expired ones).
    private func skipAvoided(_ ua: SIPUserAgent) {
        let now = ua.reactor.now
        avoided = avoided.filter { $0.value > now }
        while let (target, _) = currentTarget, avoided[target.peer.remote] != nil { candidateIndex += 1 }
    }

    /// A 503's `Retry-After: N` (RFC 3261 §20.33, seconds, comment and parameters ignored), at
    /// most an hour; nil without one.
    static func retryAfterSeconds(_ response: SIPMessage) -> Int? {
        guard let value = response.header("Retry-After") else { return nil }
        var seconds = 0
        var digits = 0
        for c in value.utf8 {
            if c == 32 && digits == 0 { continue }
            guard c >= 48 && c <= 57 else { break }
            seconds = min(3600, seconds * 10 + Int(c - 48))
            digits += 1
        }
        return digits > 0 ? seconds : nil
    }

    /// §4.3: the current target failed (`reason`); the next one is tried, or the attempt fails.
    private func nextTarget(_ reason: String, expires: Int) {
        guard let ua = userAgent else { return }
        cancelTargetTimer()
        generation += 1
        inFlight?.terminate()  // no more retransmissions to a target given up
        inFlight = nil
        let failed = currentTarget?.target.description ?? "?"
        candidateIndex += 1
        skipAvoided(ua)
        if expires > 0, let next = currentTarget {
            ua.log("registration: " + failed + ": " + reason + "; trying " + next.target.description)
            register(expires: expiresAsked)
        } else {
            self.failed(reason, expires: expires, retry: true)
        }
    }

    private func setState(_ newState: SIPRegistrationState) {
        guard newState != state else { return }
        state = newState
        userAgent?.log(description)
        userAgent?.onRegistrationState?(newState)
    }

    private func makeRequest(expires: Int) -> (SIPMessage, SIPPeer)? {
        guard let ua = userAgent, let (target, index) = currentTarget, index < ua.account.servers.count else {
            return nil
        }
        let peer = target.peer
        let server = ua.account.servers[index]
        var registrar = SIPURI(host: SIPAccountConfiguration.host(server.address))
        if let port = server.port, port != peer.transport.defaultPort { registrar.port = Int(port) }
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
        decorateOutbound(&request, contact: &contact, server: index, ua: ua)
        SIPUserAgent.add(&request, "Contact", contact.description)
        SIPUserAgent.add(&request, "Expires", String(expires))
        SIPUserAgent.add(&request, "Allow", SIPUserAgent.allowedMethods)
        // §8.1.2: through an outbound proxy, the REGISTER carries the proxy's route.
        if let proxy = ua.outboundProxy(for: target) { request.routes = [proxy.looseRoute] }
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
        if let (target, _) = currentTarget {
            ua.log("registration: REGISTER (expires " + String(expires) + ") to " + target.description)
            // §4.3: no answer within the server's retry time moves on to the next target.
            restartTargetTimer(expires: expires, ua: ua)
        }
        send(request, to: peer, expires: expires, ua: ua)
    }

    private func send(_ request: SIPMessage, to peer: SIPPeer, expires: Int, ua: SIPUserAgent) {
        let attempt = generation
        inFlight = ua.startTransaction(request, to: peer) { [self] event in
            guard attempt == generation else { return }  // a target given up already
            switch event {
            case .provisional, .additionalSuccess:
                return
            case .timeout:
                inFlight = nil
                nextTarget("no answer from the registrar", expires: expires)
            case .transportError:
                inFlight = nil
                nextTarget("transport error", expires: expires)
            case .final(let response):
                inFlight = nil
                if response.status == 503 {
                    var reason = "503 " + (response.reason ?? "")
                    if let seconds = SIPRegistration.retryAfterSeconds(response), seconds > 0 {
                        avoided[peer.remote] = ua.reactor.now + Int64(seconds) * SIPTimerValues.second
                        reason += " (Retry-After " + String(seconds) + " s: not asked again before then)"
                    }
                    nextTarget(reason, expires: expires)
                } else {
                    cancelTargetTimer()
                    receiveFinal(response, request: request, peer: peer, expires: expires)
                }
            }
        }
    }

    private func receiveFinal(_ response: SIPMessage, request: SIPMessage, peer: SIPPeer, expires: Int) {
        guard let ua = userAgent, let status = response.status else { return }
        switch status {
        case 200..<300:
            ua.digest.requestSucceeded()
            if expires == 0 {
                ua.serviceRoute = []
                setState(.unregistered)
                finishUnregister(true)
                return
            }
            failureCount = 0
            takeServiceRoute(from: response, ua: ua)
            if learnPublicAddress(from: response, ua: ua) {
                // RFC 3581 §4 behind a NAT: register the address the registrar sees instead.
                register(expires: expires)
                return
            }
            let granted = grantedExpires(response, asked: expires)
            takeOutbound(from: response, server: currentTarget?.server ?? 0, ua: ua)
            if let (target, _) = currentTarget {
                if boundTarget != target { ua.log("registration: bound to " + target.description) }
                boundTarget = target
                ua.serverTarget = target
            }
            setState(.registered(expires: granted))
            schedule(after: SIPRegistration.refreshDelay(granted: granted))
            scheduleKeepAlive()
        case 401, 407:
            sequence &+= 1
            if let next = ua.authorized(request, challenge: response, newSequence: sequence) {
                send(next, to: peer, expires: expires, ua: ua)
                restartTargetTimer(expires: expires, ua: ua)
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

    /// Starts the target's retry time (again, for a new round trip after a challenge). The last
    /// target has no retry time of its own: its transaction's Timer F ends the attempt.
    private func restartTargetTimer(expires: Int, ua: SIPUserAgent) {
        cancelTargetTimer()
        guard let (target, index) = currentTarget, candidateIndex + 1 < candidates.count else { return }
        let attempt = generation
        let hop = ua.outboundProxy(for: target) ?? ua.account.servers[index]
        let patience = hop.attemptNanoseconds(t1: ua.transactions.timers.t1)
        targetTimer = ua.reactor.after(patience) { [self] in
            targetTimer = nil
            guard attempt == generation else { return }
            nextTarget("no answer within " + String(patience / 1_000_000) + " ms", expires: expires)
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
        cancelKeepAlive()
        outbound.end()
        setState(.failed(reason: reason, retrying: retry))
        if retry { schedule(after: userAgent.map { failureDelay($0) } ?? retryDelay(failures: failureCount)) }
    }

    /// The 2xx's top Via says where the REGISTER came from (`received`, `rport`); true when that
    /// differs from the Contact registered, so the phone is behind a NAT and takes it as its
    /// public address (logged). Once per change: the next 2xx then matches.
    /// The Service-Route of a 2xx (RFC 3608 §6.1) becomes the UA's route for requests outside a
    /// dialog; a 2xx without one clears it. A malformed entry drops the whole header (a partial
    /// route would lead somewhere the registrar did not mean), with a log line.
    private func takeServiceRoute(from response: SIPMessage, ua: SIPUserAgent) {
        var route: [SIPNameAddress] = []
        for value in response.headers("Service-Route") {
            do throws(SIPError) {
                route.append(try SIPNameAddress(parsing: value))
            } catch {
                ua.log("registration: Service-Route ignored: " + error.description)
                route = []
                break
            }
        }
        guard route != ua.serviceRoute else { return }
        ua.serviceRoute = route
        var text = ""
        for entry in route { text += (text.isEmpty ? "" : ", ") + entry.description }
        ua.log("registration: Service-Route " + (route.isEmpty ? "none" : text))
    }

    private func learnPublicAddress(from response: SIPMessage, ua: SIPUserAgent) -> Bool {
        // Once per attempt: an answer that kept changing would otherwise loop.
        guard ua.account.keepAlive.learnsPublicAddress, learnedInAttempt != generation, let via = response.via.first
        else { return false }
        let current = ua.publicAddress ?? (ua.localHost, ua.localPort)
        let host = via.received ?? current.host
        var port = current.port
        if case .some(.some(let value)) = via.rport, value > 0, value <= 65535 { port = UInt16(value) }
        guard SIPSocketAddress(literal: host, port: port) != nil, host != current.host || port != current.port else {
            return false
        }
        ua.publicAddress = (host, port)
        learnedInAttempt = generation
        ua.log(
            "registration: the registrar sees us at " + host + ":" + String(port)
                + " (received/rport): registering that Contact")
        return true
    }

    // MARK: keep-alives (SIPKeepAlive.swift)

    private func cancelKeepAlive() {
        if let keepAliveTimer, let ua = userAgent { ua.reactor.cancel(keepAliveTimer) }
        keepAliveTimer = nil
        outbound.pending = nil
    }

    /// The next keep-alive one interval (less `elapsed`) from now, while registered with
    /// keep-alives on.
    func scheduleKeepAlive(elapsed: Int64 = 0) {
        cancelKeepAlive()
        guard let ua = userAgent, keepAlivesWanted(ua), ua.sendKeepAlive != nil || ua.sendDatagram != nil,
            boundTarget != nil
        else {
            return
        }
        let interval = Int64(keepAliveSeconds(ua)) * SIPTimerValues.second
        keepAliveTimer = ua.reactor.after(max(SIPTimerValues.second, interval - elapsed)) { [self] in
            keepAliveTimer = nil
            keepAlive()
        }
    }

    private func keepAlive() {
        guard let ua = userAgent, case .registered = state, inFlight == nil, let target = boundTarget else { return }
        if isOutboundFlow, !target.peer.transport.isStream, ua.sendDatagram != nil {
            keepAlivesSent += 1
            sendBindingRequest(to: target.peer, ua: ua)  // RFC 5626 §4.4.2
            return
        }
        guard let send = ua.sendKeepAlive else { return }
        keepAlivesSent += 1
        guard target.peer.transport.isStream else {
            send(target.peer)
            scheduleKeepAlive()
            return
        }
        // RFC 5626 §4.4.1: a ping on a stream wants its pong within 10 s, else the flow failed.
        let pongs = ua.keepAlivePongs()
        send(target.peer)
        keepAliveTimer = ua.reactor.after(SIPKeepAliveSettings.pongWait) { [self] in
            keepAliveTimer = nil
            guard let ua = userAgent else { return }
            if ua.keepAlivePongs() > pongs {
                scheduleKeepAlive(elapsed: SIPKeepAliveSettings.pongWait)
            } else {
                flowFailed("no pong within 10 s")
            }
        }
    }

    /// A transport error (an ICMP error for a keep-alive, a reset connection) to `peer`: when it
    /// is the registrar the account is bound to and nothing is in flight, register again now
    /// (which moves on to the next target when this one stays dead).
    func transportFailed(_ peer: SIPPeer) {
        guard case .registered = state, inFlight == nil, let target = boundTarget,
            target.peer.remote == peer.remote, target.peer.transport == peer.transport
        else { return }
        flowFailed("transport error")
    }

    func flowFailed(_ reason: String) {
        guard let ua = userAgent, let target = boundTarget else { return }
        ua.log("registration: " + target.description + ": " + reason + ": registering again")
        beginAttempt()
    }

    private func finishUnregister(_ success: Bool) {
        let completion = unregisterCompletion
        unregisterCompletion = nil
        completion?(success)
    }
}
