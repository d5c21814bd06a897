#!/usr/bin/env bash
# Session timers (RFC 4028) against SIPp, both roles at once (about 65 s): the phone calls a SIPp
# UAS that grants 90 s with the phone as refresher (its Allow has no UPDATE), and must re-INVITE
# within the interval; a sixth phone calls a SIPp UAS whose 200 allows UPDATE and must refresh by
# UPDATE without SDP (RFC 3311); SIPp calls a second phone asking for 90 s with itself as refresher and never refreshes, and that
# phone must grant it (Session-Expires, Require: timer) and send BYE 60 s after answering. Then
# a third phone without session timers gets an INVITE with Require: timer and answers 420.
# Reliable provisionals (RFC 3262) at the same time: SIPp calls a fourth phone with Require: 100rel
# and PRACKs its reliable 180 after one retransmission; a fifth phone (account.1.100rel_enable = 1)
# calls a SIPp UAS that rings with a reliable 183 and must PRACK it.
# Each check prints `ok   ...` or `FAIL ...`; the last line is `cli-timers: N passed, N failed`.
# usage: scripts/cli-tests-timers.sh DESKPHONE     (ports: SIP 26978, 26980-26989, RTP 38600-38699)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
fixtures=$root/Tests/Fixtures-call/timers
source "$root/scripts/cli-common.sh"
trap 'exit 130' INT TERM
command -v sipp > /dev/null || { fail "sipp is not installed (scripts/install-deps.sh)"; summary cli-timers; exit 1; }

# phone_cfg DIR PORT RTP TIMER: a phone config with session timers on (1) or off (0).
phone_cfg() {
  mkdir -p "$1"
  {
    echo '#!version:1.0.0.1'
    echo 'account.1.user_name = 1001'
    echo 'sip.listen_address = 127.0.0.1'
    echo "sip.listen_port = $2"
    echo "rtp.port_min = $3"
    echo "rtp.port_max = $(($3 + 9))"
    echo "account.1.session_timer.enable = $4"
    echo 'account.1.session_timer.expires = 90'
    echo "account.1.100rel_enable = ${5:-0}"
  } > "$1/phone.cfg"
}

# calls_sipp NAME SCENARIO SIPP_PORT SIPP_MEDIA SECONDS HANGUP: in $work/NAME (configured by
# phone_cfg) a SIPp UAS runs SCENARIO, then the phone dials it and hangs up after HANGUP s; both
# are killed after SECONDS. SIPp's pid is left in $sipp_pid.
calls_sipp() {
  (cd "$work/$1" && exec timeout -k 3 "$5" sipp -sf "$fixtures/$2" -i 127.0.0.1 -p "$3" -mp "$4" -m 1 \
    -nostdin -timeout "$(($5 - 5))s" -timeout_error -trace_err -trace_msg > sipp.out 2>&1) &
  sipp_pid=$!
  pids+=("$sipp_pid")
  wait_udp "$3" || fail "$1: SIPp did not start"
  (cd "$work/$1" && exec timeout -k 3 "$5" "$deskphone" --board "$root/board/sim.cfg" --config phone.cfg \
    --dial "sip:sipp@127.0.0.1:$3" --hangup-after "$6" --exit-after-call > phone.log 2> phone.err) &
  pids+=($!)
}

# 1. The phone refreshes: it calls SIPp (UAS) and hangs up after 55 s.
phone_cfg "$work/refresh" 26980 38600 1
calls_sipp refresh uas-refresh.xml 26981 38680 80 55
refresh_sipp=$sipp_pid

# 6. The same with a SIPp UAS whose 200 allows UPDATE: the phone refreshes by UPDATE, no SDP.
phone_cfg "$work/update" 26989 38610 1
calls_sipp update uas-update.xml 26978 38695 80 55
update_sipp=$sipp_pid

# 2. The far end never refreshes: SIPp (UAC) calls a phone that answers by itself.
phone_cfg "$work/expiry" 26982 38620 1
(cd "$work/expiry" && exec timeout -k 3 80 "$deskphone" --board "$root/board/sim.cfg" --config phone.cfg \
  --answer auto > phone.log 2> phone.err) &
pids+=($!)
wait_for "$work/expiry/phone.log" "sip: listening" 1 10 || fail "expiry: the phone did not start"
(cd "$work/expiry" && exec timeout -k 3 85 sipp -sf "$fixtures/uac-no-refresh.xml" -i 127.0.0.1 -p 26983 -mp 38690 \
  -m 1 -nostdin -timeout 80s -timeout_error -trace_err 127.0.0.1:26982 > sipp.out 2>&1) &
expiry_sipp=$!
pids+=("$expiry_sipp")

# 4. SIPp requires 100rel of a phone that answers 2 s after ringing: reliable 180, PRACK, 200.
phone_cfg "$work/prack-in" 26985 38650 0
(cd "$work/prack-in" && exec timeout -k 3 30 "$deskphone" --board "$root/board/sim.cfg" --config phone.cfg \
  --answer auto --answer-delay 2000 > phone.log 2> phone.err) &
