// The user agent core (RFC 3261 §8, §12–§15): one account on one transport, its calls and its
// registration; requests dispatched to dialogs, OPTIONS answered, the rest refused.

import CLinux
import Digest
import Net
import Reactor

/// The SIP user agent of a phone (RFC 3261 §8 UAC/UAS behaviour, §12 dialogs, §13 sessions,
/// §15 BYE): it owns the transaction layer over a started `SIPTransportLayer`, places and
/// receives calls (`SIPCall`) and runs the registration (`SIPRegistration`). Media is not its
/// business: the media layer gives the RTP address through `mediaAddress` and learns about
/// negotiated and stopped streams through `onMediaNegotiated` / `onMediaStopped`.
///
/// Everything runs on the reactor's thread. The UA, its calls and its transactions hold each
/// other strongly (no weak references in Embedded Swift): `close()` breaks the cycles.
public final class SIPUserAgent: CustomStringConvertible {
    public let reactor: Reactor
    public let account: SIPAccountConfiguration
    public let transactions: SIPTransactionLayer
    /// The transport, nil for the transport-free test path.
    public private(set) var transport: SIPTransportLayer?

    /// Host and port written in Contact and Via (the transport's sent-by); the host changes with
    /// the phone's address (`changeLocalHost`).
    public private(set) var localHost: String
    /// The address the registrar saw our REGISTER come from (`received`/`rport` of its 2xx,
    /// RFC 3581), when it differs from ours: a NAT's mapping. Contact uses it (`account.1.nat.rport`).
    public internal(set) var publicAddress: (host: String, port: UInt16)?
    public let localPort: UInt16

    /// Where our RTP goes: the media layer's address and port for the next offer/answer of a call
    /// (asked before each offer or answer, so the media layer can open one stream per call).
    /// Port 0 means the media layer has no stream for the call (no free RTP port): an incoming
    /// INVITE is then refused with 503, an outgoing call fails.
    public var mediaAddress: (SIPCall) -> (host: String, port: UInt16)
    /// Asked for each new incoming INVITE before it rings: a final status (480 for do-not-disturb,
    /// 486 busy) refuses it at once, with no 180 and no call; nil lets it ring.
    public var refuseIncoming: ((SIPMessage) -> Int?)?
    /// Every call state change (a new incoming call arrives as `.incoming`).
    public var onCallState: ((SIPCall, SIPCallState) -> Void)?
    /// An offer/answer exchange completed (initial and every re-INVITE): start or update media.
    public var onMediaNegotiated: ((SIPCall, SDPNegotiatedAudio) -> Void)?
    /// A security warning about a call for the user (SDES keys over a plain transport), once per call.
    public var onSecurityWarning: ((SIPCall, String) -> Void)?
    /// The call's media must stop (the call ended).
    public var onMediaStopped: ((SIPCall) -> Void)?
    /// An INFO arrived in a call's dialog (already answered 200).
    public var onInfo: ((SIPCall, SIPMessage) -> Void)?
    /// A transfer asked for with `SIPCall.refer(to:)` progressed (RFC 3515 NOTIFYs).
    public var onTransfer: ((SIPCall, SIPTransferEvent) -> Void)?
    /// A check-sync NOTIFY from the registrar was accepted (and answered 200): fetch the
    /// provisioning now; `true`: then restart at a safe time. Nil: check-sync is not handled (481).
    public var onCheckSync: ((Bool) -> Void)?
    /// Who may send check-sync, and its digest challenge (`SIPCheckSyncGuard`).
    public var checkSyncGuard: SIPCheckSyncGuard
    /// A message-summary NOTIFY was taken (answered 200): messages waiting (SIPMessageWaiting.swift).
    public var onMessageSummary: ((SIPMessageSummary) -> Void)?
    /// The message-summary subscription (`account.N.subscribe_mwi`), nil when the account has none.
    public internal(set) var mwiSubscription: SIPMWISubscription?
    /// Registration state changes.
    public var onRegistrationState: ((SIPRegistrationState) -> Void)?
    /// Sends one NAT keep-alive to the registrar (`SIPKeepAlive`): set by the transport-backed
    /// initializer; nil sends none.
    public var sendKeepAlive: ((SIPPeer) -> Void)?
    /// Sends a datagram to a peer (RFC 5626 STUN keep-alives on a UDP flow); nil sends none.
    public var sendDatagram: (([UInt8], SIPPeer) -> Void)?
    /// Malformed STUN datagrams are logged in bursts (SIPRegistration+Outbound.swift).
    var stunLog = SIPLogRateLimit()
    /// CRLF pongs received so far on TCP (the transport's counter), for the keep-alive's check.
    public var keepAlivePongs: () -> Int = { 0 }
    /// One line per protocol event worth a log line.
    public var onLog: ((String) -> Void)?
    /// A TLS connection failed (a refused certificate, a failed handshake): the peer and the
    /// reason, after its log line, for the screen. Nothing falls back to UDP or TCP.
    public var onTLSFailure: ((SIPPeer, String) -> Void)?

