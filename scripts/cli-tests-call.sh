#!/usr/bin/env bash
# Calls of the deskphone executable against SIPp (Debian sip-tester) on loopback: SIPp answers
# our call and streams audio (PCMU, PCMA, G.722) while deskphone streams back, both directions
# recorded by an RTP relay (Tests/Fixtures-call/sipp/rtp_relay.py) and checked packet by packet
# and against the audio deskphone played into its ALSA file sink; SIPp calls us (it hangs up, or
# we do); SIPp as a registrar demanding digest auth (and a wrong password); CANCEL both ways.
# No root needed. Each check prints `ok   ...` or `FAIL ...`; the last line is
# `cli-call: N passed, N failed`.
# usage: scripts/cli-tests-call.sh DESKPHONE      (ports: SIP 26000-26099, RTP 30000-30999)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
fixtures=$root/Tests/Fixtures-call/sipp
board=$root/board/sim.cfg
media="python3 $fixtures/media_check.py"
source "$root/scripts/cli-common.sh"
trap 'exit 130' INT TERM
export TERM=dumb
started=$(date +%s)

for tool in sipp python3 timeout; do
  if ! command -v "$tool" > /dev/null; then
    fail "$tool is not installed (scripts/install-deps.sh)"
    echo "cli-call: $passed passed, $failed failed"
    exit 1
  fi
done

# --- helpers ------------------------------------------------------------------------------------

# start_sipp DIR ARGS...: SIPp in DIR (its traces land there), one call, every wait bounded.
start_sipp() {
  local dir=$1
  shift
  (cd "$dir" && exec timeout -k 3 45 sipp "$@" -i 127.0.0.1 -mi 127.0.0.1 -m 1 -nostdin -timeout 30s -timeout_error \
    -trace_err -trace_msg > sipp.out 2>&1) &
  sipp_pid=$!
  pids+=("$sipp_pid")
}

# start_phone DIR ARGS...: deskphone in DIR, stdout to phone.log, stderr to phone.err.
start_phone() {
  local dir=$1
  shift
  (cd "$dir" && exec timeout -k 3 45 "$deskphone" --board "$board" "$@" > phone.log 2> phone.err) &
  phone_pid=$!
  pids+=("$phone_pid")
}

# start_relay DIR SIP SIPP A B: the RTP relay/recorder (rtp_relay.py) in DIR.
start_relay() {
  local dir=$1
  (cd "$dir" && exec timeout -k 3 45 python3 "$fixtures/rtp_relay.py" --sip "$2" --sipp "$3" --a "$4" --b "$5" \
    --record relay.jsonl --seconds 40 2> relay.err) &
  relay_pid=$!
  pids+=("$relay_pid")
}

