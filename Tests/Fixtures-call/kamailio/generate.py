#!/usr/bin/env python3
"""Writes the SIPp scenarios of scripts/cli-tests-proxy.sh (calls through the Kamailio
Record-Route proxy of proxy.cfg) into this directory: python3 generate.py.

Every request of the phone must reach SIPp through the proxy (two Via lines: the proxy's and the
phone's), the phone's 180 and 200 must carry the proxy's Record-Route (RFC 3261 §12.1.1), and SIPp
sends its own in-dialog requests with the route set it learnt ([routes], [next_url])."""
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Support"))
from sipp_xml import sdp as sipp_sdp  # noqa: E402  (the shared PCMU SDP)

HERE = Path(__file__).resolve().parent


def ereg(name, regexp, search_in="hdr", header=None):
    """A checked regular expression (SIPp fails the call when it does not match)."""
    where = f'search_in="{search_in}"' + (f' header="{header}"' if header else "")
    return f'      <ereg regexp="{regexp}" {where}\n            check_it="true" assign_to="{name}"/>\n'


TWO_VIAS = "Via: (SIP/2\\.0/UDP [[:graph:]]*)[[:space:]]+Via: (SIP/2\\.0/UDP [[:graph:]]*)"


def hop(name):
    """The message came through a hop that added its Via line above the sender's."""
    # POSIX ERE has no newline escape: a Via value ([[:graph:]]: no space, no line break), the line
    # break, a second Via.
    return ereg(name, TWO_VIAS, search_in="msg")


def record_route(name):
    """The proxy's Record-Route (loose routing) is there."""
    return ereg(name, "^ *.sip:127\\.0\\.0\\.1:[0-9]+;lr", header="Record-Route:")  # `.`: XML has no raw <


def sdp(version, direction):
    return sipp_sdp(version, direction)


def recv(kind, what, checks="", extra=""):
    attr = f'{kind}="{what}"'
    if not checks:
        return f"  <recv {attr}{extra}/>\n"
    return f"  <recv {attr}{extra}>\n    <action>\n{checks}    </action>\n  </recv>\n"


def send(text, retrans=False):
    r = ' retrans="500"' if retrans else ""
    return f"  <send{r}>\n    <![CDATA[\n{text}]]>\n  </send>\n"


def pause(ms):
    return f'  <pause milliseconds="{ms}"/>\n'


def reply(status, reason, user, body=None, to_tag=False, record_routes=False):
    """A response to the last request; `record_routes` copies its Record-Route (§12.1.1)."""
    text = f"SIP/2.0 {status} {reason}\n[last_Via:]\n"
    if record_routes:
        text += "[last_Record-Route:]\n"
    text += "[last_From:]\n[last_To:]" + (";tag=[pid]SIPpTag01[call_number]" if to_tag else "") + "\n"
    text += "[last_Call-ID:]\n[last_CSeq:]\n"
    if status in (180, 200) and user:
        text += f"Contact: <sip:{user}@[local_ip]:[local_port]>\n"
    if body:
        text += "Content-Type: application/sdp\nContent-Length: [len]\n\n" + body
    else:
        text += "Content-Length: 0\n\n"
    return send(text)


def request(method, cseq, from_, to, user, body=None, uri="[next_url]", routes=True, via="[branch]"):
    """A request of SIPp's; in a dialog with its route set ([routes]) to the peer's Contact."""
    text = f"{method} {uri} SIP/2.0\n"
    text += via if via.startswith("[last_") else f"Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={via}"
    text += "\n" + ("[routes]\n" if routes else "")
    text += f"From: {from_}\nTo: {to}\nCall-ID: [call_id]\nCSeq: {cseq} {method}\n"
    if method == "INVITE":
        text += f"Contact: <sip:{user}@[local_ip]:[local_port]>\n"
    text += "Max-Forwards: 70\n"
    if body:
        text += "Content-Type: application/sdp\nContent-Length: [len]\n\n" + body
    else:
        text += "Content-Length: 0\n\n"
    return send(text, retrans=method not in ("ACK",))