    /// The account's digest client state, shared by REGISTER and the calls (RFC 3261 §22.3).
    public var digest: DigestSession
    /// Live calls, oldest first (ended calls leave at once).
    public private(set) var calls: [SIPCall] = []
    /// The registration, nil in direct-IP mode or when the account does not register.
    public private(set) var registration: SIPRegistration?
    /// Finds servers given by name (RFC 3263, `SIPServerLocator`); nil: only IP literals work.
    public var resolver: DNSResolver?
    /// `random(n)` in `0..<n` for the SRV weighted choice (RFC 2782); tests inject their own.
    public var random: (UInt32) -> UInt32 = { bound in
        var value: UInt32 = 0
        _ = withUnsafeMutableBytes(of: &value) { cl_getrandom($0.baseAddress, 4) }
        return bound == 0 ? 0 : value % bound
    }
    /// The server target the account is registered with (RFC 3263 §4.3): requests for the
    /// server's domain (calls by number, the record key's INFO in those calls) go there.
    public internal(set) var serverTarget: SIPServerTarget?
    /// The registrar's Service-Route (RFC 3608) from the last 2xx to REGISTER: the route the
    /// phone's requests outside a dialog carry, after the outbound proxy's. Each 2xx replaces it.
    public internal(set) var serviceRoute: [SIPNameAddress] = []
    /// Methods we accept (Allow header, RFC 3261 §20.5).
    public static let allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, PRACK, UPDATE, REFER, NOTIFY"
    /// The User-Agent header value.
    public var userAgentHeader = SIPStack.userAgentProduct
    /// The account's number on the phone (`account.N`): its calls carry it (`SIPCall.accountNumber`).
    public var accountNumber = 1
    /// Numbers the UA's new calls when set: the user agents of several accounts share one
    /// numbering, so a call id names one call on the phone. Nil: the UA's own 1, 2, ...
    public var callNumbers: (() -> Int)? = nil

    private let sendMessage: (SIPMessage, SIPPeer) -> Bool
    private var nextCallID = 1
    /// Transport errors are logged in bursts (a flood's bounced answers are one each).
    private var transportErrorLog = SIPLogRateLimit()
    /// Requests dropped because they did not come from the server (`sip.trust_ctrl`).
    public private(set) var untrustedRequestsDropped = 0
    private var untrustedLog = SIPLogRateLimit()
    private var closed = false

