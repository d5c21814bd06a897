#!/usr/bin/env bash
# Call transfer (RFC 3515 REFER, RFC 3892 Referred-By) end to end on loopback, the phone driven by
# raw key events through its key FIFO and read through its status and event logs, against real
# peers (baresip, Debian `baresip-core`, and SIPp):
#   1. phone as transferee: baresip calls the phone (answered by OK), then `/transfer`s it to a
#      SIPp UAS: the phone answers 202, calls SIPp (Referred-By when given), reports 100/180/200 to
#      baresip in NOTIFYs (sipfrag), its first call ends and it talks to SIPp;
#   2. phone as transferor (blind): the phone calls baresip (88), Transfer key, 77, Send: the
#      call is held, baresip gets REFER and calls SIPp, the phone sees NOTIFY 200, hangs up and
#      shows "Transferred";
#   3. bad REFERs (no Refer-To, tel:, two Refer-To, junk) get 400 and an unknown refer NOTIFY
#      481 from the phone, the call stays up (SIPp UAC);
#   4. a transferee (SIPp UAS) sends a junk sipfrag (400) then 503: the phone says the transfer
#      failed and keeps the call on hold until End.
# Each check prints `ok   ...` or `FAIL ...`; the last line is `cli-transfer: N passed, N failed`.
# usage: scripts/cli-tests-transfer.sh DESKPHONE
#   TRANSFER_SCENARIOS="1 3"  runs only those;  KEEP_WORK=1  keeps the work directory.
# Ports 48500-48699: scenario N: phone SIP 48500+20N, SIPp 48505+20N, baresip 48510+20N; RTP
# phone R..R+9, baresip R+10..R+19, SIPp media R+20 with R = 48600+24(N-1) (even: RTP ports are).
set -uo pipefail
label=cli-transfer
if [[ $# -ne 1 ]]; then
  echo "usage: $0 DESKPHONE" >&2
  exit 2
fi
phone=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$root/Tests/Fixtures-call/transfer
bsfixtures=$root/Tests/Fixtures-call/baresip
source "$root/scripts/cli-common.sh"
source "$root/scripts/cli-baresip.sh"
fds=()
trap 'exit 130' INT TERM
for tool in sipp baresip python3; do
  command -v "$tool" > /dev/null || { fail "$tool is not installed (scripts/install-deps.sh)"; summary "$label"; exit 1; }
done
want() { [[ -z ${TRANSFER_SCENARIOS:-} || " $TRANSFER_SCENARIOS " == *" $1 "* ]]; }
still_running() { [[ -z ${phone_pid:-} ]] || kill -0 "$phone_pid" 2> /dev/null; }
keys() { "$root/Tests/Fixtures-call/record/keys.py" "$keyfifo" "$@"; }

# begin N TITLE: scenario N's directory and ports.
begin() {
  n=$1
  dir=$work/$n
  mkdir -p "$dir"
  phone_sip=$((48500 + 20 * n))
  sipp_port=$((phone_sip + 5))
  bs_sip=$((phone_sip + 10))
  rtp_min=$((48600 + 24 * (n - 1)))
  phone_pid=
  bs_pid=
  echo "== $n. $2"
}

# start_phone: the phone on the sim board with the scenario's ports, key FIFO, status and event log.
start_phone() {
  local fd
  sed -e "s|@SIP_PORT@|$phone_sip|g" -e "s|@RTP_MIN@|$rtp_min|g" -e "s|@RTP_MAX@|$((rtp_min + 9))|g" \
    -e "s|@SIPP_PORT@|$sipp_port|g" -e "s|@BARESIP_PORT@|$bs_sip|g" "$fixtures/phone.cfg.in" > "$dir/phone.cfg"
  mkfifo "$dir/phone.keys"
  exec {fd}<> "$dir/phone.keys"
  fds+=("$fd")
  : > "$dir/phone.status"
  "$phone" --board "$root/board/sim.cfg" --config "$dir/phone.cfg" --keys "fifo:$dir/phone.keys" \
    --status-log "$dir/phone.status" --log "$dir/phone.log" > "$dir/phone.out" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
  keyfifo=$dir/phone.keys
  plog=$dir/phone.log
  pstatus=$dir/phone.status
  wait_re "$plog" "^sip: listening on" 1 20 || fail "$n: deskphone did not start: $(head -c 300 "$dir/phone.out" "$plog" 2> /dev/null)"
}
stop_phone() {
  local status i
  kill -TERM "$phone_pid" 2> /dev/null
  for ((i = 0; i < 100; i++)); do kill -0 "$phone_pid" 2> /dev/null || break; sleep 0.1; done
  kill -KILL "$phone_pid" 2> /dev/null
  wait "$phone_pid" 2> /dev/null
  status=$?
  [[ $status -eq 0 ]] && grep -q "^deskphone: exit" "$plog" && pass "$n: deskphone exits 0 on SIGTERM" \
    || fail "$n: deskphone exit status $status; log ends: $(tail -2 "$plog" | tr '\n' '|')"
  phone_pid=
}

# start_sipp SCENARIO [ARGS...]: SIPp on 127.0.0.1:$sipp_port, one call, message trace sipp.msg.
start_sipp() {
  local scenario=$1 i
  shift
  sipp -sf "$fixtures/$scenario.xml" -i 127.0.0.1 -p "$sipp_port" -mi 127.0.0.1 -mp $((rtp_min + 20)) \
    -m 1 -nostdin -timeout 60s -trace_msg -message_file "$dir/sipp.msg" -trace_err -error_file "$dir/sipp.err" \
    "$@" > "$dir/sipp.out" 2>&1 &
  sipp_pid=$!
  pids+=("$sipp_pid")
  wait_udp "$sipp_port" || true
}
# wait_sipp WHAT: SIPp's exit status 0 (its whole scenario ran, every check_it matched).
wait_sipp() {
  local i status
  for ((i = 0; i < 300; i++)); do kill -0 "$sipp_pid" 2> /dev/null || break; sleep 0.1; done
  kill "$sipp_pid" 2> /dev/null
  wait "$sipp_pid"
  status=$?
  if [[ $status -eq 0 ]]; then
    pass "$n: SIPp: $1"
  else
    fail "$n: SIPp: $1: exit $status: $(grep -v '^$' "$dir/sipp.err" "$dir/sipp.out" 2> /dev/null | tail -5 | head -c 500)"
  fi
}


python3 "$bsfixtures/audio.py" tone "$work/tone.wav" 8000 1000 120 || fail "baresip test signal could not be written"

# --- 1. the phone as transferee: baresip transfers it to SIPp ---------------------------------
if want 1; then
  begin 1 "baresip calls the phone, then transfers it (/transfer) to SIPp: 202, INVITE, NOTIFYs"
  start_phone
  start_sipp uas-target
  start_baresip manual "$((rtp_min + 10))-$((rtp_min + 19))"
  bs_cmd "/dial sip:1001@127.0.0.1:$phone_sip"
  expect $n "$plog" "call 1: incoming" "baresip's call rings"
  keys ok
  expect_re $n "$pstatus" '"title":"Talking"' "answered by OK: Talking"
  sleep 1
  bs_cmd "/transfer sip:carol@127.0.0.1:$sipp_port"
  expect_re $n "$plog" "call 1: REFER to sip:carol@127.0.0.1:$sipp_port accepted" "the REFER is accepted (202)"
  expect $n "$plog" "call 2: connected" "the new call to SIPp connects"
  # baresip 1.0 sends no Referred-By (the unit and whole-phone tests check that it is carried).
  expect_re $n "$blog" "^SIP/2.0 100 Trying" "baresip receives NOTIFY 100 Trying (sipfrag)"
  expect_re $n "$plog" "call 1: ended" "the transferred call ends (baresip's BYE or the phone's)" 10
  expect_re $n "$pstatus" '"title":"Talking","lines":\["[^"]*carol' "the LCD talks to carol (SIPp)" 10
  wait_sipp "the transfer target got the INVITE, answered, hung up"
  expect $n "$plog" "call 2: ended" "the call with SIPp ends with its BYE"
  stop_baresip
  stop_phone
fi

# --- 2. the phone as transferor: blind transfer of baresip to SIPp by keys --------------------
if want 2; then
  begin 2 "the phone calls baresip (88), Transfer, 77, Send: baresip calls SIPp, NOTIFY 200, the phone hangs up"
  start_phone
  start_sipp uas-target
  start_baresip auto "$((rtp_min + 10))-$((rtp_min + 19))"
  keys 88 pound
  expect_re $n "$pstatus" '"title":"Talking"' "baresip answers: Talking"
  sleep 1
  keys transfer
  expect $n "$pstatus" '"title":"Transfer to:","lines":["_",' "Transfer: the Transfer to: screen"
  expect_re $n "$plog" "call 1: held" "the call is put on hold"
  keys 77
  expect $n "$pstatus" '"title":"Transfer to:","lines":["77_",' "the digits on the LCD"
  keys softkey1 # Send
  expect_re $n "$plog" "call 1: REFER to sip:carol@127.0.0.1:$sipp_port" "REFER sent to baresip"
  expect_re $n "$blog" "^REFER sip:" "baresip receives the REFER" 5
  expect_re $n "$plog" "call 1: transfer target answered 200" "NOTIFY 200 (sipfrag) from baresip" 20
  expect $n "$pstatus" '"Transferred"' "the LCD says Transferred"
  expect_re $n "$plog" "call 1: ended" "the phone's call with baresip ended"
  expect_re $n "$dir/sipp.msg" "^INVITE sip:carol@127.0.0.1:$sipp_port" "baresip's INVITE reaches SIPp" 5
  wait_sipp "baresip, transferred, called SIPp"
  expect_re $n "$pstatus" '"title":"Ready"' "the phone is idle again"
  stop_baresip
  stop_phone
fi

# --- 3. bad REFERs: 400, the call stays ------------------------------------------------------
if want 3; then
  begin 3 "SIPp calls the phone, sends REFERs without Refer-To, to tel:, with two Refer-To, junk: 400 each"
  start_phone
  start_sipp uac-bad-refer 127.0.0.1:$phone_sip
  expect $n "$plog" "call 1: incoming" "SIPp's call rings"
  keys ok
  expect_re $n "$plog" "REFER refused \(400\): no Refer-To" "no Refer-To: 400, logged"
  expect_re $n "$plog" "REFER refused \(400\): Refer-To '<tel:\+15551234>' is not a SIP URI" "tel: URI: 400, logged"
  expect_re $n "$plog" "REFER refused \(400\): Refer-To '<<sip:junk'" "junk Refer-To: 400, logged"
  expect_re $n "$plog" "NOTIFY with no transfer under way refused \(481\)" "an unasked refer NOTIFY: 481, logged"
  wait_sipp "every bad REFER got 400, the NOTIFY 481, the BYE 200"
  expect_not $n "$plog" "call 2:" "no call was placed for a bad REFER"
  expect_re $n "$plog" "call 1: ended \(remote hang-up\)|call 1: ended.*remote" "the call stayed up until SIPp's BYE"
  stop_phone
fi

# --- 4. a junk sipfrag and a failed transfer: the call stays on hold -------------------------
if want 4; then
  begin 4 "the phone calls SIPp (77), transfers it (88): NOTIFY junk -> 400, NOTIFY 503 -> transfer failed, call held"
  start_phone
  start_sipp uas-refer-junk
  keys 77 pound
  expect_re $n "$pstatus" '"title":"Talking"' "SIPp answers: Talking"
  keys transfer 88 softkey1
  expect_re $n "$plog" "NOTIFY with an unreadable sipfrag \([0-9]+ bytes\) refused \(400\)" "junk sipfrag: 400, logged"
  expect $n "$plog" "transfer failed: 503 Service Unavailable" "NOTIFY 503: the transfer failed"
  expect $n "$pstatus" '"Transfer failed: 503 Service Unavailable"' "the LCD says why"
  expect_re $n "$pstatus" '"title":"On hold"' "the call stays on hold"
  expect_not $n "$plog" "call 1: ended" "the call was not hung up"
  keys softkey4 # End
  wait_sipp "REFER checked (Refer-To bob, Referred-By 1001), 400 to junk, 200 to 503, BYE"
  stop_phone
fi

summary "$label"
