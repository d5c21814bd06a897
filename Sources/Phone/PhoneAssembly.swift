// The whole phone in one place: built from a board profile and the provisioning on one reactor,
// reloaded on SIGHUP, closed in order. The firmware's call mode and the tests build the same
// assembly; what happens in it reaches any number of subscribers (`Subscribers`).

import Audio
import Config
import HTTP
import Indicators
import Keys
import Media
import Net
import Reactor
import Recording
import SIP
import TLS

/// A call's state changed (after the state machine handled it).
public struct CallStateChange {
    public let call: SIPCall
    public let state: SIPCallState
}

/// How the assembly differs from the board's defaults: the firmware's command-line options, or
/// a test's fakes.
public struct PhoneAssemblyOptions {
    /// The SIP port (overrides `sip.listen_port`).
    public var listenPort: UInt16? = nil
    /// Every audio path's capture / playback instead of the board's devices (`--audio-in`, a
    /// test's `.null`).
    public var capture: PCMDeviceName? = nil
    public var playback: PCMDeviceName? = nil
    /// The terminal shows the LCD and LEDs (only when the keys come from the terminal: otherwise
    /// stdout is a log).
    public var terminalDisplay = false
    /// Every LED, LCD and recording change as one JSON line in this file.
    public var statusLogPath: String? = nil
    /// Answer incoming calls after this many nanoseconds (`--answer auto`).
    public var autoAnswerDelay: Int64? = nil
    /// For the HTTP User-Agent and the record URL's `$firmware`.
    public var firmwareVersion = "0.1.0"
    /// Host names of the record URL are looked up in /etc/hosts and DNS (off in tests).
    public var resolveHostNames = true
    /// The client TLS profile (trust store, client certificate) to share with the provisioner;
    /// used only when it matches the configuration's `security.*`, else the assembly makes its own.
    public var tlsProfile: TLSClientProfile? = nil

    public init() {}
}

/// The assembled phone: `Softphone` (SIP + media), the indicators with the board's backends and
/// the status log, the local tones, `PhoneStateMachine`, the HTTP client and the
/// `RecordingController`, wired once. Events fan out through `log`, `callStates` and
/// `registrationStates`; `reload` applies new provisioning, `close` ends it all.
public final class PhoneAssembly {
    public let reactor: Reactor
    public let board: BoardProfile
    /// The configuration in use (the last good one after a refused reload).
    public private(set) var provisioning: Provisioning
    public let softphone: Softphone
    public let indicators: IndicatorModel
    public let tones: LocalTonePlayer
    public let machine: PhoneStateMachine
    public let http: HTTPClient
    public let recording: RecordingController
    public let recordingLog: RecordingStatusLog?
    /// The DNS resolver of the SIP servers and the record URL (nil when names are not resolved).
    public let resolver: DNSResolver?
    /// The open key source (`openKeys`), if any.
    public private(set) var keySource: KeySource? = nil

    /// Every log line (the firmware prints them; the scripts match them).
    public let log: Subscribers<String>
    /// Every call state change, after the state machine and the recording controller saw it.
    public let callStates: Subscribers<CallStateChange>
    /// The account's registration (after its `registration: ...` log line).
    public let registrationStates: Subscribers<SIPRegistrationState>

    private var paths: [String]
    private var reportedUnknown: [String] = []
    private var closed = false