    /// A UA on a started transport.
    public convenience init(
        reactor: Reactor, account: SIPAccountConfiguration, transport: SIPTransportLayer,
        timers: SIPTimerValues = SIPTimerValues(),
        mediaAddress: @escaping (SIPCall) -> (host: String, port: UInt16)
    ) {
        self.init(
            reactor: reactor, account: account, localHost: transport.sentByHost,
            localPort: transport.sentByPort(for: account.transport), timers: timers, mediaAddress: mediaAddress,
            send: { message, peer in
                transport.send(message, to: peer)
                return true
            })
        self.transport = transport
        sendKeepAlive = { peer in
            if peer.transport.isStream {
                transport.sendKeepAlivePing(to: peer.remote, transport: peer.transport)
            } else {
                transport.sendBytes(SIPKeepAlive.ping, to: peer)
            }
        }
        keepAlivePongs = { transport.counters.pongsReceived }
        sendDatagram = { bytes, peer in transport.sendBytes(bytes, to: peer) }
        transport.onSTUN = { [self] bytes, peer in receiveSTUN(bytes, from: peer) }
        transport.onMessage = { [self] message, peer in receive(message, from: peer) }
        transport.onError = { [self] peer, error in transportFailed(peer, error) }
    }

    /// The transport could not reach `peer` (ICMP error, refused or lost connection, TLS failure):
    /// logged in bursts, the transactions with it fail, and so does a keep-alive to it.
    public func transportFailed(_ peer: SIPPeer, _ error: SIPTransportError) {
        let verdict = transportErrorLog.admit(now: reactor.now)
        if verdict.write {
            log(
                "transport error to " + peer.description + ": " + error.description
                    + (verdict.dropped > 0 ? " (" + String(verdict.dropped) + " more not logged)" : ""))
        }
        if case .tls(let reason) = error { onTLSFailure?(peer, reason) }
        transactions.transportFailed(peer: peer)
        // A keep-alive's ICMP error: the registrar is gone (after the transactions, so a
        // REGISTER in flight fails over by itself).
        registration?.transportFailed(peer)
    }

    /// A UA whose messages go to `send` (tests without sockets, other transports).
    public init(
        reactor: Reactor, account: SIPAccountConfiguration, localHost: String, localPort: UInt16,
        timers: SIPTimerValues = SIPTimerValues(),
        mediaAddress: @escaping (SIPCall) -> (host: String, port: UInt16),
        send: @escaping (SIPMessage, SIPPeer) -> Bool
    ) {
        self.reactor = reactor
        self.account = account
        self.localHost = localHost
        self.localPort = localPort
        self.mediaAddress = mediaAddress
        self.sendMessage = send
        self.digest = DigestSession(username: account.authName, password: account.password)
        self.checkSyncGuard = SIPCheckSyncGuard(
            settings: account.checkSync, userName: account.authName, password: account.password,
            realm: account.serverAddress ?? localHost)
        self.transactions = SIPTransactionLayer(reactor: reactor, timers: timers, send: send)
        transactions.onRequest = { [self] transaction in receiveRequest(transaction) }
        transactions.onStrayACK = { [self] ack, _ in receiveStrayACK(ack) }
        transactions.onStrayResponse = { [self] response, _ in receiveStrayResponse(response) }
        if account.enabled, account.serverAddress != nil {
            registration = SIPRegistration(userAgent: self)
            if account.mwi.subscribe && account.mwi.display { mwiSubscription = SIPMWISubscription(userAgent: self) }
        }
    }

    public var description: String {
        "user agent " + account.userName + "@" + localHost + ":" + String(localPort) + ", "
            + String(calls.count) + " call(s), " + (registration?.state.description ?? "no registration")
    }

    // MARK: lifecycle

    /// Starts registering (when the account registers).
    public func start() {
        registration?.start()
        mwiSubscription?.start()
    }

    /// Hangs up every call and unregisters; `completion` runs once the registrar answered (or
    /// at once without a registration). Call `close()` afterwards.
    public func shutdown(completion: @escaping () -> Void) {
        for call in calls { call.hangUp() }
        mwiSubscription?.unsubscribe()
        if let registration {
            registration.unregister { _ in completion() }
        } else {
            reactor.runSoon { completion() }
        }
    }

