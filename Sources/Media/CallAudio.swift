// The audio device side of a call: ALSA capture clocks the RTP send side, ALSA playback pulls
// from the jitter buffer, local tones are mixed in.
//
// The device runs at the send codec's rate (8 kHz G.711, 16 kHz G.722, `opusSampleRate` for
// Opus), so no sample-rate conversion is needed; when a re-INVITE changes the rate the device
// pair is closed and reopened at the new one (a gap of a period or two). If the far end sends a
// codec at another rate than ours (asymmetric answer), playout is silent: a limit, not handled.
//
// Mute sends silence rather than nothing: the far end's jitter buffer and NAT bindings stay
// fed, and no comfort-noise negotiation is needed. Tones (ringback, busy, ...) are mixed into
// the playback on top of whatever the session plays (silence before media).

import Audio
import Reactor
import Voice

/// Binds an `AudioDevice` (capture and playback of one path: handset, headset or speaker) to an
/// `RTPSession`: capture periods go to `RTPSession.sendAudio`, playback periods come from
/// `RTPSession.pullPlayout`, plus mute and locally generated tones (ITU-T E.180 cadences via
/// `ToneGenerator`). See the file comment for rate changes and mute.
public final class CallAudio {
    public let session: RTPSession
    /// The device open now (nil before `start` and after `stop`).
    public private(set) var device: AudioDevice? = nil
    /// The transducer in use.
    public private(set) var path: AudioPath
    /// Send silence instead of the microphone.
    public var isMuted = false
    /// Playback volume step, 0...15; 8 plays at unity gain, each step is 3 dB (0 = -24 dB,
    /// 15 = +21 dB, saturating).
    public var volume = CallAudio.unityVolume {
        didSet {
            volume = max(0, min(15, volume))
            gainQ12 = CallAudio.gainQ12(volume)
        }
    }
    public static let unityVolume = 8
    private var gainQ12: Int32 = 4096
    /// Tones by kind (dial, ringback, busy, ...).
    public var tones: ToneTable
    /// Called when the device fails (it is closed; `start` or `switchPath` again to go on).
    public var onError: ((AudioError) -> Void)? = nil
    /// Told of each device opened: "PATH: FORMAT" (at start, on a path switch, on a rate change).
    public var onLog: ((String) -> Void)? = nil

    private let reactor: Reactor
    private var routes: [AudioRoute]
    private let periodMilliseconds: Int
    private let bufferPeriods: Int
    private let clock: AudioClock
    private var tone: ToneGenerator
    private var silence: UnsafeMutablePointer<Int16>
    private var silenceCapacity = 48_000 / 100 * 4
    private var xrunsOfClosedDevices = 0

    /// A call's audio on `reactor` for `session`, opened on `path` by `start()`. `clock` as in
    /// `PCMConfiguration` (`.timer` for ALSA's card-less `null`/`file` plugins).
    public init(
        reactor: Reactor, session: RTPSession, handset: AudioRoute, headset: AudioRoute, speaker: AudioRoute,
        path: AudioPath = .handset, periodMilliseconds: Int = 10, bufferPeriods: Int = 3,
        clock: AudioClock = .automatic, tones: ToneTable = ToneTable.standard
    ) {
        self.reactor = reactor
        self.session = session
        self.routes = [handset, headset, speaker]
        self.path = path
        self.periodMilliseconds = periodMilliseconds
        self.bufferPeriods = bufferPeriods
        self.clock = clock
        self.tones = tones
        tone = ToneGenerator(sampleRate: session.audioSampleRate)
        silence = .allocate(capacity: silenceCapacity)
        silence.initialize(repeating: 0, count: silenceCapacity)
        session.onFormatChange = { [self] rate in rateChanged(rate) }
    }

    deinit { silence.deallocate() }

    /// The PCM rate the device runs at (the session's).
    public var sampleRate: Int { session.audioSampleRate }

