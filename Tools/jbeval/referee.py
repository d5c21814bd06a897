#!/usr/bin/env python3
"""The jitter-buffer referee: scores a playout against a packet-delay trace.

  referee.py TRACE [--playout P.csv]
  referee.py --all DIR --playout-cmd 'deskphone-tool jbsim --trace {trace} --out {out}'

For each trace it scores three jitter buffers and prints one table:

  candidate     the buffer under test, from its playout file (`deskphone-tool jbsim`)
  speexdsp      libspeexdsp's jitter_buffer_* with default settings, through ctypes
  fixed-best    the best fixed playout delay in hindsight (a search over every fixed delay)

A playout file that claims the impossible (a packet played before it arrived, a packet the
network lost, a packet the trace does not have, periods that are not constant) is rejected:
the candidate fails on that trace. Metrics, formats and the E-model: docs/JITTER.md.
Python 3 standard library only (ctypes for libspeexdsp.so.1, Debian package libspeexdsp1).

Exit status: 0 every candidate playout valid; 1 a candidate failed (invalid playout, or its
command failed) on some trace; 2 bad usage or a bad trace.
"""

import argparse
import bisect
import ctypes
import ctypes.util
import math
import os
import shlex
import subprocess
import sys
import tempfile

KINDS = {"normal", "expand", "accelerate", "preemptive", "silence", "cng"}
QUIET_KINDS = {"expand", "silence", "cng"}
ARRIVAL_SLACK_MS = 1e-6  # a play time equal to the arrival time is allowed
PERIOD_SLACK_MS = 0.002  # play_ms has 3 decimals
BASE_MS = 40.0  # delay outside the jitter buffer (codec, network floor) for the E-model


class Invalid(Exception):
    """A trace or a playout file that cannot be scored."""


# ------------------------------------------------------------------ trace

class Trace:
    def __init__(self, path, meta, seqs, send, arrival):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.meta = meta
        self.seqs = seqs
        self.send = send
        self.arrival = arrival  # None: lost in the network
        self.n = len(seqs)
        self.row_of = {s: i for i, s in enumerate(seqs)}
        owd = [a - s for s, a in zip(send, arrival) if a is not None]
        if not owd:
            raise Invalid(f"{path}: no packet arrives")
        self.floor = min(owd)  # the smallest one-way delay: "no buffering at all"
        self.received = len(owd)
        self.net_lost = self.n - self.received
        # Each received packet's delay above the floor, sorted: what a fixed buffer must wait.
        self.extra_sorted = sorted(o - self.floor for o in owd)
        self.ptime = float(meta.get("ptime_ms", 20))
        self.clock_hz = float(meta.get("clock_hz", 8000))


def read_trace(path):
    meta = {}
    seqs, send, arrival = [], [], []
    seen_header = False
    try:
        f = open(path)
    except OSError as e:
        raise Invalid(f"cannot read trace {path}: {e.strerror}") from None
    with f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                key, eq, value = line[1:].partition("=")
                if eq:
                    meta[key.strip()] = value.strip()
                continue
            where = f"{path} line {number}"
            if not seen_header:
                if line.replace(" ", "") != "seq,send_ms,arrival_ms":
                    raise Invalid(f"{where}: expected the header 'seq,send_ms,arrival_ms'")
                seen_header = True
                continue
            fields = [x.strip() for x in line.split(",")]
            if len(fields) != 3:
                raise Invalid(f"{where}: expected 3 fields: '{line}'")
            try:
                seq = int(fields[0])
                s = float(fields[1])
                a = float(fields[2]) if fields[2] else None
            except ValueError:
                raise Invalid(f"{where}: cannot parse '{line}'") from None
            if not math.isfinite(s) or (a is not None and not math.isfinite(a)):
                raise Invalid(f"{where}: not a finite time: '{line}'")
            seqs.append(seq)
            send.append(s)
            arrival.append(a)
    if not seqs:
        raise Invalid(f"{path}: no packets")
    if len(set(seqs)) != len(seqs):
        raise Invalid(f"{path}: a seq appears twice")
    return Trace(path, meta, seqs, send, arrival)


# ------------------------------------------------------------------ E-model (ITU-T G.107)

