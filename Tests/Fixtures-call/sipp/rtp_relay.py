#!/usr/bin/env python3
"""A one-call SIP forwarder and RTP/RTCP relay that records every media packet, for the SIPp call
tests (stdlib only, no root: it works like a media relay/SBC on loopback).

Why: deskphone does symmetric RTP (it latches its destination to the source of the first valid
packet), so a recorder that only owns the port in SIPp's SDP answer would lose deskphone's
stream as soon as SIPp's rtp_stream (which sends from SIPp's -mp port) starts. Instead both
directions pass through this relay:

    deskphone --INVITE--> SIP_PORT (here) --INVITE, offer's m=audio port rewritten to A--> SIPp
    SIPp rtp_stream  --RTP--> A (here, recorded) --from B--> deskphone's offered port
    deskphone        --RTP--> B (here, recorded; SIPp's answer names B) --from A--> SIPp

so deskphone sends to and receives from the same address B (its latch never moves) and every
packet both ways is written to the record file, one JSON object per line:
    {"t": seconds, "from": "sipp"|"phone", "kind": "rtp"|"rtcp", "data": "<hex>"}
RTCP goes through A+1 and B+1 the same way. Responses SIPp sends back to SIP_PORT go to
deskphone's address; requests that do not pass here (ACK, BYE to SIPp's Contact) are not seen.

usage: rtp_relay.py --sip PORT --sipp PORT --a PORT --b PORT --record FILE [--seconds S]
"""
import argparse
import json
import re
import selectors
import signal
import socket
import sys
import time

HOST = "127.0.0.1"


def rewrite_offer(message, new_port):
    """Returns (message with the first m=audio port replaced, (ip, old port)) or (message, None)."""
    head, sep, body = message.partition(b"\r\n\r\n")
    if not sep:
        return message, None
    match = re.search(rb"^m=audio (\d+) ", body, re.M)
    if not match:
        return message, None
    old_port = int(match.group(1))
    address = re.search(rb"^c=IN IP4 ([0-9.]+)", body, re.M)
    ip = address.group(1).decode() if address else HOST
    body = body[: match.start(1)] + str(new_port).encode() + body[match.end(1):]
    head = re.sub(rb"(?im)^(content-length|l)[ \t]*:[ \t]*\d+", lambda m: m.group(1) + b": " + str(len(body)).encode(),
                  head)
    return head + sep + body, (ip, old_port)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sip", type=int, required=True, help="SIP port deskphone dials")
    parser.add_argument("--sipp", type=int, required=True, help="SIPp's SIP port on 127.0.0.1")
    parser.add_argument("--a", type=int, required=True, help="RTP port offered to SIPp (RTCP above)")
    parser.add_argument("--b", type=int, required=True, help="RTP port SIPp's answer names (RTCP above)")
    parser.add_argument("--record", required=True)
    parser.add_argument("--seconds", type=float, default=30.0, help="give up after this long")
    args = parser.parse_args()

    def bind(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((HOST, port))
        s.setblocking(False)
        return s

    sip = bind(args.sip)
    rtp_a, rtp_b = bind(args.a), bind(args.b)
    rtcp_a, rtcp_b = bind(args.a + 1), bind(args.b + 1)
    sipp_address = (HOST, args.sipp)
    phone_sip = None       # where deskphone's SIP came from
    phone_media = None     # (ip, port) of deskphone's RTP from its offer
    sipp_media = {}        # "rtp"/"rtcp" -> SIPp's source address (learnt from its packets)
    record = open(args.record, "w")
    start = time.monotonic()
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    signal.signal(signal.SIGINT, lambda *_: stop.__setitem__(0, True))

    selector = selectors.DefaultSelector()
    for s in (sip, rtp_a, rtp_b, rtcp_a, rtcp_b):
        selector.register(s, selectors.EVENT_READ)

    while not stop[0] and time.monotonic() - start < args.seconds:
        for key, _ in selector.select(timeout=0.2):
            s = key.fileobj
            try:
                data, source = s.recvfrom(65536)
            except (BlockingIOError, ConnectionRefusedError):
                continue
            if s is sip:
                if source == sipp_address:
                    if phone_sip:
                        sip.sendto(data, phone_sip)
                else:
                    phone_sip = source
                    data, media = rewrite_offer(data, args.a)
                    if media:
                        phone_media = media
                        print("relay: deskphone offers %s:%d, SIPp is told %s:%d" % (media + (HOST, args.a)),
                              file=sys.stderr, flush=True)
                    sip.sendto(data, sipp_address)
                continue
            kind = "rtp" if s in (rtp_a, rtp_b) else "rtcp"
            sender = "sipp" if s in (rtp_a, rtcp_a) else "phone"
            record.write(json.dumps({"t": round(time.monotonic() - start, 6), "from": sender, "kind": kind,
                                     "data": data.hex()}) + "\n")
            record.flush()
            try:
                if sender == "sipp":
                    sipp_media[kind] = source
                    if phone_media:
                        out = rtp_b if kind == "rtp" else rtcp_b
                        out.sendto(data, (phone_media[0], phone_media[1] + (0 if kind == "rtp" else 1)))
                elif kind in sipp_media:
                    (rtp_a if kind == "rtp" else rtcp_a).sendto(data, sipp_media[kind])
            except OSError:
                pass
    record.close()


if __name__ == "__main__":
    main()