    /// Builds the phone on `reactor`. `log` is the first log subscriber (so the lines written
    /// while building reach it). Nothing runs until `start`.
    public init(
        reactor: Reactor, board: BoardProfile, provisioning: Provisioning, options: PhoneAssemblyOptions = .init(),
        log firstLog: ((String) -> Void)? = nil
    ) throws(SoftphoneError) {
        self.reactor = reactor
        self.board = board
        self.provisioning = provisioning
        self.paths = provisioning.paths
        let log = Subscribers<String>()
        self.log = log
        let callStates = Subscribers<CallStateChange>()
        self.callStates = callStates
        let registrationStates = Subscribers<SIPRegistrationState>()
        self.registrationStates = registrationStates
        if let firstLog { log.add(firstLog) }
        var reported: [String] = []
        PhoneAssembly.report(provisioning, reported: &reported, log: log)
        reportedUnknown = reported

        var settings = provisioning.softphone
        if let port = options.listenPort { settings.account.listenPort = port }
        settings.rtp.periodMilliseconds = board.audioPeriodMilliseconds
        settings.audioBufferPeriods = board.audioBufferPeriods
        let recordingSettings = provisioning.recording
        let network = provisioning.network
        func route(_ path: BoardProfile.AudioPath) -> AudioRoute {
            AudioRoute(
                capture: options.capture ?? PCMDeviceName(path.capture),
                playback: options.playback ?? PCMDeviceName(path.playback))
        }
        let handset = route(board.handset)
        let headset = route(board.headset)
        let speaker = route(board.speaker)

        // One TLS profile (one trust store, one client certificate) for SIP over TLS and HTTPS.
        let tls = options.tlsProfile.flatMap { settings.tls.describes($0) ? $0 : nil } ?? settings.tls.profile()
        let softphone = try Softphone(
            reactor: reactor, configuration: settings, handset: handset, headset: headset, speaker: speaker, tls: tls)
        self.softphone = softphone
        softphone.onLog = { line in log.send(line) }
        softphone.autoAnswerDelay = options.autoAnswerDelay
        // One resolver (one cache) for the SIP servers (RFC 3263) and the record URL's host.
        let resolver =
            options.resolveHostNames ? DNSResolver.system(reactor: reactor, nameservers: network.nameservers) : nil
        if let resolver {
            resolver.onLog = { line in log.send(line) }
            for agent in softphone.userAgents { agent.resolver = resolver }
            if !network.nameservers.isEmpty {
                var text = ""
                for server in network.nameservers { text += (text.isEmpty ? "" : ", ") + server.description }
                log.send("DNS: name servers " + text + " (static.network.primary_dns/secondary_dns)")
            }
        }
        self.resolver = resolver

        // The screen and LEDs: the board's backends and the status log.
        let indicators = board.indicators.makeModel()
        self.indicators = indicators
        let faults = IndicatorFaults(sink: { error in log.send("indicators: " + error.description) })
        var indicatorConfiguration = board.indicators
        if !options.terminalDisplay { indicatorConfiguration.dropTerminal() }
        for backend in indicatorConfiguration.makeBackends(
            reactor: reactor, faults: faults, terminalFD: 1, statusLogPath: options.statusLogPath)
        {
            indicators.attach(backend)
        }
        let recordingLog = options.statusLogPath.map {
            RecordingStatusLog(path: $0, clock: { reactor.now }, start: reactor.now)
        }
        self.recordingLog = recordingLog

        let tones = LocalTonePlayer(
            reactor: reactor, handset: handset, headset: headset, speaker: speaker, tones: settings.tones)
        self.tones = tones
        tones.onError = { error in log.send("audio: tone: " + error.description) }
        let account = softphone.userAgent.account
        let machine = PhoneStateMachine(
            reactor: reactor, softphone: softphone, indicators: indicators, settings: provisioning.phone, tones: tones,
            accountLabel: account.screenLabel)
        self.machine = machine
        machine.onLog = { line in log.send(line) }
        if softphone.userAgents.count > 1 {
            var views: [PhoneAccountView] = []
            for agent in softphone.userAgents {
                views.append(PhoneAccountView(number: agent.accountNumber, label: agent.account.screenLabel))
            }
            machine.setAccounts(views)
        }

        let firmware = options.firmwareVersion
        let http = HTTPClient(
            reactor: reactor,
            userAgent: HTTPClient.userAgent(firmware: firmware, model: board.model, mac: network.mac),
            timeoutNanoseconds: recordingSettings.requestTimeoutNanoseconds)
        http.resolver = resolver
        http.tls = tls
        self.http = http
        let advertised = settings.advertisedAddress
        let model = board.model
        let recording = RecordingController(
            reactor: reactor, configuration: recordingSettings,
            expandURL: { template, call in
                let local = "sip:" + account.userName + "@" + (account.serverAddress ?? advertised)
                let remote = call.remoteParty
                return RecordURLTemplate.expand(
                    template,
                    RecordURLVariables(
                        mac: network.mac, ip: advertised, model: model, firmware: firmware, local: local,
                        remote: remote.uri.description, displayLocal: account.displayName ?? "",
                        displayRemote: remote.displayName ?? "", callID: call.callID, activeUser: account.userName,
                        activeHost: account.serverAddress ?? advertised))
            },
            performGET: { url, completion in http.get(url, completion: completion) },
            serverText: { body in PhoneTextXML.text(in: body) })
        self.recording = recording
        recording.onLog = { line in log.send("recording: " + line) }
        machine.showMessages(of: recording)
        machine.showRecording(of: recording)
        if let recordingLog {
            if let failure = recordingLog.failure { log.send("recording: " + failure) }
            recordingLog.onFailure = { text in log.send("recording: " + text) }
            recording.onEvent = { event in recordingLog.write(event) }
        }
        machine.recordLineKeys = recording.recordLineKeys
        machine.onRecordKey = { line in _ = recording.recordKeyPressed(line: line) }
        machine.onActiveCall = { call in recording.setActiveCall(call) }

        // Call states: the recording controller first, then everyone else.
        callStates.add { change in recording.callStateChanged(change.call, change.state) }
        machine.onCallState = { call, state in callStates.send(CallStateChange(call: call, state: state)) }
        softphone.userAgent.onRegistrationState = { state in
            log.send("registration: " + state.description)
            registrationStates.send(state)
            machine.noteRegistration(account: 1, state)
        }
        for agent in softphone.userAgents where agent !== softphone.userAgent {
            let number = agent.accountNumber
            let prefix = Softphone.registrationPrefix(agent)
            agent.onRegistrationState = { state in
                log.send(prefix + state.description)
                machine.noteRegistration(account: number, state)
            }
        }
        machine.noteVoicemail(of: softphone.userAgents)
        // A TLS server refused (its certificate, the handshake): the reason is in the log line
        // already; the screen says it too, for a while (the registration retries on its own policy).
        for agent in softphone.userAgents {
            agent.onTLSFailure = { _, reason in machine.flash("TLS: " + reason, seconds: 10) }
        }
    }

