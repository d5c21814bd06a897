#!/usr/bin/env python3
# Writes the SIPp UAS scenarios of the recording controller tests (run once; the XML is committed).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "Support"))
from sipp_xml import RECV_BYE, answer, ok_with_sdp, recv_info, response, send_bye  # noqa: E402

ANSWER = answer("[0-9a-f]+")

counter = [0]
refs = []
def info(value, status, reason, extra="", auth=False):
    counter[0] += 1
    n = counter[0]
    refs.extend(["rec%d" % n, "len%d" % n])
    auth_action = '      <verifyauth assign_to="authvalid" username="1001" password="secret"/>\n' if auth else ""
    text = recv_info(n, value, auth_action)
    if auth:
        text += '''  <nop hide="true" test="authvalid" next="goodauth%d"/>
  <send next="end">
    <![CDATA[
SIP/2.0 403 Bad credentials
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
  <label id="goodauth%d"/>
''' % (n, n)
    if status:
        text += response(status, reason, extra)
    return text

BYE_FROM_PHONE = RECV_BYE

BYE_FROM_SIPP = send_bye("[ua_uri]", "sipp")

def reinvite(direction, reply, version, var):
    refs.append(var)
    return '''  <recv request="INVITE">
    <action>
      <ereg regexp="a=%s" search_in="body" check_it="true" assign_to="%s"/>
    </action>
  </recv>
''' % (direction, var) + ok_with_sdp(version, reply)

def scenario(name, comment, body, has_end=False):
    global refs
    allrefs = ["ourtag"] + refs
    if has_end:
        allrefs.append("authvalid")
    text = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!-- %s -->\n<scenario name="deskphone recording: %s">\n' % (comment, name)
    text += ANSWER + body
    if has_end:
        text += '  <label id="end"/>\n'
    text += '  <Reference variables="%s"/>\n</scenario>\n' % ",".join(allrefs)
    open(name + ".xml", "w").write(text)
    refs = []
    counter[0] = 0

scenario("record-on-off",
    "SIPp as UAS: each INFO must carry exactly `Record: on|off` and Content-Length: 0. on -> 200, off -> 200, "
    "on -> 200, then SIPp hangs up (BYE from the server while recording).",
    info("on", 200, "OK") + info("off", 200, "OK") + info("on", 200, "OK") + '  <pause milliseconds="1000"/>\n'
    + BYE_FROM_SIPP)
scenario("record-forbidden",
    "SIPp as UAS: Record: on -> 403 Forbidden (Asterisk without one-touch recording); our BYE ends it.",
    info("on", 403, "Forbidden") + BYE_FROM_PHONE)
scenario("record-gone",
    "SIPp as UAS: Record: on -> 481 Call/Transaction Does Not Exist; the call is over, no BYE.",
    info("on", 481, "Call/Transaction Does Not Exist") + '  <pause milliseconds="300"/>\n')
scenario("record-errors",
    "SIPp as UAS: on -> 500 (cannot start), on -> 200, off -> 603 (cannot stop), off -> 200; our BYE.",
    info("on", 500, "Server Internal Error") + info("on", 200, "OK") + info("off", 603, "Decline")
    + info("off", 200, "OK") + BYE_FROM_PHONE)
scenario("record-challenge",
    "SIPp as UAS: Record: on -> 401 with a digest challenge; the same request again with valid "
    "credentials (verifyauth, user 1001 password secret) -> 200; our BYE.",
    info("on", 401, "Unauthorized",
         'WWW-Authenticate: Digest realm="deskphone.test", nonce="00112233445566778899aabbccddeeff", algorithm=MD5\n')
    + info("on", 200, "OK", auth=True) + BYE_FROM_PHONE, has_end=True)
scenario("record-silent",
    "SIPp as UAS: Record: on is never answered (its retransmissions are absorbed during the pause); "
    "our BYE ends it.",
    info("on", None, None) + '  <pause milliseconds="4000"/>\n' + BYE_FROM_PHONE)
scenario("record-hold",
    "SIPp as UAS: on -> 200, our hold re-INVITE (sendonly) -> 200 recvonly, our resume (sendrecv) -> 200, "
    "off -> 200, our BYE.",
    info("on", 200, "OK") + reinvite("sendonly", "recvonly", 2, "held") + reinvite("sendrecv", "sendrecv", 3, "resumed")
    + info("off", 200, "OK") + BYE_FROM_PHONE)
scenario("record-url",
    "SIPp as UAS for URL record tests: answers the call, expects no INFO at all, our BYE ends it.",
    BYE_FROM_PHONE)
