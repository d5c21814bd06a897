#!/usr/bin/env bash
# The phone under a SIP flood on loopback (the reliability issue's findings 1 and 3): while SIPp
# holds a call with it, a flooder (Tests/Fixtures-call/flood/sip_flood.py) sends OPTIONS with
# garbage mixed in, then out-of-dialog MESSAGEs, each as fast as one socket allows. The phone must
# keep answering, keep its call (SIPp's BYE is answered 200 after the flood), shed what its
# transaction table cannot hold with 503 + Retry-After, and keep its peak RSS under a bound; then
# 70 silent TCP connections must not shut SIP over TCP (an OPTIONS on a new connection is
# answered) and are all reclaimed. Each check prints `ok   ...` or `FAIL ...`; the last line is
# `cli-flood: N passed, N failed`.
# usage: scripts/cli-tests-flood.sh DESKPHONE      (ports: SIP 29500-29509, RTP 37000-37199)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
flood="python3 $root/Tests/Fixtures-call/flood/sip_flood.py"
source "$root/scripts/cli-common.sh"
trap 'exit 130' INT TERM
# The bound on the phone's peak resident memory through the whole run (KiB). A desk phone has
# tens of MiB in all; the phone idles at ~3 MiB and holds a call in ~5 MiB.
PEAK_BOUND_KIB=${PEAK_BOUND_KIB:-16384}

for tool in sipp python3 timeout; do
  command -v "$tool" > /dev/null || { fail "$tool is not installed (scripts/install-deps.sh)"; summary cli-flood; exit 1; }
done

phone_port=29500
{
  echo '#!version:1.0.0.1'
  echo 'account.1.user_name = 1001'
  echo "sip.listen_address = 127.0.0.1"
  echo "sip.listen_port = $phone_port"
  echo "rtp.port_min = 37000"
  echo "rtp.port_max = 37018"
} > "$work/phone.cfg"
(cd "$work" && exec timeout -k 3 90 "$deskphone" --board "$root/board/sim.cfg" --config phone.cfg --answer auto \
  > phone.log 2> phone.err) &
pids+=($!)
wait_for "$work/phone.log" "sip: listening" 1 10 || fail "the phone did not start listening"
phone=$(pgrep -f -n "^$deskphone --board")
status_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$phone/status" 2> /dev/null; }
idle=$(status_kib VmRSS)
echo "note: phone pid ${phone:-?}, idle RSS ${idle:-?} KiB"

# SIPp calls the phone and holds the call for 14 s (built-in uac: INVITE, ACK, pause, BYE).
(cd "$work" && exec timeout -k 3 40 sipp -sn uac -i 127.0.0.1 -p 29501 -mp 37100 -m 1 -d 14000 -nostdin \
  -timeout 35s -timeout_error -trace_err "127.0.0.1:$phone_port" > sipp.out 2>&1) &
sipp_pid=$!
pids+=("$sipp_pid")
if wait_for "$work/phone.log" "call 1: connected" 1 10; then pass "SIPp's call is up before the flood"; else
  fail "SIPp's call did not connect"; fi

# 1. OPTIONS at full rate with 5% garbage, 4 s.
$flood --target "127.0.0.1:$phone_port" --method OPTIONS --seconds 4 --garbage 0.05 > "$work/flood-options.json"
# 2. Out-of-dialog MESSAGEs (each a stateful transaction kept for Timer J), 3 s.
$flood --target "127.0.0.1:$phone_port" --method MESSAGE --seconds 3 > "$work/flood-message.json"
read_json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }
sent=$(read_json "$work/flood-options.json" 'd["sent"]')
ok=$(read_json "$work/flood-options.json" 'd["answers"].get("200", 0)')
echo "note: OPTIONS flood: $(cat "$work/flood-options.json")"
if [ "${ok:-0}" -gt 1000 ]; then pass "OPTIONS flood: the phone answered $ok of $sent OPTIONS 200"; else
  fail "OPTIONS flood: only ${ok:-0} of ${sent:-?} answered"; fi
