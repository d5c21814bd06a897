// The call layer of the phone: the SIP user agent joined to one RTP session and one audio device
// pair per call, with local tones, on the one reactor. Keys and screens drive it through its
// methods; it reports what happens as log lines and through `onCallState`.

import Audio
import Config
import Media
import Net
import Reactor
import SIP
import TLS
import Voice

/// Why the phone cannot start (a message for its log and exit status).
public struct SoftphoneError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One call's media: its RTP session (RFC 3550) and the audio device that feeds and plays it.
public final class CallMedia {
    public let session: RTPSession
    public let audio: CallAudio

    init(session: RTPSession, audio: CallAudio) {
        self.session = session
        self.audio = audio
    }

    func close() {
        audio.close()
        session.onDigit = nil
        session.onLog = nil
        session.close()
    }
}

/// The phone's calls: a `SIPUserAgent` on its own UDP/TCP transport (RFC 3261), an
/// `RTPSession` + `CallAudio` per call opened when the call first needs an SDP address, the
/// ringback and ring tones (ITU-T E.180), DTMF (RFC 4733), and a log line per event.
///
/// Everything runs on the reactor. The user agent, the calls' media and this object hold each
/// other: `close()` breaks the cycles.
public final class Softphone {
    public let reactor: Reactor
    public let configuration: SoftphoneConfiguration
    public let transport: SIPTransportLayer
    /// Account 1's user agent (the default account).
    public let userAgent: SIPUserAgent
    /// Every account's user agent, account 1 first (`accountNumber` = N of `account.N`), all on
    /// `transport`; messages from the network go to theirs by `SIPAccountRouting`.
    public let userAgents: [SIPUserAgent]
    /// Media by call id, for the calls that have opened theirs.
    public private(set) var media: [Int: CallMedia] = [:]
    /// Answer incoming calls by themselves after this delay (ns); nil leaves them ringing.
    public var autoAnswerDelay: Int64? = nil
    /// Every log line (`call 1: connected`, `registration: registered ...`).
    public var onLog: ((String) -> Void)?
    /// Every call state change, after the phone's own handling.
    public var onCallState: ((SIPCall, SIPCallState) -> Void)?
    /// A security warning for the user about a call (SDES keys over a plain transport), once per call.
    public var onSecurityWarning: ((SIPCall, String) -> Void)?
    /// The host written in Via, Contact and SDP: `sip.advertised_address` at first, then what
    /// network changes give (`networkMonitor`).
    public private(set) var advertisedAddress: String
    /// Follows the SIP address through network changes (netlink), while there is one.
    public private(set) var networkMonitor: NetworkMonitor?

    private let routes: [AudioRoute]
    private let clock: AudioClock
    private var closed = false

