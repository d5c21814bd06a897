#!/usr/bin/env python3
"""Packet-delay traces for jitter-buffer work, from seeded random network models.

  gentraces.py --out DIR [--seeds 1 2] [--profiles lan wifi ...] [--duration-s 180]
  gentraces.py --list

Writes DIR/PROFILE-SEED.csv for every profile and seed. The format (docs/JITTER.md):

  # profile=wifi
  # seed=1
  # ptime_ms=20
  # clock_hz=8000
  # duration_s=180
  # drift_ppm=0
  # description=...
  seq,send_ms,arrival_ms
  0,0,6.774
  1,20,
  ...

One row per packet the sender sent, in send order. send_ms is the media time of the
packet's first sample on the sender's clock (it jumps over DTX silences while seq stays
contiguous); arrival_ms is the arrival time on the receiver's clock, empty when the network
lost the packet. Arrivals may be out of order. Only time differences mean anything.

Deterministic: a profile and a seed give the same bytes on every machine and Python 3
version. The only source of randomness is random.Random(f"{profile}-{seed}").random(); every
distribution is derived from it here (no random.gauss & co., whose algorithms Python may
change). Python 3 standard library only.
"""

import argparse
import math
import os
import random
import sys

PTIME_MS = 20
CLOCK_HZ = 8000
DURATION_S = 180


class Rng:
    """Distributions built on random.Random.random() alone, so traces never change."""

    def __init__(self, profile, seed):
        self.r = random.Random(f"deskphone-jb/{profile}/{seed}")

    def u(self, lo=0.0, hi=1.0):
        return lo + (hi - lo) * self.r.random()

    def chance(self, p):
        return self.r.random() < p

    def exp(self, mean):
        return -mean * math.log(1.0 - self.r.random())

    def normal(self, mu=0.0, sigma=1.0):
        # Box-Muller, one value per call.
        u1 = 1.0 - self.r.random()
        u2 = self.r.random()
        return mu + sigma * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def gamma2(self, theta):
        """Gamma with shape 2: the sum of two exponentials of mean theta."""
        return self.exp(theta) + self.exp(theta)

    def lognormal(self, median, sigma):
        return median * math.exp(self.normal(0.0, sigma))


# ------------------------------------------------------------------ building blocks

