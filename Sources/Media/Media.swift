// Media: the voice path of a call on the reactor: RTP/RTCP sessions over UDP, the codec and
// jitter buffer per negotiated stream, ALSA capture/playback, RFC 4733 DTMF and local tones.
// Firmware module: Embedded Swift rules (typed throws, no Foundation).
//
// How a user agent drives it (one `RTPSession` and one `CallAudio` per call):
//   let rtp = try RTPSession(reactor: r, configuration: RTPSessionConfiguration(bindAddress: "0.0.0.0",
//                             portMin: 16384, portMax: 32766, cname: "1001@192.0.2.10"))
//   // offer/answer: SDPAudioConfiguration(address: <our IP>, rtpPort: Int(rtp.localAddress.port), ...)
//   try rtp.start(negotiated)            // when an offer/answer completes
//   try rtp.update(renegotiated)         // re-INVITE: hold/resume, codec or address change
//   let audio = CallAudio(reactor: r, session: rtp, handset: ..., headset: ..., speaker: ...)
//   try audio.start()                    // capture clocks sending, playback pulls the jitter buffer
//   rtp.sendDigit(UInt8(ascii: "5")); rtp.onDigit = { digit in ... }
//   audio.close(); rtp.close()           // at BYE (stop() sends the RTCP BYE)
// `rtp.statistics.description` is the per-call log line (counts, loss, jitter, RTT, latency p50/p99).

/// Names used in logs of the media layer.
public enum MediaLayer {
    public static let name = "media"
}
