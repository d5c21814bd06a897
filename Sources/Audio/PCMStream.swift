import CAlsa
import CLinux
import Reactor

/// One direction of ALSA audio on the reactor: a PCM opened non-blocking (S16_LE mono, period
/// 10 ms by default, buffer of at most 3 periods), serviced from its poll descriptors in the
/// reactor's epoll set, or from a reactor timer at the period when the PCM has no clock of its
/// own (ALSA's `null`/`file` plugins, see `AudioClock`).
///
/// - Capture clocks the send side: each complete period goes to `onFrame` (the RTP sender).
/// - Playback pulls: whenever the device wants a period, `pull` fills one (the jitter buffer;
///   silence when it has nothing). The buffer is primed with silence to `bufferPeriods - 1`
///   periods at start and after every recovery, so the output delay stays between
///   `bufferPeriods - 1` and `bufferPeriods` periods and never grows.
/// - Xrun (-EPIPE) is recovered with `snd_pcm_recover` and the stream re-primed (capture
///   restarted); suspend (-ESTRPIPE) with `snd_pcm_resume`, retried from a timer (never
///   sleeping), falling back to prepare. Both are counted.
/// - Any other device error (a vanished USB headset gives -ENODEV) stops and closes the stream
///   and goes to `onError`; the loop goes on. Nothing a stream does blocks or throws into it.
///
/// In steady state a period costs no allocation: the sample buffer and poll descriptors are
/// allocated when the stream opens.
public final class PCMStream {
    /// Which way the audio flows.
    public enum Direction: Equatable, Sendable, CustomStringConvertible {
        case capture, playback
        public var description: String { self == .capture ? "capture" : "playback" }
    }

    public let direction: Direction
    public let device: PCMDeviceName
    public let configuration: PCMConfiguration
    /// Frames per callback: one period of `configuration` (80 at 8 kHz, 10 ms).
    public let periodFrames: Int
    /// The period the hardware took (ALSA sets it "near" the wish; callbacks still see
    /// `periodFrames`).
    public private(set) var hardwarePeriodFrames = 0
    /// The device buffer ALSA granted, in frames.
    public private(set) var bufferFrames = 0
    /// What paces the stream once started: `.device` or `.timer` (`.automatic` before `start`).
    public private(set) var clock: AudioClock
    /// Whether the stream is being serviced.
    public private(set) var isRunning = false
    /// Periods delivered (capture) or written (playback).
    public private(set) var periods: UInt64 = 0
    /// Xruns recovered (device: -EPIPE; timer: ticks the loop missed).
    public private(set) var xruns = 0
    /// Suspends recovered.
    public private(set) var suspends = 0
    /// The error that stopped the stream, if one did.
    public private(set) var lastError: AudioError? = nil
    /// Called, on the loop, when a device error stops the stream.
    public var onError: ((AudioError) -> Void)? = nil

    private let reactor: Reactor
    private var pcm: OpaquePointer? = nil
    private var pcmConfig: OpaquePointer? = nil
    private let samples: UnsafeMutablePointer<Int16>
    private var pollFDs: UnsafeMutablePointer<pollfd>? = nil
    private var pollCount = 0
    private var watches: [WatchID] = []
    private var timer: TimerID? = nil
    private var resumeTimer: TimerID? = nil
    private var lastTick: Int64 = 0
    /// Capture: frames of the current period already read. Playback: frames of the current
    /// pulled period already written.
    private var partial = 0
    /// Playback: the fill level kept in the device buffer (frames).
    private var targetFill = 0
    private var onFrame: ((UnsafeBufferPointer<Int16>) -> Void)? = nil
    private var pull: ((UnsafeMutableBufferPointer<Int16>) -> Void)? = nil

    /// Opens a capture stream; `onFrame` gets every period once `start()` ran. The buffer it
    /// sees is valid only during the call.
    public convenience init(
        capturing device: PCMDeviceName, on reactor: Reactor, configuration: PCMConfiguration = PCMConfiguration(),
        onFrame: @escaping (UnsafeBufferPointer<Int16>) -> Void
    ) throws(AudioError) {
        try self.init(.capture, device, reactor, configuration)
        self.onFrame = onFrame
    }

    /// Opens a playback stream; `pull` fills a period whenever the device wants one (write
    /// silence, i.e. zeros, when there is nothing to play: the buffer is not cleared for you).
    public convenience init(
        playingTo device: PCMDeviceName, on reactor: Reactor, configuration: PCMConfiguration = PCMConfiguration(),
        pull: @escaping (UnsafeMutableBufferPointer<Int16>) -> Void
    ) throws(AudioError) {
        try self.init(.playback, device, reactor, configuration)
        self.pull = pull
    }