def steady_send_times(duration_s):
    return [float(k * PTIME_MS) for k in range(int(duration_s * 1000 // PTIME_MS))]


def talkspurt_send_times(rng, duration_s, talk_mean_s=1.2, silence_mean_s=0.8):
    """DTX: packets only in talkspurts; silences send nothing (send_ms jumps, seq does not)."""
    out = []
    t = 0.0
    end = duration_s * 1000.0
    while t < end:
        n = max(1, int(round(rng.exp(talk_mean_s * 1000.0) / PTIME_MS)))
        for _ in range(n):
            if t >= end:
                break
            out.append(t)
            t += PTIME_MS
        # A silence is a whole number of frames: the media clock keeps its 20 ms grid.
        t += PTIME_MS * max(1, int(round(rng.exp(silence_mean_s * 1000.0) / PTIME_MS)))
    return out


def fifo(arrivals, spacing_ms):
    """A single queue: no packet overtakes the one before, and back-to-back packets leave at
    least spacing_ms apart (a burst after a stall). None (lost) passes through."""
    out = []
    last = -math.inf
    for a in arrivals:
        if a is None:
            out.append(None)
            continue
        a = max(a, last + spacing_ms)
        out.append(a)
        last = a
    return out


def events(rng, duration_ms, gap_lo_ms, gap_hi_ms, len_lo_ms, len_hi_ms):
    """Non-overlapping (start, length) events with uniform gaps between them."""
    out = []
    t = rng.u(gap_lo_ms, gap_hi_ms) * 0.5
    while t < duration_ms:
        length = rng.u(len_lo_ms, len_hi_ms)
        out.append((t, length))
        t += length + rng.u(gap_lo_ms, gap_hi_ms)
    return out


def hold_during(send, delays, base, stalls):
    """Packets sent during a stall wait until the stall ends (then leave as a burst)."""
    j = 0
    for i, s in enumerate(send):
        while j < len(stalls) and stalls[j][0] + stalls[j][1] < s + base:
            j += 1
        if j < len(stalls):
            start, length = stalls[j]
            nominal = s + delays[i]
            if start <= nominal < start + length:
                delays[i] = start + length - s + (delays[i] - base)
    return delays


def gilbert_elliott(rng, n, p_enter_bad, p_leave_bad, loss_bad, loss_good):
    """Two-state burst loss: True where the packet is lost."""
    bad = False
    out = []
    for _ in range(n):
        bad = (not rng.chance(p_leave_bad)) if bad else rng.chance(p_enter_bad)
        out.append(rng.chance(loss_bad if bad else loss_good))
    return out


def random_loss(rng, n, p):
    return [rng.chance(p) for _ in range(n)]


# ------------------------------------------------------------------ network models
# Each returns (send times, arrival times or None, drift_ppm, description).

def wifi_network(rng, send, label="Wi-Fi"):
    base = rng.u(3.0, 8.0)
    dur = send[-1] + PTIME_MS
    stalls = events(rng, dur, 4000.0, 14000.0, 60.0, 300.0)
    # Contention: a two-state Markov chain; in the busy state the jitter is 5x larger.
    busy = False
    delays = []
    for _ in send:
        busy = (not rng.chance(0.025)) if busy else rng.chance(0.001)
        delays.append(base + rng.gamma2(7.5 if busy else 1.5))
    delays = hold_during(send, delays, base, stalls)
    lost = gilbert_elliott(rng, len(send), 0.002, 0.25, 0.6, 0.002)
    arr = fifo([None if lost[i] else s + delays[i] for i, s in enumerate(send)], 0.2)
    desc = (f"{label}: base {base:.2f} ms, gamma(k=2) jitter 1.5 ms scale, 7.5 ms in busy "
            f"spells (Markov, ~4% of the time), {len(stalls)} stalls of 60-300 ms every 4-14 s "
            "released as 0.2 ms bursts, Gilbert-Elliott burst loss ~0.7%")
    return arr, desc


def profile_lan(rng, duration_s):
    send = steady_send_times(duration_s)
    base = rng.u(1.0, 3.0)
    lost = random_loss(rng, len(send), 0.001)
    arr = fifo([None if lost[i] else s + base + rng.exp(0.4) for i, s in enumerate(send)], 0.05)
    return send, arr, 0, (f"steady LAN: base {base:.2f} ms, exponential jitter mean 0.4 ms, "
                          "0.1% random loss")


def profile_wifi(rng, duration_s):
    send = steady_send_times(duration_s)
    arr, desc = wifi_network(rng, send)
    return send, arr, 0, desc


def profile_bufferbloat(rng, duration_s):
    send = steady_send_times(duration_s)
    base = rng.u(15.0, 25.0)
    # Sawtooth queue: fills linearly to a peak over 5-12 s, drains in 0.5-2 s, rests 0-3 s.
    segments = []  # (start, fill_ms, peak, drain_ms, rest_ms)
    t = 0.0
    end = send[-1] + PTIME_MS
    while t < end:
        seg = (t, rng.u(5000.0, 12000.0), rng.u(80.0, 200.0), rng.u(500.0, 2000.0),
               rng.u(0.0, 3000.0))
        segments.append(seg)
        t += seg[1] + seg[3] + seg[4]
    j = 0
    wobble = 0.0
    arr = []
    for s in send:
        while s >= segments[j][0] + segments[j][1] + segments[j][3] + segments[j][4]:
            j += 1
        start, fill, peak, drain, _ = segments[j]
        x = s - start
        if x < fill:
            q = peak * x / fill
        elif x < fill + drain:
            q = peak * (1.0 - (x - fill) / drain)
        else:
            q = 0.0
        wobble = 0.9 * wobble + rng.normal(0.0, 1.0)  # AR(1) around the ramp
        d = base + q + abs(wobble) + rng.exp(0.5)
        near_peak = q > 0.9 * peak
        lost = rng.chance(0.15 if near_peak else 0.002)
        arr.append(None if lost else s + d)
    arr = fifo(arr, 0.1)
    return send, arr, 0, (f"bufferbloat: base {base:.2f} ms plus a sawtooth queue (fill 5-12 s to "
                          "an 80-200 ms peak, drain 0.5-2 s, rest 0-3 s) with AR(1) wobble, "
                          "15% loss near the peaks")


def profile_drift(rng, duration_s, seed):
    send = steady_send_times(duration_s)
    base = rng.u(2.0, 6.0)
    ppm = (1 if seed % 2 else -1) * round(rng.u(150.0, 400.0))
    offset = rng.u(0.0, 100.0)
    lost = random_loss(rng, len(send), 0.002)
    arr = []
    for i, s in enumerate(send):
        if lost[i]:
            arr.append(None)
            continue
        true_arrival = s + base + rng.gamma2(1.0)
        arr.append(offset + true_arrival * (1.0 + ppm * 1e-6))  # the receiver's clock
    arr = fifo(arr, 0.05)
    return send, arr, ppm, (f"clock drift: receiver clock {ppm:+d} ppm against the sender "
                            f"(offset {offset:.1f} ms), base {base:.2f} ms, gamma(k=2) jitter "
                            "1 ms scale, 0.2% random loss")


def profile_spikes(rng, duration_s):
    send = steady_send_times(duration_s)
    base = rng.u(30.0, 50.0)
    dur = send[-1] + PTIME_MS
    spikes = events(rng, dur, 12000.0, 35000.0, 150.0, 600.0)
    delays = [base + rng.lognormal(8.0, 0.4) for _ in send]
    delays = hold_during(send, delays, base, spikes)
    lost = random_loss(rng, len(send), 0.005)
    arr = fifo([None if lost[i] else s + delays[i] for i, s in enumerate(send)], 1.0)
    return send, arr, 0, (f"delay spikes (LTE handover): base {base:.2f} ms, lognormal jitter "
                          f"(median 8 ms, sigma 0.4), {len(spikes)} spikes of 150-600 ms every "
                          "12-35 s whose packets arrive late in one burst (1 ms apart), 0.5% "
                          "random loss")


def profile_loss(rng, duration_s):
    send = steady_send_times(duration_s)
    base = rng.u(8.0, 15.0)
    dur = send[-1] + PTIME_MS
    outages = events(rng, dur, 20000.0, 50000.0, 300.0, 1500.0)
    lost = gilbert_elliott(rng, len(send), 0.01, 0.3, 0.7, 0.01)
    arr = []
    j = 0
    for i, s in enumerate(send):
        while j < len(outages) and outages[j][0] + outages[j][1] < s:
            j += 1
        out = j < len(outages) and outages[j][0] <= s < outages[j][0] + outages[j][1]
        arr.append(None if (lost[i] or out) else s + base + rng.gamma2(2.0))
    arr = fifo(arr, 0.1)
    return send, arr, 0, (f"packet loss: base {base:.2f} ms, gamma(k=2) jitter 2 ms scale, "
                          "Gilbert-Elliott burst loss (~3%, bursts of ~3 packets), "
                          f"{len(outages)} outages of 0.3-1.5 s with every packet lost")


def profile_reorder(rng, duration_s):
    send = steady_send_times(duration_s)
    lost = random_loss(rng, len(send), 0.005)
    arr = []
    for i, s in enumerate(send):
        # Two paths (e.g. bonded links): each packet takes one, with its own jitter.
        d = rng.normal(30.0, 4.0) if rng.chance(0.7) else rng.normal(65.0, 12.0)
        arr.append(None if lost[i] else s + max(6.0, d))
    return send, arr, 0, ("reordering: each packet independently takes a fast path N(30, 4) ms "
                          "(70%) or a slow one N(65, 12) ms, clipped at 6 ms, so packets overtake "
                          "each other; 0.5% random loss")


def profile_dtx(rng, duration_s):
    send = talkspurt_send_times(rng, duration_s)
    arr, desc = wifi_network(rng, send, "over Wi-Fi")
    return send, arr, 0, ("DTX: talkspurts exp(mean 1.2 s), silences exp(mean 0.8 s) without "
                          "packets, " + desc)


PROFILES = {
    "lan": lambda rng, d, seed: profile_lan(rng, d),
    "wifi": lambda rng, d, seed: profile_wifi(rng, d),
    "bufferbloat": lambda rng, d, seed: profile_bufferbloat(rng, d),
    "drift": profile_drift,
    "spikes": lambda rng, d, seed: profile_spikes(rng, d),
    "loss": lambda rng, d, seed: profile_loss(rng, d),
    "reorder": lambda rng, d, seed: profile_reorder(rng, d),
    "dtx": lambda rng, d, seed: profile_dtx(rng, d),
}


def make_trace(profile, seed, duration_s=DURATION_S):
    """(meta dict, send list, arrival list with None for lost) for a profile and seed."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile '{profile}' ({', '.join(PROFILES)})")
    rng = Rng(profile, seed)
    send, arr, ppm, desc = PROFILES[profile](rng, duration_s, seed)
    meta = {
        "profile": profile,
        "seed": seed,
        "ptime_ms": PTIME_MS,
        "clock_hz": CLOCK_HZ,
        "duration_s": duration_s,
        "drift_ppm": ppm,
        "description": desc,
        "generator": "Tools/jbeval/gentraces.py",
    }
    return meta, send, arr


def trace_text(meta, send, arr):
    lines = [f"# {k}={v}" for k, v in meta.items()]
    lines.append("seq,send_ms,arrival_ms")
    for i, (s, a) in enumerate(zip(send, arr)):
        s_text = str(int(s)) if s == int(s) else f"{s:.3f}"
        lines.append(f"{i},{s_text}," + ("" if a is None else f"{a:.3f}"))
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write seeded packet-delay traces (CSV).")
    ap.add_argument("--out", help="directory to write PROFILE-SEED.csv into")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--profiles", nargs="+", default=list(PROFILES), metavar="PROFILE",
                    help="default: all (" + " ".join(PROFILES) + ")")
    ap.add_argument("--duration-s", type=int, default=DURATION_S)
    ap.add_argument("--list", action="store_true", help="print the profiles and exit")
    args = ap.parse_args(argv)
    if args.list:
        for p in PROFILES:
            print(p)
        return 0
    if not args.out:
        ap.error("--out DIR is required")
    if args.duration_s < 1:
        ap.error("--duration-s must be at least 1")
    for p in args.profiles:
        if p not in PROFILES:
            ap.error(f"unknown profile '{p}' (one of: {', '.join(PROFILES)})")
    os.makedirs(args.out, exist_ok=True)
    for p in args.profiles:
        for seed in args.seeds:
            meta, send, arr = make_trace(p, seed, args.duration_s)
            path = os.path.join(args.out, f"{p}-{seed}.csv")
            with open(path, "w", newline="\n") as f:
                f.write(trace_text(meta, send, arr))
    return 0


if __name__ == "__main__":
    sys.exit(main())