    /// Opens SIP on the configured address and port (`account.listenPort`, 0 = any) and
    /// prepares the user agent; `start()` begins registering. `routes` are the board's audio
    /// devices for handset, headset and speaker; `timers` the RFC 3261 T1/T2/T4 (tests shorten them);
    /// `tls` the client TLS profile shared with HTTPS (nil: one of its own from `configuration.tls`).
    public init(
        reactor: Reactor, configuration: SoftphoneConfiguration, handset: AudioRoute, headset: AudioRoute,
        speaker: AudioRoute, clock: AudioClock = .automatic, timers: SIPTimerValues = SIPTimerValues(),
        tls: TLSClientProfile? = nil
    ) throws(SoftphoneError) {
        self.reactor = reactor
        self.configuration = configuration
        routes = [handset, headset, speaker]
        self.clock = clock
        audioPath = configuration.audioPath
        advertisedAddress = configuration.advertisedAddress
        guard let address = SIPSocketAddress(literal: configuration.listenAddress, port: configuration.account.listenPort)
        else {
            throw SoftphoneError("sip: listen address '" + configuration.listenAddress + "' is not an IP address")
        }
        transport = SIPTransportLayer(
            reactor: reactor,
            configuration: SIPTransportConfiguration(
                address: address, tcp: true, advertisedHost: configuration.advertisedAddress))
        // SIP over TLS: sessions from the TLS module, checked per `security.*` (the profile HTTPS shares).
        let engine = SIPTLSEngine(profile: tls ?? configuration.tls.profile())
        transport.makeTLSSession = { remote, name in engine.start(remote, serverName: name) }
        do throws(SIPTransportError) {
            try transport.start()
        } catch {
            throw SoftphoneError("sip: cannot listen on " + address.description + ": " + error.description)
        }
        let advertised = configuration.advertisedAddress
        var agents: [SIPUserAgent] = []
        for var account in configuration.accounts {
            account.listenPort = transport.sentByPort(for: .udp)
            let agent = SIPUserAgent(
                reactor: reactor, account: account, transport: transport, timers: timers,
                mediaAddress: { _ in (advertised, 0) })
            agent.accountNumber = account.number
            agents.append(agent)
        }
        userAgent = agents[0]
        userAgents = agents
        for agent in agents {
            agent.mediaAddress = { [self] call in (advertisedAddress, mediaPort(for: call)) }
            agent.onCallState = { [self] call, state in callStateChanged(call, state) }
            agent.onMediaNegotiated = { [self] call, audio in mediaNegotiated(call, audio) }
            agent.onMediaStopped = { [self] call in media[call.id]?.session.stop() }
            agent.onSecurityWarning = { [self] call, text in onSecurityWarning?(call, text) }
            let registrationLine = agent.accountNumber == 1 ? "registration: " : Softphone.registrationPrefix(agent)
            agent.onRegistrationState = { [self] state in log(registrationLine + state.description) }
            // The user agent logs call state changes as `call N: <state>`; other lines get "sip: ".
            agent.onLog = { [self] line in log(line.hasPrefix("call ") ? line : "sip: " + line) }
            agent.onInfo = { [self] call, info in
                log("call " + String(call.id) + ": INFO received (" + String(info.body.count) + " bytes)")
            }
        }
        guard agents.count > 1 else { return }
        // Several accounts: one numbering of calls, and the transport's messages to their account.
        for agent in agents {
            agent.callNumbers = { [self] in
                defer { nextCallNumber += 1 }
                return nextCallNumber
            }
        }
        transport.onMessage = { [self] message, peer in
            userAgents[SIPAccountRouting.index(for: message, among: userAgents)].receive(message, from: peer)
        }
        transport.onError = { [self] peer, error in
            for agent in userAgents { agent.transportFailed(peer, error) }
        }
        // RFC 5626 STUN keep-alive responses: to the account whose binding request it answers.
        transport.onSTUN = { [self] bytes, peer in
            for agent in userAgents where agent.receiveSTUN(bytes, from: peer) { return }
        }
    }

    /// The next call's number when several accounts share the numbering.
    private var nextCallNumber = 1

    /// `registration (account 2): ` for account 2's lines.
    public static func registrationPrefix(_ agent: SIPUserAgent) -> String {
        "registration (account " + String(agent.accountNumber) + "): "
    }

    /// The user agent of account `number`; account 1's when there is no such account.
    public func userAgent(forAccount number: Int) -> SIPUserAgent {
        for agent in userAgents where agent.accountNumber == number { return agent }
        return userAgent
    }

    /// The SIP listening addresses, for the log.
    public var listeningDescription: String {
        var text = ""
        if let udp = transport.localAddress(for: .udp) { text += "udp " + udp.description }
        if let tcp = transport.localAddress(for: .tcp) { text += (text.isEmpty ? "" : ", ") + "tcp " + tcp.description }
        return text
    }

