#!/usr/bin/env python3
"""A bounded SIP flood on loopback, for scripts/cli-tests-flood.sh.

Sends requests to one target as fast as one socket allows for --seconds, each a new
transaction (fresh branch and Call-ID), interleaved with garbage datagrams, and reads the
answers without blocking. Prints one JSON line: what was sent, what came back by status, and
whether every 503 carried Retry-After.

  sip_flood.py --target 127.0.0.1:29500 --method OPTIONS --seconds 5
  sip_flood.py --target ... --method MESSAGE --garbage 0.1 --tcp-silent 70

Only loopback targets are accepted: this is a test of the phone, never of a network.
"""
import argparse
import json
import os
import socket
import time


def request(method, target, port, n):
    branch = "z9hG4bKflood%x%d" % (os.getpid(), n)
    body = "flood %d" % n if method == "MESSAGE" else ""
    lines = [
        "%s sip:1001@%s:%d SIP/2.0" % (method, target, port),
        "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (port + 1000, branch),
        "Max-Forwards: 70",
        "From: <sip:flood@127.0.0.1>;tag=f%d" % n,
        "To: <sip:1001@%s>" % target,
        "Call-ID: flood-%d-%d@127.0.0.1" % (os.getpid(), n),
        "CSeq: 1 %s" % method,
    ]
    if body:
        lines.append("Content-Type: text/plain")
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def udp_flood(args, host, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sent = garbage = 0
    statuses = {}
    no_retry_after = 0
    end = time.monotonic() + args.seconds
    n = 0
    every = int(1 / args.garbage) if args.garbage > 0 else 0

    def drain():
        nonlocal no_retry_after
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, ConnectionRefusedError):
                return
            head = data.split(b"\r\n", 1)[0].split(b" ")
            if len(head) >= 2 and head[0] == b"SIP/2.0":
                code = head[1].decode(errors="replace")
                statuses[code] = statuses.get(code, 0) + 1
                if code == "503" and b"\r\nRetry-After:" not in data:
                    no_retry_after += 1

    while time.monotonic() < end:
        for _ in range(64):
            n += 1
            try:
                if every and n % every == 0:
                    sock.sendto(os.urandom(40 + n % 400), (host, port))
                    garbage += 1
                else:
                    sock.sendto(request(args.method, host, port, n), (host, port))
                    sent += 1
            except (BlockingIOError, ConnectionRefusedError):
                pass
        drain()
        if args.rate:
            time.sleep(64 / args.rate)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        drain()
        time.sleep(0.01)
    return {"sent": sent, "garbage": garbage, "answers": statuses, "503_without_retry_after": no_retry_after}


def tcp_silent(args, host, port):
    """Opens --tcp-silent connections that send nothing, then one that sends an OPTIONS and
    reads its answer; then waits for the phone to close the silent ones."""
    silent = []
    for _ in range(args.tcp_silent):
        s = socket.create_connection((host, port), timeout=2)
        silent.append(s)
    time.sleep(0.3)
    talker = socket.create_connection((host, port), timeout=5)
    req = request("OPTIONS", host, port, 1).replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
    talker.sendall(req)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            chunk = talker.recv(4096)
            if not chunk:
                break
            answer += chunk
    except socket.timeout:
        pass
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    # Silent connections are closed by the phone: evicted at the limit, or after its silent
    # timeout. Count how many are closed within --wait seconds.
    closed = 0
    deadline = time.monotonic() + args.wait
    pending = list(silent)
    while pending and time.monotonic() < deadline:
        still = []
        for s in pending:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    closed += 1
                    s.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
                s.close()
                continue
            still.append(s)
        pending = still
        time.sleep(0.1)
    for s in pending:
        s.close()
    talker.close()
    return {"silent": len(silent), "talker_status": status, "silent_closed": closed}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", required=True, help="HOST:PORT on loopback")
    p.add_argument("--method", default="OPTIONS")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--rate", type=float, default=0, help="requests per second (0: as fast as possible)")
    p.add_argument("--garbage", type=float, default=0.0, help="share of datagrams that are random bytes")
    p.add_argument("--tcp-silent", type=int, default=0, help="TCP mode: this many silent connections")
    p.add_argument("--wait", type=float, default=15.0, help="TCP mode: seconds to wait for the phone to close them")
    args = p.parse_args()
    host, port = args.target.rsplit(":", 1)
    port = int(port)
    if not host.startswith("127."):
        raise SystemExit("sip_flood.py: loopback targets only")
    result = tcp_silent(args, host, port) if args.tcp_silent else udp_flood(args, host, port)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
