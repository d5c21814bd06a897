// `deskphone --config FILE ...`: the phone. One reactor runs the account and its calls
// (`Softphone`), the keypad and screen state machine (`PhoneStateMachine`) with the board's
// key source and LED/LCD backends (and the status log), the recording controller, and for
// scripts `--dial`, `--answer auto` and the control FIFO. Every event is one line on stdout
// (or `--log FILE`).

import Audio
import CLinux
import Config
import HTTP
import Indicators
import Keys
import Net
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
    var provisioning: Provisioning
    do throws(ConfigError) {
        board = try BoardProfile.load(path: boardPath)
        provisioning = try Provisioning(paths: options.configs, board: board)
    } catch {
        emitError(error.description)
        return 2
    }
    // Unknown keys are reported once (not again on each reload), warnings on each load.
    var reportedUnknown: [String] = []
    func report(_ loaded: Provisioning) {
        for entry in loaded.unknownKeys where !reportedUnknown.contains(entry.key) {
            reportedUnknown.append(entry.key)
            emit("config: " + entry.location + ": key '" + entry.key + "' is not used by this firmware (ignored)")
        }
        for warning in loaded.warnings { emit("config: " + warning) }
    }
    report(provisioning)
    var settings = provisioning.softphone
    if let port = options.listenPort { settings.account.listenPort = UInt16(port) }
    let recordingSettings = provisioning.recording
    let network = provisioning.network

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
        reactor: reactor, softphone: phone, indicators: indicators, settings: provisioning.phone, tones: tones,
        accountLabel: account.displayName ?? account.userName)
    machine.onLog = { line in emit(line) }

    let http = HTTPClient(
        reactor: reactor,
        userAgent: HTTPClient.userAgent(firmware: firmwareVersion, model: board.model, mac: network.mac),
        timeoutNanoseconds: recordingSettings.requestTimeoutNanoseconds)
    http.resolver = DNSResolver.system(reactor: reactor)
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
    machine.showMessages(of: recording)
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

    // SIGHUP reloads the same files: a file that does not read or a bad value is refused with
    // its file:line and the phone keeps running on the last good configuration.
    func reload() {
        emit("config: reloading " + joined(options.configs))
        let loaded: Provisioning
        do throws(ConfigError) {
            loaded = try Provisioning(paths: options.configs, board: board)
        } catch {
            emit("config: " + error.description + " (reload refused: the last good configuration stays)")
            return
        }
        report(loaded)
        for key in loaded.changesNeedingRestart(from: provisioning) {
            emit("config: " + key + " changed: it applies when the phone restarts")
        }
        machine.update(settings: loaded.phone)
        recording.update(configuration: loaded.recording)
        machine.recordLineKeys = recording.recordLineKeys
        http.timeoutNanoseconds = loaded.recording.requestTimeoutNanoseconds
        provisioning = loaded
        emit("config: reloaded")
    }

    do throws(ReactorError) {
        try reactor.onSignal(SIGINT) { _ in finish() }
        try reactor.onSignal(SIGTERM) { _ in finish() }
        try reactor.onSignal(SIGHUP) { _ in reload() }
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

/// "a, b, c".
func joined(_ items: [String]) -> String {
    var text = ""
    for item in items { text += (text.isEmpty ? "" : " ") + item }
    return text
}
