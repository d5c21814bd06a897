#!/usr/bin/env python3
"""A URL-record test server for the Recording tests (Python standard library only).

Ends when its standard input closes (or on SIGTERM). Listens on 127.0.0.1 (or --host) on --port (0 = any free port) and prints
`PORT <n>` on stdout once it accepts connections. Every request head it receives is logged
exactly as it came off the wire (request line and header lines, base64 of the raw bytes, one
line per request) to the --log file, so the tests can check the request byte for byte and
count requests. The answer depends on the first path segment:

  /text...      200, a <YealinkIPPhoneText> body with Content-Length
  /echo...      200, text/plain, the raw request head as the body
  /missing...   404 Not Found with a small HTML body
  /redirect...  302 Found, Location: http://127.0.0.1:9/elsewhere, empty body
  /silent...    accepts the request and never answers (until the client closes)
  /cut...       Content-Length: 100 but 10 body bytes, then the connection closes
  /chunked...   200 with a chunked body (chunk extension and a trailer) holding the XML text
  /huge...      200, Content-Length 1 MiB, streams it
  /endless...   200 without Content-Length, streams 1 MiB then closes
  /close...     200 without Content-Length, a short XML body, then closes (read to close)
  /garbage...   a response that is not HTTP
  /slowhead...  the status line, then nothing (the header never ends)
  /split...     200 with the header and body sent a few bytes at a time
  anything else 404

With --dns it also answers DNS queries over UDP on another free port (printed as `DNS <n>`
on the same line): pbx.test A 127.0.0.1; cname.test CNAME pbx.test + A 127.0.0.1 (compressed
names); v6only.test AAAA ::1 and no A; missing.test NXDOMAIN; servfail.test SERVFAIL;
silent.test no answer at all.
"""

import argparse
import base64
import os
import signal
import socket
import socketserver
import sys
import threading
import time

