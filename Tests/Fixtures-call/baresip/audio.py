#!/usr/bin/env python3
"""Test signals and their analysis for the baresip interop test (scripts/cli-tests-baresip.sh).

Python standard library only.

  audio.py tone OUT RATE FREQ SECONDS [AMPLITUDE]
      writes a sine of FREQ Hz (a whole number) at RATE Hz, amplitude 0.5 of full scale by
      default: a mono 16-bit WAV when OUT ends in .wav (baresip's aufile source), else raw signed
      16-bit little-endian mono (deskphone's --audio-in).
  audio.py check IN RATE FREQ [MIN_SECONDS] [--after-gap]
      reads IN (a WAV: its own rate, first channel; raw s16le: at RATE) and cuts it into 20 ms
      windows; the windows above -40 dBFS are the active audio. At most 24 of them, spread over
      the active audio, are analysed (Goertzel): each window's dominant frequency (100 Hz up to
      Nyquist or 8 kHz, 50 Hz steps) and the share of its energy at FREQ. Passes (exit 0) when at
      least MIN_SECONDS (default 1.0) of audio is active, at least 80 % of the analysed windows
      peak within +-60 Hz of FREQ and on average at least half of their energy is at FREQ.
      With --after-gap only the audio after the last silent gap of at least 0.5 s is judged
      (the media that came back after a hold), and there must be such a gap. Prints one line:
      active seconds, level, the share of windows on FREQ, the energy at FREQ, the usual peak.
"""
import math
import struct
import sys
import wave


def write_tone(path, rate, freq, seconds, amplitude=0.5):
    # A whole number of hertz repeats exactly every second: compute one second, repeat it.
    step = 2.0 * math.pi * freq / rate
    peak = int(32767 * amplitude)
    second = struct.pack("<%dh" % rate, *(int(peak * math.sin(step * i)) for i in range(rate)))
    whole, part = divmod(int(rate * seconds), rate)
    frames = second * whole + second[: part * 2]
    if path.endswith(".wav"):
        with wave.open(path, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(frames)
    else:
        with open(path, "wb") as out:
            out.write(frames)


def read_samples(path, rate):
    """Returns (samples of the first channel, sample rate)."""
    if path.endswith(".wav"):
        with wave.open(path, "rb") as source:
            if source.getsampwidth() != 2:
                raise SystemExit("%s: %d-byte samples, expected 16-bit" % (path, source.getsampwidth()))
            channels = source.getnchannels()
            rate = source.getframerate()
            data = source.readframes(source.getnframes())
    else:
        channels = 1
        with open(path, "rb") as source:
            data = source.read()
    count = len(data) // 2
    samples = struct.unpack("<%dh" % count, data[: count * 2])
    return samples[::channels], rate


def goertzel_power(window, rate, freq):
    """|X(freq)|^2 of the window: (N*A/2)^2 for a sine of amplitude A on a whole number of cycles."""
    coefficient = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in window:
        s0 = x + coefficient * s1 - s2
        s2 = s1
        s1 = s0
    return s1 * s1 + s2 * s2 - coefficient * s1 * s2


def check(path, rate, freq, min_seconds=1.0, after_gap=False):
    samples, rate = read_samples(path, rate)
    size = rate // 50  # 20 ms
    threshold = (32768 * 10 ** (-40 / 20)) ** 2  # mean square of -40 dBFS
    active = []
    for start in range(0, len(samples) - size + 1, size):
        window = samples[start:start + size]
        power = sum(x * x for x in window) / size
        if power > threshold:
            active.append((start, power))
    gap_note = ""
    if after_gap:
        gaps = [i for i in range(1, len(active)) if active[i][0] - active[i - 1][0] >= rate // 2 + size]
        if not gaps:
            print("%s: no silent gap of 0.5 s between %d active windows" % (path, len(active)))
            return False
        last = gaps[-1]
        gap_note = ", after a %.2f s gap at %.2f s" % (
            (active[last][0] - active[last - 1][0] - size) / rate, active[last - 1][0] / rate + 0.02)
        active = active[last:]
    seconds = len(active) * size / rate
    if seconds < min_seconds:
        print("%s: %.2f s active of %.2f s%s, expected at least %.1f s"
              % (path, seconds, len(samples) / rate, gap_note, min_seconds))
        return False
    stride = max(1, len(active) // 24)
    chosen = active[::stride]
    candidates = list(range(100, min(rate // 2 - 50, 8000) + 1, 50))
    peaks = {}
    on_freq = 0
    energy_share = 0.0
    for start, _ in chosen:
        window = samples[start:start + size]
        mean = sum(window) / size
        window = [x - mean for x in window]
        best = max(candidates, key=lambda f: goertzel_power(window, rate, f))
        peaks[best] = peaks.get(best, 0) + 1
        if abs(best - freq) <= 60:
            on_freq += 1
        energy = sum(x * x for x in window)
        at_freq = max(goertzel_power(window, rate, f) for f in (freq - 25, freq, freq + 25))
        energy_share += min(1.0, 2.0 * at_freq / (size * energy)) if energy > 0 else 0.0
    share = on_freq / len(chosen)
    energy_share /= len(chosen)
    level = 10 * math.log10(sum(p for _, p in active) / len(active) / 32768 ** 2)
    common = max(peaks, key=peaks.get)
    print("%s: %.2f s active of %.2f s at %d Hz%s, level %.1f dBFS, %d%% of %d windows peak at %d Hz "
          "(+-60), %d%% of their energy there, usual peak %d Hz"
          % (path, seconds, len(samples) / rate, rate, gap_note, level, round(share * 100), len(chosen), freq,
             round(energy_share * 100), common))
    return share >= 0.8 and energy_share >= 0.5


def main(argv):
    if len(argv) >= 6 and argv[1] == "tone":
        amplitude = float(argv[6]) if len(argv) > 6 else 0.5
        write_tone(argv[2], int(argv[3]), int(argv[4]), float(argv[5]), amplitude)
        return 0
    if len(argv) >= 5 and argv[1] == "check":
        after_gap = "--after-gap" in argv
        argv = [a for a in argv if a != "--after-gap"]
        min_seconds = float(argv[5]) if len(argv) > 5 else 1.0
        try:
            return 0 if check(argv[2], int(argv[3]), float(argv[4]), min_seconds, after_gap) else 1
        except (OSError, EOFError, wave.Error) as error:
            print("%s: %s" % (argv[2], error))
            return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