    /// Starts registering (when a server is configured).
    public func start() {
        if let warning = configuration.advertisedAddressWarning { log("sip: warning: " + warning) }
        let tls = userAgents.contains { agent in agent.account.servers.contains { $0.transport == .tls } }
        if tls, let warning = configuration.tls.warning { log("sip: warning: " + warning) }
        log("sip: listening on " + listeningDescription + " as " + userAgent.account.userName)
        for agent in userAgents where agent !== userAgent {
            log(
                "sip: account " + String(agent.accountNumber) + ": " + agent.account.userName + "@"
                    + (agent.account.serverAddress ?? "-"))
        }
        if configuration.watchNetwork { startNetworkWatch() }
        for agent in userAgents { agent.start() }
    }

    // MARK: network changes

    /// Opens the netlink watch (`sip.network_watch`). A phone bound to one address
    /// (`sip.listen_address`) cannot follow another: only the any-address is followed.
    private func startNetworkWatch() {
        guard let listen = SIPSocketAddress(literal: configuration.listenAddress, port: 0), listen.isAnyAddress else {
            log("NET sip.listen_address is " + configuration.listenAddress + ": not following address changes")
            return
        }
        guard let monitor = watchNetwork() else { return }
        do throws(SocketError) {
            try monitor.start()
        } catch {
            log("NET cannot watch the network: " + error.description)
            monitor.close()
            networkMonitor = nil
        }
    }

    /// A network monitor for the advertised address whose decisions move the phone (nil when
    /// that address is not an IP literal); `start()` opens its socket, tests feed it recorded
    /// netlink datagrams instead.
    @discardableResult
    public func watchNetwork(debounce: Int64 = 1_000_000_000) -> NetworkMonitor? {
        guard let current = SIPSocketAddress(literal: advertisedAddress, port: 0) else { return nil }
        networkMonitor?.close()
        let monitor = NetworkMonitor(reactor: reactor, current: current, debounce: debounce)
        monitor.onLog = { [self] line in log(line) }
        monitor.onDecision = { [self] decision in networkChanged(decision) }
        networkMonitor = monitor
        return monitor
    }

    private func networkChanged(_ decision: NetworkDecision) {
        switch decision {
        case .unchanged:
            return
        case .changed(let from, let to):
            log("NET address " + (from?.plainHostText ?? "none") + " -> " + to.plainHostText)
            advertisedAddress = to.plainHostText
            for agent in userAgents { agent.changeLocalHost(advertisedAddress) }
        case .lost(let address):
            log("NET lost " + address.plainHostText + ": no usable address")
            for agent in userAgents { agent.networkLost() }
        }
    }

    // MARK: actions

    /// Live calls of every account, oldest first.
    public var calls: [SIPCall] {
        guard userAgents.count > 1 else { return userAgent.calls }
        var all: [SIPCall] = []
        for agent in userAgents {
            for call in agent.calls {
                var at = all.count
                while at > 0 && all[at - 1].id > call.id { at -= 1 }
                all.insert(call, at: at)
            }
        }
        return all
    }

    /// The newest live call.
    public var currentCall: SIPCall? { calls.last }

    /// Places a call to a SIP URI (`sip:1002@127.0.0.1:5062`) or, with a server, a number, on
    /// account `account` (`account.N`; account 1, the default, when there is no such account).
    @discardableResult
    public func dial(_ target: String, account: Int = 1) throws(SIPError) -> SIPCall {
        let agent = userAgent(forAccount: account)
        if agent.accountNumber != account {
            log("call: account " + String(account) + " is not enabled: dialing on account 1")
        }
        log("call: dialing " + target + (agent === userAgent ? "" : " on account " + String(agent.accountNumber)))
        return try agent.call(target)
    }

    /// Answers a ringing incoming call; false when it is not ringing.
    @discardableResult
    public func answer(_ call: SIPCall) -> Bool {
        let answered = call.answer()
        if !answered { log("call " + String(call.id) + ": cannot answer (" + call.state.description + ")") }
        return answered
    }

