#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets added for issue 5 (rtp, rtcp, dtmf, http, dns,
phonetext, cfg, keys, framer) into fuzz/seeds/TARGET/. Run from anywhere; the files are committed, so this
only needs running again when a seed changes. (cfg is also seeded from board/ and config/.)"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def rtp(pt=0, seq=1000, ts=160000, ssrc=0x11223344, marker=False, csrcs=(), ext=None, pad=0, payload=b""):
    first = 0x80 | len(csrcs) | (0x10 if ext is not None else 0) | (0x20 if pad else 0)
    out = struct.pack(">BBHII", first, pt | (0x80 if marker else 0), seq, ts, ssrc)
    for c in csrcs:
        out += struct.pack(">I", c)
    if ext is not None:
        profile, words = ext
        out += struct.pack(">HH", profile, len(words) // 4) + words
    out += payload
    if pad:
        out += bytes(pad - 1) + bytes([pad])
    return out


write("rtp", "pcmu", rtp(payload=bytes([0xFF]) * 160, marker=True))
write("rtp", "csrc", rtp(pt=9, csrcs=(1, 2, 3), payload=b"\x00" * 80))
write("rtp", "extension", rtp(pt=111, ext=(0xBEDE, b"\x10\xAA\x00\x00"), payload=b"\xFC\x01\x02"))
write("rtp", "padding", rtp(pt=8, pad=4, payload=b"\xD5" * 20))
write("rtp", "all", rtp(pt=96, csrcs=(7,), ext=(0x1000, b"abcdefgh"), pad=3, payload=b"xyz"))
write("rtp", "event", rtp(pt=101, marker=True, payload=bytes([5, 0x8A, 0x03, 0x20])))
write("rtp", "empty", rtp(pt=0))


def rtcp_header(count, ptype, body, padding=0):
    size = 4 + len(body) + padding
    first = 0x80 | count | (0x20 if padding else 0)
    pad = (bytes(padding - 1) + bytes([padding])) if padding else b""
    return struct.pack(">BBH", first, ptype, size // 4 - 1) + body + pad


block = struct.pack(">IIIIII", 0xB0B0B0B0, (39 << 24) | 0xFFFFFD, 0x00010002, 4, 0x56789ABC, 98304)
sr = rtcp_header(1, 200, struct.pack(">IIIIII", 0xA11CE000, 0xE9000000, 0x80000000, 123456, 250, 40000) + block)
rr = rtcp_header(1, 201, struct.pack(">I", 0xA11CE000) + block)
cname = b"alice@192.0.2.1"
sdes_body = struct.pack(">I", 0xA11CE000) + bytes([1, len(cname)]) + cname
sdes_body += bytes(4 - len(sdes_body) % 4)
sdes = rtcp_header(1, 202, sdes_body)
bye = rtcp_header(1, 203, struct.pack(">I", 0xA11CE000) + bytes([6]) + b"hangup" + b"\x00")
metrics = bytes([7, 0]) + struct.pack(">HI", 8, 0xFEEDBEEF) + bytes([19, 3, 192, 4]) + struct.pack(">HHHH", 80, 1240, 125, 60)
metrics += bytes([0xEC, 127, 127, 16, 88, 127, 42, 41, 0xF5, 0]) + struct.pack(">HHH", 60, 210, 610)
xr = rtcp_header(0, 207, struct.pack(">I", 0xA11CE000) + metrics + bytes([4, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]))
write("rtcp", "sr-sdes-xr-bye", sr + sdes + xr + bye)
write("rtcp", "rr-sdes", rr + sdes)
write("rtcp", "rr-empty-padded", rtcp_header(0, 201, struct.pack(">I", 1), padding=4))
write("rtcp", "app", rr + rtcp_header(3, 204, b"\x00\x00\x00\x01NAMEdata"))
write("rtcp", "sdes-two-chunks", rtcp_header(2, 202, sdes_body + struct.pack(">I", 2) + bytes([2, 1, 65, 0, 0, 0, 0, 0])))


def dtmf_record(control, delta, payload):
    return bytes([control]) + struct.pack(">h", delta) + payload


def event(code, end, duration, volume=10):
    return bytes([code, (0x80 if end else 0) | volume]) + struct.pack(">H", duration)


digit5 = dtmf_record(4, 0, event(5, False, 160))
for d in (320, 480, 640, 800):
    digit5 += dtmf_record(4, 0, event(5, False, d))
digit5 += dtmf_record(4, 0, event(5, True, 800)) * 3
write("dtmf", "digit5", digit5 + dtmf_record(0x80 | 4, 0, bytes(4)))
two = dtmf_record(4, 0, event(1, False, 160)) + dtmf_record(4, 0, event(1, True, 800))
two += dtmf_record(4, 1120, event(11, True, 800)) + dtmf_record(4, 0, event(11, True, 800))
two += dtmf_record(0x80 | 31, 0, bytes(4))
write("dtmf", "one-pound", two)
lost = dtmf_record(4, 0, event(3, False, 480)) + dtmf_record(0x80 | 31, 0, bytes(4)) * 3
lost += dtmf_record(4, -500, event(3, True, 800)) + dtmf_record(0x40 | 2, 2000, event(7, False, 160))
write("dtmf", "timeout-reorder-short", lost)
long_event = dtmf_record(4, 0, event(0, False, 65535)) + dtmf_record(4, -1, event(0, False, 160))
long_event += dtmf_record(4, 0, event(0, True, 400))
write("dtmf", "long-segments", long_event)

crlf = "\r\n"
write("http", "content-length", "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nhello")
write("http", "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n")
write("http", "interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
write("http", "no-content", "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n")
write("http", "until-close", "HTTP/1.0 200 OK\n\nuntil close")
write("http", "lengths", "HTTP/1.1 404 Not Found\r\nContent-Length: 3, 3\r\ncontent-length: 3\r\n\r\nabc")
write("http", "xml", "HTTP/1.1 200 OK\r\nContent-Length: 94\r\n\r\n<?xml version=\"1.0\"?><YealinkIPPhoneText>"
      "<Title>Rec</Title><Text>recording started</Text></YealinkIPPhoneText>")
write("http", "url", "http://rec.example.com:8080/record?call=$call_id&user=%41 b#frag")
write("http", "url-ipv6", "  http://[2001:db8::1]:80?x  ")
write("http", "url-ipv4", "HTTP://192.0.2.7/a/b")
write("http", "url-https", "HTTPS://prov.example.com:443/dir/?mac=001565aabbcc")
write("http", "url-https-ipv6", "https://[2001:db8::1]:8443/y000000000000.cfg")


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def dns(id, flags, rcode, question, qtype, answers):
    out = struct.pack(">HBBHHHH", id, flags, 0x80 | rcode, 1, len(answers), 0, 0)
    out += dns_name(question) + struct.pack(">HH", qtype, 1)
    for rtype, data in answers:
        out += b"\xC0\x0C" + struct.pack(">HHIH", rtype, 1, 300, len(data)) + data
    return out


write("dns", "a", dns(0x1234, 0x81, 0, "rec.example.com", 1, [(5, dns_name("x.example.com")), (1, bytes([192, 0, 2, 7]))]))
write("dns", "aaaa", dns(0xBEEF, 0x81, 0, "rec.example.com", 28, [(28, bytes(15) + b"\x01")]))
write("dns", "nxdomain", dns(7, 0x81, 3, "nope.example", 1, []))
write("dns", "truncated", dns(7, 0x83, 0, "big.example", 1, []))
write("dns", "servfail", dns(7, 0x81, 2, "x", 28, []))
write("dns", "nodata", dns(9, 0x81, 0, "example.org", 28, [(1, bytes([10, 0, 0, 1]))]))
write("dns", "name", "rec.example.com.")
# SRV (RFC 2782) and NAPTR (RFC 3403) for RFC 3263: a compressed target, the root target, and a
# compression pointer to itself (a loop the parser must refuse).
write("dns", "srv", dns(0x5352, 0x81, 0, "_sip._udp.pbx.example", 33,
                        [(33, struct.pack(">HHH", 10, 60, 5060) + dns_name("sip1.pbx.example")),
                         (33, struct.pack(">HHH", 20, 0, 5070) + b"\x04sip2\xC0\x16"),
                         (33, struct.pack(">HHH", 0, 0, 0) + b"\x00")]))
write("dns", "srv-loop", dns(0x5353, 0x81, 0, "pbx.example", 33,
                             [(33, struct.pack(">HHH", 1, 1, 5060) + b"\xC0\x2F")]))
write("dns", "naptr", dns(0x4E41, 0x81, 0, "pbx.example", 35,
                          [(35, struct.pack(">HH", 10, 20) + b"\x01S\x07SIP+D2U\x00" + dns_name("_sip._udp.pbx.example")),
                           (35, struct.pack(">HH", 20, 10) + b"\x01s\x07SIP+D2T\x00\xC0\x0C")]))

write("phonetext", "plain", "<YealinkIPPhoneText><Title>Rec</Title><Text>recording started</Text></YealinkIPPhoneText>")
write("phonetext", "prolog", "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<!DOCTYPE x>\n"
      "<YealinkIPPhoneText Beep=\"no\" a='>'>\n <!-- <Text>no</Text> -->\n <Title/>\n"
      " <Text  x=\"1\">Recording &amp; saved &#x263A; &#65; &lt;ok&gt;</Text>\n</YealinkIPPhoneText>")
write("phonetext", "cdata", "<YealinkIPPhoneText><Text><![CDATA[a <b> & c]]>\tnext<br/>line\u00e9\x01</Text>"
      "</YealinkIPPhoneText>")
write("phonetext", "empty", "<YealinkIPPhoneText><Text/></YealinkIPPhoneText>")
write("phonetext", "invalid-utf8", b"<YealinkIPPhoneText><Text>a\xff(\xc3\x28\xe2\x82</Text></YealinkIPPhoneText>")
write("phonetext", "html", "<html><body>not it</body></html>")

write("cfg", "quoted-crlf", "#!version:1.0.0.1\r\n# comment\r\naccount.1.label = \"Front desk\"\r\n"
      "  account.1.user_name=1001  \r\nempty =\rfeatures.dnd.enable = on\r\nx.y = \"\"\"\n")
write("cfg", "include", "#!version:1.0.0.1\ninclude:config \"other.cfg\"\nkey = value\n")
write("cfg", "no-version", "sip.port = 5060\nbad line\n")


def input_event(layout, sec, usec, type_, code, value):
    if layout == 24:
        return struct.pack("<qqHHi", sec, usec, type_, code, value)
    return struct.pack("<iiHHi", sec, usec, type_, code, value)


def key_stream(layout):
    out = bytes([0 if layout == 24 else 1])
    t = 1000
    for sec, usec, code, value in [(0, 0, 2, 1), (0, 80000, 2, 0), (1, 0, 19, 1), (2, 500000, 19, 0),
                                   (3, 0, 115, 1), (3, 100000, 115, 2), (4, 0, 115, 0), (5, 0, 35, 1),
                                   (5, 1, 240, 1), (5, 2, 2, 7)]:
        out += input_event(layout, t + sec, usec, 1, code, value) + input_event(layout, t + sec, usec, 0, 0, 0)
    return out + b"\x01\x02\x03"


write("keys", "pc-24", key_stream(24))
write("keys", "arm-16", key_stream(16))

# framer: TCP streams as a SIP connection carries them (RFC 3261 §18.3, RFC 5626 §3.5.1).
OPTIONS = ("OPTIONS sip:phone@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
           "Call-ID: f1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
MESSAGE = ("MESSAGE sip:phone@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK2\r\n"
           "Call-ID: f2\r\nCSeq: 2 MESSAGE\r\nl: 5\r\n\r\nhello")
write("framer", "two-messages-ping-pong", OPTIONS + "\r\n\r\n" + MESSAGE + "\r\n" + OPTIONS)
write("framer", "folded-length-lf", MESSAGE.replace("l: 5\r\n", "Content-Length:\r\n 5\r\n").replace("\r\n", "\n"))
write("framer", "no-length", OPTIONS.replace("Content-Length: 0\r\n", ""))
write("framer", "huge-length", MESSAGE.replace("l: 5", "l: 99999999999999999999"))

# crypto: SDES a=crypto values (RFC 4568 §9.1): the three suites, lifetimes, MKI, several keys,
# wrong key lengths, an unknown suite, session parameters accepted and refused.
import base64  # noqa: E402

K30 = base64.b64encode(bytes(range(30))).decode()
K28 = base64.b64encode(bytes(range(28))).decode()
for i, value in enumerate([
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{K30}",
        f"2 AES_CM_128_HMAC_SHA1_32 inline:{K30}|2^31",
        f"3 AEAD_AES_128_GCM inline:{K28}",
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|2^20|1:4",
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|2^31|1:4;inline:{K30}|2^31|2:4",
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{K28}",
        f"1 F8_128_HMAC_SHA1_80 inline:{K30}",
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{K30} KDR=0 WSH=64",
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{K30} UNENCRYPTED_SRTP",
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|1099511627776"]):
    write("crypto", "seed" + str(i), value)

# netlink (issue 16): NETLINK_ROUTE datagrams in host order (little-endian), as the kernel sends
# them: a link dump, an address dump (IPv4 with a label, IPv6), changes, errors, a zero length.
def nlmsg(mtype, seq, payload, flags=0):
    out = struct.pack("<IHHII", 16 + len(payload), mtype, flags, seq, 0) + payload
    return out + bytes(-len(out) % 4)


def rta(atype, data):
    out = struct.pack("<HH", 4 + len(data), atype) + data
    return out + bytes(-len(out) % 4)


def nl_addr(mtype, addr, index, prefix=24, flags=0, scope=0, label=b"", seq=0):
    family = 10 if len(addr) == 16 else 2
    body = struct.pack("<BBBBI", family, prefix, flags, scope, index) + rta(1, addr) + rta(2, addr)
    if label:
        body += rta(3, label + b"\0")
    return nlmsg(mtype, seq, body)


def nl_link(mtype, index, flags, name, seq=0):
    return nlmsg(mtype, seq, struct.pack("<BBHiII", 0, 0, 1, index, flags, 0xFFFFFFFF) + rta(3, name + b"\0"))


V6 = bytes([0x20, 0x01, 0x0d, 0xb8]) + bytes(11) + b"\x05"
write("netlink", "links", nl_link(16, 1, 0x49, b"lo", 1) + nl_link(16, 2, 0x41, b"eth0", 1) + nlmsg(3, 1, bytes(4)))
write("netlink", "addresses", nl_addr(20, bytes([127, 0, 0, 1]), 1, 8, 0, 254, b"lo", 2)
      + nl_addr(20, bytes([10, 0, 0, 2]), 2, label=b"eth0", seq=2) + nl_addr(20, V6, 2, 64, seq=2)
      + nl_addr(20, bytes([0xfe, 0x80]) + bytes(13) + b"\x01", 2, 64, 0x40, 253, seq=2) + nlmsg(3, 2, bytes(4)))
write("netlink", "change", nl_addr(21, bytes([10, 0, 0, 2]), 2, label=b"eth0") + nl_addr(20, bytes([10, 0, 0, 3]), 2)
      + nl_link(16, 2, 0x1, b"eth0") + nl_link(17, 3, 0, b"wlan0"))
write("netlink", "error", nlmsg(2, 7, struct.pack("<i", -16) + bytes(16)) + nlmsg(2, 8, bytes(20)))
write("netlink", "zero-length", bytes(16) + nl_addr(20, bytes([10, 0, 0, 2]), 2))