# expect_status LABEL ACTUAL WANTED DIR: exit status check; on failure shows the stderr/errors.
expect_status() {
  local label=$1 actual=$2 wanted=$3 dir=$4
  if [ "$actual" -eq "$wanted" ]; then
    pass "$label: exit status $actual"
  else
    fail "$label: exit status $actual, wanted $wanted"
    tail -n 5 "$dir"/phone.err "$dir"/*_errors.log 2> /dev/null | sed 's/^/     /'
  fi
}

# check_media ARGS...: runs media_check.py and counts its ok/FAIL lines (a crash is a failure).
check_media() {
  local out status line counted=0
  out=$($media "$@" 2>&1)
  status=$?
  while IFS= read -r line; do
    case $line in
      "ok   "*) passed=$((passed + 1)); counted=1; echo "$line" ;;
      "FAIL "*) failed=$((failed + 1)); counted=1; echo "$line" ;;
      *) [ -n "$line" ] && echo "$line" ;;
    esac
  done <<< "$out"
  if [ "$counted" -eq 0 ] || [ "$status" -gt 1 ]; then
    fail "media_check.py $1 crashed (status $status)"
  fi
}

# phone_config DIR SIP_PORT RTP_MIN [EXTRA LINES...]: a provisioning file for deskphone.
phone_config() {
  local dir=$1 port=$2 rtp=$3
  shift 3
  {
    echo '#!version:1.0.0.1'
    echo 'account.1.user_name = 1001'
    echo 'account.1.display_name = Desk'
    echo "sip.listen_port = $port"
    echo "rtp.port_min = $rtp"
    echo "rtp.port_max = $((rtp + 18))"
    local extra
    for extra in "$@"; do echo "$extra"; done
  } > "$dir/phone.cfg"
}

# Port plan for case K: SIPp SIP 26000+10K, relay SIP +1, SIPp control +2, deskphone SIP +3;
# SIPp media 30000+100K, relay 30000+100K+20 (faces SIPp) and +30 (faces deskphone), deskphone RTP
# +50..+68 (K = 0..9).
case_dir() {
  mkdir -p "$work/$1"
  echo "$work/$1"
}

# --- 1. SIPp answers our call and streams; deskphone streams back --------------------------------
# stream_case K CODEC PT RTPMAP RATE [PERIOD_MS]: PERIOD_MS 20 runs the phone on a copy of the
# board with 20 ms audio periods (audio.period_ms).
stream_case() {
  local k=$1 codec=$2 pt=$3 rtpmap=$4 rate=$5 period=${6:-10}
  local dir sipp_port=$((26000 + 10 * k)) relay_sip=$((26001 + 10 * k)) phone_port=$((26003 + 10 * k))
  local mp=$((30000 + 100 * k)) a=$((30020 + 100 * k)) b=$((30030 + 100 * k))
  local label="sipp answers ($codec)" board=$board
  dir=$(case_dir "stream-$codec-$period")
  if [ "$period" != 10 ]; then
    label="sipp answers ($codec, $period ms audio periods)"
    { cat "$board"; echo "audio.period_ms = $period"; } > "$dir/board.cfg"
    board=$dir/board.cfg
  fi
  # SIPp plays 2 s of a test signal (raw codec bytes), deskphone captures 5 s of another one.
  $media signal "$dir/stream.pcm" --rate "$rate" --seconds 2 --seed "$((k + 1))"
  $media encode "$codec" "$dir/stream.pcm" "$dir/stream.bin"
  $media signal "$dir/in.pcm" --rate "$rate" --seconds 5 --seed "$((k + 11))"
  sed "s/@PT@/$pt/" "$fixtures/uas-stream.xml" > "$dir/uas-stream.xml"
  phone_config "$dir" "$phone_port" $((30050 + 100 * k))
  start_relay "$dir" "$relay_sip" "$sipp_port" "$a" "$b"
  start_sipp "$dir" -sf uas-stream.xml -p "$sipp_port" -mp "$mp" -cp $((26002 + 10 * k)) \
    -key answer_port "$b" -key codec_pt "$pt" -key codec_name "$rtpmap"
  if ! wait_udp "$relay_sip" || ! wait_udp "$sipp_port"; then fail "$label: SIPp or the relay did not start"; fi
  start_phone "$dir" --config phone.cfg --listen "$phone_port" --dial "sip:sipp@127.0.0.1:$relay_sip" \
    --audio-in in.pcm --audio-out out.pcm --hangup-after 3 --exit-after-call
  local phone_status sipp_status
  reap phone_status "$phone_pid"
  reap sipp_status "$sipp_pid"
  kill "$relay_pid" 2> /dev/null
  local relay_status
  reap relay_status "$relay_pid"  # stopped by us: its status says nothing
  expect_status "$label: deskphone" "$phone_status" 0 "$dir"
  expect_status "$label: SIPp (INVITE, 180, 200, ACK, our BYE)" "$sipp_status" 0 "$dir"
  expect_lines "$label: audio device" "$dir/phone.log" "^call 1: audio handset: S16_LE mono $rate Hz, period $period ms \\($((rate * period / 1000)) frames\\), buffer $([ "$period" = 20 ] && echo 2 || echo 3) periods"
  expect_lines "$label: call log" "$dir/phone.log" '^call 1: calling' '^call 1: ringing' \
    "^call 1: media ${rtpmap} pt $pt ptime 20 .*remote 127\\.0\\.0\\.1:$b sendrecv" '^call 1: connected' \
    '^call 1: ended \(local hang-up\)' '^call 1: stats sent=' '^deskphone: exit'
  local rtp_min=$((30050 + 100 * k)) local_port
  local_port=$(sed -n 's/^call 1: media .* local [0-9.]*:\([0-9]*\) .*/\1/p' "$dir/phone.log" | head -n 1)
  if [ -n "$local_port" ] && [ "$local_port" -ge "$rtp_min" ] && [ "$local_port" -le $((rtp_min + 18)) ] &&
    [ $((local_port % 2)) -eq 0 ]; then
    pass "$label: deskphone's RTP port $local_port is even and in rtp.port_min/max $rtp_min-$((rtp_min + 18))"
  else
    fail "$label: deskphone's RTP port '${local_port}' is not an even port in $rtp_min-$((rtp_min + 18))"
  fi
  if [ ! -s "$dir/relay.jsonl" ]; then
    fail "$label: the relay recorded no media"
    return
  fi
  # deskphone -> SIPp: packets, then the decoded stream against what deskphone captured.
  check_media rtp "$dir/relay.jsonl" --from phone --codec "$codec" --label "$label: deskphone's RTP" \
    --min-packets 100 --stats "$dir/phone.log" --field sent --decode "$dir/phone-sent.pcm"
  # SIPp's own stream (the reference) and deskphone's receive count.
  check_media rtp "$dir/relay.jsonl" --from sipp --codec "$codec" --label "$label: SIPp's RTP" \
    --min-packets 100 --stats "$dir/phone.log" --field received --decode "$dir/sipp-sent.pcm"
  check_media rtcp "$dir/relay.jsonl" --label "$label: deskphone's"
  local min_snr=30
  [ "$codec" = g722 ] && min_snr=20  # spandsp's own G.722 round trip of these signals: ~26 dB
  check_media compare "$dir/in.pcm" "$dir/phone-sent.pcm" --rate "$rate" --min-overlap 2.5 --min-snr "$min_snr" \
    --label "$label: what deskphone sent is its captured audio (decoded here)"
  check_media pieces "$dir/sipp-sent.pcm" "$dir/out.pcm" --rate "$rate" --min-share 0.67 \
    --label "$label: what deskphone played is SIPp's stream"
}

