#!/usr/bin/env python3
"""Writes raw Linux `struct input_event` records (x86_64: tv_sec i64, tv_usec i64, type u16,
code u16, value i32) for phone keys to a FIFO, as a keypad driver would.
usage: keys.py FIFO KEY... where KEY is a name below or a digit string (`1002`) or `#`;
each key is a press + EV_SYN, a release + EV_SYN, then GAP seconds (env KEYS_GAP, 0.15).
`press:NAME` / `release:NAME` send only the press or the release (the hook: off-hook stays
lifted until `release:hook`); `raw:HEX` writes those bytes as they are (bad input: truncated
or garbage records); `garbage:N:SEED` writes N records of seeded random bytes."""
import os, struct, sys, time

EV_SYN, EV_KEY = 0, 1
CODES = {"hook": 35, "record": 19, "line1": 38, "line2": 37, "pound": 83, "star": 55,
         "softkey1": 67, "softkey2": 68, "softkey3": 87, "softkey4": 88, "cancel": 1,
         "speaker": 31, "hold": 24, "mute": 50, "ok": 28, "transfer": 20}
for d in range(1, 10):
    CODES[str(d)] = d + 1
CODES["0"] = 11
CODES["#"] = 83
CODES["*"] = 55


def event(etype, code, value):
    now = time.time()
    return struct.pack("<qqHHi", int(now), int((now % 1) * 1e6), etype, code, value)


def key_records(code):
    return (event(EV_KEY, code, 1) + event(EV_SYN, 0, 0),
            event(EV_KEY, code, 0) + event(EV_SYN, 0, 0))


def main():
    fifo, names = sys.argv[1], sys.argv[2:]
    gap = float(os.environ.get("KEYS_GAP", "0.15"))
    steps = []  # (press?, release?, code) or raw bytes
    for name in names:
        if name.startswith("raw:"):
            steps.append(bytes.fromhex(name[4:]))
        elif name.startswith("garbage:"):
            import random
            _, count, seed = name.split(":")
            rng = random.Random(int(seed))
            steps.append(bytes(rng.randrange(256) for _ in range(24 * int(count))))
        elif name.startswith(("press:", "release:")):
            kind, key = name.split(":", 1)
            steps.append((kind == "press", kind == "release", CODES[key]))
        elif name in CODES:
            steps.append((True, True, CODES[name]))
        else:
            steps.extend((True, True, CODES[c]) for c in name)
    fd = os.open(fifo, os.O_WRONLY)
    for step in steps:
        if isinstance(step, bytes):
            os.write(fd, step)
            time.sleep(gap)
            continue
        down, up, code = step
        press, release = key_records(code)
        if down:
            os.write(fd, press)
            time.sleep(0.05)
        if up:
            os.write(fd, release)
        time.sleep(gap)
    os.close(fd)


if __name__ == "__main__":
    main()