    init(
        _ direction: Direction, _ device: PCMDeviceName, _ reactor: Reactor, _ configuration: PCMConfiguration
    ) throws(AudioError) {
        self.direction = direction
        self.device = device
        self.reactor = reactor
        self.configuration = configuration
        self.clock = configuration.clock
        periodFrames = max(1, configuration.periodFrames)
        samples = UnsafeMutablePointer<Int16>.allocate(capacity: periodFrames)
        samples.initialize(repeating: 0, count: periodFrames)
        if let problem = configuration.problem {
            throw AudioError(device: label, call: "configuration", code: -EINVAL, detail: problem)
        }
        try open()
    }

    deinit {
        // The reactor's watches and timer hold this stream: when it goes, they are gone already
        // (or being dropped by `Reactor.close()`, which must not be re-entered). Only ALSA is left.
        closePCM()
        samples.deallocate()
    }

    /// "capture \"null\"": the direction and the device, for logs and errors.
    public var label: String { direction.description + " " + device.description }

    /// Whether the PCM is open (false after `close()` or after an error stopped the stream).
    public var isOpen: Bool { pcm != nil }

    /// Frames between the application and the speaker (playback) or the microphone and the
    /// application (capture), from `snd_pcm_delay`; 0 when the PCM cannot say (plugins
    /// without a clock) or is closed.
    public var delayFrames: Int {
        guard let pcm else { return 0 }
        var delay: snd_pcm_sframes_t = 0
        if snd_pcm_delay(pcm, &delay) < 0 { return 0 }
        return Int(delay)
    }

    // MARK: open and close

    private func open() throws(AudioError) {
        deskphone_alsa_quiet(1)
        var handle: OpaquePointer? = nil
        var tree: OpaquePointer? = nil
        var failed: UnsafePointer<CChar>? = nil
        let stream = direction == .capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK
        let rc: Int32 = device.name.withCString { name in
            if let text = device.configuration {
                return text.withCString { t in
                    deskphone_pcm_open(&handle, &tree, name, t, stream, Int32(SND_PCM_NONBLOCK), &failed)
                }
            }
            return deskphone_pcm_open(&handle, &tree, name, nil, stream, Int32(SND_PCM_NONBLOCK), &failed)
        }
        guard rc >= 0, let handle else {
            throw AudioError(device: label, call: PCMStream.name(failed), code: rc < 0 ? rc : -ENODEV)
        }
        pcm = handle
        pcmConfig = tree
        do throws(AudioError) {
            try configureHardware(handle)
            try configureSoftware(handle)
            try preparePollDescriptors(handle)
        } catch {
            closePCM()
            throw error
        }
    }

    private func configureHardware(_ pcm: OpaquePointer) throws(AudioError) {
        var rate = UInt32(configuration.sampleRate)
        var period = snd_pcm_uframes_t(periodFrames)
        var buffer = snd_pcm_uframes_t(periodFrames * configuration.bufferPeriods)
        var failed: UnsafePointer<CChar>? = nil
        let rc = deskphone_pcm_set_hw(pcm, 1, &rate, &period, &buffer, &failed)
        if rc < 0 { throw AudioError(device: label, call: PCMStream.name(failed), code: rc) }
        if Int(rate) != configuration.sampleRate {
            throw AudioError(
                device: label, call: "sample rate", code: -EINVAL,
                detail: "wished " + String(configuration.sampleRate) + " Hz, the device gives " + String(rate)
                    + " Hz (use a 'plughw:' device to convert)")
        }
        if Int(buffer) < 2 * periodFrames {
            throw AudioError(
                device: label, call: "buffer size", code: -EINVAL,
                detail: "the device gives " + String(buffer) + " frames, less than 2 periods of "
                    + String(periodFrames))
        }
        hardwarePeriodFrames = Int(period)
        bufferFrames = Int(buffer)
        targetFill = min(bufferFrames, periodFrames * configuration.bufferPeriods)
    }

