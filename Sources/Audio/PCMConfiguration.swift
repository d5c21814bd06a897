/// What clocks a PCM stream. A sound card has its own clock: its poll descriptors wake the
/// loop once per period. ALSA's `null` and `file` plugins (no card) have none: their poll
/// descriptor is `/dev/null`, always ready, and epoll refuses it; such a stream is paced by a
/// reactor timer at the period instead, which also runs on the reactor's virtual clock.
/// Board profiles may force it with `audio.clock = timer|device|auto`.
public enum AudioClock: Equatable, Sendable, CustomStringConvertible {
    /// The device's poll descriptors when epoll accepts them and the PCM is not `null`;
    /// otherwise a timer.
    case automatic
    /// The device's poll descriptors (an error if the PCM has none that epoll can watch).
    case device
    /// A reactor timer at the period (`Reactor.every`), one period read or written per tick.
    case timer

    /// Parses `auto`, `device` or `timer`.
    public init?(parsing text: String) {
        switch text {
        case "auto", "automatic": self = .automatic
        case "device": self = .device
        case "timer": self = .timer
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .automatic: return "auto"
        case .device: return "device"
        case .timer: return "timer"
        }
    }
}

/// The shape of the audio the firmware moves: S16_LE mono at 8, 16 or 48 kHz, in frames of
/// one period (10 ms by default), with a device buffer of at most 3 periods.
public struct PCMConfiguration: Equatable, Sendable, CustomStringConvertible {
    /// Samples per second: 8000, 16000 or 48000.
    public var sampleRate: Int
    /// The period, and the frame size every callback sees, in milliseconds (5...40).
    public var periodMilliseconds: Int
    /// Device buffer size in periods (2...3): playback keeps the buffer this full, so the
    /// output latency is between `bufferPeriods - 1` and `bufferPeriods` periods.
    public var bufferPeriods: Int
    /// What paces the stream.
    public var clock: AudioClock

    public init(
        sampleRate: Int = 8000, periodMilliseconds: Int = 10, bufferPeriods: Int = 3, clock: AudioClock = .automatic
    ) {
        self.sampleRate = sampleRate
        self.periodMilliseconds = periodMilliseconds
        self.bufferPeriods = bufferPeriods
        self.clock = clock
    }

    /// Samples in one period (80 at 8 kHz and 10 ms).
    public var periodFrames: Int { sampleRate * periodMilliseconds / 1000 }

    /// The period in nanoseconds.
    public var periodNanoseconds: Int64 { Int64(periodMilliseconds) * 1_000_000 }

    /// Why this configuration cannot be used, or nil.
    public var problem: String? {
        if sampleRate != 8000 && sampleRate != 16000 && sampleRate != 48000 {
            return "sample rate " + String(sampleRate) + " Hz: use 8000, 16000 or 48000"
        }
        if periodMilliseconds < 5 || periodMilliseconds > 40 {
            return "period " + String(periodMilliseconds) + " ms: use 5...40"
        }
        if bufferPeriods < 2 || bufferPeriods > 3 {
            return "buffer of " + String(bufferPeriods) + " periods: use 2 or 3"
        }
        return nil
    }

    public var description: String {
        "S16_LE mono " + String(sampleRate) + " Hz, period " + String(periodMilliseconds) + " ms ("
            + String(periodFrames) + " frames), buffer " + String(bufferPeriods) + " periods, clock "
            + clock.description
    }
}

/// An ALSA PCM name, optionally with the configuration text that defines it. Without text the
/// name is looked up in the system configuration (`default`, `hw:0,0`, `plughw:1`, `null`,
/// `file:FILE=/tmp/out.raw,FORMAT=raw`); with text, only that text is used
/// (`snd_pcm_open_lconf`), so a test or a card-less demo can define a capture from a file.
public struct PCMDeviceName: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var configuration: String?

    public init(_ name: String, configuration: String? = nil) {
        self.name = name
        self.configuration = configuration
    }

    /// ALSA's `null` plugin: playback discards, capture gives silence; no clock.
    public static let null = PCMDeviceName("null")

    /// Playback into a raw S16_LE file through the `file` plugin (over `null`; no clock).
    public static func rawFile(writing path: String) -> PCMDeviceName {
        PCMDeviceName("file:FILE=" + path + ",FORMAT=raw")
    }

    /// Capture from a raw S16_LE file (the `file` plugin's `infile` over `null`; no clock). The
    /// file must hold the audio at the stream's rate; past its end the content is unspecified.
    public static func rawFile(reading path: String) -> PCMDeviceName {
        PCMDeviceName(
            "deskphone_infile",
            configuration: "pcm.deskphone_infile { type file slave { pcm { type null } } file \"/dev/null\" infile \""
                + path + "\" format raw }")
    }

    public var description: String {
        configuration == nil ? "\"" + name + "\"" : "\"" + name + "\" (own configuration)"
    }
}