stream_case 0 pcmu 0 PCMU/8000 8000
stream_case 1 pcma 8 PCMA/8000 8000
stream_case 2 g722 9 G722/8000 16000
stream_case 7 g722 9 G722/8000 16000 20

# --- 2. SIPp calls us ----------------------------------------------------------------------------
# SIPp hangs up (BYE); it streams 2 s of PCMU that deskphone must play.
k=3
dir=$(case_dir uac-bye)
label="sipp calls, sipp hangs up"
$media signal "$dir/stream.pcm" --rate 8000 --seconds 2 --seed 4
$media encode pcmu "$dir/stream.pcm" "$dir/stream.bin"
phone_config "$dir" $((26003 + 10 * k)) $((30050 + 100 * k))
start_phone "$dir" --config phone.cfg --listen $((26003 + 10 * k)) --answer auto --audio-out out.pcm \
  --exit-after-call
wait_re "$dir/phone.log" '^sip: listening' || fail "$label: deskphone did not start listening"
start_sipp "$dir" 127.0.0.1:$((26003 + 10 * k)) -sf "$fixtures/uac-bye.xml" -p $((26000 + 10 * k)) \
  -mp $((30000 + 100 * k)) -cp $((26002 + 10 * k))
reap sipp_status "$sipp_pid"
reap phone_status "$phone_pid"
expect_status "$label: SIPp (INVITE, 200, ACK, BYE, 200)" "$sipp_status" 0 "$dir"
expect_status "$label: deskphone" "$phone_status" 0 "$dir"
expect_lines "$label: call log" "$dir/phone.log" \
  "^call 1: incoming from \"SIPp\" <sip:sipp@127\\.0\\.0\\.1:$((26000 + 10 * k))>" \
  "^call 1: media PCMU/8000 pt 0 ptime 20 .*remote 127\\.0\\.0\\.1:$((30000 + 100 * k)) sendrecv" \
  '^call 1: connected' '^call 1: ended \(remote hang-up\)' '^call 1: stats ' '^deskphone: exit'