    /// Opens the device pair of `path` at the session's rate and starts both streams.
    public func start() throws(AudioError) {
        try open(path)
    }

    /// Moves the call to another transducer (handset, headset, speaker).
    public func switchPath(to path: AudioPath) throws(AudioError) {
        self.path = path
        if device != nil { try open(path) }
    }

    /// Closes the device; the session is left alone.
    public func stop() {
        if let device {
            xrunsOfClosedDevices += device.xruns
            device.onError = nil
            device.close()
        }
        device = nil
    }

    /// Stops and drops the callbacks, also the session's `onFormatChange` (breaks the cycle).
    public func close() {
        stop()
        session.onFormatChange = nil
        onError = nil
        onLog = nil
    }

    /// Mixes a tone of `kind` (from `tones`) into the playback until `stopTone`.
    public func playTone(_ kind: ToneKind) { tone.start(tones[kind]) }

    /// Fades the tone out.
    public func stopTone() { tone.stop() }

    /// Whether a tone sounds.
    public var isPlayingTone: Bool { tone.isActive }

    /// Xruns of every device this call opened.
    public var xruns: Int { xrunsOfClosedDevices + (device?.xruns ?? 0) }

    private func open(_ path: AudioPath) throws(AudioError) {
        stop()
        let rate = session.audioSampleRate
        let configuration = PCMConfiguration(
            sampleRate: rate, periodMilliseconds: periodMilliseconds, bufferPeriods: bufferPeriods, clock: clock)
        let needed = configuration.periodFrames
        if needed > silenceCapacity {
            silence.deallocate()
            silenceCapacity = needed
            silence = .allocate(capacity: needed)
            silence.initialize(repeating: 0, count: needed)
        }
        if tone.sampleRate != rate {
            let current = tone.current
            tone = ToneGenerator(sampleRate: rate)
            if let current { tone.start(current) }
        }
        let opened = AudioDevice(
            reactor: reactor, handset: routes[0], headset: routes[1], speaker: routes[2], configuration: configuration,
            onFrame: { [self] frame in captured(frame) }, pull: { [self] frame in play(frame) })
        opened.onError = { [self] error in
            stop()
            onError?(error)
        }
        try opened.open(path)
        device = opened
        onLog?(path.description + ": " + configuration.description)
    }

    private func captured(_ frame: UnsafeBufferPointer<Int16>) {
        let now = reactor.now
        if isMuted {
            let count = min(frame.count, silenceCapacity)
            session.sendAudio(UnsafeBufferPointer(start: silence, count: count), capturedAt: now)
        } else {
            session.sendAudio(frame, capturedAt: now)
        }
    }

    private func play(_ frame: UnsafeMutableBufferPointer<Int16>) {
        var delay: Int64 = 0
        if let playback = device?.playback {
            let frames = Int64(playback.delayFrames)
            delay = frames * 1_000_000_000 / Int64(max(1, playback.configuration.sampleRate))
        }
        session.deviceXruns = xruns
        session.pullPlayout(into: frame, outputDelayNanoseconds: delay)
        if tone.isActive { tone.mix(into: frame) }
        if gainQ12 != 4096 {
            for i in 0..<frame.count {
                let scaled = (Int32(frame[i]) * gainQ12) >> 12
                frame[i] = Int16(max(-32768, min(32767, scaled)))
            }
        }
    }

    /// 2^((step - 8) / 2) in Q12 (3 dB per step).
    static func gainQ12(_ step: Int) -> Int32 {
        // 4096 * 2^(k/2) for k = -8...7, exact to the rounding.
        let table: [Int32] = [
            256, 362, 512, 724, 1024, 1448, 2048, 2896, 4096, 5793, 8192, 11585, 16384, 23170, 32768, 46341,
        ]
        return table[max(0, min(15, step))]
    }

    private func rateChanged(_ rate: Int) {
        guard let device, device.configuration.sampleRate != rate else { return }
        do throws(AudioError) {
            try open(path)
        } catch {
            onError?(error)
        }
    }
}
