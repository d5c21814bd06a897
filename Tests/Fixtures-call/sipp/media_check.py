#!/usr/bin/env python3
"""Media helpers and checks for scripts/cli-tests-call.sh (stdlib only; G.722 through spandsp's
libspandsp.so.2 with ctypes, an implementation independent of deskphone's own G.722).

Check lines start with `ok   ` or `FAIL ` (the shell script counts them); other lines are info.

    media_check.py signal OUT --rate R --seconds S --seed N     test signal, raw s16le mono
    media_check.py encode CODEC IN OUT                          s16le -> pcmu | pcma | g722 bytes
    media_check.py decode CODEC IN OUT                          pcmu | pcma | g722 bytes -> s16le
    media_check.py rtp RECORD --from sipp|phone --codec C --label L [--stats LOG --field sent|received]
                                                                [--decode OUT]
    media_check.py compare REF TEST --rate R --label L --min-snr DB --min-overlap SECONDS
    media_check.py rtcp RECORD --label L
    media_check.py pieces REF TEST --rate R --label L --min-share FRACTION
"""
import argparse
import ctypes
import ctypes.util
import json
import math
import re
import struct
import sys

CODECS = {  # name: (payload type, RTP samples per 20 ms, payload bytes per 20 ms, PCM rate)
    "pcmu": (0, 160, 160, 8000),
    "pcma": (8, 160, 160, 8000),
    "g722": (9, 160, 160, 16000),
}

# ---------------------------------------------------------------------------------------------
# G.711 (ITU-T G.711 segment tables, as in the classic Sun reference g711.c)


def ulaw_decode(byte):
    u = ~byte & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


def alaw_decode(byte):
    a = byte ^ 0x55
    t = (a & 0x0F) << 4
    segment = (a & 0x70) >> 4
    if segment == 0:
        t += 8
    elif segment == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (segment - 1)
    return t if a & 0x80 else -t


ULAW_TABLE = [ulaw_decode(b) for b in range(256)]
ALAW_TABLE = [alaw_decode(b) for b in range(256)]


def ulaw_encode(sample):
    sample >>= 2  # 14-bit
    if sample < 0:
        sample, mask = -sample, 0x7F
    else:
        mask = 0xFF
    sample = min(sample, 8159) + 33
    segment = 0
    while segment < 8 and sample > (0x40 << segment) - 1:
        segment += 1
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((sample >> (segment + 1)) & 0x0F)) ^ mask


def alaw_encode(sample):
    sample >>= 3  # 13-bit
    if sample >= 0:
        mask = 0xD5
    else:
        mask, sample = 0x55, -sample - 1
    segment = 0
    while segment < 8 and sample > (0x20 << segment) - 1:
        segment += 1
    if segment >= 8:
        return 0x7F ^ mask
    value = segment << 4
    value |= (sample >> 1) & 0x0F if segment < 2 else (sample >> segment) & 0x0F
    return value ^ mask


# ---------------------------------------------------------------------------------------------
# G.722 through spandsp


def spandsp():
    name = ctypes.util.find_library("spandsp") or "libspandsp.so.2"
    lib = ctypes.CDLL(name)
    lib.g722_encode_init.restype = ctypes.c_void_p
    lib.g722_encode_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.g722_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    lib.g722_decode_init.restype = ctypes.c_void_p
    lib.g722_decode_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.g722_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    return lib


def g722_encode(samples):
    lib = spandsp()
    state = lib.g722_encode_init(None, 64000, 0)
    pcm = (ctypes.c_int16 * len(samples))(*samples)
    out = ctypes.create_string_buffer(len(samples))
    n = lib.g722_encode(state, out, pcm, len(samples))
    return out.raw[:n]


def g722_decode(data):
    lib = spandsp()
    state = lib.g722_decode_init(None, 64000, 0)
    out = (ctypes.c_int16 * (2 * len(data)))()
    n = lib.g722_decode(state, out, data, len(data))
    return list(out[:n])


def encode(codec, samples):
    if codec == "pcmu":
        return bytes(ulaw_encode(s) for s in samples)
    if codec == "pcma":
        return bytes(alaw_encode(s) for s in samples)
    return g722_encode(samples)


def decode(codec, data):
    if codec == "pcmu":
        return [ULAW_TABLE[b] for b in data]
    if codec == "pcma":
        return [ALAW_TABLE[b] for b in data]
    return g722_decode(data)