streamed=$(($(wc -c < "$dir/stream.bin") / 160))
stats=$(grep -m 1 '^call 1: stats ' "$dir/phone.log")
received=$(sed -n 's/.* received=\([0-9]*\) .*/\1/p' <<< "$stats")
lost=$(sed -n 's/.* lost=\([0-9]*\) .*/\1/p' <<< "$stats")
sent=$(sed -n 's/.* sent=\([0-9]*\) .*/\1/p' <<< "$stats")
if [ "${received:-x}" = "$streamed" ] && [ "${lost:-x}" = 0 ] && [ "${sent:-0}" -gt 0 ]; then
  pass "$label: deskphone received all $streamed packets SIPp streamed, lost 0, sent $sent"
else
  fail "$label: SIPp streamed $streamed packets; deskphone's stats: ${stats:-none}"
fi
$media decode pcmu "$dir/stream.bin" "$dir/sipp-sent.pcm"
check_media pieces "$dir/sipp-sent.pcm" "$dir/out.pcm" --rate 8000 --min-share 0.67 \
  --label "$label: what deskphone played is SIPp's stream"

# deskphone hangs up (--hangup-after).
k=4
dir=$(case_dir uac-hangup)
label="sipp calls, deskphone hangs up"
phone_config "$dir" $((26003 + 10 * k)) $((30050 + 100 * k))
start_phone "$dir" --config phone.cfg --listen $((26003 + 10 * k)) --answer auto --hangup-after 1 --exit-after-call
wait_re "$dir/phone.log" '^sip: listening' || fail "$label: deskphone did not start listening"
start_sipp "$dir" 127.0.0.1:$((26003 + 10 * k)) -sf "$fixtures/uac-hangup.xml" -p $((26000 + 10 * k)) \
  -mp $((30000 + 100 * k)) -cp $((26002 + 10 * k))
reap sipp_status "$sipp_pid"
reap phone_status "$phone_pid"
expect_status "$label: SIPp (INVITE, 200, ACK, our BYE, 200)" "$sipp_status" 0 "$dir"
expect_status "$label: deskphone" "$phone_status" 0 "$dir"
expect_lines "$label: call log" "$dir/phone.log" '^call 1: incoming from "SIPp"' \
  '^call 1: media PCM[AU]/8000 ' '^call 1: connected' '^call 1: ended \(local hang-up\)' '^deskphone: exit'

# --- 3. SIPp as registrar with digest auth --------------------------------------------------------
k=5
dir=$(case_dir registrar)
label="registrar"
phone_config "$dir" $((26003 + 10 * k)) $((30050 + 100 * k)) 'account.1.enable = 1' \
  'account.1.sip_server.1.address = 127.0.0.1' "account.1.sip_server.1.port = $((26000 + 10 * k))" \
  'account.1.auth_name = 1001' 'account.1.password = secret' 'account.1.sip_server.1.expires = 300'
start_sipp "$dir" -sf "$fixtures/registrar.xml" -p $((26000 + 10 * k)) -mp $((30000 + 100 * k)) \
  -cp $((26002 + 10 * k))