    /// Drops every call, transaction and callback without sending anything (breaks the cycles).
    public func close() {
        closed = true
        for call in calls { call.close() }
        calls.removeAll()
        registration?.close()
        registration = nil
        mwiSubscription?.close()
        mwiSubscription = nil
        onMessageSummary = nil
        transactions.close()
        transport?.onMessage = nil
        transport?.onError = nil
        transport?.onSTUN = nil
        sendDatagram = nil
        onCallState = nil
        onMediaNegotiated = nil
        onSecurityWarning = nil
        onMediaStopped = nil
        onInfo = nil
        onTransfer = nil
        onRegistrationState = nil
        sendKeepAlive = nil
        onLog = nil
        onTLSFailure = nil
    }

    // MARK: network changes

    /// The phone's address changed to `host` (a network change, or the network came back): Via,
    /// Contact and the SDP of later offers say `host`; TCP/TLS connections are reopened; the
    /// registration starts again at once (a new Contact) and every established call gets a
    /// re-INVITE whose SDP carries the media layer's address now (RFC 3261 §14, RFC 3264 §8).
    public func changeLocalHost(_ host: String) {
        guard !closed else { return }
        localHost = host
        publicAddress = nil
        transport?.changeAdvertisedHost(host)
        registration?.renew()
        for call in calls where call.state.isEstablished {
            if !call.moveMedia() { log("call " + String(call.id) + ": re-INVITE for the new address not sent (busy)") }
        }
    }

    /// The phone has no usable address: the registration stops (not registered, nothing
    /// retried until `changeLocalHost`) and TCP/TLS connections are closed. Calls stay until
    /// the address comes back or their peer gives up.
    public func networkLost() {
        guard !closed else { return }
        registration?.suspend("no network")
        transport?.closeConnections()
    }

    // MARK: placing calls

    /// Places a call (RFC 3261 §13.2.1). `target` is a SIP URI (`sip:1002@127.0.0.1:5062`) or,
    /// with a server, a bare user or number (`1002` becomes `sip:1002@server`). `prepare` sees the
    /// call before its INVITE goes out.
    public func call(_ target: String, prepare: ((SIPCall) -> Void)? = nil) throws(SIPError) -> SIPCall {
        guard !closed else { throw SIPError("the user agent is closed", status: nil) }
        guard calls.count < account.maxCalls else {
            throw SIPError("call limit reached (" + String(account.maxCalls) + " calls at once)", status: nil)
        }
        let uri = try targetURI(target)
        guard peer(for: outboundRoute.first?.uri ?? uri) != nil else {
            if account.serverAddress != nil {
                throw SIPError(
                    "cannot reach " + uri.description + ": the server is not located yet (not registered)", status: nil)
            }
            throw SIPError("cannot reach " + uri.description + ": not an IP address", status: nil)
        }
        let call = SIPCall(userAgent: self, id: takeCallID(), outgoingTo: uri)
        calls.append(call)
        prepare?(call)
        call.startOutgoing()
        return call
    }

    /// The URI a dialled `target` names: a SIP URI as written, or with a server a bare user or
    /// number on the server's domain (and its port when not the transport's default).
    public func targetURI(_ target: String) throws(SIPError) -> SIPURI {
        var uri: SIPURI
        if target.hasPrefix("sip:") || target.hasPrefix("sips:") {
            uri = try SIPURI(parsing: target)
        } else if let server = account.serverAddress {
            uri = try SIPURI(parsing: "sip:" + target + "@" + SIPAccountConfiguration.host(server).description)
            if account.serverPort != account.transport.defaultPort { uri.port = Int(account.serverPort) }
        } else {
            throw SIPError("'" + target + "' needs a host in direct-IP mode (sip:user@host:port)", status: nil)
        }
        return uri
    }

    // MARK: helpers for calls and registration