def r_factor(delay_ms, loss_pct):
    """R for G.711 with packet-loss concealment: Ie = 0, Bpl = 25.1, random loss (BurstR = 1).
    delay_ms is the one-way mouth-to-ear delay, loss_pct the packets lost to the listener."""
    i_d = 0.024 * delay_ms
    if delay_ms > 177.3:
        i_d += 0.11 * (delay_ms - 177.3)
    ie_eff = 95.0 * loss_pct / (loss_pct + 25.1)
    return 93.2 - i_d - ie_eff


def mos(r):
    if r < 0:
        return 1.0
    if r > 100:
        return 4.5
    return 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r)


# ------------------------------------------------------------------ scoring a playout

def score(trace, play_at, base_ms, conceal_pct=None):
    """Metrics from each packet's play time (None: not played). conceal_pct, when given,
    raises the E-model's loss to the share of talking time spent concealing."""
    late = 0
    added = []
    for i in range(trace.n):
        t = play_at[i]
        if trace.arrival[i] is None:
            continue
        if t is None:
            late += 1
        else:
            added.append(t - trace.send[i] - trace.floor)
    late_pct = 100.0 * late / trace.n
    loss_pct = 100.0 * (trace.net_lost + late) / trace.n
    m = {"late_pct": late_pct, "loss_pct": loss_pct, "played": len(added)}
    if not added:
        m.update(mean_ms=math.nan, p95_ms=math.nan, R=math.nan, MOS=math.nan, ppl_pct=100.0)
        return m
    added.sort()
    m["mean_ms"] = sum(added) / len(added)
    m["p95_ms"] = added[min(len(added) - 1, int(math.ceil(0.95 * len(added))) - 1)]
    ppl = loss_pct if conceal_pct is None else max(loss_pct, conceal_pct)
    m["ppl_pct"] = ppl
    m["R"] = r_factor(m["mean_ms"] + base_ms, ppl)
    m["MOS"] = mos(m["R"])
    # How the delay compares with the fixed delay that loses as few packets late.
    need = fixed_delay_for_late(trace, ppl - 100.0 * trace.net_lost / trace.n)
    m["ratio"] = m["mean_ms"] / need if need > 0 else math.nan
    return m


def fixed_delay_for_late(trace, late_pct):
    """The smallest fixed delay above the floor that plays all but late_pct% of sent packets."""
    may_miss = int(math.floor(max(0.0, late_pct) * trace.n / 100.0 + 1e-9))
    xs = trace.extra_sorted
    if may_miss >= len(xs):
        return 0.0
    return xs[len(xs) - 1 - may_miss]


# ------------------------------------------------------------------ fixed-delay oracle

def best_fixed(trace, base_ms):
    """Searches every fixed delay D (above the floor) at which some packet just makes it:
    packet i plays at send_i + floor + D when it has arrived by then. Returns (D, metrics)
    for the D with the highest R."""
    xs = trace.extra_sorted
    best = None
    previous = None
    for k, d in enumerate(xs):
        if d == previous:
            continue
        previous = d
        # Packets with extra delay <= d play: all from index k on that equal d, and before.
        on_time = bisect.bisect_right(xs, d)
        late = len(xs) - on_time
        r = r_factor(d + base_ms, 100.0 * (trace.net_lost + late) / trace.n)
        if best is None or r > best[0]:
            best = (r, d)
    d = best[1]
    return d, play_fixed(trace, d, base_ms)


def play_fixed(trace, d, base_ms):
    play_at = []
    for s, a in zip(trace.send, trace.arrival):
        t = s + trace.floor + d
        play_at.append(t if a is not None and a <= t + ARRIVAL_SLACK_MS else None)
    return score(trace, play_at, base_ms)


# ------------------------------------------------------------------ speexdsp

class SpeexPacket(ctypes.Structure):
    """JitterBufferPacket of <speex/speex_jitter.h>."""
    _fields_ = [("data", ctypes.c_char_p), ("len", ctypes.c_uint32),
                ("timestamp", ctypes.c_uint32), ("span", ctypes.c_uint32),
                ("sequence", ctypes.c_uint16), ("user_data", ctypes.c_uint32)]


SPEEX_OK = 0


