#!/usr/bin/env bash
# Message waiting (RFC 3842) end to end: the whole phone (`deskphone --keys fifo:... --status-log`)
# against real peers on loopback.
#   1. SIPp sends unsolicited message-summary NOTIFYs (Tests/Fixtures-call/mwi/notify.xml): good
#      (200; the message LED slow-flashes, the LCD says "3 new voicemails"), malformed (400, a log
#      line, LED and count kept), an absurd count (200, clamped), an unknown event (489), then "no"
#      (200, LED off); the Message key (KEY_I on the sim board) dials the voicemail number.
#   2. Kamailio with `presence` + `presence_mwi` (db_text tables in $work) as the MWI server: the
#      phone registers and SUBSCRIBEs (Event: message-summary); a SIPp PUBLISH of a message summary
#      reaches the phone as Kamailio's NOTIFY; the LED and the LCD show it; then a PUBLISH of "no".
# Each check prints `ok   ...` or `FAIL ...`; the last line is `cli-mwi: N passed, N failed`.
# usage: scripts/cli-tests-mwi.sh DESKPHONE   (ports: SIP 48300-48319, RTP 48400-48419)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
fixtures=$root/Tests/Fixtures-call/mwi
board=$root/board/sim.cfg
source "$root/scripts/cli-common.sh"
trap 'exit 130' INT TERM

for tool in sipp python3 timeout; do
  if ! command -v "$tool" > /dev/null; then
    fail "$tool is not installed (scripts/install-deps.sh)"
    summary cli-mwi
    exit 1
  fi
done

phone_port=48300
kamailio_port=48301
sipp_port=48310
vm_port=48311

# start_phone NAME CFG-LINES: deskphone with a key FIFO (held open on fd 7), status log
# $work/NAME.status, log $work/NAME.log.
start_phone() {
  local name=$1
  {
    echo '#!version:1.0.0.1'
    echo 'account.1.user_name = 1001'
    echo 'account.1.codecs = pcmu'
    echo 'sip.listen_address = 127.0.0.1'
    echo "sip.listen_port = $phone_port"
    echo 'rtp.port_min = 48400'
    echo 'rtp.port_max = 48419'
    printf '%s\n' "$2"
  } > "$work/$name.cfg"
  mkfifo "$work/$name.keys"
  exec 7<> "$work/$name.keys"
  timeout -k 3 90 "$deskphone" --board "$board" --config "$work/$name.cfg" --keys "fifo:$work/$name.keys" \
    --status-log "$work/$name.status" > "$work/$name.log" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
  wait_for "$work/$name.log" "sip: listening" 1 20 || fail "$name: deskphone did not start: $(head -c 300 "$work/$name.log")"
  touch "$work/$name.status"
}
stop_phone() {
  local status
  kill "$phone_pid" 2> /dev/null
  reap status "$phone_pid"
  exec 7>&-
}
# press FIFO CODE: one key press and release as raw input_event records (x86_64 layout).
press() {
  python3 -c '
import struct, sys, time
code = int(sys.argv[2])
with open(sys.argv[1], "wb") as f:
    for value in (1, 0):
        t = time.time()
        f.write(struct.pack("<qqHHi", int(t), int((t % 1) * 1e6), 1, code, value))
        f.write(struct.pack("<qqHHi", int(t), int((t % 1) * 1e6), 0, 0, 0))
' "$1" "$2"
}
led_flashing='"led":"message","state":"slow_flash"'
led_off='"led":"message","state":"off"'

# --- 1. unsolicited NOTIFYs from SIPp -----------------------------------------------------------
start_phone sipp "voice_mail.number.1 = 77
dialplan.1.number = 77
dialplan.1.uri = sip:vm@127.0.0.1:$vm_port"
(cd "$work" && exec timeout -k 3 40 sipp 127.0.0.1:$phone_port -sf "$fixtures/notify.xml" -i 127.0.0.1 \
  -p $sipp_port -m 1 -nostdin -timeout 30s -timeout_error -trace_err -trace_msg > sipp-notify.out 2>&1) &
