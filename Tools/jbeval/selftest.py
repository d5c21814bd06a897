#!/usr/bin/env python3
"""Known-answer checks of the referee (referee.py) and the trace generator (gentraces.py),
on tiny hand-made traces. Run by scripts/test.sh; each check prints `ok   ...` or
`FAIL ...`, the last line is `jbeval: N passed, N failed`. No build needed, a few seconds."""

import hashlib
import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gentraces  # noqa: E402
import referee  # noqa: E402

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def close(a, b, tol=1e-6):
    return a is not None and not math.isnan(a) and abs(a - b) <= tol


class Args:
    name = "candidate"
    base_ms = 40.0
    no_speexdsp = True
    speexdsp = None


work = tempfile.mkdtemp(prefix="jbeval-selftest-")


def write(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def trace_file(name, rows, extra_meta=""):
    """rows: (seq, send_ms, arrival_ms or None)."""
    body = "".join(f"{s},{t:g}," + ("" if a is None else f"{a:.3f}") + "\n" for s, t, a in rows)
    return write(name, "# profile=hand\n# ptime_ms=20\n" + extra_meta + "seq,send_ms,arrival_ms\n" + body)


def playout_file(name, rows):
    """rows: (play_ms, kind, seq or None)."""
    body = "".join(f"{t:.3f},{k}," + ("" if s is None else str(s)) + "\n" for t, k, s in rows)
    return write(name, "# hand-made\nplay_ms,kind,seq\n" + body)


def rejected(trace_path, playout_path, words):
    trace = referee.read_trace(trace_path)
    try:
        referee.read_playout(playout_path, trace)
    except referee.Invalid as e:
        return all(w in str(e) for w in words), str(e)
    return False, "accepted"


# --- E-model ------------------------------------------------------------------------------
check("E-model: R(0 ms, 0%) = 93.2", close(referee.r_factor(0, 0), 93.2))
# 200 ms, 5%: Id = 4.8 + 0.11 * 22.7 = 7.297; Ie = 95 * 5 / 30.1 = 15.78073...
check("E-model: R(200 ms, 5%) = 70.1226", close(referee.r_factor(200, 5), 93.2 - 7.297 - 475 / 30.1))
check("E-model: MOS(93.2) = 4.41", close(referee.mos(93.2), 4.4097, 1e-3), f"{referee.mos(93.2)}")
check("E-model: MOS clamps to 1 and 4.5", referee.mos(-5) == 1.0 and referee.mos(120) == 4.5)

# --- a constant 30 ms delay, 10 packets ---------------------------------------------------
const = trace_file("const.csv", [(k, 20 * k, 20 * k + 30.0) for k in range(10)])
t = referee.read_trace(const)
check("trace: floor is the smallest one-way delay (30 ms)", close(t.floor, 30.0))
fixed = playout_file("fixed.csv", [(20 * k + 30.0, "normal", k) for k in range(10)])
play, conceal = referee.read_playout(fixed, t)
m = referee.score(t, play, 40.0, conceal)
check("fixed delay on a constant-delay trace: 0 late", m["late_pct"] == 0 and m["loss_pct"] == 0,
      f"{m}")
check("fixed delay on a constant-delay trace: mean delay 0, conceal 0",
      close(m["mean_ms"], 0.0) and conceal == 0.0, f"{m}")
check("fixed delay on a constant-delay trace: R = R(40 ms, 0%)", close(m["R"], 93.2 - 0.96))
d, best = referee.best_fixed(t, 40.0)
check("fixed-best on a constant-delay trace: D = 0, 0 late", d == 0.0 and best["late_pct"] == 0)

# A 10 ms later fixed delay (10 ms periods with expands between): mean 10 ms, still 0 late.
later = []
for k in range(10):
    later += [(20 * k + 40.0, "normal", k), (20 * k + 50.0, "normal", None)]
play, conceal = referee.read_playout(playout_file("later.csv", later), t)
m = referee.score(t, play, 40.0, conceal)
check("fixed delay +10 ms: 0 late, mean 10 ms", m["late_pct"] == 0 and close(m["mean_ms"], 10.0), f"{m}")

# --- impossible playouts are rejected ----------------------------------------------------
early = [(20 * k + 29.0, "normal", k) for k in range(10)]  # each one ms before it arrives
ok, msg = rejected(const, playout_file("early.csv", early), ["seq 0", "before it arrived"])
check("a packet played before it arrived is rejected", ok, msg)
one_early = [(20 * k + 40.0, "normal", k) for k in range(10)]
one_early[3] = (20 * 3 + 40.0, "normal", 4)  # seq 4 arrives at 110, played at 100
ok, msg = rejected(const, playout_file("one-early.csv", one_early), ["seq 4", "before it arrived"])
check("one packet played early among good ones is rejected", ok, msg)
lossy = trace_file("lossy.csv", [(k, 20 * k, None if k == 5 else 20 * k + 30.0) for k in range(10)])
ok, msg = rejected(lossy, playout_file("ghost.csv", [(20 * k + 30.0, "normal", k) for k in range(10)]),
                   ["seq 5", "lost"])
check("a packet the network lost cannot be played", ok, msg)
ok, msg = rejected(const, playout_file("unknown.csv", [(30.0, "normal", 0), (50.0, "normal", 99)]),
                   ["seq 99", "not in the trace"])
check("a seq not in the trace is rejected", ok, msg)
ok, msg = rejected(const, playout_file("jitter.csv", [(30.0, "normal", 0), (50.0, "normal", 1),
                                                      (75.0, "normal", 2)]), ["period"])
check("a playout whose period is not constant is rejected", ok, msg)
ok, msg = rejected(const, playout_file("kind.csv", [(30.0, "magic", 0)]), ["unknown kind"])
check("an unknown kind is rejected", ok, msg)

# --- late packets and concealment ---------------------------------------------------------
skip = [(20 * k + 30.0, "expand" if k == 6 else "normal", None if k == 6 else k) for k in range(10)]
play, conceal = referee.read_playout(playout_file("skip.csv", skip), t)
m = referee.score(t, play, 40.0, conceal)
check("a received packet never played is late: 10%", close(m["late_pct"], 10.0), f"{m}")
check("its expand period is 10% concealment", close(conceal, 10.0), f"{conceal}")
m = referee.score(referee.read_trace(lossy), [None if k == 5 else 20 * k + 30.0 for k in range(10)], 40.0)
check("network loss counts in loss%, not late%", m["late_pct"] == 0 and close(m["loss_pct"], 10.0), f"{m}")

# --- fixed-best: one 100 ms spike among 200 packets ----------------------------------------
spike = trace_file("spike.csv", [(k, 20 * k, 20 * k + 10.0 + (100.0 if k == 50 else 0.0))
                                 for k in range(200)])
ts = referee.read_trace(spike)
d, best = referee.best_fixed(ts, 40.0)
# D = 0: R(40, 0.5%) = 93.2 - 0.96 - 95*0.5/25.6 = 90.384 beats D = 100: R(140, 0) = 89.84.
check("fixed-best skips a lone spike: D = 0, 0.5% late", d == 0.0 and close(best["late_pct"], 0.5), f"{d} {best}")
many = trace_file("spikes.csv", [(k, 20 * k, 20 * k + 10.0 + (100.0 if k % 10 == 0 else 0.0))
                                 for k in range(200)])
d, best = referee.best_fixed(referee.read_trace(many), 40.0)
check("fixed-best waits for 10% spikes: D = 100, 0 late", d == 100.0 and best["late_pct"] == 0, f"{d} {best}")
check("ratio of a fixed playout to fixed-best's delay at its loss is 1",
      close(referee.score(ts, [20 * k + 110.0 for k in range(200)], 40.0)["ratio"], 1.0))

# --- speexdsp through ctypes --------------------------------------------------------------
try:
    lib = referee.open_speexdsp()
except referee.Invalid as e:
    lib = None
    check("libspeexdsp.so.1 loads", False, str(e))
if lib:
    long_const = trace_file("const-long.csv", [(k, 20 * k, 20 * k + 30.0) for k in range(500)])
    tl = referee.read_trace(long_const)
    play = referee.speexdsp_playout(tl, lib)
    m = referee.score(tl, play, 40.0)
    check("speexdsp on a constant-delay trace: 0 late, never before arrival",
          m["late_pct"] == 0 and all(p is not None and p >= a for p, a in zip(play, tl.arrival)), f"{m}")

# --- the command line ---------------------------------------------------------------------
ref = os.path.join(HERE, "referee.py")
p = subprocess.run([sys.executable, ref, const, "--playout", os.path.join(work, "early.csv"),
                    "--no-speexdsp"], capture_output=True, text=True)
check("referee.py exits 1 on an impossible playout and says why",
      p.returncode == 1 and "before it arrived" in p.stderr, f"exit {p.returncode}: {p.stderr[:300]}")
p = subprocess.run([sys.executable, ref, const, "--playout", fixed, "--no-speexdsp"],
                   capture_output=True, text=True)
check("referee.py exits 0 on a valid playout, candidate and fixed-best rows",
      p.returncode == 0 and "candidate" in p.stdout and "fixed-best" in p.stdout,
      f"exit {p.returncode}: {p.stderr[:300]}")
os.makedirs(os.path.join(work, "dir"))
for k in (1, 2):
    with open(os.path.join(work, "dir", f"c{k}.csv"), "w") as f:
        f.write(open(const).read())
cmd = f"cp {playout_file('cmd.csv', [(20 * k + 30.0, 'normal', k) for k in range(10)])} {{out}}"
p = subprocess.run([sys.executable, ref, "--all", os.path.join(work, "dir"), "--no-speexdsp",
                    "--playout-cmd", cmd, "--name", "mine"], capture_output=True, text=True)
check("referee.py --all --playout-cmd scores every trace",
      p.returncode == 0 and sum(line.split()[:1] in (["c1"], ["c2"]) for line in p.stdout.splitlines()) == 4
      and any(line.startswith("mean (2)") and " mine " in line for line in p.stdout.splitlines()),
      f"exit {p.returncode}: {p.stdout[-400:]} {p.stderr[:300]}")
p = subprocess.run([sys.executable, ref, "--all", os.path.join(work, "dir"), "--no-speexdsp",
                    "--playout-cmd", "false"], capture_output=True, text=True)
check("referee.py --all exits 1 when the candidate's command fails",
      p.returncode == 1 and "FAILED" in p.stdout, f"exit {p.returncode}")

# --- the trace generator ------------------------------------------------------------------
texts = {}
for profile in gentraces.PROFILES:
    meta, send, arr = gentraces.make_trace(profile, 1, 20)
    texts[profile] = gentraces.trace_text(meta, send, arr)
    path = write(f"gen-{profile}.csv", texts[profile])
    try:
        tr = referee.read_trace(path)
        good = tr.n > 0 and tr.meta["profile"] == profile and "description" in tr.meta
    except referee.Invalid as e:
        good = False
    check(f"gentraces {profile}: a trace the referee reads", good)
again = gentraces.trace_text(*gentraces.make_trace("wifi", 1, 20))
check("gentraces is deterministic for a seed", again == texts["wifi"])
check("gentraces: another seed, another trace",
      gentraces.trace_text(*gentraces.make_trace("wifi", 2, 20)) != texts["wifi"])
# The bytes of one trace, so a change of the models (or of Python's random) shows up here.
digest = hashlib.sha256(gentraces.trace_text(*gentraces.make_trace("wifi", 1, 30)).encode()).hexdigest()
check("gentraces wifi seed 1 (30 s) has its known bytes",
      digest == "7d34ac6e398f376808ae95e90f229a136a9e46488485ea1987f97b1c7f51cf07", digest)


def arrivals(profile, seed=1, seconds=180):
    meta, send, arr = gentraces.make_trace(profile, seed, seconds)
    return meta, send, arr


meta, send, arr = arrivals("loss")
check("gentraces loss: 2-10% of the rows have no arrival",
      2.0 < 100.0 * sum(a is None for a in arr) / len(arr) < 10.0)
meta, send, arr = arrivals("reorder")
got = [a for a in arr if a is not None]
check("gentraces reorder: arrivals out of order", sum(b < a for a, b in zip(got, got[1:])) > 100)
meta, send, arr = arrivals("drift", 1)
owd = [(s, a - s) for s, a in zip(send, arr) if a is not None]
slope = (min(d for s, d in owd[-500:]) - min(d for s, d in owd[:500])) / (owd[-250][0] - owd[250][0])
check("gentraces drift: the one-way delay floor moves by drift_ppm",
      abs(slope * 1e6 - meta["drift_ppm"]) < 60, f"{slope * 1e6:.0f} ppm vs {meta['drift_ppm']}")
meta, send, arr = arrivals("dtx")
check("gentraces dtx: send_ms jumps over silences", any(b - a > 20 for a, b in zip(send, send[1:])))
meta, send, arr = arrivals("bufferbloat")
owd = [a - s for s, a in zip(send, arr) if a is not None]
check("gentraces bufferbloat: the delay ramps by more than 60 ms", max(owd) - min(owd) > 60)
meta, send, arr = arrivals("spikes")
owd = [a - s for s, a in zip(send, arr) if a is not None]
check("gentraces spikes: spikes above 150 ms over the floor", max(owd) - min(owd) > 150)

shutil.rmtree(work, ignore_errors=True)
print(f"jbeval: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