    func takeCallID() -> Int {
        if let callNumbers { return callNumbers() }
        defer { nextCallID += 1 }
        return nextCallID
    }

    func log(_ line: String) { onLog?(line) }

    /// Our Contact (RFC 3261 §8.1.1.8), with `transport=tcp` on TCP; a `sips:` URI on TLS
    /// (RFC 5630 §3.1.3: requests to it must come over TLS, which they do: down the connection
    /// the phone opened, since it has no TLS listener of its own).
    func contact(transport: SIPTransportProtocol) -> SIPNameAddress {
        var uri = SIPUserAgent.contactURI(
            user: account.userName, host: publicAddress?.host ?? localHost, port: publicAddress?.port ?? localPort,
            transport: transport)
        // RFC 5626 §4.2.1: over a registered outbound flow, `ob` (REGISTER's Contact drops it).
        if registration?.isOutboundFlow == true { uri.setParameter("ob", .some(nil)) }
        return SIPNameAddress(uri: uri)
    }

    static func contactURI(user: String, host: String, port: UInt16, transport: SIPTransportProtocol) -> SIPURI {
        var uri = SIPURI(
            scheme: transport == .tls ? "sips" : "sip", user: user, host: SIPAccountConfiguration.host(host),
            port: Int(port))
        if transport == .tcp { uri.setParameter("transport", .some("tcp")) }
        return uri
    }

    /// A Via for a new request (new branch).
    func newVia(_ transport: SIPTransportProtocol) -> SIPVia {
        let branch = transactions.newBranch()
        if let layer = self.transport { return layer.via(for: transport, branch: branch) }
        return SIPTransportLayer.requestVia(
            transport, host: SIPAccountConfiguration.host(localHost), port: localPort, branch: branch)
    }

    /// Where a request for `uri` goes: its host when that is an IP address (port and
    /// `transport` parameter from the URI; TLS for `sips:`), else the configured server. A `sips:`
    /// URI is never reached over UDP or TCP (RFC 5630 §3.1.3): nil when only those are there.
    func peer(for uri: SIPURI) -> SIPPeer? {
        guard let found = SIPUserAgent.peer(for: uri, account: account, serverPeer: serverPeer) else { return nil }
        if uri.isSecure && found.transport != .tls { return nil }
        return found
    }

    /// The outbound proxy (if any) `target` was located from.
    func outboundProxy(for target: SIPServerTarget) -> SIPServerConfiguration? {
        for proxy in account.outboundProxies where proxy.address == target.name { return proxy }
        return nil
    }

    /// The pre-loaded route of a request outside a dialog (RFC 3261 §8.1.2) but REGISTER: the
    /// outbound proxy the account is registered through (proxy 1 before that), then the
    /// registrar's Service-Route (RFC 3608 §6.1).
    var outboundRoute: [SIPNameAddress] {
        guard let first = account.outboundProxies.first else { return serviceRoute }
        if let serverTarget, let used = outboundProxy(for: serverTarget) { return [used.looseRoute] + serviceRoute }
        return [first.looseRoute] + serviceRoute
    }

    static func peer(for uri: SIPURI, account: SIPAccountConfiguration, serverPeer: SIPPeer?) -> SIPPeer? {
        var transport: SIPTransportProtocol = account.isDirectIP ? .udp : account.transport
        if uri.isSecure { transport = .tls }
        if let value = uri.parameter("transport"), let name = value {
            transport = uri.isSecure ? .tls : (SIPTransportProtocol(parameterValue: name) ?? .udp)
        }
        switch uri.host {
        case .ipv4(let text), .ipv6(let text):
            let port = uri.port ?? Int(transport.defaultPort)
            // The first hop's own address (outbound proxy 1, else server 1): the target the account
            // is registered with (maybe the backup).
            if let hop = account.outboundProxies.first ?? account.servers.first, text == hop.address,
                port == Int(hop.port ?? 5060), let serverPeer
            {
                return serverPeer
            }
            if let address = SIPSocketAddress(literal: text, port: UInt16(clamping: port)) {
                return SIPPeer(transport: transport, remote: address)
            }
            return serverPeer
        case .name:
            return serverPeer
        }
    }