def open_speexdsp(path=None):
    for name in ([path] if path else ["libspeexdsp.so.1", ctypes.util.find_library("speexdsp")]):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        P = ctypes.POINTER(SpeexPacket)
        lib.jitter_buffer_init.argtypes, lib.jitter_buffer_init.restype = [ctypes.c_int], ctypes.c_void_p
        lib.jitter_buffer_destroy.argtypes, lib.jitter_buffer_destroy.restype = [ctypes.c_void_p], None
        lib.jitter_buffer_put.argtypes, lib.jitter_buffer_put.restype = [ctypes.c_void_p, P], None
        lib.jitter_buffer_get.argtypes = [ctypes.c_void_p, P, ctypes.c_int32,
                                          ctypes.POINTER(ctypes.c_int32)]
        lib.jitter_buffer_get.restype = ctypes.c_int
        lib.jitter_buffer_tick.argtypes, lib.jitter_buffer_tick.restype = [ctypes.c_void_p], None
        return lib
    raise Invalid("libspeexdsp.so.1 not found (Debian: apt-get install libspeexdsp1; "
                  "or --speexdsp-lib PATH, or --no-speexdsp)")


def speexdsp_playout(trace, lib):
    """Each packet's play time under speexdsp's jitter buffer with its default settings.

    The receiver ticks every ptime ms from the first arrival. At each tick it puts the packets
    that have arrived by then (timestamp = send_ms in clock_hz units, span = one ptime), asks
    jitter_buffer_get for one ptime of audio, then calls jitter_buffer_tick. A packet plays at
    the tick whose get returned it. Runs until every packet is in and 2 s pass with no audio."""
    step = int(round(trace.ptime * trace.clock_hz / 1000.0))
    by_arrival = sorted((a, i) for i, a in enumerate(trace.arrival) if a is not None)
    jb = lib.jitter_buffer_init(step)
    if not jb:
        raise Invalid("jitter_buffer_init failed")
    play_at = [None] * trace.n
    put = SpeexPacket()
    put.data = b"\0\0\0\0"
    put.len = 4
    put.span = step
    got = SpeexPacket()
    scratch = ctypes.create_string_buffer(64)
    start = by_arrival[0][0]
    give_up = by_arrival[-1][0] + 10000.0
    quiet_limit = int(2000.0 / trace.ptime)
    quiet = 0
    j = 0
    tick = 0
    try:
        while True:
            now = start + tick * trace.ptime
            if now > give_up or (j == len(by_arrival) and quiet > quiet_limit):
                break
            while j < len(by_arrival) and by_arrival[j][0] <= now + ARRIVAL_SLACK_MS:
                i = by_arrival[j][1]
                put.timestamp = int(round(trace.send[i] * trace.clock_hz / 1000.0)) & 0xFFFFFFFF
                put.sequence = trace.seqs[i] & 0xFFFF
                put.user_data = i
                lib.jitter_buffer_put(jb, ctypes.byref(put))
                j += 1
            got.data = ctypes.cast(scratch, ctypes.c_char_p)
            got.len = len(scratch)
            if lib.jitter_buffer_get(jb, ctypes.byref(got), step, None) == SPEEX_OK:
                i = got.user_data
                if i < trace.n and play_at[i] is None:
                    play_at[i] = now
                quiet = 0
            else:
                quiet += 1
            lib.jitter_buffer_tick(jb)
            tick += 1
    finally:
        lib.jitter_buffer_destroy(jb)
    return play_at


# ------------------------------------------------------------------ the candidate's playout

