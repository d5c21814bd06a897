import CAlsa
import CLinux

/// A failure of an ALSA PCM (or of the audio configuration): which device, which call, and
/// ALSA's negative errno, e.g. `handset capture "hw:0,0": snd_pcm_open failed: No such file or
/// directory (-2)`. Thrown by opening and starting streams; reported through `onError` once a
/// stream runs (a running stream never throws into the loop).
public struct AudioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The device as opened, with its direction ("capture \"null\"").
    public let device: String
    /// The call that failed, or what was checked ("period size").
    public let call: String
    /// ALSA's status: a negative errno (`-ENODEV` for a device that went away).
    public let code: Int32
    /// Extra detail for configuration problems (the values wished and obtained).
    public let detail: String

    public init(device: String, call: String, code: Int32, detail: String = "") {
        self.device = device
        self.call = call
        self.code = code
        self.detail = detail
    }

    /// Whether the device disappeared (unplugged USB headset, removed card): reopen, or switch path.
    public var isDeviceGone: Bool { code == -ENODEV || code == -ENXIO || code == -EBADFD }

    /// ALSA's text for the code.
    public var reason: String {
        guard let text = snd_strerror(code) else { return "error " + String(code) }
        return String(cString: text)
    }

    public var description: String {
        var text = device + ": " + call + " failed: " + reason + " (" + String(code) + ")"
        if !detail.isEmpty { text += ": " + detail }
        return text
    }
}
