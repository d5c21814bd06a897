// Tones with no call behind them: the dial tone while the phone is off hook and nothing is
// dialled yet, a short busy or congestion tone after a failed call.

import Audio
import Reactor

/// Plays one tone (ITU-T E.180 cadence from the phone's `ToneTable`) on a playback-only
/// device of the board, on the reactor, until `stop()`.
public final class LocalTonePlayer {
    private let reactor: Reactor
    private let routes: [AudioRoute]
    private let clock: AudioClock
    private let tones: ToneTable
    private var device: AudioDevice? = nil
    private var generator = ToneGenerator(sampleRate: 8000)
    /// The tone playing now.
    public private(set) var kind: ToneKind? = nil
    /// Device failures (the tone is dropped, the phone goes on).
    public var onError: ((AudioError) -> Void)? = nil

    public init(reactor: Reactor, handset: AudioRoute, headset: AudioRoute, speaker: AudioRoute,
        clock: AudioClock = .automatic, tones: ToneTable) {
        self.reactor = reactor
        routes = [handset, headset, speaker]
        self.clock = clock
        self.tones = tones
    }

    /// Plays `kind` on `path` (replacing any tone playing).
    public func play(_ kind: ToneKind, on path: AudioPath) {
        stop()
        generator = ToneGenerator(sampleRate: 8000)
        generator.start(tones[kind])
        let opened = AudioDevice(
            reactor: reactor, handset: routes[0], headset: routes[1], speaker: routes[2],
            configuration: PCMConfiguration(sampleRate: 8000, periodMilliseconds: 10, bufferPeriods: 3, clock: clock),
            onFrame: { _ in }, pull: { [self] frame in generator.fill(frame) })
        opened.onError = { [self] error in
            stop()
            onError?(error)
        }
        do throws(AudioError) {
            try opened.open(path, capturing: false)
        } catch {
            opened.onError = nil
            opened.close()
            onError?(error)
            return
        }
        device = opened
        self.kind = kind
    }

    /// Stops the tone and closes the device.
    public func stop() {
        if let device {
            device.onError = nil
            device.close()
        }
        device = nil
        kind = nil
    }

    public func close() {
        stop()
        onError = nil
    }
}
