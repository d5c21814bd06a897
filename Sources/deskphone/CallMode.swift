// `deskphone --config FILE ...`: the phone. One reactor runs the `PhoneAssembly` (the account
// and its calls, the keypad and screen state machine with the board's key source and LED/LCD
// backends and the status log, the recording controller) and, for scripts, `--dial`,
// `--answer auto`, `--hangup-after`, `--exit-after-call` and the control FIFO. Every event is
// one line on stdout (or `--log FILE`).

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
    let local: Provisioning
    do throws(ConfigError) {
        board = try BoardProfile.load(path: boardPath)
        local = try Provisioning(paths: options.configs, board: board)
    } catch {
        emitError(error.description)
        return 2
    }
    let reactor: Reactor
    do throws(ReactorError) {
        reactor = try Reactor()
    } catch {
        emitError("reactor: " + error.description)
        return 1
    }
    // With auto_provision.server.url: the set from the server (bounded wait), else the last good one.
    let (provisioning, provisioner) = AutoProvisioner.boot(
        reactor: reactor, board: board, local: local, directory: options.provisionDirectory ?? board.provisionDirectory,
        firmware: firmwareVersion, log: { line in emit(line) })
    var assemblyOptions = PhoneAssemblyOptions()
    assemblyOptions.listenPort = options.listenPort.map { UInt16($0) }
    assemblyOptions.capture = options.audioIn.map { PCMDeviceName.rawFile(reading: $0) }
    assemblyOptions.playback = options.audioOut.map { PCMDeviceName.rawFile(writing: $0) }
    // The terminal shows the LCD and LEDs only when the keys come from it (else stdout is a log).
    assemblyOptions.terminalDisplay = keySpec == .stdin
    assemblyOptions.statusLogPath = options.statusLog
    if options.autoAnswer { assemblyOptions.autoAnswerDelay = options.answerDelayMilliseconds * 1_000_000 }
    assemblyOptions.firmwareVersion = firmwareVersion
    // One TLS profile for provisioning, SIP over TLS and URL record (when security.* did not change).
    assemblyOptions.tlsProfile = provisioner?.tls

    var status: Int32 = 0
    var stopping = false
    var dialed = false
    var restart = PhoneRestartSchedule()
    var restarting = false
    // The phone; a restart (check-sync reboot, provisioned keys that need one) closes it and
    // builds it again from the configuration in use, on the same reactor.
    var phone: PhoneAssembly! = nil
    @inline(never)  // one copy in the firmware, not one in each closure that calls it
    func assemble(_ provisioning: Provisioning) -> PhoneAssembly? {
        let built: PhoneAssembly
        do throws(SoftphoneError) {
            built = try PhoneAssembly(
                reactor: reactor, board: board, provisioning: provisioning, options: assemblyOptions,
                log: { line in emit(line) })
        } catch {
            emitError(error.description)
            return nil
        }
        built.callStates.add { change in
            switch change.state {
            case .connected:
                if let after = options.hangupAfter {
                    let call = change.call
                    reactor.after(after) { if call.state.isEstablished { call.hangUp() } }
                }
            case .ended:
                if options.exitAfterCall { finish() }
                // After the call has left the list: a restart may have waited for it.
                reactor.runSoon { callsChanged() }
            default: break
            }
        }
        built.registrationStates.add { state in
            if case .registered = state { dialOnce() }
        }
        for agent in built.softphone.userAgents { agent.onCheckSync = { reboot in checkSync(reboot: reboot) } }
        return built
    }
    func finish() {
        guard !stopping else { return }
        stopping = true
        restart.clear()
        // Hang up and unregister, then leave the loop (at most 2 s for the registrar).
        let deadline = reactor.after(2_000_000_000) { reactor.stop() }
        phone.shutdown {
            // A short grace lets the far end's answer to our BYE arrive before the sockets close.
            reactor.cancel(deadline)
            reactor.after(200_000_000) { reactor.stop() }
        }
    }

    func dialOnce() {
        guard !dialed, let target = options.dial else { return }
        dialed = true
        do throws(SIPError) {
            _ = try phone.softphone.dial(target)
        } catch {
            emit("call: cannot dial " + target + ": " + error.description)
            if options.exitAfterCall { finish() }
        }
    }

    /// Closes the phone (after unregistering, at most 2 s) and builds it again on the
    /// configuration in use; the keys and the provisioner's status follow the new one.
    @inline(never)
    func restartPhone(_ reason: PhoneRestartSchedule.Reason) {
        // One restart at a time: a check-sync while the old phone shuts down changes nothing.
        guard !stopping, !restarting else { return }
        restarting = true
        emit("phone: restarting (" + reason.description + ")")
        let old: PhoneAssembly = phone
        var done = false
        func rebuild() {
            guard !done, !stopping else { return }
            done = true
            reactor.runSoon {
                let configuration = old.provisioning
                old.close()
                guard let fresh = assemble(configuration) else {
                    emit("phone: the restart failed: the phone stops")
                    status = 1
                    reactor.stop()
                    return
                }
                phone = fresh
                restarting = false
                wireProvisioner()
                if let keySpec {
                    do throws(KeysError) {
                        try fresh.openKeys(keySpec)
                    } catch {
                        emit("keys: " + error.description)
                    }
                }
                emit("phone: restarted")
                fresh.start()
            }
        }
        let deadline = reactor.after(2_000_000_000) { rebuild() }
        old.shutdown {
            reactor.cancel(deadline)
            rebuild()
        }
    }

    @inline(never)
    func requestRestart(_ reason: PhoneRestartSchedule.Reason) {
        guard !restarting else { return }
        let calls = phone.softphone.calls.count
        if let now = restart.request(reason, callsUp: calls) {
            restartPhone(now)
        } else {
            emit("phone: restart waits for the end of the call (" + reason.description + ")")
        }
    }

    func callsChanged() {
        guard let reason = restart.callsChanged(callsUp: phone.softphone.calls.count) else { return }
        if case .provisioned = reason { emit("provisioning: applied after the call") }
        restartPhone(reason)
    }

    /// A new good set from the server: applied now; keys that need a restart restart the phone
    /// once no call is up.
    @inline(never)
    func applyProvisioned(_ new: Provisioning) {
        let keys = new.changesNeedingRestart(from: phone.provisioning)
        phone.apply(new)
        if !keys.isEmpty { requestRestart(.provisioned(keys)) }
    }

    /// A check-sync NOTIFY from the registrar (answered already): a provisioning round now, then
    /// the restart when asked for.
    @inline(never)
    func checkSync(reboot: Bool) {
        guard let provisioner else {
            emit("provisioning: check-sync: no auto_provision.server.url (nothing to fetch)")
            if reboot { requestRestart(.checkSync) }
            return
        }
        let started = provisioner.runRound { outcome in
            if case .provisioned(let new, _) = outcome { applyProvisioned(new) }
            if reboot { requestRestart(.checkSync) }
        }
        if !started {
            emit("provisioning: check-sync: a round is running already")
            if reboot { requestRestart(.checkSync) }
        }
    }

    func wireProvisioner() {
        guard let provisioner else { return }
        if !provisioner.status.isEmpty { phone.machine.flash(provisioner.status) }
        provisioner.onStatus = { text in phone.machine.flash(text) }
    }
    guard let first = assemble(provisioning) else {
        reactor.close()
        return 2
    }
    phone = first
    wireProvisioner()
    provisioner?.startRepeating(apply: { new in applyProvisioned(new) })

    if let keySpec {
        do throws(KeysError) {
            try phone.openKeys(keySpec)
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
                    } else if let problem = phone.perform(controlLine: line) {
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
        // SIGHUP reloads the same files; a refused reload keeps the last good configuration.
        try reactor.onSignal(SIGHUP) { _ in phone.reload() }
    } catch {
        emitError("signals: " + error.description)
    }

    phone.start()
    if phone.softphone.userAgent.registration == nil {
        reactor.runSoon { dialOnce() }
    }

    do throws(ReactorError) {
        try reactor.run()
    } catch {
        emitError("reactor: " + error.description)
        status = 1
    }
    control?.close()
    provisioner?.close()
    phone.close()
    emit("loop: " + reactor.loopStatistics)
    reactor.close()
    emit("deskphone: exit")
    if logFD != 1 { _ = cl_close(logFD) }
    return status
}
