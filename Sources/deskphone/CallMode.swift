// `deskphone --config FILE ...`: the phone. One reactor runs the account and its calls
// (`Softphone`), the keypad and screen state machine (`PhoneStateMachine`) with the board's
// key source and LED/LCD backends (and the status log), the recording controller, and for
// scripts `--dial`, `--answer auto` and the control FIFO. Every event is one line on stdout
// (or `--log FILE`).

import Audio
import CLinux
import Config
import Indicators
import Keys
import Phone
import Reactor
import Recording
import SIP

/// The call-mode options (see `usage()`).
struct CallOptions {
    var configs: [String] = []
    var dial: String? = nil
    var autoAnswer = false
    var answerDelayMilliseconds: Int64 = 0
    var hangupAfter: Int64? = nil
    var exitAfterCall = false
    var control: String? = nil
    var audioIn: String? = nil
    var audioOut: String? = nil
    var listenPort: Int? = nil
    var keys: String? = nil
    var statusLog: String? = nil
    var log: String? = nil

    var isCallMode: Bool { !configs.isEmpty || dial != nil || autoAnswer || control != nil || keys != nil }

    /// "2", "2.5", "0.25" seconds as nanoseconds; nil when malformed or negative.
    static func seconds(_ text: String) -> Int64? {
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var scale: Int64 = 1_000_000_000
        var inFraction = false
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") && !inFraction {
                inFraction = true
                continue
            }
            guard byte >= 48 && byte <= 57 else { return nil }
            digits += 1
            let digit = Int64(byte - 48)
            if inFraction {
                scale /= 10
                fraction += digit * scale
            } else {
                whole = whole * 10 + digit
                if whole > 1_000_000 { return nil }
            }
        }
        guard digits > 0 else { return nil }
        return whole * 1_000_000_000 + fraction
    }
}

/// Where log lines go: stdout, or the `--log` file.
nonisolated(unsafe) var logFD: Int32 = 1

