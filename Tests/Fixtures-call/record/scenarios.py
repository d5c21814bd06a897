#!/usr/bin/env python3
"""Writes the SIPp scenarios of scripts/cli-tests-record.sh into this directory (they are
committed; run again after editing this file). Each UAS INFO step checks that the INFO carries
exactly `Record: on|off` and `Content-Length: 0` (check_it: SIPp fails the call otherwise)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

INVITE_200 = """  <recv request="INVITE">
    <action>
      <ereg regexp="tag=[0-9a-zA-Z.-]+" search_in="hdr" header="From:" assign_to="ourtag"/>
      <ereg regexp="&lt;(sip:[^&gt;]*)&gt;" search_in="hdr" header="Contact:" assign_to="contact_all,contact"/>
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipp@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 53655765 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=sendrecv

]]>
  </send>
  <recv request="ACK"/>
"""


def info(n, value, status, reason):
    return f"""  <recv request="INFO">
    <action>
      <ereg regexp="^ *{value} *$" search_in="hdr" header="Record:" check_it="true" assign_to="rec{n}"/>
      <ereg regexp="^ *0 *$" search_in="hdr" header="Content-Length:" check_it="true" assign_to="len{n}"/>
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 {status} {reason}
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
"""


RECV_BYE = """  <recv request="BYE"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
"""

SEND_BYE = """  <pause milliseconds="1500"/>
  <send retrans="500">
    <![CDATA[
BYE [$contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:rec@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
To: <sip:1001@127.0.0.1>;[$ourtag]
Call-ID: [call_id]
CSeq: 10 BYE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200"/>
"""


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

v=0
o=sipp 53655765 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

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