    /// The addresses of the targets found for the account's servers (for `sip.trust_ctrl`).
    var locatedServerAddresses: [SIPSocketAddress] {
        var out: [SIPSocketAddress] = []
        for candidate in registration?.candidates ?? [] { out.append(candidate.target.peer.remote) }
        if let serverTarget { out.append(serverTarget.peer.remote) }
        return out
    }

    /// Where requests for the server go: the target registered with, else a literal server 1.
    var serverPeer: SIPPeer? { serverTarget?.peer ?? account.serverPeer }

    /// Adds the headers every request of ours carries.
    func decorate(_ request: inout SIPMessage) {
        SIPUserAgent.add(&request, "User-Agent", userAgentHeader)
    }

    static func add(_ message: inout SIPMessage, _ name: String, _ value: String) {
        do throws(SIPError) {
            try message.addHeader(name, value)
        } catch {
            // Values built here are valid; an invalid one is left out rather than sent.
        }
    }

    static func set(_ message: inout SIPMessage, _ name: String, _ value: String) {
        do throws(SIPError) {
            try message.setHeader(name, value)
        } catch {
            // As above.
        }
    }

    /// Starts a client transaction; a refused start is reported as a transport error.
    @discardableResult
    func startTransaction(
        _ request: SIPMessage, to peer: SIPPeer, onEvent: @escaping (SIPClientTransactionEvent) -> Void
    ) -> SIPClientTransaction? {
        do throws(SIPError) {
            return try transactions.start(request, to: peer, onEvent: onEvent)
        } catch {
            log("cannot start " + (request.method?.name ?? "?") + ": " + error.description)
            reactor.runSoon { onEvent(.transportError) }
            return nil
        }
    }

    /// Answers a 401/407 (RFC 3261 §22.2): the request with credentials added, a new CSeq and a
    /// new branch; nil when the challenge cannot or must not be answered (wrong password).
    func authorized(_ request: SIPMessage, challenge response: SIPMessage, newSequence: UInt32) -> SIPMessage? {
        guard let status = response.status, let challenger = DigestChallenger(status: status),
            let method = request.method, let uri = request.requestURI
        else { return nil }
        let challenges: [DigestChallenge]
        do throws(DigestError) {
            challenges = try DigestChallenge.preferred(
                fromHeaderValues: response.headers(challenger.challengeHeaderName), challenger: challenger)
        } catch {
            log("unusable challenge in " + String(status) + ": " + error.description)
            return nil
        }
        guard digest.shouldRetry(after: challenges) else {
            log("credentials rejected for " + method.name)
            return nil
        }
        var next = request
        next.removeHeader(challenger.credentialsHeaderName)
        var cseq = next.cseq
        cseq.number = newSequence
        next.cseq = cseq
        var vias = next.via
        if !vias.isEmpty {
            vias[0].branch = transactions.newBranch()
            next.via = vias
        }
        let credentials = digest.authorize(challenges, method: method.name, uri: uri.description, body: next.body)
        for item in credentials { SIPUserAgent.add(&next, item.headerName, item.headerValue) }
        return next
    }

    func callStateChanged(_ call: SIPCall, _ state: SIPCallState) {
        log("call " + String(call.id) + ": " + state.description)
        onCallState?(call, state)
        if state.isEnded {
            calls.removeAll { $0 === call }
        }
    }

    // MARK: requests from the network (RFC 3261 §8.2, §12.2.2)

