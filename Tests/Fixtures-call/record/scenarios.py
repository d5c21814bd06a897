#!/usr/bin/env python3
"""Writes the SIPp scenarios of scripts/cli-tests-record.sh into this directory (they are
committed; run again after editing this file). Each UAS INFO step checks that the INFO carries
exactly `Record: on|off` and `Content-Length: 0` (check_it: SIPp fails the call otherwise)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Support"))
from sipp_xml import RECV_BYE, answer, recv_info, response, sdp, send_bye  # noqa: E402

INVITE_200 = answer("[0-9a-zA-Z.-]+",
                    '      <ereg regexp="&lt;(sip:[^&gt;]*)&gt;" search_in="hdr" header="Contact:"'
                    ' assign_to="contact_all,contact"/>\n')


def info(n, value, status, reason):
    return recv_info(n, value) + response(status, reason)


SEND_BYE = '  <pause milliseconds="1500"/>\n' + send_bye("[$contact]", "rec")


def scenario(name, comment, body, refs):
    text = (f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!-- {comment} -->\n'
            f'<scenario name="deskphone cli-record: {name}">\n{body}' +
            (f'  <Reference variables="{refs}"/>\n' if refs else '') + '</scenario>\n')
    with open(os.path.join(HERE, name + ".xml"), "w") as f:
        f.write(text)


scenario("uas-on-off", "SIPp UAS: Record on -> 200, off -> 200, on -> 200, then SIPp hangs up (BYE while recording).",
         INVITE_200 + info(1, "on", 200, "OK") + info(2, "off", 200, "OK") + info(3, "on", 200, "OK") + SEND_BYE,
         "ourtag,contact_all,contact,rec1,len1,rec2,len2,rec3,len3")
scenario("uas-403", "SIPp UAS: Record on -> 403 (one-touch recording off), then the phone hangs up.",
         INVITE_200 + info(1, "on", 403, "Forbidden") + RECV_BYE, "ourtag,contact_all,contact,rec1,len1")
scenario("uas-500", "SIPp UAS: Record on -> 500 (cannot start), then the phone hangs up.",
         INVITE_200 + info(1, "on", 500, "Server Internal Error") + RECV_BYE, "ourtag,contact_all,contact,rec1,len1")
scenario("uas-481", "SIPp UAS: Record on -> 481 (the call is gone); SIPp forgets the call.",
         INVITE_200 + info(1, "on", 481, "Call/Transaction Does Not Exist") + '  <pause milliseconds="2000"/>\n',
         "ourtag,contact_all,contact,rec1,len1")
scenario("uas-no-info", "SIPp UAS: answers, expects no INFO at all (URL record, record key with no call), the phone hangs up.",
         INVITE_200 + RECV_BYE, "ourtag,contact_all,contact")

HOSTILE = """  <send retrans="500">
    <![CDATA[
INVITE sip:1001@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Bob&x=1/../?y" <sip:bob@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:1001@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:bob@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

""" + sdp() + """
]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
ACK sip:1001@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Bob&x=1/../?y" <sip:bob@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
""" + RECV_BYE
scenario("uac-hostile", "SIPp UAC: calls the phone with a hostile display name; the phone answers, presses URL record, hangs up.",
         HOSTILE, "")