def infos(user):
    """The record key's INFO Record: on, then off, each through the proxy, each answered 200."""
    out = ""
    for n, value in ((1, "on"), (2, "off")):
        out += recv("request", "INFO", hop(f"infohop{n}") + ereg(f"rec{n}", f"^ *{value} *$", header="Record:"))
        out += reply(200, "OK", None)
    return out


def held_by_phone(user):
    """The phone's hold and resume re-INVITEs (and their ACKs) through the proxy, answered."""
    out = recv("request", "INVITE", hop("holdhop") + ereg("hold", "a=(sendonly|inactive)", search_in="body"))
    out += reply(200, "OK", user, sdp(2, "recvonly"))
    out += recv("request", "ACK", hop("holdackhop"))
    out += recv("request", "INVITE", hop("resumehop") + ereg("resume", "a=sendrecv", search_in="body"))
    out += reply(200, "OK", user, sdp(3, "sendrecv"))
    out += recv("request", "ACK", hop("resumeackhop"))
    return out


def holds_phone(from_, to, user, cseq):
    """SIPp holds the phone (a=sendonly, answered recvonly) and resumes it, with its route set."""
    out = pause(300)
    out += request("INVITE", cseq, from_, to, user, sdp(4, "sendonly"))
    out += recv("response", "100", extra=' optional="true"')
    out += recv("response", "200", ereg("heldanswer", "a=recvonly", search_in="body"))
    out += request("ACK", cseq, from_, to, user)
    out += pause(300)
    out += request("INVITE", cseq + 1, from_, to, user, sdp(5, "sendrecv"))
    out += recv("response", "100", extra=' optional="true"')
    out += recv("response", "200", ereg("resumeanswer", "a=sendrecv", search_in="body"))
    out += request("ACK", cseq + 1, from_, to, user)
    return out


HOLD_REFS = "infohop1,rec1,infohop2,rec2,holdhop,hold,holdackhop,resumehop,resume,resumeackhop,heldanswer,resumeanswer"


def write(name, comment, body, refs):
    wrapped = textwrap.fill("Generated by generate.py (edit that, not this file). " + comment, width=96,
                            initial_indent="     ", subsequent_indent="     ").lstrip()
    names = refs.split(",")
    references = "".join(f'  <Reference variables="{",".join(names[i:i + 6])}"/>\n' for i in range(0, len(names), 6))
    text = (f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!-- {wrapped} -->\n'
            f'<scenario name="deskphone proxy: {name}">\n{body}{references}</scenario>\n')
    (HERE / f"{name}.xml").write_text(text)