    /// A message from the transport. With `sip.trust_ctrl` a request from anyone but the
    /// account's server is dropped unanswered (counted, logged in bursts); responses are
    /// matched to our own requests as always.
    public func receive(_ message: SIPMessage, from peer: SIPPeer) {
        if message.isRequest && account.trustServerOnly
            && !account.accepts(requestFrom: peer.remote, located: locatedServerAddresses)
        {
            untrustedRequestsDropped += 1
            let verdict = untrustedLog.admit(now: reactor.now)
            if verdict.write {
                log(
                    (message.method?.name ?? "request") + " from " + peer.remote.description
                        + " dropped: not the SIP server (sip.trust_ctrl)"
                        + (verdict.dropped > 0 ? " (" + String(verdict.dropped) + " more not logged)" : ""))
            }
            return
        }
        transactions.receive(message, from: peer)
    }

    private func receiveRequest(_ transaction: SIPServerTransaction) {
        let request = transaction.request
        guard let method = request.method else { return }
        if method == .cancel {
            receiveCancel(transaction)
            return
        }
        if let tags = unsupportedExtensions(request) {
            // RFC 3261 §8.2.2.3: an extension the request requires and we lack: 420.
            log(method.description + " from " + request.from.uri.description + " requires " + tags + ": refused with 420")
            var response = SIPMessage.response(
                to: request, status: 420, toTag: request.to.tag ?? SIPTransactionLayer.randomToken(byteCount: 4))
            SIPUserAgent.add(&response, "Unsupported", tags)
            SIPUserAgent.add(&response, "Server", userAgentHeader)
            transaction.respond(response)
            return
        }
        if method == .notify, receiveEventNotify(transaction) { return }
        if request.to.tag != nil {
            guard let call = call(forRequest: request) else {
                respond(transaction, 481)
                return
            }
            call.receiveInDialog(transaction)
            return
        }
        switch method {
        case .invite:
            if let uriUser = request.requestURI?.user, uriUser != account.userName, !account.isDirectIP {
                log("INVITE for " + uriUser + " accepted (single account)")
            }
            if calls.count >= account.maxCalls {
                log(
                    "INVITE from " + request.from.uri.description + " refused: 486 (call limit "
                        + String(account.maxCalls) + " reached)")
                respond(transaction, 486)
                return
            }
            if let status = refuseIncoming?(request), status >= 300 && status <= 699 {
                log("INVITE from " + request.from.uri.description + " refused: " + String(status))
                respond(transaction, status)
                return
            }
            let call = SIPCall(userAgent: self, id: takeCallID(), incoming: transaction)
            calls.append(call)
            call.startIncoming()
        case .options:
            respond(transaction, 200, capabilities: true)
        case .notify where onCheckSync != nil && SIPCheckSyncGuard.checkSync(request).isCheckSync:
            receiveCheckSync(transaction)
        case .bye, .info, .prack, .update, .notify:
            respond(transaction, 481)
        default:
            respond(transaction, 405, capabilities: true)
        }
    }

    /// A check-sync NOTIFY: refused (403, logged) unless from the registrar, challenged (401)
    /// when the account has a password, else answered 200 and handed to `onCheckSync`.
    private func receiveCheckSync(_ transaction: SIPServerTransaction) {
        let remote = transaction.peer.remote
        var registrar = locatedServerAddresses
        for server in account.servers { if let peer = server.literalPeer { registrar.append(peer.remote) } }
        let verdict = checkSyncGuard.decide(
            transaction.request, from: remote, registrar: registrar, now: reactor.now,
            makeNonce: { SIPTransactionLayer.randomToken(byteCount: 16) })
        switch verdict {
        case .refuse(let status, let why):
            log("check-sync NOTIFY from " + remote.description + " refused: " + why + " (" + String(status) + ")")
            respond(transaction, status)
        case .challenge(let value):
            log("check-sync NOTIFY from " + remote.description + ": challenged (401)")
            var response = SIPMessage.response(
                to: transaction.request, status: 401, toTag: SIPTransactionLayer.randomToken(byteCount: 4))
            SIPUserAgent.add(&response, "WWW-Authenticate", value)
            SIPUserAgent.add(&response, "Server", userAgentHeader)
            transaction.respond(response)
        case .ignore:
            log("check-sync NOTIFY from " + remote.description + ": ignored (sip.notify_reboot_enable = 2)")
            respond(transaction, 200)
        case .accept(let reboot):
            log("check-sync NOTIFY from " + remote.description + ": accepted" + (reboot ? " (reboot)" : ""))
            respond(transaction, 200)
            onCheckSync?(reboot)
        }
    }