wait_udp $((26000 + 10 * k)) || fail "$label: SIPp did not start"
start_phone "$dir" --config phone.cfg --listen $((26003 + 10 * k))
if wait_re "$dir/phone.log" '^registration: registered'; then
  pass "$label: $(grep -m 1 '^registration: registered' "$dir/phone.log")"
else
  fail "$label: no 'registration: registered' line"
  sed 's/^/     | /' "$dir/phone.log" | head -n 20
fi
expect_lines "$label: 423 Min-Expires honoured" "$dir/phone.log" '^registration: registered \(600 s\)'
kill -TERM "$phone_pid" 2> /dev/null  # shutdown unregisters (Expires: 0, digest again)
reap phone_status "$phone_pid"
reap sipp_status "$sipp_pid"
expect_status "$label: deskphone after SIGTERM" "$phone_status" 0 "$dir"
expect_status "$label: SIPp (423, 401, verifyauth register and unregister)" "$sipp_status" 0 "$dir"
# The password never reaches a log (the digest response carries only its hash).
if grep -qaw -- secret "$dir/phone.log" "$dir/phone.err"; then
  fail "$label: the password appears in the phone's log"
else
  pass "$label: the password appears in no log ($(cat "$dir/phone.log" "$dir/phone.err" | wc -l) lines checked)"
fi

k=6
dir=$(case_dir registrar-wrong)
label="registrar, wrong password"
phone_config "$dir" $((26003 + 10 * k)) $((30050 + 100 * k)) 'account.1.enable = 1' \
  'account.1.sip_server.1.address = 127.0.0.1' "account.1.sip_server.1.port = $((26000 + 10 * k))" \
  'account.1.password = wrong'
start_sipp "$dir" -sf "$fixtures/registrar-wrong-password.xml" -p $((26000 + 10 * k)) -mp $((30000 + 100 * k)) \
  -cp $((26002 + 10 * k))
wait_udp $((26000 + 10 * k)) || fail "$label: SIPp did not start"
start_phone "$dir" --config phone.cfg --listen $((26003 + 10 * k))
if wait_re "$dir/phone.log" '^registration: .*failed'; then
  line=$(grep -m 1 '^registration: .*failed' "$dir/phone.log")
  if grep -q 'will retry' <<< "$line"; then
    fail "$label: '$line' (a rejected password must not be retried)"
  else
    pass "$label: $line"
  fi
else
  fail "$label: no 'registration: ... failed' line"
  sed 's/^/     | /' "$dir/phone.log" | head -n 20