    private func configureSoftware(_ pcm: OpaquePointer) throws(AudioError) {
        var failed: UnsafePointer<CChar>? = nil
        let availMin: Int
        let startThreshold: Int
        if direction == .capture {
            availMin = periodFrames
            startThreshold = periodFrames  // started explicitly anyway
        } else {
            // Wake when a period fits without exceeding the target fill; start once primed.
            availMin = bufferFrames - targetFill + periodFrames
            startThreshold = targetFill - periodFrames
        }
        let rc = deskphone_pcm_set_sw(
            pcm, snd_pcm_uframes_t(availMin), snd_pcm_uframes_t(startThreshold), &failed)
        if rc < 0 { throw AudioError(device: label, call: PCMStream.name(failed), code: rc) }
    }

    private func preparePollDescriptors(_ pcm: OpaquePointer) throws(AudioError) {
        let count = snd_pcm_poll_descriptors_count(pcm)
        if count < 0 { throw AudioError(device: label, call: "snd_pcm_poll_descriptors_count", code: count) }
        let fds = UnsafeMutablePointer<pollfd>.allocate(capacity: max(1, Int(count)))
        fds.initialize(repeating: pollfd(fd: -1, events: 0, revents: 0), count: max(1, Int(count)))
        pollFDs = fds
        let filled = snd_pcm_poll_descriptors(pcm, fds, UInt32(count))
        if filled < 0 { throw AudioError(device: label, call: "snd_pcm_poll_descriptors", code: filled) }
        pollCount = Int(filled)
    }

    /// Stops the stream and closes the PCM (idempotent; `deinit` does it too).
    public func close() {
        stop()
        closePCM()
    }

    private func closePCM() {
        if let pcm { _ = snd_pcm_close(pcm) }
        pcm = nil
        if let pcmConfig { _ = snd_config_delete(pcmConfig) }
        pcmConfig = nil
        if let pollFDs { pollFDs.deallocate() }
        pollFDs = nil
        pollCount = 0
    }

    // MARK: start and stop

    /// Starts servicing: resolves the clock, primes playback with silence (device clock) or
    /// starts capture, and hooks the poll descriptors or the timer into the reactor.
    public func start() throws(AudioError) {
        guard !isRunning else { return }
        guard let pcm else {
            throw AudioError(device: label, call: "start", code: -EBADFD, detail: "the PCM is closed")
        }
        let state = snd_pcm_state(pcm)
        if state != SND_PCM_STATE_PREPARED {
            let rc = snd_pcm_prepare(pcm)
            if rc < 0 { throw AudioError(device: label, call: "snd_pcm_prepare", code: rc) }
        }
        partial = 0
        try resolveClock(pcm)
        isRunning = true
        if let error = kickOff(pcm) {
            stopServicing()
            isRunning = false
            throw error
        }
        if clock == .timer {
            // Ticks fall on whole periods of the monotonic clock, so the capture and playback
            // streams of a device (and every other timer-paced stream of that period) are
            // serviced in the same loop pass: one wake-up per period instead of one per stream.
            let now = reactor.now
            lastTick = now
            let period = configuration.periodNanoseconds
            let phase = now % period
            timer = reactor.every(period, firstAfter: phase == 0 ? period : period - phase) { [self] in tick() }
        }
    }

    /// Stops servicing and drops pending audio; the PCM stays open for another `start()`.
    public func stop() {
        stopServicing()
        if isRunning, let pcm { _ = snd_pcm_drop(pcm) }
        isRunning = false
    }

    private func stopServicing() {
        unwatch()
        if let timer { reactor.cancel(timer) }
        timer = nil
        if let resumeTimer { reactor.cancel(resumeTimer) }
        resumeTimer = nil
    }

    private func unwatch() {
        for id in watches { reactor.cancel(id) }
        watches.removeAll(keepingCapacity: true)
    }

    private func resolveClock(_ pcm: OpaquePointer) throws(AudioError) {
        switch configuration.clock {
        case .timer:
            clock = .timer
        case .device:
            clock = .device
            if pollCount == 0 {
                throw AudioError(
                    device: label, call: "snd_pcm_poll_descriptors", code: -EINVAL,
                    detail: "no poll descriptor to clock the stream: use audio.clock = timer")
            }
            do throws(ReactorError) {
                try watchDescriptors()
            } catch {
                unwatch()
                throw AudioError(
                    device: label, call: "epoll_ctl on its poll descriptor", code: -error.errno,
                    detail: "the PCM has no clock of its own (null/file plugin?): use audio.clock = timer")
            }
        case .automatic:
            if snd_pcm_type(pcm) == SND_PCM_TYPE_NULL || pollCount == 0 {
                clock = .timer
                return
            }
            do throws(ReactorError) {
                try watchDescriptors()
                clock = .device
            } catch {
                // /dev/null (the null plugin's descriptor, also under `file`) cannot be polled.
                unwatch()
                if error.errno != EPERM {
                    throw AudioError(device: label, call: "epoll_ctl on its poll descriptor", code: -error.errno)
                }
                clock = .timer
            }
        }
    }