    /// CANCEL (§9.2): 200 to the CANCEL, 487 to the INVITE if it is still pending.
    private func receiveCancel(_ transaction: SIPServerTransaction) {
        guard let invite = transaction.cancelledTransaction,
            let call = calls.first(where: { $0.inviteServer === invite })
        else {
            respond(transaction, 481)
            return
        }
        respond(transaction, 200, toTag: call.dialog?.localTag)
        call.receiveCancel()
    }

    /// The option tags the phone supports (RFC 3261 §19.2): `100rel` (RFC 3262), and `timer` with
    /// session timers on.
    var supportedExtensions: String { account.sessionTimer.enabled ? "100rel, timer" : "100rel" }

    /// The option tags of the request's Require header that the phone does not support, joined
    /// for an Unsupported header; nil when it supports all of them.
    func unsupportedExtensions(_ request: SIPMessage) -> String? {
        let missing = request.optionTags("Require").filter {
            let tag = ConfigFileText.asciiLowercase($0)
            return tag != "100rel" && !(account.sessionTimer.enabled && tag == "timer")
        }
        return missing.isEmpty ? nil : missing.joined(separator: ", ")
    }

    /// A response built by the UA for a request it does not pass to a call.
    func respond(
        _ transaction: SIPServerTransaction, _ status: Int, toTag: String? = nil, capabilities: Bool = false,
        reason: String? = nil
    ) {
        var response = SIPMessage.response(
            to: transaction.request, status: status, reason: reason,
            toTag: toTag ?? (status > 100 ? SIPTransactionLayer.randomToken(byteCount: 4) : nil))
        if capabilities || status == 405 {
            SIPUserAgent.add(&response, "Allow", SIPUserAgent.allowedMethods)
            SIPUserAgent.add(&response, "Accept", "application/sdp")
            SIPUserAgent.add(&response, "Supported", supportedExtensions)
        }
        SIPUserAgent.add(&response, "Server", userAgentHeader)
        transaction.respond(response)
    }

    /// Whether `message` belongs to this UA (for `SIPAccountRouting`): one of its transactions,
    /// or a request or a retransmitted 2xx in one of its calls' dialogs.
    public func owns(_ message: SIPMessage) -> Bool {
        if transactions.hasTransaction(for: message) { return true }
        if message.isRequest {
            if message.method == .ack { return calls.contains { $0.callID == message.callID } }
            return message.to.tag != nil && call(forRequest: message) != nil
        }
        return calls.contains { $0.callID == message.callID }
    }

    private func call(forRequest request: SIPMessage) -> SIPCall? {
        for call in calls {
            guard let dialog = call.dialog else { continue }
            if dialog.matches(callID: request.callID, localTag: request.to.tag, remoteTag: request.from.tag) {
                return call
            }
        }
        return nil
    }

    private func receiveStrayACK(_ ack: SIPMessage) {
        for call in calls where call.callID == ack.callID {
            call.receiveACK(ack)
            return
        }
    }

    /// A 2xx to an INVITE after its transaction ended (§13.2.2.4): ACK it again.
    private func receiveStrayResponse(_ response: SIPMessage) {
        guard response.cseq.method == .invite, let status = response.status, status >= 200, status < 300 else {
            return
        }
        for call in calls where call.callID == response.callID {
            call.receiveRetransmittedSuccess(response)
            return
        }
    }
}
