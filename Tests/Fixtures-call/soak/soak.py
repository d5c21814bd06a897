#!/usr/bin/env python3
"""Real-process soak and scan of the phone (issue 22, deliver 3), driven by scripts/cli-tests-soak.sh.

The phone (the release binary, with a control FIFO) calls a SIPp UAS CALLS times in a row; in
each call it presses the record key twice (INFO Record: on, then off, both answered 200) and
hangs up. Every SAMPLE calls the phone's own counters (`stats` on the control FIFO: live calls,
recording state, SIP transactions, TCP connections, reactor timers and watches) and its RSS and
open descriptors (/proc) are printed. Then one more call is held while sipvicious scans the phone
(svmap, svwar, svcrack); the call must still toggle recording and hang up cleanly afterwards.

usage: soak.py DESKPHONE BOARD WORKDIR CALLS SAMPLE PHONE_PORT SIPP_PORT RTP_MIN RTP_MAX SIPP_RTP
Prints `sample {...}` JSON lines, `scan ...` lines, `quiet {...}` (the counters once the last
transactions expired) and a final `result {...}` JSON line.
Exit 0 when every call completed (the shell script judges the figures), 1 otherwise."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

phone_bin, board, work, calls, sample = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
phone_port, sipp_port, rtp_min, rtp_max, sipp_rtp = (int(a) for a in sys.argv[6:11])
here = os.path.dirname(os.path.abspath(__file__))


class Log:
    """The phone's log file, read as it grows; `wait` finds the next line matching a pattern."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.lines = []
        self.seen = 0

    def _read(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        cut = data.rfind(b"\n") + 1
        self.offset += cut
        self.lines += data[:cut].decode("utf-8", "replace").splitlines()

    def wait(self, pattern, seconds=10.0):
        rx = re.compile(pattern)
        end = time.monotonic() + seconds
        while True:
            self._read()
            while self.seen < len(self.lines):
                line = self.lines[self.seen]
                self.seen += 1
                if rx.search(line):
                    return line
            if time.monotonic() > end:
                raise TimeoutError("no '%s' in the phone's log within %.0f s (last: %s)"
                                   % (pattern, seconds, self.lines[-1] if self.lines else "nothing"))
            time.sleep(0.002)


def proc_figures(pid):
    rss = hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm, len(os.listdir("/proc/%d/fd" % pid))


def wait_udp(port, seconds=10.0):
    """Until something is bound to UDP `port` (SIPp takes a moment to start)."""
    hexport = ":%04X " % port
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with open("/proc/net/udp") as f:
            if any(hexport in line for line in f):
                return
        time.sleep(0.05)
    raise TimeoutError("SIPp is not listening on UDP %d" % port)


def main():
    cfg = os.path.join(work, "phone.cfg")
    with open(cfg, "w") as f:
        f.write("#!version:1.0.0.1\naccount.1.user_name = 1001\nsip.listen_address = 127.0.0.1\n"
                "sip.listen_port = %d\nrtp.port_min = %d\nrtp.port_max = %d\n" % (phone_port, rtp_min, rtp_max))
    sipp = subprocess.Popen(
        ["sipp", "-sf", os.path.join(here, "uas-soak.xml"), "-i", "127.0.0.1", "-p", str(sipp_port),
         "-mp", str(sipp_rtp), "-m", str(calls + 1), "-nostdin", "-trace_err", "-timeout", "600s"],
        cwd=work, stdout=open(os.path.join(work, "sipp.out"), "w"), stderr=subprocess.STDOUT)
    fifo = os.path.join(work, "phone.ctl")
    os.mkfifo(fifo)
    log_path = os.path.join(work, "phone.log")
    phone = subprocess.Popen(
        [phone_bin, "--board", board, "--config", cfg, "--control", fifo],
        cwd=work, stdout=open(log_path, "w"), stderr=open(os.path.join(work, "phone.err"), "w"))
    log = Log(log_path)
    ok = True
    samples = []
    scan = {}
    try:
        log.wait(r"sip: listening", 10)
        wait_udp(sipp_port)
        ctl = os.open(fifo, os.O_WRONLY)

        def say(line):
            os.write(ctl, (line + "\n").encode())

        def stats(done):
            say("stats")
            line = log.wait(r"stats: ", 10)
            rss, hwm, fds = proc_figures(phone.pid)
            counters = dict((m.group(1).strip().replace(" ", "_"), int(m.group(2)))
                            for m in re.finditer(r"([a-z ]+) (\d+)", line.split("stats: ", 1)[1]))
            s = dict(done=done, rss_kib=rss, peak_kib=hwm, fds=fds, **counters)
            samples.append(s)
            if len(samples) == 1 or done % sample == 0 and (len(samples) < 2 or samples[-2]["done"] != done):
                print("sample " + json.dumps(s), flush=True)

        def one_call(n, during=None):
            say("dial sip:soak@127.0.0.1:%d" % sipp_port)
            log.wait(r"call %d: connected" % n, 10)
            if during:
                during()
            say("key record")
            log.wait(r"call %d: recording on \(recording\) after 200 OK" % n, 10)
            say("key record")
            log.wait(r"call %d: recording off \(idle\) after 200 OK" % n, 10)
            say("hangup")
            log.wait(r"call %d: ended" % n, 10)

        def wait_quiet(done):
            # The finished transactions wait out Timer M/J/K (up to 64*T1 = 32 s on UDP); after
            # that the phone must be back where it started.
            quiet = time.monotonic()
            while time.monotonic() - quiet < 45:
                time.sleep(1)
                stats(done)
                if samples[-1]["transactions"] == 0 and samples[-1]["timers"] == samples[0]["timers"]:
                    break
            samples[-1]["quiet_s"] = round(time.monotonic() - quiet, 1)
            print("quiet " + json.dumps(samples[-1]), flush=True)

        stats(0)
        started = time.monotonic()
        busy = 0.0
        for n in range(1, calls + 1):
            one_call(n)
            if n % sample == 0:
                stats(n)
            if n == calls // 2:
                busy += time.monotonic() - started
                wait_quiet(n)
                started = time.monotonic()
        seconds = busy + time.monotonic() - started

        def scanners():
            target = "127.0.0.1"
            runs = {
                "svmap": ["svmap", target, "-p", str(phone_port)],
                "svwar": ["svwar", "-e100-300", "-p", str(phone_port), target],
                "svcrack": ["svcrack", "-u", "1001", "-r", "1000-1300", "-p", str(phone_port), target],
            }
            for name, argv in runs.items():
                if shutil.which(argv[0]) is None:
                    scan[name] = "not installed"
                    continue
                try:
                    out = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=60)
                    text = (out.stdout + out.stderr).strip().replace("\n", " | ")
                except subprocess.TimeoutExpired:
                    text = "timed out"
                scan[name] = text[:400]
                print("scan %s: %s" % (name, scan[name]), flush=True)

        one_call(calls + 1, during=scanners)
        wait_quiet(calls + 1)
        alive = phone.poll() is None
        print("result " + json.dumps(dict(calls=calls, seconds=round(seconds, 1), alive=alive, scan=scan)), flush=True)
    except Exception as e:
        print("error: %s" % e, flush=True)
        ok = False
    finally:
        phone.terminate()
        try:
            phone.wait(5)
        except subprocess.TimeoutExpired:
            phone.kill()
        try:
            sipp.wait(10)
        except subprocess.TimeoutExpired:
            sipp.kill()
            ok = False
    if sipp.returncode != 0:
        print("error: SIPp exited %s" % sipp.returncode, flush=True)
        ok = False
    return 0 if ok else 1


sys.exit(main())
