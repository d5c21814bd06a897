"""Pieces of SIPp scenario XML shared by the scenario generators
(Tests/Fixtures-call/record/scenarios.py, Tests/RecordingTests/Fixtures/sipp/generate.py)."""


def sdp(version=1, direction=None):
    """A PCMU audio SDP body on SIPp's media port (`a=DIRECTION` when given)."""
    return ("v=0\n"
            f"o=sipp 53655765 {version} IN IP[local_ip_type] [local_ip]\n"
            "s=-\nc=IN IP[media_ip_type] [media_ip]\nt=0 0\n"
            "m=audio [media_port] RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
            + (f"a={direction}\n" if direction else ""))


def response(status, reason, extra=""):
    """A bodiless response to the last request (EXTRA: header lines, each ending in a newline)."""
    return f"""  <send>
    <![CDATA[
SIP/2.0 {status} {reason}
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
{extra}Content-Length: 0

]]>
  </send>
"""


def ok_with_sdp(version=1, direction="sendrecv", new_to_tag=False):
    """200 OK to the last INVITE with a PCMU SDP (a To tag of SIPp's own on a new dialog), then the ACK."""
    to_tag = ";tag=[pid]SIPpTag01[call_number]" if new_to_tag else ""
    return f"""  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]{to_tag}
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipp@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

{sdp(version, direction)}
]]>
  </send>
  <recv request="ACK"/>
"""


def answer(tag_regexp, extra_actions=""):
    """Receives the INVITE (its From tag into `ourtag`), answers 200 with PCMU sendrecv, takes the ACK."""
    return f"""  <recv request="INVITE">
    <action>
      <ereg regexp="tag={tag_regexp}" search_in="hdr" header="From:" assign_to="ourtag"/>
{extra_actions}    </action>
  </recv>
""" + ok_with_sdp(new_to_tag=True)


def recv_info(n, value, extra_actions=""):
    """Receives an INFO that must carry exactly `Record: VALUE` and Content-Length: 0 (check_it)."""
    return f"""  <recv request="INFO">
    <action>
      <ereg regexp="^ *{value} *$" search_in="hdr" header="Record:" check_it="true" assign_to="rec{n}"/>
      <ereg regexp="^ *0 *$" search_in="hdr" header="Content-Length:" check_it="true" assign_to="len{n}"/>
{extra_actions}    </action>
  </recv>
"""


RECV_BYE = '  <recv request="BYE"/>\n' + response(200, "OK")


def send_bye(uri, from_user):
    """SIPp hangs up: BYE to URI (a SIPp expression) from FROM_USER, then the 200."""
    return f"""  <send retrans="500">
    <![CDATA[
BYE {uri} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
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