    private func watchDescriptors() throws(ReactorError) {
        guard let pollFDs else { return }
        let wanted = IOEvents.readable.union(.writable).union(.priority)
        for i in 0..<pollCount {
            let events = IOEvents(rawValue: UInt32(UInt16(bitPattern: pollFDs[i].events))).intersection(wanted)
            let id = try reactor.watch(pollFDs[i].fd, for: events) { [self] ready in serviceDevice(i, ready) }
            watches.append(id)
        }
    }

    /// Primes playback or starts capture; returns the error that stopped the stream, if any.
    private func kickOff(_ pcm: OpaquePointer) -> AudioError? {
        if direction == .capture {
            let rc = snd_pcm_start(pcm)
            if rc < 0 { return AudioError(device: label, call: "snd_pcm_start", code: rc) }
            return nil
        }
        if clock == .timer { return nil }
        // Device clock: silence up to one period below the target; the device starts on its own
        // (start threshold) and the first wake-up asks for the next period.
        samples.update(repeating: 0, count: periodFrames)
        var primed = 0
        let prime = targetFill - periodFrames
        while primed < prime {
            let n = snd_pcm_writei(pcm, samples, snd_pcm_uframes_t(min(periodFrames, prime - primed)))
            if n < 0 {
                if Int32(n) == -EAGAIN { break }
                return AudioError(device: label, call: "snd_pcm_writei (priming)", code: Int32(n))
            }
            primed += Int(n)
        }
        return nil
    }

    // MARK: servicing

    private func serviceDevice(_ index: Int, _ ready: IOEvents) {
        guard isRunning, let pcm, let pollFDs else { return }
        for i in 0..<pollCount { pollFDs[i].revents = 0 }
        pollFDs[index].revents = Int16(truncatingIfNeeded: ready.rawValue)
        var revents: UInt16 = 0
        let rc = snd_pcm_poll_descriptors_revents(pcm, pollFDs, UInt32(pollCount), &revents)
        if rc < 0 {
            handle(rc, "snd_pcm_poll_descriptors_revents")
            return
        }
        if Int32(revents) & Int32(POLLERR) != 0 {
            switch snd_pcm_state(pcm) {
            case SND_PCM_STATE_XRUN: handle(-EPIPE, "poll (xrun)")
            case SND_PCM_STATE_SUSPENDED: handle(-ESTRPIPE, "poll (suspended)")
            case SND_PCM_STATE_DISCONNECTED: handle(-ENODEV, "poll (disconnected)")
            default: break
            }
            if !isRunning || resumeTimer != nil { return }
        }
        if direction == .capture && Int32(revents) & Int32(POLLIN) != 0 { drainCapture(pcm) }
        if direction == .playback && Int32(revents) & Int32(POLLOUT) != 0 { fillPlayback(pcm) }
    }

    /// Reads every complete period the device holds.
    private func drainCapture(_ pcm: OpaquePointer) {
        // Bounded: a plugin that always claims data cannot hold the loop.
        var budget = bufferFrames / periodFrames + 1
        while isRunning && self.pcm != nil && resumeTimer == nil && budget > 0 {
            budget -= 1
            let avail = snd_pcm_avail_update(pcm)
            if avail < 0 { return handle(Int32(avail), "snd_pcm_avail_update") }
            if Int(avail) < periodFrames - partial { return }
            if !readPeriod(pcm) { return }
        }
    }

    /// Reads (the rest of) one period; delivers it when complete. Returns whether to go on.
    private func readPeriod(_ pcm: OpaquePointer) -> Bool {
        let n = snd_pcm_readi(pcm, samples + partial, snd_pcm_uframes_t(periodFrames - partial))
        if n < 0 {
            if Int32(n) != -EAGAIN { handle(Int32(n), "snd_pcm_readi") }
            return false
        }
        partial += Int(n)
        if partial < periodFrames { return n > 0 }
        partial = 0
        periods &+= 1
        onFrame?(UnsafeBufferPointer(start: samples, count: periodFrames))
        return true
    }