fi
# SIPp fails if a third REGISTER comes within 1.5 s of the second 401.
reap sipp_status "$sipp_pid"
expect_status "$label: SIPp (401, 401, no third REGISTER)" "$sipp_status" 0 "$dir"
registers=$(grep -c '^REGISTER ' "$dir"/*_messages.log 2> /dev/null | awk -F: '{ s += $NF } END { print s + 0 }')
if ! grep -q '^registration: registered' "$dir/phone.log" && [ "$registers" -eq 2 ]; then
  pass "$label: SIPp saw $registers REGISTERs, never registered"
else
  fail "$label: SIPp saw $registers REGISTERs (wanted 2); log: $(grep '^registration' "$dir/phone.log" | tr '\n' ' ')"
fi
kill -TERM "$phone_pid" 2> /dev/null
reap phone_status "$phone_pid"
expect_status "$label: deskphone after SIGTERM" "$phone_status" 0 "$dir"

# --- 4. CANCEL of an unanswered call --------------------------------------------------------------
# cancel_case K SCENARIO LABEL STATE: deskphone dials SIPp; once its log says `call 1: STATE` the
# control FIFO says `hangup`.
cancel_case() {
  local k=$1 scenario=$2 label=$3 state=$4 dir control phone_status sipp_status
  dir=$(case_dir "$scenario")
  phone_config "$dir" $((26003 + 10 * k)) $((30050 + 100 * k))
  mkfifo "$dir/control"
  exec {control}<> "$dir/control"  # held open read-write: no writer blocks, deskphone sees no EOF
  start_sipp "$dir" -sf "$fixtures/$scenario.xml" -p $((26000 + 10 * k)) -mp $((30000 + 100 * k)) \
    -cp $((26002 + 10 * k))
  wait_udp $((26000 + 10 * k)) || fail "$label: SIPp did not start"
  start_phone "$dir" --config phone.cfg --listen $((26003 + 10 * k)) --control control --exit-after-call \
    --dial "sip:sipp@127.0.0.1:$((26000 + 10 * k))"
  if wait_re "$dir/phone.log" "^call 1: $state"; then
    echo hangup >&"$control"
  else
    fail "$label: the call never reached '$state'"
  fi
  reap phone_status "$phone_pid"
  reap sipp_status "$sipp_pid"
  exec {control}>&-
  expect_status "$label: deskphone" "$phone_status" 0 "$dir"
  expect_status "$label: SIPp (180, CANCEL, 200, 487, ACK)" "$sipp_status" 0 "$dir"
  if [ "$state" = ringing ]; then
    expect_lines "$label: call log" "$dir/phone.log" '^call 1: calling' '^call 1: ringing' '^control: hangup' \
      '^call 1: ended \(cancelled\)' '^deskphone: exit'
  else  # hung up while calling: the 180 still comes, then the CANCEL goes
    expect_lines "$label: call log" "$dir/phone.log" '^call 1: calling' '^control: hangup' '^call 1: ringing' \
      '^call 1: ended \(cancelled\)' '^deskphone: exit'
  fi
  # RFC 3261 9.1: no CANCEL before a provisional response.
  local ringing cancel
  ringing=$(grep -n -m 1 '^SIP/2.0 180 ' "$dir"/*_messages.log 2> /dev/null | cut -d: -f1)
  cancel=$(grep -n -m 1 '^CANCEL ' "$dir"/*_messages.log 2> /dev/null | cut -d: -f1)
  if [ -n "$ringing" ] && [ -n "$cancel" ] && [ "$cancel" -gt "$ringing" ]; then
    pass "$label: SIPp got the CANCEL after it sent 180 (message log lines $ringing, $cancel)"
  else
    fail "$label: 180 at message log line '${ringing}', CANCEL at '${cancel}'"
  fi
}

cancel_case 7 uas-cancel "we cancel while it rings" ringing
cancel_case 9 uas-cancel-before-180 "we cancel before it rings (CANCEL waits for the 180)" calling

k=8
dir=$(case_dir cancel-remote)
label="sipp cancels"
phone_config "$dir" $((26003 + 10 * k)) $((30050 + 100 * k))
start_phone "$dir" --config phone.cfg --listen $((26003 + 10 * k)) --answer no --exit-after-call
wait_re "$dir/phone.log" '^sip: listening' || fail "$label: deskphone did not start listening"
start_sipp "$dir" 127.0.0.1:$((26003 + 10 * k)) -sf "$fixtures/uac-cancel.xml" -p $((26000 + 10 * k)) \
  -mp $((30000 + 100 * k)) -cp $((26002 + 10 * k))
reap sipp_status "$sipp_pid"
reap phone_status "$phone_pid"
expect_status "$label: SIPp (INVITE, 180, CANCEL, 200, 487, ACK)" "$sipp_status" 0 "$dir"
expect_status "$label: deskphone" "$phone_status" 0 "$dir"
expect_lines "$label: call log" "$dir/phone.log" '^call 1: incoming from "SIPp"' \
  '^call 1: ended \(cancelled by caller\)' '^deskphone: exit'
if grep -q '^call 1: connected' "$dir/phone.log"; then
  fail "$label: the call connected although nobody answered"
else
  pass "$label: never connected"
fi

echo "     cli-call ran $(($(date +%s) - started)) s"
echo "cli-call: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