/// Writes one log line at once (no stdio buffering: scripts follow it live).
func emit(_ line: String, to fd: Int32 = logFD) {
    var bytes = Array(line.utf8)
    bytes.append(10)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { cl_write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}

/// Writes an error line to stderr.
func emitError(_ line: String) { emit("deskphone: " + line, to: 2) }

/// Runs the phone until SIGINT/SIGTERM, `quit`, or the first call's end with
/// `--exit-after-call`. Returns the exit status.
func runCallMode(boardPath: String, options: CallOptions) -> Int32 {
    if let path = options.log {
        let fd = cl_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 {
            emitError("--log " + path + ": cannot open (errno " + String(-fd) + ")")
            return 2
        }
        logFD = fd
    }
    var keySpec: KeySourceSpec? = nil
    if let keys = options.keys {
        guard let parsed = KeySourceSpec(parsing: keys) else {
            emitError("--keys '" + keys + "': expected " + KeySourceSpec.forms)
            return 2
        }
        keySpec = parsed
    }
    let board: BoardProfile
    let settings: SoftphoneConfiguration
    let phoneSettings: PhoneSettings
    let recordingSettings: RecordingConfiguration
    let network: NetworkIdentity
    do throws(ConfigError) {
        board = try BoardProfile.load(path: boardPath)
        var files: [ConfigFile] = []
        for path in options.configs { files.append(try ConfigFile.load(path: path)) }
        let merged = ConfigFile(merging: files)
        var parsed = try SoftphoneConfiguration(merged)
        if let port = options.listenPort { parsed.account.listenPort = UInt16(port) }
        settings = parsed
        phoneSettings = try PhoneSettings(merged)
        recordingSettings = try RecordingConfiguration(merged, hasRecordKey: board.hasRecordKey, lineKeyCount: board.lineKeys)
        network = try NetworkIdentity(merged)
        let known = SoftphoneConfiguration.knownPrefixes + PhoneSettings.knownPrefixes
            + RecordingConfiguration.knownPrefixes + NetworkIdentity.knownPrefixes
        for entry in merged.entries where !known.contains(where: { entry.key.hasPrefix($0) }) {
            emit("config: " + entry.location + ": key '" + entry.key + "' is not used by this firmware (ignored)")
        }
        for warning in recordingSettings.warnings { emit("config: " + warning) }
    } catch {
        emitError(error.description)
        return 2
    }

    func route(_ path: BoardProfile.AudioPath) -> AudioRoute {
        let capture = options.audioIn.map { PCMDeviceName.rawFile(reading: $0) } ?? PCMDeviceName(path.capture)
        let playback = options.audioOut.map { PCMDeviceName.rawFile(writing: $0) } ?? PCMDeviceName(path.playback)
        return AudioRoute(capture: capture, playback: playback)
    }

    let reactor: Reactor
    do throws(ReactorError) {
        reactor = try Reactor()
    } catch {
        emitError("reactor: " + error.description)
        return 1
    }
    let phone: Softphone
    do throws(SoftphoneError) {
        phone = try Softphone(
            reactor: reactor, configuration: settings, handset: route(board.handset), headset: route(board.headset),
            speaker: route(board.speaker))
    } catch {
        emitError(error.description)
        reactor.close()
        return 2
    }
    phone.onLog = { line in emit(line) }
    if options.autoAnswer { phone.autoAnswerDelay = options.answerDelayMilliseconds * 1_000_000 }

    // The screen and LEDs: the board's backends (the terminal ones only when the keys come from
    // the terminal, so scripts' stdout stays a log), and the status log.
    let indicators = board.indicators.makeModel()
    let faults = IndicatorFaults(sink: { error in emit("indicators: " + error.description) })
    var indicatorConfiguration = board.indicators
    if keySpec != .stdin { indicatorConfiguration.dropTerminal() }
    for backend in indicatorConfiguration.makeBackends(
        reactor: reactor, faults: faults, terminalFD: 1, statusLogPath: options.statusLog)
    {
        indicators.attach(backend)
    }
    let recordingLog = options.statusLog.map { RecordingStatusLog(path: $0, clock: { reactor.now }, start: reactor.now) }

    let tones = LocalTonePlayer(
        reactor: reactor, handset: route(board.handset), headset: route(board.headset), speaker: route(board.speaker),
        tones: settings.tones)
    tones.onError = { error in emit("audio: tone: " + error.description) }
    let account = phone.userAgent.account
    let machine = PhoneStateMachine(
        reactor: reactor, softphone: phone, indicators: indicators, settings: phoneSettings, tones: tones,
        accountLabel: account.displayName ?? account.userName)
    machine.onLog = { line in emit(line) }

    let http = HTTPClient(
        reactor: reactor,
        userAgent: HTTPClient.userAgent(firmware: firmwareVersion, model: board.model, mac: network.mac),
        timeoutNanoseconds: recordingSettings.requestTimeoutNanoseconds)
    http.resolver = HTTPHostResolver.system(reactor: reactor)
    let advertised = settings.advertisedAddress
    let recording = RecordingController(
        reactor: reactor, configuration: recordingSettings, indicators: indicators, messageLine: nil,
        expandURL: { template, call in
            let local = "sip:" + account.userName + "@" + (account.serverAddress ?? advertised)
            let remote = call.remoteParty
            return RecordURLTemplate.expand(
                template,
                RecordURLVariables(
                    mac: network.mac, ip: advertised, model: board.model, firmware: firmwareVersion, local: local,
                    remote: remote.uri.description, displayLocal: account.displayName ?? "",
                    displayRemote: remote.displayName ?? "", callID: call.callID, activeUser: account.userName,
                    activeHost: account.serverAddress ?? advertised))
        },
        performGET: { url, completion in http.get(url, completion: completion) },
        serverText: { body in PhoneTextXML.text(in: body) })
    recording.onLog = { line in emit("recording: " + line) }
    recording.onMessage = { text in machine.flash(text) }
    if let recordingLog { recording.onEvent = { event in recordingLog.write(event) } }
    machine.recordLineKeys = recording.recordLineKeys
    machine.onRecordKey = { line in _ = recording.recordKeyPressed(line: line) }
    machine.onActiveCall = { call in recording.setActiveCall(call) }

    var stopping = false
    func finish() {
        guard !stopping else { return }
        stopping = true
        // Hang up and unregister, then leave the loop (at most 2 s for the registrar).
        let deadline = reactor.after(2_000_000_000) { reactor.stop() }
        phone.shutdown {
            // A short grace lets the far end's answer to our BYE arrive before the sockets close.
            reactor.cancel(deadline)
            reactor.after(200_000_000) { reactor.stop() }
        }
    }

    var dialed = false
    func dialOnce() {
        guard !dialed, let target = options.dial else { return }
        dialed = true
        do throws(SIPError) {
            try phone.dial(target)
        } catch {
            emit("call: cannot dial " + target + ": " + error.description)
            if options.exitAfterCall { finish() }
        }
    }

    machine.onCallState = { call, state in
        recording.callStateChanged(call, state)
        switch state {
        case .connected:
            if let after = options.hangupAfter {
                reactor.after(after) { if call.state.isEstablished { call.hangUp() } }
            }
        case .ended:
            if options.exitAfterCall { finish() }
        default: break
        }
    }
    phone.userAgent.onRegistrationState = { state in
        emit("registration: " + state.description)
        if case .registered = state { dialOnce() }
    }

    var keySource: KeySource? = nil
    if let keySpec {
        var keys = board.keys
        keys.source = keySpec
        do throws(KeysError) {
            keySource = try keys.open(
                on: reactor, log: { line in emit("keys: " + line) },
                onEnd: { emit("keys: end of input") },
                handler: { event in
                    emit("key: " + event.description)
                    machine.handle(event)
                })
        } catch {
            emitError("keys: " + error.description)
            return 2
        }
    }

    var control: ControlChannel? = nil
    if let path = options.control {
        do throws(SoftphoneError) {
            control = try ControlChannel(
                reactor: reactor, path: path,
                onLine: { line in
                    if line.isEmpty { return }
                    emit("control: " + line)
                    if line == "quit" {
                        finish()
                    } else if let problem = perform(line, machine: machine, phone: phone, reactor: reactor) {
                        emit(problem)
                    }
                })
        } catch {
            emitError(error.description)
            return 2
        }
    }

    do throws(ReactorError) {
        try reactor.onSignal(SIGINT) { _ in finish() }
        try reactor.onSignal(SIGTERM) { _ in finish() }
    } catch {
        emitError("signals: " + error.description)
    }

    phone.start()
    if phone.userAgent.registration == nil {
        reactor.runSoon { dialOnce() }
    }

    var status: Int32 = 0
    do throws(ReactorError) {
        try reactor.run()
    } catch {
        emitError("reactor: " + error.description)
        status = 1
    }
    keySource?.close()
    control?.close()
    recording.close()
    recordingLog?.close()
    http.close()
    machine.close()
    phone.close()
    indicators.close()
    reactor.close()
    emit("deskphone: exit")
    if logFD != 1 { _ = cl_close(logFD) }
    return status
}

/// A control line: `key NAME` (press and release), `press NAME`, `release NAME` go to the keys
/// (`key hook` lifts the handset, `release hook` puts it down); the rest to the softphone.
func perform(_ line: String, machine: PhoneStateMachine, phone: Softphone, reactor: Reactor) -> String? {
    let words = line.split(separator: " ", omittingEmptySubsequences: true)
    guard let verb = words.first else { return nil }
    if verb == "key" || verb == "press" || verb == "release" {
        guard words.count == 2, let key = PhoneKey(name: String(words[1])) else {
            return "control: " + String(verb) + " needs a phone key name (digit5, hook, softkey1, record, ...)"
        }
        if verb != "release" { machine.handle(KeyEvent(key: key, kind: .press, time: reactor.now)) }
        if verb == "release" || (verb == "key" && key != .hook) {
            machine.handle(KeyEvent(key: key, kind: .release, time: reactor.now))
        }
        return nil
    }
    return phone.perform(command: line)
}

/// The phone's network identity for URL record and the User-Agent (`network.mac`).
struct NetworkIdentity {
    var mac = "000000000000"
    static let knownPrefixes = ["network."]

    init(_ file: ConfigFile) throws(ConfigError) {
        if let text = file.string("network.mac"), !text.isEmpty {
            var hex = ""
            for byte in text.utf8 where byte != UInt8(ascii: ":") && byte != UInt8(ascii: "-") {
                let isHex = (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 70) || (byte >= 97 && byte <= 102)
                guard isHex else { throw file.error("network.mac", "network.mac = '" + text + "': expected 12 hex digits") }
                hex.append(Character(Unicode.Scalar(byte >= 97 ? byte - 32 : byte)))
            }
            guard hex.utf8.count == 12 else {
                throw file.error("network.mac", "network.mac = '" + text + "': expected 12 hex digits")
            }
            mac = hex
        }
    }
}