    /// Starts registering (and listening: the sockets are open already).
    public func start() { softphone.start() }

    /// One key event, as from the keypad.
    public func handle(_ event: KeyEvent) {
        machine.handle(event)
    }

    /// Opens the board's key source as `spec` says; each event is logged (`key: ...`) and handled.
    public func openKeys(_ spec: KeySourceSpec) throws(KeysError) {
        var keys = board.keys
        keys.source = spec
        let log = self.log
        keySource = try keys.open(
            on: reactor, log: { line in log.send("keys: " + line) },
            onEnd: { log.send("keys: end of input") },
            handler: { [self] event in
                log.send("key: " + event.description)
                handle(event)
            })
    }

    /// A control line: `key NAME` (press and release), `press NAME`, `release NAME` go to the
    /// keys (`key hook` lifts the handset, `release hook` puts it down); `stats` logs
    /// `statistics`; the rest to the softphone. Returns the problem to log, nil when done.
    public func perform(controlLine line: String) -> String? {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let verb = words.first else { return nil }
        if verb == "key" || verb == "press" || verb == "release" {
            guard words.count == 2, let key = PhoneKey(name: String(words[1])) else {
                return "control: " + String(verb) + " needs a phone key name (digit5, hook, softkey1, record, ...)"
            }
            if verb != "release" { handle(KeyEvent(key: key, kind: .press, time: reactor.now)) }
            if verb == "release" || (verb == "key" && key != .hook) {
                handle(KeyEvent(key: key, kind: .release, time: reactor.now))
            }
            return nil
        }
        if verb == "stats" {
            log.send("stats: " + statistics)
            log.send("loop: " + reactor.loopStatistics)
            return nil
        }
        return softphone.perform(command: line)
    }