# ---------------------------------------------------------------------------------------------
# PCM files and the test signal


def read_pcm(path):
    data = open(path, "rb").read()
    return list(struct.unpack("<%dh" % (len(data) // 2), data[: len(data) // 2 * 2]))


def write_pcm(path, samples):
    open(path, "wb").write(struct.pack("<%dh" % len(samples), *samples))


def test_signal(rate, seconds, seed):
    """A chirp (200 Hz up to 0.42 * rate) whose amplitude steps to a pseudo-random level every
    40 ms: band-wide for the codecs, and its envelope makes the alignment unambiguous."""
    n = int(rate * seconds)
    state = seed * 2654435761 % 2**32 or 1
    step = rate // 25
    levels = []
    for _ in range(n // step + 1):
        state = (1103515245 * state + 12345) % 2**31
        levels.append(1500 + state % 9000)
    f0, f1 = 200.0, 0.42 * rate
    out = []
    for i in range(n):
        t = i / rate
        phase = 2 * math.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds))
        out.append(int(levels[i // step] * math.sin(phase)))
    return out


# ---------------------------------------------------------------------------------------------
# checks

results = {"passed": 0, "failed": 0}


def check(condition, label, detail):
    print(("ok   " if condition else "FAIL ") + label + ": " + detail, flush=True)
    results["passed" if condition else "failed"] += 1


def load_record(path, sender, kind="rtp"):
    packets = []
    for line in open(path):
        entry = json.loads(line)
        if entry["from"] == sender and entry["kind"] == kind:
            packets.append((entry["t"], bytes.fromhex(entry["data"])))
    return packets


def stats_field(log, field):
    """The value of `field=N` in deskphone's `call N: stats ...` line (None when missing)."""
    for line in open(log, errors="replace"):
        if re.match(r"call \d+: stats ", line):
            match = re.search(r"\b" + field + r"=(\d+)", line)
            return int(match.group(1)) if match else None
    return None


def command_rtp(args):
    pt, samples_per_packet, payload_bytes, rate = CODECS[args.codec]
    label = args.label
    packets = load_record(args.record, args.sender)
    headers = []
    malformed = 0
    for t, data in packets:
        if len(data) < 12 or data[0] >> 6 != 2:
            malformed += 1
            continue
        cc = data[0] & 0x0F
        offset = 12 + 4 * cc
        if data[0] & 0x10:
            offset += 4 + 4 * struct.unpack("!H", data[offset + 2: offset + 4])[0]
        end = len(data) - (data[-1] if data[0] & 0x20 else 0)
        marker, ptype = data[1] >> 7, data[1] & 0x7F
        seq, ts, ssrc = struct.unpack("!HII", data[2:12])
        headers.append((t, marker, ptype, seq, ts, ssrc, data[offset:end]))
    check(len(headers) >= args.min_packets and malformed == 0, label + " RTP packets",
          "%d valid RTP v2 packets (at least %d wanted), %d malformed" % (len(headers), args.min_packets, malformed))
    if not headers:
        return
    types = sorted({h[2] for h in headers})
    check(types == [pt], label + " payload type", "types seen %s, negotiated %d (%s)" % (types, pt, args.codec))
    sources = sorted({h[5] for h in headers})
    check(len(sources) == 1, label + " one SSRC", "SSRCs %s" % ", ".join("%08x" % s for s in sources))
    seq_steps = [(b[3] - a[3]) % 65536 for a, b in zip(headers, headers[1:])]
    bad_seq = [i for i, d in enumerate(seq_steps) if d != 1]
    check(not bad_seq, label + " sequence continuity",
          "%d steps of +1 from %d, %d others%s" % (len(seq_steps) - len(bad_seq), headers[0][3], len(bad_seq),
                                                   (" (first at packet %d: %+d)" % (bad_seq[0] + 1, seq_steps[bad_seq[0]]))
                                                   if bad_seq else ""))
    ts_steps = [(b[4] - a[4]) % 2**32 for a, b in zip(headers, headers[1:])]
    bad_ts = [i for i, d in enumerate(ts_steps) if d != samples_per_packet]
    check(not bad_ts, label + " timestamp increments",
          "%d of %d steps are +%d%s" % (len(ts_steps) - len(bad_ts), len(ts_steps), samples_per_packet,
                                        (" (first other at packet %d: %+d)" % (bad_ts[0] + 1, ts_steps[bad_ts[0]]))
                                        if bad_ts else ""))
    sizes = sorted({len(h[6]) for h in headers})
    check(sizes == [payload_bytes], label + " payload size", "sizes %s bytes, %d wanted (20 ms)" % (sizes, payload_bytes))
    markers = [i for i, h in enumerate(headers) if h[1]]
    span = headers[-1][0] - headers[0][0]
    print("     %s: marker bit on packets %s; %d packets over %.2f s of arrival time" % (label, markers[:5], len(headers),
                                                                                   span))
    if args.stats:
        value = stats_field(args.stats, args.field)
        check(value == len(headers), label + " count matches deskphone's stats",
              "deskphone's stats line says %s=%s, the relay saw %d" % (args.field, value, len(headers)))
    if args.decode:
        # Payloads placed by timestamp (gaps stay silent), decoded to PCM at the codec's rate.
        ts0 = headers[0][4]
        scale = rate // 8000 if args.codec == "g722" else 1
        pcm = []
        for h in sorted(headers, key=lambda h: (h[4] - ts0) % 2**32):
            position = ((h[4] - ts0) % 2**32) * scale
            if len(pcm) < position:
                pcm.extend([0] * (position - len(pcm)))
            pcm[position:] = []
            pcm.extend(decode(args.codec, h[6]) if args.codec != "g722" else [])
        if args.codec == "g722":  # G.722 decoder state runs over the whole stream, in order
            payload = b"".join(h[6] for h in headers)
            pcm = g722_decode(payload)
        write_pcm(args.decode, pcm)


def parse_rtcp(data):
    """The packets of one compound RTCP datagram: a list of (type, count, body) (None if broken)."""
    packets, offset = [], 0
    while offset + 4 <= len(data):
        if data[offset] >> 6 != 2:
            return None
        count, ptype = data[offset] & 0x1F, data[offset + 1]
        length = 4 * (struct.unpack("!H", data[offset + 2:offset + 4])[0] + 1)
        if offset + length > len(data):
            return None
        packets.append((ptype, count, data[offset:offset + length]))
        offset += length
    return packets if offset == len(data) and packets else None


def command_rtcp(args):
    """deskphone's RTCP (RFC 3550 6.1, 6.4, 6.5, 6.6): every compound starts with SR or RR and
    carries an SDES CNAME, all from the SSRC of its RTP; the last one (hang-up) carries BYE; the
    last SR counts exactly the RTP packets and octets the relay saw, and its report block on
    SIPp's stream names SIPp's SSRC, SIPp's last sequence number and no loss."""
    label = args.label
    rtp = [d for _, d in load_record(args.record, "phone") if len(d) >= 12]
    peer = [d for _, d in load_record(args.record, "sipp") if len(d) >= 12]
    compounds = [parse_rtcp(d) for _, d in load_record(args.record, "phone", "rtcp")]
    if not compounds or not rtp:
        check(False, label + " RTCP compounds", "%d RTCP datagrams, %d RTP packets from deskphone" % (
            len(compounds), len(rtp)))
        return
    ssrc = struct.unpack("!I", rtp[0][8:12])[0]
    problems = []
    for i, compound in enumerate(compounds):
        if compound is None:
            problems.append("#%d does not parse" % i)
            continue
        if compound[0][0] not in (200, 201):
            problems.append("#%d starts with type %d" % (i, compound[0][0]))
        if struct.unpack("!I", compound[0][2][4:8])[0] != ssrc:
            problems.append("#%d SSRC is not the RTP SSRC" % i)
        sdes = [body for t, _, body in compound if t == 202]
        if not sdes or len(sdes[0]) < 10 or sdes[0][8] != 1:
            problems.append("#%d has no SDES CNAME" % i)
    types = [[t for t, _, _ in c] for c in compounds if c]
    check(not problems, label + " RTCP compounds",
          "%d compounds from SSRC %08x, types %s%s" % (len(compounds), ssrc, types,
                                                      ("; " + "; ".join(problems)) if problems else ""))
    last = compounds[-1] or []
    check(any(t == 203 for t, _, _ in last), label + " RTCP BYE at hang-up", "last compound types %s" % (
        [t for t, _, _ in last],))
    srs = [body for c in compounds if c for t, _, body in c if t == 200]
    if not srs:
        check(False, label + " RTCP sender report", "no SR")
        return
    sr = srs[-1]
    packets, octets = struct.unpack("!II", sr[20:28])
    payload_octets = sum(len(d) - 12 - 4 * (d[0] & 0x0F) for d in rtp)
    check(packets == len(rtp) and octets == payload_octets, label + " RTCP sender counts",
          "last SR says %d packets, %d octets; the relay saw %d packets, %d payload octets" % (
              packets, octets, len(rtp), payload_octets))
    if peer and (sr[0] & 0x1F) >= 1 and len(sr) >= 52:
        source, lost_word, highest = struct.unpack("!III", sr[28:40])
        peer_ssrc = struct.unpack("!I", peer[0][8:12])[0]
        peer_last = struct.unpack("!H", peer[-1][2:4])[0]
        lost = lost_word & 0xFFFFFF
        check(source == peer_ssrc and highest & 0xFFFF == peer_last and lost == 0, label + " RTCP report block",
              "about SSRC %08x (SIPp's %08x): highest seq %d (SIPp's last %d), cumulative lost %d" % (
                  source, peer_ssrc, highest & 0xFFFF, peer_last, lost))
    xr = sum(1 for c in compounds if c for t, _, _ in c if t == 207)
    print("     %s: %d RTCP-XR packets" % (label, xr))


def pearson(x, y):
    n = len(x)
    if n < 2:
        return -1.0
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else -1.0


def align(ref, test, rate, min_overlap):
    """Lag L such that test[i + L] ~ ref[i]: coarse by the 5 ms envelope, then sample-exact."""
    block = rate // 200
    env_r = [sum(abs(s) for s in ref[i:i + block]) for i in range(0, len(ref) - block + 1, block)]
    env_t = [sum(abs(s) for s in test[i:i + block]) for i in range(0, len(test) - block + 1, block)]
    need = max(4, int(min_overlap * 200))
    best = (-2.0, 0)
    for lag in range(-len(env_r) + need, len(env_t) - need + 1):
        lo, hi = max(0, -lag), min(len(env_r), len(env_t) - lag)
        if hi - lo < need:
            continue
        c = pearson(env_r[lo:hi], env_t[lo + lag:hi + lag])
        if c > best[0]:
            best = (c, lag)
    coarse = best[1] * block
    best_fine = (-float("inf"), coarse)
    for lag in range(coarse - 2 * block, coarse + 2 * block + 1):
        lo, hi = max(0, -lag), min(len(ref), len(test) - lag)
        lo2 = lo + (hi - lo) // 4
        hi2 = min(hi, lo2 + 4 * rate // 10)
        if hi2 <= lo2:
            continue
        c = sum(ref[i] * test[i + lag] for i in range(lo2, hi2))
        if c > best_fine[0]:
            best_fine = (c, lag)
    return best_fine[1], best[0]


def snr(ref, test):
    signal = sum(r * r for r in ref)
    noise = sum((t - r) ** 2 for r, t in zip(ref, test))
    if noise == 0:
        return float("inf")
    return 10 * math.log10(signal / noise) if signal > 0 else -float("inf")


def command_compare(args):
    ref, test = read_pcm(args.ref), read_pcm(args.test)
    label, rate = args.label, args.rate
    if len(ref) < rate // 10 or len(test) < rate // 10:
        check(False, label, "reference %d samples, output %d samples: too short" % (len(ref), len(test)))
        return
    lag, envelope_match = align(ref, test, rate, args.min_overlap)
    lo, hi = max(0, -lag), min(len(ref), len(test) - lag)
    r, t = ref[lo:hi], test[lo + lag:hi + lag]
    overlap = len(r) / rate
    value = snr(r, t)
    exact = sum(1 for a, b in zip(r, t) if a == b)
    detail = ("%.2f s aligned (output lags the reference by %.1f ms, envelope correlation %.3f), SNR %.1f dB, "
              "%d of %d samples identical" % (overlap, 1000.0 * lag / rate, envelope_match, value, exact, len(r)))
    check(overlap >= args.min_overlap and value >= args.min_snr, label,
          detail + " (wanted >= %.2f s and >= %.0f dB)" % (args.min_overlap, args.min_snr))
    if value < args.min_snr:
        step = rate // 10
        worst = []
        for i in range(0, len(r) - step + 1, step):
            worst.append("%.1f" % snr(r[i:i + step], t[i:i + step]))
        print("     %s: SNR per 100 ms block: %s" % (label, " ".join(worst)))


def command_pieces(args):
    """The playout check: deskphone's jitter buffer may shift the stream by whole pitch periods
    (accelerate/expand) and conceal, so the reference is cut into 10 ms pieces and each piece is
    looked up sample-exact in the output. G.711 and G.722 decoding is deterministic (deskphone's
    G.722 is bit-exact with the ITU reference, as spandsp's is), so a found piece proves that
    exactly these samples were received, decoded and played; the share found and their order
    measure how much of the stream came out."""
    ref, out = open(args.ref, "rb").read(), open(args.test, "rb").read()
    piece = 2 * args.rate // 100
    found, positions, offsets = 0, [], []
    last = -1
    in_order = 0
    total = len(ref) // piece
    for i in range(total):
        chunk = ref[i * piece:(i + 1) * piece]
        at = out.find(chunk)
        while at >= 0 and at % 2:
            at = out.find(chunk, at + 1)
        if at < 0:
            positions.append(None)
            continue
        found += 1
        positions.append(at // 2)
        offsets.append(at // 2 - i * piece // 2)
        if at > last:
            in_order += 1
            last = at
    runs, run = [], 0
    for a, b in zip(positions, positions[1:]):
        if a is not None and b is not None and b - a == piece // 2:
            run += 1
        else:
            if run:
                runs.append(run + 1)
            run = 0
    if run:
        runs.append(run + 1)
    longest = max(runs) if runs else 0
    share = found / total if total else 0.0
    distinct = sorted(set(offsets))
    detail = ("%d of %d 10 ms pieces found sample-exact in the output (%.0f%%), %d in order; longest unbroken "
              "stretch %.2f s; %d distinct offsets (%s ms)" % (
                  found, total, 100 * share, in_order, longest / 100.0, len(distinct),
                  ", ".join("%.1f" % (1000.0 * o / args.rate) for o in distinct[:8])))
    check(total > 0 and share >= args.min_share and in_order == found, args.label,
          detail + " (wanted >= %.0f%%, all in order)" % (100 * args.min_share))
    missing = [i for i, p in enumerate(positions) if p is None]
    if missing:
        print("     %s: pieces not found (10 ms index): %s" % (args.label, missing[:40]))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("signal")
    p.add_argument("out")
    p.add_argument("--rate", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--seed", type=int, default=1)
    for command in ("encode", "decode"):
        p = sub.add_parser(command)
        p.add_argument("codec", choices=sorted(CODECS))
        p.add_argument("input")
        p.add_argument("out")
    p = sub.add_parser("rtp")
    p.add_argument("record")
    p.add_argument("--from", dest="sender", choices=["sipp", "phone"], required=True)
    p.add_argument("--codec", choices=sorted(CODECS), required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--min-packets", type=int, default=10)
    p.add_argument("--stats")
    p.add_argument("--field", default="sent")
    p.add_argument("--decode")
    def two_signals(command):
        p = sub.add_parser(command)
        p.add_argument("ref")
        p.add_argument("test")
        p.add_argument("--rate", type=int, required=True)
        p.add_argument("--label", required=True)
        return p

    p = two_signals("compare")
    p.add_argument("--min-snr", type=float, default=30.0)
    p.add_argument("--min-overlap", type=float, default=1.0)
    p = sub.add_parser("rtcp")
    p.add_argument("record")
    p.add_argument("--label", required=True)
    p = two_signals("pieces")
    p.add_argument("--min-share", type=float, default=0.67)
    args = parser.parse_args()
    if args.command == "signal":
        write_pcm(args.out, test_signal(args.rate, args.seconds, args.seed))
    elif args.command == "encode":
        open(args.out, "wb").write(encode(args.codec, read_pcm(args.input)))
    elif args.command == "decode":
        write_pcm(args.out, decode(args.codec, open(args.input, "rb").read()))
    elif args.command == "rtp":
        command_rtp(args)
    elif args.command == "rtcp":
        command_rtcp(args)
    elif args.command == "pieces":
        command_pieces(args)
    else:
        command_compare(args)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