echo "note: MESSAGE flood: $(cat "$work/flood-message.json")"
shed=$(read_json "$work/flood-message.json" 'd["answers"].get("503", 0)')
refused=$(read_json "$work/flood-message.json" 'd["answers"].get("405", 0)')
bare=$(read_json "$work/flood-message.json" 'd["503_without_retry_after"]')
if [ "${shed:-0}" -gt 0 ] && [ "${refused:-0}" -gt 0 ] && [ "${bare:-1}" = 0 ]; then
  pass "MESSAGE flood: $refused answered 405 while the table had room, $shed shed with 503 + Retry-After"
else
  fail "MESSAGE flood: 405 ${refused:-?}, 503 ${shed:-?}, 503 without Retry-After ${bare:-?}"
fi
if kill -0 "$phone" 2> /dev/null; then pass "the phone is running after the flood"; else fail "the phone died"; fi
peak=$(status_kib VmHWM)
now=$(status_kib VmRSS)
echo "note: RSS idle ${idle:-?} KiB, after the flood ${now:-?} KiB, peak ${peak:-?} KiB (bound $PEAK_BOUND_KIB KiB)"
if [ -n "$peak" ] && [ "$peak" -le "$PEAK_BOUND_KIB" ]; then pass "peak RSS $peak KiB <= $PEAK_BOUND_KIB KiB"; else
  fail "peak RSS ${peak:-?} KiB above $PEAK_BOUND_KIB KiB"; fi

# The call survived: SIPp's BYE at 14 s is answered 200 (SIPp exits 0).
wait "$sipp_pid" 2> /dev/null
sipp_status=$?
if [ "$sipp_status" = 0 ]; then pass "the call survived the flood: SIPp's BYE answered 200"; else
  fail "SIPp exited $sipp_status"; tail -5 "$work/sipp.out"; fi
check call "$work/phone.log" "call 1: ended (remote hang-up)" "the phone logged the remote hang-up"

# The MESSAGE flood's transactions still fill the table (Timer J, 32 s); SIPp's BYE above came in
# through the in-dialog reserve. OPTIONS is never shed: a registrar's ping is answered 200.
$flood --target "127.0.0.1:$phone_port" --method OPTIONS --seconds 0.3 --rate 200 > "$work/after.json"
after=$(read_json "$work/after.json" 'd["answers"].get("200", 0)')
asked=$(read_json "$work/after.json" 'd["sent"]')
if [ "${after:-0}" -gt 0 ] && [ "$after" = "$asked" ]; then
  pass "OPTIONS with the table still full: all $after answered 200"
else
  fail "OPTIONS with the table full: $(cat "$work/after.json")"
fi

# 3. 70 silent TCP connections (the limit is 64): a talking client is still served, and the phone
#    closes every silent one (evicted at the limit or after its 10 s silent timeout).
$flood --target "127.0.0.1:$phone_port" --tcp-silent 70 --wait 15 > "$work/tcp.json"
echo "note: TCP: $(cat "$work/tcp.json")"
status=$(read_json "$work/tcp.json" 'd["talker_status"]')
closed=$(read_json "$work/tcp.json" 'd["silent_closed"]')
if [[ $status == "SIP/2.0 200"* ]]; then pass "TCP: OPTIONS on a new connection answered past 70 silent ones"; else
  fail "TCP: the talking client got '${status:-nothing}'"; fi
if [ "${closed:-0}" = 70 ]; then pass "TCP: all 70 silent connections closed by the phone"; else
  fail "TCP: ${closed:-?} of 70 silent connections closed"; fi
if kill -0 "$phone" 2> /dev/null; then pass "the phone is running at the end"; else fail "the phone died at the end"; fi
lines=$(wc -l < "$work/phone.log")
echo "note: phone.log has $lines lines"
if [ "$lines" -lt 500 ]; then pass "the flood did not flood the log ($lines lines)"; else
  fail "the log grew to $lines lines"; fi
summary cli-flood