    /// Sends RFC 4733 digits on the call's stream; returns how many were queued.
    @discardableResult
    public func sendDigits(_ digits: String, on call: SIPCall) -> Int {
        guard let session = media[call.id]?.session, session.isRunning else {
            log("call " + String(call.id) + ": no media to send DTMF on")
            return 0
        }
        var queued = 0
        var text = ""
        for byte in digits.utf8 where session.sendDigit(byte) {
            queued += 1
            text.append(Character(Unicode.Scalar(byte)))
        }
        log("call " + String(call.id) + ": dtmf sent " + (text.isEmpty ? "(none)" : text))
        return queued
    }

    /// Whether a call has its media (RTP session and audio) open.
    public func hasMedia(_ call: SIPCall) -> Bool { media[call.id] != nil }

    /// Whether a call's microphone is muted (false for a call without media).
    public func isMuted(_ call: SIPCall) -> Bool { media[call.id]?.audio.isMuted ?? false }

    /// Mutes or unmutes the microphone of a call (silence is sent while muted).
    public func setMuted(_ muted: Bool, on call: SIPCall) {
        guard let audio = media[call.id]?.audio else { return }
        audio.isMuted = muted
        log("call " + String(call.id) + ": " + (muted ? "muted" : "unmuted"))
    }

    /// Hangs every call up and unregisters; `completion` runs when done (then `close()`).
    public func shutdown(completion: @escaping () -> Void) {
        var pending = userAgents.count
        for agent in userAgents {
            agent.shutdown {
                pending -= 1
                if pending == 0 { completion() }
            }
        }
    }

    /// Releases sockets, devices, timers and callbacks.
    public func close() {
        guard !closed else { return }
        closed = true
        for (_, callMedia) in media { callMedia.close() }
        media.removeAll()
        waitingToneOn = nil
        networkMonitor?.close()
        networkMonitor = nil
        for agent in userAgents {
            agent.callNumbers = nil
            agent.close()
        }
        transport.makeTLSSession = nil
        transport.close()
        onLog = nil
        onCallState = nil
        onSecurityWarning = nil
    }

    // MARK: media per call

    private func mediaPort(for call: SIPCall) -> UInt16 {
        if let existing = media[call.id] { return existing.session.localAddress.port }
        return openMedia(for: call)?.session.localAddress.port ?? 0
    }

    private func openMedia(for call: SIPCall) -> CallMedia? {
        if let existing = media[call.id] { return existing }
        let session: RTPSession
        do throws(MediaError) {
            session = try RTPSession(reactor: reactor, configuration: configuration.rtp)
        } catch {
            log("call " + String(call.id) + ": cannot open RTP: " + error.description)
            return nil
        }
        let audio = CallAudio(
            reactor: reactor, session: session, handset: routes[0], headset: routes[1], speaker: routes[2],
            path: configuration.audioPath, periodMilliseconds: configuration.rtp.periodMilliseconds,
            bufferPeriods: configuration.audioBufferPeriods, clock: clock, tones: configuration.tones)
        let id = call.id
        session.onDigit = { [self] digit in log("call " + String(id) + ": dtmf received " + digit.event.description) }
        session.onLog = { [self] line in log("call " + String(id) + ": rtp: " + line) }
        audio.onError = { [self] error in log("call " + String(id) + ": audio: " + error.description) }
        audio.onLog = { [self] line in log("call " + String(id) + ": audio " + line) }
        audio.volume = volume
        let callMedia = CallMedia(session: session, audio: audio)
        media[id] = callMedia
        return callMedia
    }

    private func releaseMedia(of call: SIPCall) {
        guard let callMedia = media.removeValue(forKey: call.id) else { return }
        if waitingToneOn === callMedia { waitingToneOn = nil }
        if callMedia.session.isRunning || callMedia.session.statistics.packetsSent > 0 {
            log("call " + String(call.id) + ": stats " + Softphone.statisticsLine(callMedia.session.statistics))
        }
        callMedia.close()
    }

