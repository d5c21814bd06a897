#!/usr/bin/env python3
"""Writes a deterministic speech-like test signal for the call benchmark.

usage: speechlike.py RATE SECONDS OUT.raw [OUT.wav [CHANNELS]]

Raw signed 16-bit little-endian mono PCM (what `deskphone --audio-in` reads) and, when
asked, the same samples as a WAV file (what baresip's aufile source reads). The signal is
talk-spurts of a voiced sound (a gliding 90-220 Hz fundamental with harmonics shaped by
two formants) with breath noise, and short pauses, so the codecs see speech-like levels
and spectra rather than a pure tone or silence. CHANNELS 2 writes the WAV as stereo, the
same samples on both channels (baresip's aufile takes Opus's two channels only). Standard
library only.
"""
import array
import math
import random
import sys
import wave


def main():
    rate, seconds, raw_path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    wav_path = sys.argv[4] if len(sys.argv) > 4 else None
    channels = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    rng = random.Random(7)
    total = int(rate * seconds)
    out = array.array("h")
    # Harmonic amplitudes: two formants (about 700 Hz and 1200 Hz) over a falling tilt.
    def harmonic_gain(freq):
        f1 = math.exp(-((freq - 700.0) / 350.0) ** 2)
        f2 = 0.6 * math.exp(-((freq - 1200.0) / 400.0) ** 2)
        return (0.3 + f1 + f2) / (1.0 + freq / 400.0)

    phase = 0.0
    produced = 0
    while produced < total:
        # A talk spurt of 0.3-1.5 s, then a pause of 0.1-0.6 s.
        spurt = int(rate * rng.uniform(0.3, 1.5))
        pause = int(rate * rng.uniform(0.1, 0.6))
        f_start, f_end = rng.uniform(100.0, 220.0), rng.uniform(90.0, 200.0)
        level = rng.uniform(3000.0, 9000.0)
        for n in range(min(spurt, total - produced)):
            position = n / spurt
            f0 = f_start + (f_end - f_start) * position
            phase += 2.0 * math.pi * f0 / rate
            if phase > 2.0 * math.pi * 1000.0:
                phase -= 2.0 * math.pi * 1000.0
            if n % 80 == 0:  # the glide is slow: refresh the envelope and gains every 80 samples
                envelope = math.sin(math.pi * position) ** 0.5
                top = min(3400.0, rate / 2.0 - 200.0)
                gains = [(h, harmonic_gain(h * f0)) for h in range(1, 13) if h * f0 < top]
            sample = 0.0
            for harmonic, gain in gains:
                sample += gain * math.sin(harmonic * phase)
            sample = level * envelope * sample + rng.gauss(0.0, 120.0)
            out.append(max(-32768, min(32767, int(sample))))
        produced += min(spurt, total - produced)
        for _ in range(min(pause, total - produced)):
            out.append(int(rng.gauss(0.0, 30.0)))
        produced += min(pause, total - produced)
    if sys.byteorder != "little":
        out.byteswap()
    data = out.tobytes()
    with open(raw_path, "wb") as handle:
        handle.write(data)
    if wav_path:
        if channels == 2:
            stereo = array.array("h", bytes(2 * len(data)))
            stereo[0::2] = out
            stereo[1::2] = out
            data = stereo.tobytes()
        with wave.open(wav_path, "wb") as handle:
            handle.setnchannels(channels)
            handle.setsampwidth(2)
            handle.setframerate(rate)
            handle.writeframes(data)


if __name__ == "__main__":
    main()