TEXT_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<YealinkIPPhoneText Beep="no" Timeout="5">\n'
    b'  <Title>Recording</Title>\n'
    b'  <Text>Recording started &amp; saved</Text>\n'
    b'</YealinkIPPhoneText>\n'
)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        conn.settimeout(30)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    break
                head += data
        except OSError:
            return
        self.server.log_request(head)
        line = head.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        target = parts[1] if len(parts) > 1 else b"/"
        segment = target.split(b"?", 1)[0].lstrip(b"/").split(b"/", 1)[0]
        try:
            self.answer(conn, segment, head)
        except OSError:
            pass

    def answer(self, conn, segment, head):
        if segment.startswith(b"text"):
            conn.sendall(response(200, "OK", [("Content-Type", "text/xml")], TEXT_BODY))
        elif segment.startswith(b"echo"):
            conn.sendall(response(200, "OK", [("Content-Type", "text/plain")], head))
        elif segment.startswith(b"missing"):
            conn.sendall(response(404, "Not Found", [("Content-Type", "text/html")], b"<h1>no such box</h1>"))
        elif segment.startswith(b"redirect"):
            conn.sendall(response(302, "Found", [("Location", "http://127.0.0.1:9/elsewhere")], b""))
        elif segment.startswith(b"silent"):
            drain(conn)
            return
        elif segment.startswith(b"cut"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789")
        elif segment.startswith(b"chunked"):
            half = len(TEXT_BODY) // 2
            out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/xml\r\n\r\n"
            out += b"%x;name=value\r\n" % half + TEXT_BODY[:half] + b"\r\n"
            out += b"%X\r\n" % (len(TEXT_BODY) - half) + TEXT_BODY[half:] + b"\r\n"
            out += b"0\r\nX-Trailer: done\r\n\r\n"
            conn.sendall(out)
        elif segment.startswith(b"huge"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n")
            stream(conn, 1048576)
        elif segment.startswith(b"endless"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            stream(conn, 1048576)
        elif segment.startswith(b"close"):
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n" + TEXT_BODY)
        elif segment.startswith(b"garbage"):
            conn.sendall(b"SIP/2.0 200 OK\r\n\r\n")
        elif segment.startswith(b"slowhead"):
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            drain(conn)
            return
        elif segment.startswith(b"split"):
            data = response(200, "OK", [("Content-Type", "text/xml")], TEXT_BODY)
            for i in range(0, len(data), 7):
                conn.sendall(data[i:i + 7])
                time.sleep(0.002)
        else:
            conn.sendall(response(404, "Not Found", [], b""))
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def response(status, reason, headers, body):
    out = b"HTTP/1.1 %d %s\r\n" % (status, reason.encode())
    for name, value in headers:
        out += b"%s: %s\r\n" % (name.encode(), value.encode())
    out += b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    return out + body


def drain(conn):
    """Reads until the client closes (or the connection fails): a server that never answers."""
    while True:
        try:
            if not conn.recv(4096):
                return
        except OSError:
            return


def stream(conn, total):
    block = b"x" * 16384
    sent = 0
    while sent < total:
        conn.sendall(block)
        sent += len(block)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, log_path):
        super().__init__(address, Handler)
        self.log_path = log_path
        self.lock = threading.Lock()

    def log_request(self, head):
        with self.lock:
            with open(self.log_path, "ab") as log:
                log.write(base64.b64encode(head) + b"\n")


def dns_name(data, i):
    labels = []
    while data[i] != 0:
        labels.append(data[i + 1:i + 1 + data[i]].decode("ascii", "replace"))
        i += 1 + data[i]
    return ".".join(labels).lower(), i + 1


def dns_answer(query):
    qid, flags = query[0:2], query[2:4]
    name, end = dns_name(query, 12)
    qtype = int.from_bytes(query[end:end + 2], "big")
    question = query[12:end + 4]
    rd = flags[0] & 0x01

    def reply(rcode, records):
        header = qid + bytes([0x80 | rd, 0x80 | rcode]) + b"\x00\x01" + len(records).to_bytes(2, "big")
        return header + b"\x00\x00\x00\x00" + question + b"".join(records)

    def record(rtype, rdata, owner=b"\xc0\x0c"):
        return owner + rtype.to_bytes(2, "big") + b"\x00\x01\x00\x00\x00\x3c" + len(rdata).to_bytes(2, "big") + rdata

    if name == "silent.test":
        return None
    if name == "missing.test":
        return reply(3, [])
    if name == "servfail.test":
        return reply(2, [])
    if name == "pbx.test" and qtype == 1:
        return reply(0, [record(1, bytes([127, 0, 0, 1]))])
    if name == "cname.test" and qtype == 1:
        target = b"\x03pbx\x04test\x00"
        # The CNAME's target name starts at offset 12 + len(question) + 12 of the answer.
        target_offset = 12 + len(question) + 12
        return reply(0, [record(5, target), record(1, bytes([127, 0, 0, 1]), owner=bytes([0xC0 | target_offset >> 8, target_offset & 0xFF]))])
    if name == "v6only.test" and qtype == 28:
        return reply(0, [record(28, bytes(15) + b"\x01")])
    return reply(0, [])


def serve_dns(sock):
    while True:
        data, peer = sock.recvfrom(1500)
        try:
            answer = dns_answer(data)
        except Exception:
            continue
        if answer is not None:
            sock.sendto(answer, peer)


def exit_when_stdin_closes():
    """The test keeps our stdin open: its end (the test finished or died) ends the server."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    # A parent that blocks signals (the reactor's signalfd does) passes the mask on: undo it,
    # so SIGTERM still ends the server.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--dns", action="store_true")
    args = parser.parse_args()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    Server.address_family = family
    server = Server((args.host, args.port), args.log)
    line = "PORT %d" % server.server_address[1]
    if args.dns:
        dns = socket.socket(family, socket.SOCK_DGRAM)
        dns.bind((args.host, 0))
        threading.Thread(target=serve_dns, args=(dns,), daemon=True).start()
        line += " DNS %d" % dns.getsockname()[1]
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