    private func startAudio(_ callMedia: CallMedia, path: AudioPath, call: SIPCall) {
        let audio = callMedia.audio
        do throws(AudioError) {
            if audio.device == nil {
                if audio.path != path { try audio.switchPath(to: path) }
                try audio.start()
            } else if audio.path != path {
                try audio.switchPath(to: path)
            }
        } catch {
            log("call " + String(call.id) + ": audio: " + error.description)
        }
    }

    /// Gives the audio devices to `call` on `path`: every other call's device is closed (one
    /// device pair is open at a time, as on a phone whose handset, headset and speaker share a
    /// codec chip), this call's is opened or moved. The other calls keep their RTP sessions.
    public func focus(_ call: SIPCall, path: AudioPath) {
        focusedCallID = call.id
        audioPath = path
        for (id, other) in media where id != call.id && other.audio.device != nil {
            other.audio.stopTone()
            other.audio.stop()
        }
        if let callMedia = media[call.id], callMedia.session.isRunning || callMedia.audio.isPlayingTone {
            startAudio(callMedia, path: path, call: call)
        }
    }

    /// Moves the focused call's audio to `path` (hook, speaker and headset keys).
    public func switchAudio(to path: AudioPath) {
        audioPath = path
        guard let id = focusedCallID, let callMedia = media[id], callMedia.audio.device != nil else { return }
        do throws(AudioError) {
            try callMedia.audio.switchPath(to: path)
        } catch {
            log("call " + String(id) + ": audio: " + error.description)
        }
    }

    /// The playback volume step (0...15, 8 = unity) of every call's audio.
    public var volume = CallAudio.unityVolume {
        didSet { for (_, callMedia) in media { callMedia.audio.volume = volume } }
    }

    /// The call whose audio is open (set by `focus`, else the newest call that opened it).
    public private(set) var focusedCallID: Int? = nil
    /// Where the focused call's audio goes.
    public private(set) var audioPath: AudioPath = .handset

    /// The call whose device is open, if any other than `call`.
    private func otherCallWithDevice(than call: SIPCall) -> CallMedia? {
        for (id, other) in media where id != call.id && other.audio.device != nil { return other }
        return nil
    }

    private func mediaNegotiated(_ call: SIPCall, _ negotiated: SDPNegotiatedAudio) {
        guard let callMedia = openMedia(for: call) else { return }
        do throws(MediaError) {
            try callMedia.session.update(negotiated)
        } catch {
            log("call " + String(call.id) + ": media cannot start: " + error.description)
            return
        }
        log("call " + String(call.id) + ": media " + Softphone.mediaLine(negotiated, local: callMedia.session))
        callMedia.audio.stopTone()
        // The devices go to this call unless another call holds them and this one is not focused.
        if focusedCallID == call.id || otherCallWithDevice(than: call) == nil {
            focusedCallID = call.id
            startAudio(callMedia, path: audioPath, call: call)
        }
    }

    private func callStateChanged(_ call: SIPCall, _ state: SIPCallState) {
        let id = String(call.id)
        switch state {
        case .incoming:
            var line = "call " + id + ": incoming from " + call.remoteParty.description
            if userAgents.count > 1 {
                let account = userAgent(forAccount: call.accountNumber).account
                line += " on account " + String(call.accountNumber) + " (" + account.screenLabel + ")"
            }
            log(line)
            if let busy = otherCallWithDevice(than: call) {
                // Call waiting: a beep over the call in progress instead of the ringer.
                busy.audio.playTone(.callWaiting)
                waitingToneOn = busy
            } else if let callMedia = openMedia(for: call) {
                startAudio(callMedia, path: .speaker, call: call)
                callMedia.audio.playTone(.ring)
            }
            if let delay = autoAnswerDelay {
                reactor.after(delay) { [self] in
                    if call.state == .incoming { answer(call) }
                }
            }
        case .ringing(let early):
            if !early || call.negotiatedAudio == nil, let callMedia = openMedia(for: call),
                !callMedia.session.isRunning, otherCallWithDevice(than: call) == nil
            {
                focusedCallID = call.id
                startAudio(callMedia, path: audioPath, call: call)
                callMedia.audio.playTone(.ringback)
            }
        case .connected:
            if let callMedia = media[call.id], callMedia.audio.device == nil, callMedia.session.isRunning,
                focusedCallID == call.id || otherCallWithDevice(than: call) == nil
            {
                focusedCallID = call.id
                startAudio(callMedia, path: audioPath, call: call)
            }
        case .ended:
            releaseMedia(of: call)
            if focusedCallID == call.id { focusedCallID = nil }
        default: break
        }
        if state != .incoming, let waiting = waitingToneOn, !calls.contains(where: { $0.state == .incoming }) {
            waiting.audio.stopTone()
            waitingToneOn = nil
        }
        onCallState?(call, state)
    }