    /// Writes pulled periods while the buffer is below the target fill.
    private func fillPlayback(_ pcm: OpaquePointer) {
        // Bounded: a plugin that always claims room cannot hold the loop.
        var budget = bufferFrames / periodFrames + 1
        while isRunning && self.pcm != nil && resumeTimer == nil && budget > 0 {
            budget -= 1
            let avail = snd_pcm_avail_update(pcm)
            if avail < 0 { return handle(Int32(avail), "snd_pcm_avail_update") }
            let fill = bufferFrames - Int(avail)
            if partial == 0 && (Int(avail) < periodFrames || fill + periodFrames > targetFill) { return }
            if partial > 0 && Int(avail) == 0 { return }
            if !writePeriod(pcm) { return }
        }
    }

    /// Pulls a period (unless one is half written) and writes (the rest of) it.
    private func writePeriod(_ pcm: OpaquePointer) -> Bool {
        if partial == 0 {
            pull?(UnsafeMutableBufferPointer(start: samples, count: periodFrames))
        }
        let n = snd_pcm_writei(pcm, samples + partial, snd_pcm_uframes_t(periodFrames - partial))
        if n < 0 {
            if Int32(n) != -EAGAIN { handle(Int32(n), "snd_pcm_writei") }
            return false
        }
        partial += Int(n)
        if partial < periodFrames { return n > 0 }
        partial = 0
        periods &+= 1
        return true
    }

    /// Timer clock: one period per tick. A tick that comes late by a period or more means
    /// the loop stalled: on a real device that would have been an xrun, so it is counted and
    /// recovered the same way, and the missed periods are skipped (never written in a burst).
    private func tick() {
        guard isRunning, let pcm, resumeTimer == nil else { return }
        let now = reactor.now
        let gap = now - lastTick
        lastTick = now
        if gap >= configuration.periodNanoseconds * 3 / 2 {
            recover(pcm, from: -EPIPE, "timer tick late by " + String(gap / 1_000_000) + " ms")
            guard isRunning else { return }
        }
        if direction == .capture {
            let delivered = periods
            while isRunning && readPeriod(pcm) && periods == delivered {}
        } else {
            while isRunning && writePeriod(pcm) && partial != 0 {}
        }
    }

    // MARK: errors and recovery

    private func handle(_ code: Int32, _ call: String) {
        guard let pcm else { return }
        switch code {
        case -EAGAIN: return
        case -EPIPE, -EINTR: recover(pcm, from: code, call)
        case -ESTRPIPE: resume(pcm)
        default: fail(AudioError(device: label, call: call, code: code))
        }
    }

    private func recover(_ pcm: OpaquePointer, from code: Int32, _ call: String) {
        if code == -EPIPE { xruns += 1 }
        let rc = snd_pcm_recover(pcm, code, 1)
        if rc < 0 { return fail(AudioError(device: label, call: "snd_pcm_recover after " + call, code: rc)) }
        restart(pcm)
    }

    /// After a recovery: capture starts again, playback is primed back to its target delay.
    private func restart(_ pcm: OpaquePointer) {
        partial = 0
        if let error = kickOff(pcm) { fail(error) }
    }

    /// Suspend: `snd_pcm_resume` until the device is back (retried every 100 ms from a timer,
    /// never sleeping in the loop), or prepare when it cannot resume.
    private func resume(_ pcm: OpaquePointer) {
        if resumeTimer == nil { suspends += 1 }
        resumeTimer = nil
        let rc = snd_pcm_resume(pcm)
        if rc == -EAGAIN {
            unwatch()  // level-triggered POLLERR would spin while suspended
            resumeTimer = reactor.after(100_000_000) { [self] in
                guard let pcm = self.pcm, isRunning else { return }
                resume(pcm)
            }
            return
        }
        if rc < 0 {
            let prepared = snd_pcm_prepare(pcm)
            if prepared < 0 {
                return fail(AudioError(device: label, call: "snd_pcm_prepare after suspend", code: prepared))
            }
        }
        if clock == .device && watches.isEmpty {
            do throws(ReactorError) {
                try watchDescriptors()
            } catch {
                return fail(AudioError(device: label, call: "epoll_ctl after resume", code: -error.errno))
            }
        }
        if snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED { restart(pcm) }
    }

    private func fail(_ error: AudioError) {
        lastError = error
        stopServicing()
        isRunning = false
        closePCM()
        onError?(error)
    }

    private static func name(_ call: UnsafePointer<CChar>?) -> String {
        guard let call else { return "snd_pcm_open" }
        return String(cString: call)
    }
}