def main():
    # The phone calls 2000 (SIPp, registered at the proxy) through the proxy.
    user = "2000"
    me = f"<sip:{user}@127.0.0.1>;tag=[pid]SIPpTag01[call_number]"
    b = recv("request", "INVITE", record_route("rr") + hop("invitehop") +
             '      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="phonefrom"/>\n', extra=' rrs="true"')
    b += reply(180, "Ringing", user, to_tag=True, record_routes=True)
    b += pause(500)
    b += reply(200, "OK", user, sdp(1, "sendrecv"), to_tag=True, record_routes=True)
    b += recv("request", "ACK", hop("ackhop"))
    b += infos(user) + held_by_phone(user) + holds_phone(me, "[$phonefrom]", user, 100)
    b += recv("request", "BYE", hop("byehop"))
    b += reply(200, "OK", None)
    write("uas-proxied",
          "SIPp as 2000 answers the phone's call through the Record-Route proxy: the INVITE carries the "
          "proxy's Record-Route and every request of the phone arrives through the proxy (two Via lines); "
          "SIPp's 180/200 copy the Record-Route; INFO Record: on/off; the phone holds and resumes; SIPp "
          "holds and resumes the phone with its route set; the phone hangs up.",
          b, "rr,invitehop,phonefrom,ackhop," + HOLD_REFS + ",byehop")

    # SIPp (3000) calls 1001 at the proxy, which looks the phone up.
    user = "3000"
    me = f'"SIPp" <sip:{user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]'
    to = "<sip:1001@[remote_ip]:[remote_port]>"
    invite = request("INVITE", 1, me, to, user, sdp(1, "sendrecv"), uri="sip:1001@[remote_ip]:[remote_port]",
                     routes=False)
    b = invite + recv("response", "100", extra=' optional="true"')
    b += recv("response", "180", record_route("rr180"))
    b += recv("response", "200", record_route("rr200"), extra=' rrs="true"')
    dialog_to = to + "[peer_tag_param]"
    b += request("ACK", 1, me, dialog_to, user)
    b += infos(user) + held_by_phone(user) + holds_phone(me, dialog_to, user, 2)
    b += pause(300) + request("BYE", 4, me, dialog_to, user)
    b += recv("response", "200", extra=' crlf="true"')
    write("uac-proxied",
          "SIPp as 3000 calls 1001 at the proxy: the phone's 180 and 200 must carry the proxy's Record-Route "
          "(checked), or SIPp has no route set; SIPp's ACK, re-INVITEs and BYE go with its route set "
          "([routes]); the phone's INFO Record: on/off and its hold/resume re-INVITEs arrive through the "
          "proxy; SIPp holds and resumes the phone, then hangs up.",
          b, "rr180,rr200," + HOLD_REFS)

    # SIPp calls and cancels while the phone rings.
    b = invite + recv("response", "100", extra=' optional="true"')
    b += recv("response", "180", record_route("rr180"))
    b += pause(500)
    b += request("CANCEL", 1, me, to, user, uri="sip:1001@[remote_ip]:[remote_port]", routes=False,
                 via="[last_Via:]")
    # The proxy's 200 to the CANCEL and the relayed 487 come from two of its processes: either order.
    b += recv("response", "200", extra=' optional="true"') + recv("response", "487")
    b += request("ACK", 1, me, to + "[peer_tag_param]", user, uri="sip:1001@[remote_ip]:[remote_port]",
                 routes=False, via="[last_Via:]")
    b += '  <recv response="200" timeout="500" ontimeout="1"/>\n  <label id="1"/>\n'
    b += pause(200)
    write("uac-cancel-proxied",
          "SIPp as 3000 calls 1001 at the proxy and cancels while the phone rings: the 180 carries the "
          "Record-Route; CANCEL (the INVITE's branch) -> 200 and 487 (either order) -> ACK (hop by hop at the proxy).",
          b, "rr180")

    # The phone calls 2000 and cancels while SIPp rings.
    user = "2000"
    b = recv("request", "INVITE", record_route("rr") + hop("invitehop") +
             '      <ereg regexp="[0-9]+ INVITE" search_in="hdr" header="CSeq:" assign_to="invitecseq"/>\n'
             f'      <ereg regexp="{TWO_VIAS}" search_in="msg"\n            assign_to="vias,via1,via2"/>\n')
    b += reply(180, "Ringing", user, to_tag=True, record_routes=True)
    b += recv("request", "CANCEL")  # hop by hop: the proxy's own CANCEL, one Via
    b += reply(200, "OK", None, to_tag=True)
    # The 487 answers the INVITE: its Via lines (the proxy's CANCEL has only the proxy's).
    b += send("SIP/2.0 487 Request Terminated\nVia: [$via1]\nVia: [$via2]\n[last_From:]\n"
              "[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\nCSeq: [$invitecseq]\n"
              "Content-Length: 0\n\n")
    b += recv("request", "ACK")
    write("uas-cancel-proxied",
          "SIPp as 2000 rings for the phone's call through the proxy and never answers: the phone's CANCEL "
          "arrives through the proxy and gets 200, the INVITE 487, the proxy ACKs it.",
          b, "rr,invitehop,vias,via1,via2")


if __name__ == "__main__":
    main()