    private var waitingToneOn: CallMedia? = nil

    private func log(_ line: String) { onLog?(line) }

    // MARK: log lines

    static func mediaLine(_ negotiated: SDPNegotiatedAudio, local session: RTPSession) -> String {
        let codec = negotiated.sendCodec
        var line = codec.encodingName + "/" + String(codec.rtpClockRate) + " pt " + String(negotiated.sendPayloadType)
        line += " ptime " + String(negotiated.ptime)
        line += " local " + session.localAddress.description
        line += " remote " + negotiated.remoteConnection.address + ":" + String(negotiated.remotePort)
        line += " " + negotiated.localDirection.description
        if let event = negotiated.sendTelephoneEventPayloadType { line += " telephone-event " + String(event) }
        if let srtp = negotiated.srtp { line += " srtp " + srtp.suite.name }
        return line
    }

    /// `sent=N received=N lost=N ... receive_to_playback_p99_ms=X`, one line for scripts.
    public static func statisticsLine(_ s: RTPSessionStatistics) -> String {
        var line = "sent=" + String(s.packetsSent) + " received=" + String(s.packetsReceived)
        line += " lost=" + String(s.lost) + " late=" + String(s.lateOrDiscarded)
        line += " concealed=" + String(s.concealed) + " malformed=" + String(s.malformed)
        line += " foreign=" + String(s.foreign)
        line += " dtmf_sent=" + String(s.digitsSent) + " dtmf_received=" + String(s.digitsReceived)
        line += " rtcp_sent=" + String(s.rtcpSent) + " rtcp_received=" + String(s.rtcpReceived)
        line += " jitter_ms=" + decimal(s.jitterMicroseconds, per: 1000)
        line += " rtt_ms=" + (s.roundTripMicroseconds.map { decimal($0, per: 1000) } ?? "-")
        line += " capture_to_send_p50_ms=" + decimal(s.captureToSend.p50Nanoseconds, per: 1_000_000)
        line += " capture_to_send_p99_ms=" + decimal(s.captureToSend.p99Nanoseconds, per: 1_000_000)
        line += " receive_to_playback_p50_ms=" + decimal(s.receiveToPlayback.p50Nanoseconds, per: 1_000_000)
        line += " receive_to_playback_p99_ms=" + decimal(s.receiveToPlayback.p99Nanoseconds, per: 1_000_000)
        line += " xruns=" + String(s.xruns)
        line += " srtp_auth_failures=" + String(s.srtpAuthFailures) + " srtp_replays=" + String(s.srtpReplays)
        return line
    }

    /// `value / per` with two decimals ("12.34"), no Foundation.
    static func decimal(_ value: Int64, per unit: Int64) -> String {
        let negative = value < 0
        let magnitude = negative ? -value : value
        let hundredths = (magnitude * 100 + unit / 2) / unit
        let fraction = hundredths % 100
        return (negative ? "-" : "") + String(hundredths / 100) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }
}