def read_playout(path, trace):
    """Validates a playout file (play_ms,kind,seq) against the trace. Returns each packet's
    play time (its first period) and the share of talking time spent concealing."""
    play_at = [None] * trace.n
    rows = []  # (kind, starts a packet)
    seen_header = False
    period = None
    last_t = None
    try:
        f = open(path)
    except OSError as e:
        raise Invalid(f"cannot read playout {path}: {e.strerror}") from None
    with f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{path} line {number}"
            if not seen_header:
                if line.replace(" ", "") != "play_ms,kind,seq":
                    raise Invalid(f"{where}: expected the header 'play_ms,kind,seq'")
                seen_header = True
                continue
            fields = [x.strip() for x in line.split(",")]
            if len(fields) != 3:
                raise Invalid(f"{where}: expected 3 fields: '{line}'")
            try:
                t = float(fields[0])
            except ValueError:
                t = math.nan
            if not math.isfinite(t):
                raise Invalid(f"{where}: bad play_ms '{fields[0]}'")
            kind = fields[1]
            if kind not in KINDS:
                raise Invalid(f"{where}: unknown kind '{kind}' ({', '.join(sorted(KINDS))})")
            if last_t is not None:
                step = t - last_t
                if period is None:
                    if step <= 0:
                        raise Invalid(f"{where}: play_ms {t:.3f} does not advance")
                    period = step
                elif abs(step - period) > PERIOD_SLACK_MS:
                    raise Invalid(f"{where}: play_ms {t:.3f} is {step:.3f} ms after the period "
                                  f"before; the period is {period:.3f} ms")
            last_t = t
            rows.append((kind, fields[2] != ""))
            if not fields[2]:
                continue
            try:
                seq = int(fields[2])
            except ValueError:
                raise Invalid(f"{where}: bad seq '{fields[2]}'") from None
            i = trace.row_of.get(seq)
            if i is None:
                raise Invalid(f"{where}: seq {seq} is not in the trace")
            a = trace.arrival[i]
            if a is None:
                raise Invalid(f"{where}: seq {seq} plays at {t:.3f} ms but the network lost it: "
                              "impossible playout")
            if t < a - ARRIVAL_SLACK_MS:
                raise Invalid(f"{where}: seq {seq} plays at {t:.3f} ms before it arrived at "
                              f"{a:.3f} ms: impossible playout")
            if play_at[i] is None:
                play_at[i] = t
    if not seen_header:
        raise Invalid(f"{path}: no header 'play_ms,kind,seq'")
    if not rows:
        raise Invalid(f"{path}: no periods")
    return play_at, concealment(trace, rows, period)


def concealment(trace, rows, period):
    """Percent of the talking span (first to last period starting a packet) that is expand,
    silence or cng, beyond the silences the sender itself left (DTX gaps in send_ms)."""
    starts = [k for k, (_, starts_packet) in enumerate(rows) if starts_packet]
    if not starts:
        return 100.0
    span = rows[starts[0]:starts[-1] + 1]
    quiet = sum(1 for kind, _ in span if kind in QUIET_KINDS)
    send = sorted(trace.send)
    sender_silence = sum(max(0.0, b - a - trace.ptime) for a, b in zip(send, send[1:])
                         if b - a - trace.ptime > 0.5)
    allowed = sender_silence / period if period else 0.0
    return 100.0 * max(0.0, quiet - allowed) / len(span)


# ------------------------------------------------------------------ one trace, many traces

def evaluate(trace, args, playout=None):
    """Rows for one trace: [(jb name, metrics)], the candidate first when there is one."""
    rows = []
    if playout is not None:
        play_at, conceal = read_playout(playout, trace)
        m = score(trace, play_at, args.base_ms, conceal)
        m["conceal_pct"] = conceal
        rows.append((args.name, m))
    if not args.no_speexdsp:
        rows.append(("speexdsp", score(trace, speexdsp_playout(trace, args.speexdsp), args.base_ms)))
    d, m = best_fixed(trace, args.base_ms)
    m["D_ms"] = d
    rows.append(("fixed-best", m))
    return rows


def num(v, spec, width):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-".rjust(width)
    return format(v, spec).rjust(width)


HEADER = (f"{'trace':<16} {'jb':<11} {'late%':>6} {'loss%':>6} {'conceal%':>8} {'mean_ms':>8} "
          f"{'p95_ms':>7} {'D_ms':>6} {'R':>6} {'MOS':>5} {'ratio':>5}")


def row_text(label, jb, m):
    return (f"{label:<16} {jb:<11} {num(m['late_pct'], '.2f', 6)} {num(m['loss_pct'], '.2f', 6)} "
            f"{num(m.get('conceal_pct'), '.2f', 8)} {num(m['mean_ms'], '.1f', 8)} "
            f"{num(m['p95_ms'], '.1f', 7)} {num(m.get('D_ms'), '.1f', 6)} {num(m['R'], '.2f', 6)} "
            f"{num(m['MOS'], '.2f', 5)} {num(m.get('ratio'), '.2f', 5)}")


