// Media: the voice path of a call on the reactor: RTP/RTCP sessions over UDP, the codec and
// jitter buffer per negotiated stream, ALSA capture/playback, RFC 4733 DTMF and local tones.
// Firmware module: Embedded Swift rules (typed throws, no Foundation).

/// Names used in logs of the media layer.
public enum MediaLayer {
    public static let name = "media"
}