pids+=($!)
wait_for "$work/prack-in/phone.log" "sip: listening" 1 10 || fail "prack-in: the phone did not start"
(cd "$work/prack-in" && exec timeout -k 3 25 sipp -sf "$fixtures/uac-100rel.xml" -i 127.0.0.1 -p 26986 -mp 38670 \
  -m 1 -nostdin -timeout 20s -timeout_error -trace_err -trace_msg 127.0.0.1:26985 > sipp.out 2>&1) &
prack_in_sipp=$!
pids+=("$prack_in_sipp")

# 5. The phone (100rel_enable) calls a SIPp UAS that rings reliably: the phone must PRACK.
phone_cfg "$work/prack-out" 26987 38660 0 1
calls_sipp prack-out uas-100rel.xml 26988 38675 25 1
prack_out_sipp=$sipp_pid

# 3. Require: timer to a phone without session timers: 420 Bad Extension, Unsupported: timer.
phone_cfg "$work/require" 26984 38640 0
(cd "$work/require" && exec timeout -k 3 20 "$deskphone" --board "$root/board/sim.cfg" --config phone.cfg \
  --answer auto > phone.log 2> phone.err) &
pids+=($!)
wait_for "$work/require/phone.log" "sip: listening" 1 10 || fail "require: the phone did not start"
python3 - 26984 > "$work/require/answer.txt" << 'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]
invite = ("INVITE sip:1001@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-req-1\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=t1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: req-1@t\r\n"
          "CSeq: 1 INVITE\r\nContact: <sip:t@127.0.0.1:%d>\r\nRequire: timer\r\nSession-Expires: 1800\r\n"
          "Content-Length: 0\r\n\r\n") % (port, me, me)
s.settimeout(3)
s.sendto(invite.encode(), ("127.0.0.1", port))
print(s.recv(4096).decode(errors="replace"))
PY
if grep -q "^SIP/2.0 420" "$work/require/answer.txt" && grep -qi "^Unsupported: timer" "$work/require/answer.txt"; then
  pass "Require: timer to a phone without session timers: 420 with Unsupported: timer"
else
  fail "Require: timer: $(head -3 "$work/require/answer.txt")"
fi

# sipp_passed PID NAME WHAT: SIPp's scenario in $work/NAME ended with status 0.
sipp_passed() {
  local status
  reap status "$1"
  if [ "$status" = 0 ]; then pass "$3"; else
    fail "$2: SIPp exited $status: $(grep -a -h -iE 'error|unexpected|check_it' "$work/$2"/*errors.log \
      "$work/$2/sipp.out" 2> /dev/null | head -3 | tr '\n' '|')"
  fi
}

sipp_passed "$refresh_sipp" refresh "the phone refreshed the session (re-INVITE with Session-Expires: 90;refresher=uac) and hung up"
check refresh "$work/refresh/phone.log" "call 1: session timer 90 s, refresher us" "the phone logged its refresher role"
check refresh "$work/refresh/phone.log" "call 1: session refresh (re-INVITE)" "the phone logged the refresh"

sipp_passed "$update_sipp" update \
  "a far end that allows UPDATE: the phone refreshed by UPDATE (no SDP, Contact, Session-Expires: 90;refresher=uac)"
check update "$work/update/phone.log" "call 1: session refresh (UPDATE)" "the phone logged the UPDATE refresh"

sipp_passed "$expiry_sipp" expiry "a far end that never refreshes: the phone granted 90 s (Require: timer) and sent BYE"
check expiry "$work/expiry/phone.log" "session expired: no refresh within 90 s" "the phone logged the expiry"

sipp_passed "$prack_in_sipp" prack-in \
  "Require: 100rel: the phone's 180 is reliable (RSeq), sent again until SIPp's PRACK, which gets 200; then the call"
check prack-in "$work/prack-in/phone.log" "call 1: connected" "the phone answered after the PRACK"
ringing=$(cat "$work/prack-in"/*messages.log 2> /dev/null | grep -a -c '^SIP/2.0 180 ')
if [ "$ringing" -ge 2 ]; then pass "prack-in: the reliable 180 went again before the PRACK (${ringing}x)"; else
  fail "prack-in: the 180 reached SIPp ${ringing}x, wanted at least 2 (a retransmission)"; fi

sipp_passed "$prack_out_sipp" prack-out \
  "a reliable 183 to the phone's INVITE (Supported: 100rel): PRACK with RAck: 4711 N INVITE, then the call"
check prack-out "$work/prack-out/phone.log" "call 1: connected" "the phone's call connected after its PRACK"
media_at=$(grep -n -m1 '^call 1: media ' "$work/prack-out/phone.log" | cut -d: -f1)
connected_at=$(grep -n -m1 '^call 1: connected' "$work/prack-out/phone.log" | cut -d: -f1)
if [ -n "$media_at" ] && [ -n "$connected_at" ] && [ "$media_at" -lt "$connected_at" ] \
  && [ "$(grep -c '^call 1: media ' "$work/prack-out/phone.log")" = 1 ]; then
  pass "prack-out: early media from the 183's SDP answer, kept when the 200 brings none"
else
  fail "prack-out: media not negotiated once from the 183: $(grep -E '^call 1: (media|connected|ended)' "$work/prack-out/phone.log" | tr '\n' '|')"
fi
summary cli-timers