def print_table(results, args):
    print(HEADER)
    print("-" * len(HEADER))
    for name, rows, error in results:
        if error:
            print(f"{name:<16} {args.name:<11} FAILED: {error}")
        for jb, m in rows:
            print(row_text(name, jb, m))
    print("-" * len(HEADER))
    order = []
    for _, rows, _ in results:
        for jb, _ in rows:
            if jb not in order:
                order.append(jb)
    means = {}
    for jb in order:
        ms = [m for _, rows, _ in results for j, m in rows if j == jb and not math.isnan(m["R"])]
        if not ms:
            continue
        mean = {k: sum(m[k] for m in ms) / len(ms) for k in ("late_pct", "loss_pct", "mean_ms", "R")}
        mean.update(p95_ms=None, MOS=mos(mean["R"]))
        means[jb] = mean
        print(row_text(f"mean ({len(ms)})", jb, mean))
    if args.name in means:
        for ref in ("speexdsp", "fixed-best"):
            diffs = []
            for _, rows, _ in results:
                d = dict(rows)
                if args.name in d and ref in d:
                    diffs.append(d[args.name]["R"] - d[ref]["R"])
            if diffs:
                worse = sum(1 for x in diffs if x < 0)
                print(f"{args.name} R minus {ref}: mean {sum(diffs) / len(diffs):+.2f}, "
                      f"min {min(diffs):+.2f}, below it on {worse} of {len(diffs)} traces")


def run_command(template, trace_path, out_path, timeout):
    cmd = template.replace("{trace}", shlex.quote(trace_path)).replace("{out}", shlex.quote(out_path))
    try:
        p = subprocess.run(cmd, shell=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:g} s: {cmd}"
    if p.returncode != 0:
        return f"exit status {p.returncode}: {cmd}"
    if not os.path.exists(out_path):
        return f"wrote no playout file: {cmd}"
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Score a jitter buffer's playout on delay traces against speexdsp and the "
                    "best fixed delay.")
    ap.add_argument("trace", nargs="?", help="one trace (CSV)")
    ap.add_argument("--playout", help="the candidate's playout file for TRACE")
    ap.add_argument("--all", metavar="DIR", help="every *.csv trace in DIR")
    ap.add_argument("--playout-cmd", metavar="CMD",
                    help="with --all: shell command writing the playout, {trace} and {out} replaced")
    ap.add_argument("--logs-dir", metavar="DIR", help="keep the playout files of --playout-cmd here")
    ap.add_argument("--name", default="candidate", help="the candidate's name in the table")
    ap.add_argument("--base-ms", type=float, default=BASE_MS,
                    help="delay outside the jitter buffer added for the E-model (default 40)")
    ap.add_argument("--no-speexdsp", action="store_true")
    ap.add_argument("--speexdsp-lib", metavar="PATH")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per --playout-cmd run")
    args = ap.parse_args(argv)
    if bool(args.trace) == bool(args.all):
        ap.error("give one TRACE or --all DIR")
    if args.playout and args.all:
        ap.error("--playout goes with one TRACE; use --playout-cmd with --all")
    if args.playout_cmd and not args.all:
        ap.error("--playout-cmd goes with --all")
    try:
        args.speexdsp = None if args.no_speexdsp else open_speexdsp(args.speexdsp_lib)
        if args.trace:
            trace = read_trace(args.trace)
            try:
                rows = evaluate(trace, args, args.playout)
            except Invalid as e:
                print(f"referee: {e}", file=sys.stderr)
                print_table([(trace.name, evaluate(trace, args), str(e))], args)
                return 1
            print_table([(trace.name, rows, None)], args)
            return 0
        paths = sorted(os.path.join(args.all, f) for f in os.listdir(args.all) if f.endswith(".csv"))
        if not paths:
            raise Invalid(f"{args.all}: no *.csv traces")
        results = []
        failed = 0
        with tempfile.TemporaryDirectory() as tmp:
            keep = args.logs_dir or tmp
            os.makedirs(keep, exist_ok=True)
            for path in paths:
                trace = read_trace(path)
                playout, error = None, None
                if args.playout_cmd:
                    playout = os.path.join(keep, trace.name + ".playout.csv")
                    if os.path.exists(playout):
                        os.remove(playout)
                    error = run_command(args.playout_cmd, path, playout, args.timeout)
                rows = None
                if not error:
                    try:
                        rows = evaluate(trace, args, playout)
                    except Invalid as e:
                        error = str(e)
                if error:
                    failed += 1
                    print(f"referee: {trace.name}: {error}", file=sys.stderr)
                    rows = evaluate(trace, args)
                results.append((trace.name, rows, error))
        print_table(results, args)
        if failed:
            print(f"referee: the candidate failed on {failed} of {len(paths)} traces", file=sys.stderr)
        return 1 if failed else 0
    except Invalid as e:
        print(f"referee: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
