// Audio: ALSA capture and playback on the reactor (non-blocking PCM, poll descriptors in the
// one epoll set), xrun/suspend recovery, device routing per board, locally generated tones.
// Firmware module: Embedded Swift rules (typed throws, no Foundation).
import CAlsa

/// The ALSA library this firmware runs against (for logs and `--version`).
public enum AudioLibrary {
    public static var alsaVersion: String {
        guard let text = snd_asoundlib_version() else { return "unknown" }
        return String(cString: text)
    }
}
