#!/usr/bin/env python3
"""Record-key latency bench (scripts/bench-record.sh): ONE process writes the raw input_event
records of the record key to the phone's key FIFO AND is the SIP peer (a tiny UAS on UDP that
answers INVITE, INFO and BYE with 200), so key-write -> INFO-arrival is measured on one clock
(time.monotonic_ns) with no packet capture.
usage: bench_record.py DESKPHONE BOARD WORKDIR PRESSES SIP_PORT PHONE_PORT RTP_PORT"""
import os, select, socket, struct, subprocess, sys, time

phone, board, work, presses, sip_port, phone_port, rtp_port = sys.argv[1:8]
presses, sip_port, phone_port, rtp_port = int(presses), int(sip_port), int(phone_port), int(rtp_port)
KEY_R, EV_KEY, EV_SYN = 19, 1, 0


def event(etype, code, value):
    now = time.time()
    return struct.pack("<qqHHi", int(now), int((now % 1) * 1e6), etype, code, value)


def parse(data):
    text = data.decode("latin-1")
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    headers = []
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return head[0], headers


def get(headers, name):
    return [v for n, v in headers if n.lower() == name.lower()]


def answer(sock, addr, headers, add_tag=False, body=""):
    lines = ["SIP/2.0 200 OK"]
    lines += ["Via: " + v for v in get(headers, "Via")]
    lines.append("From: " + get(headers, "From")[0])
    to = get(headers, "To")[0]
    lines.append("To: " + (to + ";tag=bench1" if add_tag and "tag=" not in to else to))
    lines.append("Call-ID: " + get(headers, "Call-ID")[0])
    lines.append("CSeq: " + get(headers, "CSeq")[0])
    lines.append("Contact: <sip:bench@127.0.0.1:%d>" % sip_port)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    sock.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), addr)


sdp = ("v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n" % rtp_port)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", sip_port))
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # swallows the phone's RTP
rtp.bind(("127.0.0.1", rtp_port))
fifo = os.path.join(work, "keys")
os.mkfifo(fifo)
hold = os.open(fifo, os.O_RDWR)  # the phone never sees end of file
cfg = os.path.join(work, "bench.cfg")
with open(cfg, "w") as f:
    f.write("#!version:1.0.0.1\naccount.1.user_name = 1001\naccount.1.codecs = pcmu\n"
            "sip.listen_address = 127.0.0.1\nsip.listen_port = %d\nrtp.port_min = 34900\n"
            "rtp.port_max = 34999\n" % phone_port)
log = open(os.path.join(work, "phone.log"), "w")
proc = subprocess.Popen([phone, "--board", board, "--config", cfg, "--keys", "fifo:" + fifo,
                         "--status-log", os.path.join(work, "status.jsonl"),
                         "--dial", "sip:bench@127.0.0.1:%d" % sip_port], stdout=log, stderr=log)
keys = os.open(fifo, os.O_WRONLY)
info_cseqs = set()
info_count = 0


def serve(deadline, want_info=False):
    """Answers requests until `deadline` (monotonic ns); returns the arrival time of the first new
    INFO if want_info, else None once the deadline passes or an ACK arrived."""
    global info_count
    while True:
        left = (deadline - time.monotonic_ns()) / 1e9
        if left <= 0:
            return None
        ready, _, _ = select.select([sock, rtp], [], [], left)
        if rtp in ready:
            rtp.recv(4096)
        if sock not in ready:
            continue
        data, addr = sock.recvfrom(65535)
        now = time.monotonic_ns()
        if data.startswith(b"SIP/2.0"):
            continue
        line, headers = parse(data)
        method = line.split(" ", 1)[0]
        if method == "INVITE":
            answer(sock, addr, headers, add_tag=True, body=sdp)
        elif method == "ACK":
            if not want_info:
                return now
        elif method == "INFO":
            answer(sock, addr, headers)
            cseq = get(headers, "CSeq")[0]
            if cseq not in info_cseqs:
                info_cseqs.add(cseq)
                info_count += 1
                if want_info:
                    return now
        elif method == "BYE":
            answer(sock, addr, headers)
        else:
            answer(sock, addr, headers)


try:
    if serve(time.monotonic_ns() + 20_000_000_000) is None:
        sys.exit("bench-record: the phone did not set up the call (see %s)" % log.name)
    serve(time.monotonic_ns() + 500_000_000)  # let the call settle
    lat = []
    for i in range(presses):
        t0 = time.monotonic_ns()
        os.write(keys, event(EV_KEY, KEY_R, 1) + event(EV_SYN, 0, 0))
        t1 = serve(t0 + 2_000_000_000, want_info=True)
        if t1 is not None:
            lat.append((t1 - t0) / 1e6)
        os.write(keys, event(EV_KEY, KEY_R, 0) + event(EV_SYN, 0, 0))
        serve(time.monotonic_ns() + 30_000_000)  # ~30 ms between presses; answers stragglers
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
    print("record key -> INFO on the wire (whole phone: %s)" % os.path.basename(phone))
    print("  presses %d, INFOs arrived %d (%d within 2 s of their press)" % (presses, info_count, len(lat)))
    if lat:
        print("  p50 %.3f ms  p99 %.3f ms  max %.3f ms  min %.3f ms" % (pct(50), pct(99), lat[-1], lat[0]))
finally:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
