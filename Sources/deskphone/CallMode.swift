// `deskphone --config FILE ...`: runs a configured account and its calls on the reactor, without
// keys yet (`--dial`, `--answer auto`, a control FIFO), logging every call event on stdout.

import Audio
import CLinux
import Config
import Phone
import Reactor
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

    var isCallMode: Bool { !configs.isEmpty || dial != nil || autoAnswer || control != nil }

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

/// Writes one log line to stdout at once (no stdio buffering: scripts follow it live).
func emit(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.append(10)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { cl_write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}

/// Writes an error line to stderr.
func emitError(_ line: String) {
    var bytes = Array(("deskphone: " + line).utf8)
    bytes.append(10)
    _ = bytes.withUnsafeBytes { cl_write(2, $0.baseAddress, $0.count) }
}

/// Runs the phone's calls until SIGINT/SIGTERM, `quit`, or the first call's end with
/// `--exit-after-call`. Returns the exit status.
func runCallMode(boardPath: String, options: CallOptions) -> Int32 {
    let board: BoardProfile
    let settings: SoftphoneConfiguration
    do throws(ConfigError) {
        board = try BoardProfile.load(path: boardPath)
        var files: [ConfigFile] = []
        for path in options.configs { files.append(try ConfigFile.load(path: path)) }
        let merged = ConfigFile(merging: files)
        var parsed = try SoftphoneConfiguration(merged)
        if let port = options.listenPort { parsed.account.listenPort = UInt16(port) }
        settings = parsed
        for entry in merged.entries
        where !SoftphoneConfiguration.knownPrefixes.contains(where: { entry.key.hasPrefix($0) })
            && !entry.key.hasPrefix("linekey.")
        {
            emit("config: " + entry.location + ": key '" + entry.key + "' is not used by this firmware (ignored)")
        }
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

    phone.onCallState = { call, state in
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
                    } else if let problem = phone.perform(command: line) {
                        emit(problem)
                    }
                })
        } catch {
            emitError(error.description)
            phone.close()
            reactor.close()
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
    control?.close()
    phone.close()
    reactor.close()
    emit("deskphone: exit")
    return status
}