sipp_pid=$!
pids+=("$sipp_pid")
if wait_for "$work/sipp.status" "$led_flashing" 1 10; then
  pass "1: NOTIFY 'yes, 3/1': the message LED slow-flashes"
else
  fail "1: no slow-flashing message LED in the status log: $(tail -n 3 "$work/sipp.log" | tr '\n' '|')"
fi
check "1" "$work/sipp.status" '3 new voicemails' "the LCD's idle lines say '3 new voicemails'"
if wait_for "$work/sipp.log" "refused (400)" 1 10; then
  pass "1: the malformed NOTIFY is refused with 400 and logged: $(grep -F 'refused (400)' "$work/sipp.log" | head -n 1 | cut -c1-100)"
else
  fail "1: no log line for the malformed NOTIFY"
fi
wait_re "$work/sipp.log" "message-summary yes, voice-message 99999/0" 1 10 &&
  pass "1: an absurd count is taken clamped (99999)" || fail "1: no clamped count in the log"
wait_for "$work/sipp.log" "for event 'presence' refused: 489 Bad Event" 1 10 &&
  pass "1: a NOTIFY of an unknown event gets 489 Bad Event" || fail "1: no 489 for the presence NOTIFY"
if wait_for "$work/sipp.status" "$led_off" 1 10; then
  pass "1: NOTIFY 'no': the message LED goes off"
else
  fail "1: the message LED did not go off"
fi
reap status "$sipp_pid"
if [ "$status" -eq 0 ]; then
  pass "1: SIPp got 200, 400, 200, 489, 200 as its scenario expects"
else
  fail "1: SIPp's scenario failed (status $status): $(grep -a -h -E 'check_it|Aborting|unexpected' "$work"/*_errors.log \
    2> /dev/null | head -n 3 | tr '\n' '|')"
fi
# The Message key (KEY_I, code 23 on the sim board's PC keymap) dials voice_mail.number.1.
press "$work/sipp.keys" 23
if wait_re "$work/sipp.log" '^(call 1: calling|screen: calling call 1)' 1 10 &&
  wait_for "$work/sipp.status" '"title":"Calling","lines":["vm@127.0.0.1"]' 1 5; then
  pass "1: the Message key dials the voicemail number (77: sip:vm@127.0.0.1, the LCD says Calling vm@127.0.0.1)"
else
  fail "1: the Message key placed no call: $(tail -n 3 "$work/sipp.log" | tr '\n' '|')"
fi
stop_phone

# --- 2. Kamailio presence + presence_mwi as the MWI server -------------------------------------
if ! command -v kamailio > /dev/null || [ ! -d /usr/share/kamailio/dbtext/kamailio ]; then
  fail "2: kamailio with db_text tables is not installed (scripts/install-deps.sh)"
  summary cli-mwi
  exit 1
fi
mkdir -p "$work/db" "$work/kamailio-run"
for table in version presentity active_watchers watchers xcap pua; do
  cp /usr/share/kamailio/dbtext/kamailio/$table "$work/db/" && chmod u+w "$work/db/$table"
done
kamailio_log=$work/kamailio.log
kamailio -f "$fixtures/kamailio-mwi.cfg" -A "MWI_PORT=$kamailio_port" \
  -A "MWI_SERVER=\"sip:mwi@127.0.0.1:$kamailio_port\"" -A "DB_URL=\"text://$work/db\"" \
  -P "$work/kamailio.pid" -Y "$work/kamailio-run" -DD -E -m 32 -M 8 > "$work/kamailio.out" 2> "$kamailio_log" &
kamailio_pid=$!
pids+=("$kamailio_pid")
if wait_udp "$kamailio_port" && wait_for "$work/kamailio.pid" "$kamailio_pid" 1 5; then
  pass "2: kamailio with presence + presence_mwi (db_text) listens on 127.0.0.1:$kamailio_port"
