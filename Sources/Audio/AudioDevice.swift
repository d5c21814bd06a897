import Reactor

/// The transducer a call uses; each has its own ALSA devices on a desk phone.
public enum AudioPath: Equatable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case handset, headset, speaker

    /// Parses `handset`, `headset` or `speaker`.
    public init?(parsing text: String) {
        for path in AudioPath.allCases where path.description == text {
            self = path
            return
        }
        return nil
    }

    public var description: String {
        switch self {
        case .handset: return "handset"
        case .headset: return "headset"
        case .speaker: return "speaker"
        }
    }
}

/// The capture and playback PCMs of one path (a board profile's `audio.<path>.capture` and
/// `audio.<path>.playback`).
public struct AudioRoute: Equatable, Sendable, CustomStringConvertible {
    public var capture: PCMDeviceName
    public var playback: PCMDeviceName

    public init(capture: PCMDeviceName, playback: PCMDeviceName) {
        self.capture = capture
        self.playback = playback
    }

    /// Both directions by plain ALSA names.
    public init(capture: String, playback: String) {
        self.init(capture: PCMDeviceName(capture), playback: PCMDeviceName(playback))
    }

    public var description: String { "capture " + capture.description + ", playback " + playback.description }
}

/// The phone's audio: the capture/playback pair of the current path (handset, headset or
/// speaker), opened on the reactor, switchable mid-call. The frame and pull callbacks belong
/// to the device, not to the streams, so a switch (close the old pair, open the new one)
/// changes nothing for the RTP sender or the jitter buffer feeding it.
public final class AudioDevice {
    public let configuration: PCMConfiguration
    /// The path open now (nil when closed).
    public private(set) var path: AudioPath? = nil
    public private(set) var capture: PCMStream? = nil
    public private(set) var playback: PCMStream? = nil
    /// Called on the loop when a stream stops on a device error (the stream is closed; `open`
    /// the path again, or another one, to go on).
    public var onError: ((AudioError) -> Void)? = nil

    private let reactor: Reactor
    private var routes: [AudioRoute]
    private let onFrame: (UnsafeBufferPointer<Int16>) -> Void
    private let pull: (UnsafeMutableBufferPointer<Int16>) -> Void
    private var xrunsOfClosedStreams = 0

    /// `onFrame` receives each captured period, `pull` fills each period to play.
    public init(
        reactor: Reactor, handset: AudioRoute, headset: AudioRoute, speaker: AudioRoute,
        configuration: PCMConfiguration = PCMConfiguration(),
        onFrame: @escaping (UnsafeBufferPointer<Int16>) -> Void,
        pull: @escaping (UnsafeMutableBufferPointer<Int16>) -> Void
    ) {
        self.reactor = reactor
        self.routes = [handset, headset, speaker]
        self.configuration = configuration
        self.onFrame = onFrame
        self.pull = pull
    }

    deinit { close() }

    /// The devices of a path.
    public func route(for path: AudioPath) -> AudioRoute { routes[AudioDevice.index(path)] }

    /// Changes the devices of a path (takes effect at its next `open`).
    public func setRoute(_ route: AudioRoute, for path: AudioPath) { routes[AudioDevice.index(path)] = route }

    /// Opens and starts the pair of `path` (playback only when `capturing` is false, e.g. the
    /// ringer on the speaker), closing the pair open before. If the new pair fails, the
    /// previous path is reopened (when there was one) and the error is thrown.
    public func open(_ path: AudioPath, capturing: Bool = true) throws(AudioError) {
        let previous = self.path
        let previousCapturing = capture != nil
        close()
        do throws(AudioError) {
            try openPair(path, capturing: capturing)
        } catch {
            close()
            if let previous, previous != path {
                do throws(AudioError) { try openPair(previous, capturing: previousCapturing) } catch { close() }
            }
            throw error
        }
    }

    private func openPair(_ path: AudioPath, capturing: Bool) throws(AudioError) {
        let route = self.route(for: path)
        let out = try PCMStream(playingTo: route.playback, on: reactor, configuration: configuration) {
            [pull] frame in pull(frame)
        }
        out.onError = { [self] error in streamFailed(error) }
        playback = out
        self.path = path
        if capturing {
            let input = try PCMStream(capturing: route.capture, on: reactor, configuration: configuration) {
                [onFrame] frame in onFrame(frame)
            }
            input.onError = { [self] error in streamFailed(error) }
            capture = input
            try input.start()
        }
        try out.start()
    }

    /// Switches a running call to another path (see `open`): the same as `open(path)`,
    /// keeping capture on or off as it was.
    public func switchPath(to path: AudioPath) throws(AudioError) {
        try open(path, capturing: capture != nil || self.path == nil)
    }

    /// Stops and closes both streams.
    public func close() {
        if let capture {
            xrunsOfClosedStreams += capture.xruns
            capture.onError = nil
            capture.close()
        }
        if let playback {
            xrunsOfClosedStreams += playback.xruns
            playback.onError = nil
            playback.close()
        }
        capture = nil
        playback = nil
        path = nil
    }

    /// Xruns recovered since this device was made, over every stream it opened.
    public var xruns: Int { xrunsOfClosedStreams + (capture?.xruns ?? 0) + (playback?.xruns ?? 0) }

    private func streamFailed(_ error: AudioError) {
        onError?(error)
    }

    private static func index(_ path: AudioPath) -> Int {
        switch path {
        case .handset: return 0
        case .headset: return 1
        case .speaker: return 2
        }
    }
}
