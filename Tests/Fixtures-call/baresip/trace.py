#!/usr/bin/env python3
"""Checks on the SIP messages baresip traced (`baresip -s`) for scripts/cli-tests-baresip.sh.

Python standard library only.

  trace.py LOG PORT sent|received WHAT [BODY_TEXT]
  trace.py LOG transports
      prints how many traced messages went over each transport, e.g. `TLS=12`.
      LOG is baresip's stdout with its SIP trace, PORT baresip's SIP port (a message whose source
      address ends in :PORT was sent by baresip, one whose destination does was received).
      PORT may be `peer:P` instead, for baresip behind a proxy at port P over TLS (its client
      connections have ephemeral source ports): a message to :P was sent by baresip, every other
      one was received.
      WHAT is a request method (INVITE, CANCEL, BYE, ...) or STATUS/METHOD (e.g. 487/INVITE,
      200/BYE: a response with that status to that method). With BODY_TEXT the message's body
      must contain it too (e.g. a=sendonly). With WHAT#N (INVITE#2) the Nth such message
      (1-based) must match, with WHAT#last the last one, not any of them. Exit 0 when such a
      message is in the trace; prints the matching message's start line, or what the trace holds
      when none matches.
"""
import re
import sys

# Each traced message: `#`, `UDP 127.0.0.1:A -> 127.0.0.1:B` (or TCP, TLS), the message, then a
# colour reset.
MESSAGE = re.compile(
    rb"#\r?\n(UDP|TCP|TLS) (\S+) -> (\S+)\r?\n(.*?)(?=\x1b\[;m|\r?\n#\r?\n(?:UDP|TCP|TLS) |\Z)", re.S)


def messages(path):
    with open(path, "rb") as log:
        text = log.read()
    for match in MESSAGE.finditer(text):
        transport = match.group(1).decode("latin-1")
        source = match.group(2).decode("latin-1")
        destination = match.group(3).decode("latin-1")
        raw = match.group(4).decode("utf-8", "replace").replace("\r\n", "\n")
        head, _, body = raw.partition("\n\n")
        lines = head.split("\n")
        cseq = ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() in ("cseq",):
                cseq = value.split()[-1] if value.split() else ""
        yield transport, source, destination, lines[0], cseq, body


def describe(start, cseq):
    if start.startswith("SIP/2.0 "):
        return start + " (" + cseq + ")"
    return start


def main(argv):
    if len(argv) == 3 and argv[2] == "transports":
        counts = {}
        for transport, *_ in messages(argv[1]):
            counts[transport] = counts.get(transport, 0) + 1
        print(" ".join("%s=%d" % item for item in sorted(counts.items())) or "nothing")
        return 0 if counts else 1
    if len(argv) not in (5, 6) or argv[3] not in ("sent", "received"):
        print(__doc__, file=sys.stderr)
        return 2
    path, port, direction, what = argv[1], argv[2], argv[3], argv[4]
    body_text = argv[5] if len(argv) == 6 else None
    ordinal = None
    if "#" in what:
        what, _, number = what.partition("#")
        ordinal = -1 if number == "last" else int(number)
    status, _, method = what.partition("/")
    seen = []
    count = 0
    last = None
    for _, source, destination, start, cseq, body in messages(path):
        if port.startswith("peer:"):
            to_peer = destination.endswith(":" + port[len("peer:"):])
            ours = to_peer if direction == "sent" else not to_peer
        else:
            ours = source.endswith(":" + port) if direction == "sent" else destination.endswith(":" + port)
        if not ours:
            continue
        seen.append(describe(start, cseq))
        if method:
            kind = start.startswith("SIP/2.0 " + status + " ") and cseq == method
        else:
            kind = start.startswith(status + " ")
        if not kind:
            continue
        count += 1
        if ordinal == -1:
            last = (start, cseq, body)
            continue
        if ordinal is not None and count != ordinal:
            continue
        if body_text is None or body_text in body:
            print("%s %s" % (direction, describe(start, cseq)))
            return 0
        if ordinal is not None:
            break
    if last is not None and (body_text is None or body_text in last[2]):
        print("%s %s (the last of %d)" % (direction, describe(last[0], last[1]), count))
        return 0
    print("no %s %s%s%s in %s (%s: %s)" % (
        direction, what, "" if ordinal is None else "#" + ("last" if ordinal == -1 else str(ordinal)),
        " with '%s'" % body_text if body_text else "",
        path, direction, "; ".join(seen) or "nothing"))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