else
  fail "2: kamailio did not start: $(grep -v '^$' "$kamailio_log" | tail -3 | tr '\n' '|')"
  summary cli-mwi
  exit 1
fi
# publish WAITING NEW OLD: SIPp PUBLISHes the mailbox of 1001 to Kamailio (200 expected).
publish() {
  local status
  (cd "$work" && exec timeout -k 3 20 sipp 127.0.0.1:$kamailio_port -sf "$fixtures/publish.xml" -i 127.0.0.1 \
    -p $sipp_port -m 1 -nostdin -timeout 15s -timeout_error -trace_err -key waiting "$1" -key new "$2" \
    -key old "$3" > "sipp-publish-$1.out" 2>&1) &
  local pid=$!
  pids+=("$pid")
  reap status "$pid"
  if [ "$status" -eq 0 ]; then pass "2: SIPp's PUBLISH ($1, $2/$3) is accepted by Kamailio (200)"
  else fail "2: SIPp's PUBLISH ($1, $2/$3) failed (status $status): $(tail -n 3 "$work/sipp-publish-$1.out" | tr '\n' '|')"; fi
}
start_phone pbx "account.1.enable = 1
account.1.sip_server.1.address = 127.0.0.1
account.1.sip_server.1.port = $kamailio_port
account.1.subscribe_mwi = 1
account.1.subscribe_mwi_expires = 600
voice_mail.number.1 = 77"
wait_re "$work/pbx.log" '^registration: registered' 1 10 > /dev/null
if wait_re "$kamailio_log" 'MWI request SUBSCRIBE sip:1001@127.0.0.1:[0-9]+ event=\[message-summary\] expires=\[600\]' 1 10 &&
  wait_re "$work/pbx.log" '^sip: mwi subscription: active' 1 10; then
  pass "2: the phone SUBSCRIBEs to message-summary at Kamailio and the subscription is active"
else
  fail "2: no active subscription: $(grep -E 'mwi|SUBSCRIBE' "$work/pbx.log" "$kamailio_log" | tail -n 4 | tr '\n' '|')"
fi
publish yes 2 5
if wait_re "$work/pbx.log" 'mwi: message-summary yes.*voice-message 2/5' 1 10 &&
  wait_for "$work/pbx.status" "$led_flashing" 1 5; then
  pass "2: Kamailio's NOTIFY reaches the phone in its subscription; the message LED slow-flashes"
else
  fail "2: no NOTIFY with 2/5 at the phone: $(grep -E 'mwi|NOTIFY' "$work/pbx.log" | tail -n 4 | tr '\n' '|')"
fi
check "2" "$work/pbx.status" '2 new voicemails' "the LCD says '2 new voicemails'"
publish no 0 7
if wait_re "$work/pbx.log" 'mwi: message-summary no' 1 10 && wait_for "$work/pbx.status" "$led_off" 1 5; then
  pass "2: a PUBLISH of 'no' reaches the phone; the message LED goes off"
else
  fail "2: the LED did not go off after 'no': $(grep -E 'mwi' "$work/pbx.log" | tail -n 3 | tr '\n' '|')"
fi
# At the end the phone un-subscribes (Expires: 0) while it unregisters.
phone_quit_mark=$(grep -c 'expires=\[0\]' "$kamailio_log")
kill -TERM "$phone_pid" 2> /dev/null
reap status "$phone_pid"
exec 7>&-
if wait_re "$kamailio_log" 'MWI request SUBSCRIBE .*expires=\[0\]' $((phone_quit_mark + 1)) 5; then
  pass "2: at shutdown the phone un-subscribes (SUBSCRIBE with Expires: 0)"
else
  fail "2: no SUBSCRIBE with Expires: 0 at shutdown"
fi

summary cli-mwi