    /// What a soak watches for growth, as one line: live calls, the recording controller's
    /// tracked calls and timers, SIP transactions, TCP connections, reactor timers and watches.
    public var statistics: String {
        var transactions = 0
        for agent in softphone.userAgents { transactions += agent.transactions.transactionCount }
        return "calls " + String(softphone.calls.count) + ", recording calls " + String(recording.trackedCallCount)
            + ", recording timers " + String(recording.pendingTimerCount) + ", transactions "
            + String(transactions) + ", connections " + String(softphone.transport.connectionCount)
            + ", timers " + String(reactor.timerCount) + ", watches " + String(reactor.watchCount)
    }

    /// Reads the same files again (SIGHUP): a file that does not read or a bad value is refused
    /// with its file:line and the phone keeps running on the last good configuration.
    public func reload() {
        log.send("config: reloading " + PhoneAssembly.joined(paths))
        let loaded: Provisioning
        do throws(ConfigError) {
            loaded = try Provisioning(paths: paths, board: board)
        } catch {
            log.send("config: " + error.description + " (reload refused: the last good configuration stays)")
            return
        }
        apply(loaded)
    }

    /// Applies a checked configuration (a reload's, or a set the provisioner fetched): what needs
    /// a restart is named, the rest takes effect at once; a later reload reads `loaded.paths`.
    public func apply(_ loaded: Provisioning) {
        PhoneAssembly.report(loaded, reported: &reportedUnknown, log: log)
        for key in loaded.changesNeedingRestart(from: provisioning) {
            log.send("config: " + key + " changed: it applies when the phone restarts")
        }
        machine.update(settings: loaded.phone)
        recording.update(configuration: loaded.recording)
        machine.recordLineKeys = recording.recordLineKeys
        http.timeoutNanoseconds = loaded.recording.requestTimeoutNanoseconds
        provisioning = loaded
        paths = loaded.paths
        log.send("config: reloaded")
    }

    /// Hangs up and unregisters; `completion` runs when that is done.
    public func shutdown(completion: @escaping () -> Void) { softphone.shutdown(completion: completion) }

    /// Closes everything, in order (keys, recording, HTTP, state machine, calls, indicators), and
    /// drops every subscriber. The reactor is the caller's.
    public func close() {
        guard !closed else { return }
        closed = true
        keySource?.close()
        keySource = nil
        recording.close()
        recordingLog?.close()
        http.close()
        resolver?.cancelAll()
        machine.close()
        for agent in softphone.userAgents {
            agent.onRegistrationState = nil
            agent.onTLSFailure = nil
        }
        softphone.close()
        indicators.close()
        log.removeAll()
        callStates.removeAll()
        registrationStates.removeAll()
    }

    /// Unknown keys are reported once (not again on each reload), warnings on each load.
    private static func report(_ loaded: Provisioning, reported: inout [String], log: Subscribers<String>) {
        for entry in loaded.unknownKeys where !reported.contains(entry.key) {
            reported.append(entry.key)
            log.send("config: " + entry.location + ": key '" + entry.key + "' is not used by this firmware (ignored)")
        }
        for warning in loaded.warnings { log.send("config: " + warning) }
    }

    /// "a b c".
    static func joined(_ items: [String]) -> String {
        var text = ""
        for item in items { text += (text.isEmpty ? "" : " ") + item }
        return text
    }
}
