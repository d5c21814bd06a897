#!/usr/bin/env bash
# The whole phone end to end, as a person uses it: keys go in only as raw Linux input_event
# records through the key FIFO (--keys fifo:PATH, Tests/Fixtures-call/record/keys.py), what the
# phone shows is read from its status log (--status-log: LCD title/lines/timer/softkeys, LEDs,
# recording state) and its event log, against real peers on loopback (SIPp and baresip):
#   1. dial by keys (dial plan / IP dialling with `*`) -> ringback -> talking -> record on/off ->
#      hang up by hook, against a SIPp UAS (200 to both INFOs) and against baresip (auto-answer;
#      whatever it answers to the INFO, the phone must show what the recording policy says);
#   2. an incoming call (SIPp UAC, then baresip dialling) answered by lifting the hook, ended
#      by putting it down (the caller gets the BYE);
#   3. two calls: call waiting, answer the second (the first is held: re-INVITE sendonly or
#      inactive at its peer), swap back and forth, hang up both;
#   4. bad key input (garbage, unmapped codes, bad values, a record split and completed) does
#      not stop the phone, is logged, and the keys work afterwards.
# Board board/sim.cfg, config files in Tests/Fixtures-call/phone/*.cfg.in. Each check prints
# `ok   ...` or `FAIL ...`; the last line is `phone: N passed, N failed`.
# usage: scripts/cli-tests-phone.sh DESKPHONE      (ports: SIP 27000-27039, RTP 36000-36999)
#   PHONE_SCENARIOS="1a 3"  runs only those;  KEEP_WORK=1  keeps the work directory.
set -uo pipefail
label=phone
if [[ $# -ne 1 ]]; then
  echo "usage: $0 DESKPHONE" >&2
  exit 2
fi
phone=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$root/Tests/Fixtures-call/phone
bsfixtures=$root/Tests/Fixtures-call/baresip
board=$root/board/sim.cfg
source "$root/scripts/cli-common.sh"
source "$root/scripts/cli-baresip.sh"
fds=()
trap 'exit 130' INT TERM
for tool in sipp baresip python3; do
  command -v "$tool" > /dev/null || { fail "$tool is not installed (scripts/install-deps.sh)"; echo "$label: $passed passed, $failed failed"; exit 1; }
done
[[ -x $phone ]] || { fail "no deskphone binary at $1"; echo "$label: $passed passed, $failed failed"; exit 1; }

phone_sip=27000
rtp_min=36000
want() { [[ -z ${PHONE_SCENARIOS:-} || " $PHONE_SCENARIOS " == *" $1 "* ]]; }

# Waits (cli-common's wait_match, wait_re, wait_for) stop at once when the phone has died.
still_running() { [[ -z ${phone_pid:-} ]] || kill -0 "$phone_pid" 2> /dev/null; }
# last_of FILE FIXED: the last line of FILE containing FIXED.
last_of() { grep -a -F -- "$2" "$1" | tail -1; }
# lcd TITLE LINES-JSON: the status log's LCD fields title and lines, as written.
lcd() { printf '"title":"%s","lines":%s' "$1" "$2"; }
led() { printf '"led":"%s","state":"%s"' "$1" "$2"; }

# start_phone NAME [ARGS...]: deskphone on the sim board with $dir/NAME.cfg, its key FIFO (held
# open by the script), status log NAME.status, event log NAME.log (--log).
start_phone() {
  local name=$1 fd
  shift
  mkfifo "$dir/$name.keys"
  exec {fd}<> "$dir/$name.keys"
  fds+=("$fd")
  : > "$dir/$name.status"
  "$phone" --board "$board" --config "$dir/$name.cfg" "$@" --keys "fifo:$dir/$name.keys" \
    --status-log "$dir/$name.status" --log "$dir/$name.log" > "$dir/$name.out" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
  keyfifo=$dir/$name.keys
  plog=$dir/$name.log
  pstatus=$dir/$name.status
  wait_re "$plog" "^sip: listening on" 1 20 || fail "$n: deskphone did not start: $(head -c 300 "$dir/$name.out" "$plog" 2> /dev/null)"
}
# stop_phone: SIGTERM; the phone must leave by itself with status 0.
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
keys() { "$root/Tests/Fixtures-call/record/keys.py" "$keyfifo" "$@"; }

# write_cfg NAME [KEY=VALUE...]: the phone's provisioning file ($dir/NAME.cfg) from the fixture.
write_cfg() {
  local name=$1
  shift
  sed -e "s|@SIP_PORT@|$phone_sip|g" -e "s|@RTP_MIN@|$rtp_min|g" -e "s|@RTP_MAX@|$((rtp_min + 49))|g" \
    -e "s|@SIPP_PORT@|$sipp_port|g" -e "s|@BARESIP_PORT@|$bs_sip|g" "$fixtures/phone.cfg.in" > "$dir/$name.cfg"
  printf '%s\n' "$@" | sed 's/=/ = /' >> "$dir/$name.cfg"
}

# start_sipp NAME SCENARIO PORT [ARGS...]: SIPp on 127.0.0.1:PORT, message trace NAME.msg.
start_sipp() {
  local name=$1 scenario=$2 port=$3 i
  shift 3
  sipp -sf "$fixtures/$scenario.xml" -i 127.0.0.1 -p "$port" -mi 127.0.0.1 -mp $((rtp_min + 100 + (port - sipp_port) * 10)) \
    -m 1 -nostdin -timeout 60s -trace_msg -message_file "$dir/$name.msg" -trace_err -error_file "$dir/$name.sipp-err" \
    "$@" > "$dir/$name.sipp-out" 2>&1 &
  sipp_pids[$name]=$!
  pids+=("$!")
  for ((i = 0; i < 100; i++)); do
    ss -Hun "sport = :$port" 2> /dev/null | grep -q . && break
    ss -Hlun "sport = :$port" 2> /dev/null | grep -q . && break
    sleep 0.1
  done
}
# wait_sipp NAME WHAT: SIPp's exit status 0 (every message of its scenario came, every check_it matched).
wait_sipp() {
  local name=$1 pid=${sipp_pids[$1]} i status
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  kill "$pid" 2> /dev/null
  wait "$pid"
  status=$?
  if [[ $status -eq 0 ]]; then
    pass "$n: SIPp $name: $2"
  else
    fail "$n: SIPp $name: $2: exit $status: $(grep -v '^$' "$dir/$name.sipp-err" "$dir/$name.sipp-out" 2> /dev/null | tail -5 | head -c 500)"
  fi
}
declare -A sipp_pids

# bs_trace sent|received WHAT [BODY_TEXT] DESCRIPTION: a SIP message in baresip's trace.
bs_trace() {
  local out what=${*: -1}
  if out=$(python3 "$bsfixtures/trace.py" "$blog" "$bs_sip" "${@:1:$#-1}" 2>&1); then
    pass "$n: $what: baresip $out"
  else
    fail "$n: $what: $(head -c 400 <<< "$out")"
  fi
}

# begin N TITLE: scenario N's directory and ports.
begin() {
  n=$1
  dir=$work/$n
  mkdir -p "$dir"
  phone_sip=$((27000 + ${2}))
  sipp_port=$((phone_sip + 10))
  bs_sip=$((phone_sip + 20))
  rtp_min=$((36000 + ${2} * 150))
  echo "== $n. $3"
}

# A tone for baresip's audio source (its aufile module ends the call at the end of the file).
python3 "$bsfixtures/audio.py" tone "$work/tone.wav" 8000 1000 120 || fail "baresip test signal could not be written"

# The talking screen: title Talking, the far end on line 1, the call timer running (mm:ss).
talking_re() { printf '"title":"Talking","lines":\\[%s\\],"timer":"[0-9]{2}:[0-9]{2}"' "$1"; }
idle_lcd='"title":"Ready","lines":[],"timer":null'

# --- 1a. dial an IP address by keys (127*0*0*1*PORT#) to SIPp: ringback, talking, record on/off, hook down --------
if want 1a; then
  begin 1a 0 "dial SIPp by IP (127*0*0*1*PORT#) by keys -> SIPp rings and answers -> record on/off (200) -> hang up by hook"
  write_cfg p
  start_sipp uas uas-record $sipp_port
  start_phone p
  expect $n "$pstatus" "$idle_lcd" "idle screen: Ready, no timer"
  keys press:hook
  expect $n "$pstatus" "$(lcd Dial '["_"]')" "off-hook: the Dial screen with an empty number"
  expect $n "$plog" "screen: dialing" "event log: screen dialing (the hook starts dialling)" 5
  dialled="127*0*0*1*$sipp_port"
  keys "$dialled"
  expect $n "$pstatus" "$(lcd Dial "[\"${dialled}_\"]"),\"timer\":null,\"softkeys\":[\"Send\",\"Delete\",\"\",\"Cancel\"]" \
    "digits on the LCD: ${dialled}_, softkeys Send/Delete/Cancel"
  keys pound
  expect $n "$plog" "call: dialing sip:127.0.0.1:$sipp_port" "# dials sip:127.0.0.1:$sipp_port (* for the dots and the port)"
  expect_re $n "$pstatus" '"title":"(Calling|Ringing)","lines":\["sip:127.0.0.1:'$sipp_port'"\]' "calling screen with the called address"
  expect $n "$pstatus" "$(lcd Ringing "[\"sip:127.0.0.1:$sipp_port\"]")" "ringback: Ringing after SIPp's 180"
  expect $n "$plog" "call 1: connected" "SIPp answers: connected"
  expect_re $n "$pstatus" "$(talking_re '"sip:127.0.0.1:'$sipp_port'"')" "Talking with the call timer"
  expect $n "$pstatus" '"timer":"00:01"' "the call timer counts (00:01)"
  expect $n "$pstatus" "$(led line1 on),\"color\":\"green\"" "line 1 LED solid green while talking"
  keys record
  expect $n "$plog" "recording on (recording) after 200 OK" "record key: SIPp's 200 to Record: on"
  expect $n "$pstatus" "$(led record on),\"color\":\"red\"" "record LED solid red"
  expect $n "$pstatus" '"icons":["recording"' "LCD recording icon"
  keys record
  expect $n "$plog" "recording off (idle) after 200 OK" "record key again: SIPp's 200 to Record: off"
  last=$(last_of "$pstatus" '"led":"record"')
  [[ $last == *'"state":"off"'* ]] && pass "$n: record LED off after Record: off" || fail "$n: record LED after off: $last"
  last=$(last_of "$pstatus" '"lcd":')
  [[ $last != *'"recording'* && $last == *'"title":"Talking"'* ]] && pass "$n: still talking, no recording icon" \
    || fail "$n: LCD after Record: off: $last"
  keys release:hook
  expect $n "$plog" "call 1: ended (local hang-up)" "hook down hangs up"
  wait_sipp uas "answered, 200 to INFO Record: on and off (headers checked), got the phone's BYE"
  expect $n "$pstatus" "$idle_lcd" "idle again after the hang-up" 5
  last=$(last_of "$pstatus" '"led":"line1"')
  [[ $last == *'"state":"off"'* ]] && pass "$n: line 1 LED off" || fail "$n: line 1 LED: $last"
  infos=$(grep -a -c '^INFO ' "$dir/uas.msg")
  [[ $infos -eq 2 ]] && pass "$n: exactly 2 INFOs on the wire" || fail "$n: $infos INFOs on the wire"
  stop_phone
fi

# --- 1b. dial baresip by keys through the dial plan (88 + Send softkey); record; hang up by hook --------
if want 1b; then
  begin 1b 1 "dial 88 + Send -> baresip answers -> record key -> hang up by hook"
  write_cfg p
  start_baresip auto "$((rtp_min + 50))-$((rtp_min + 99))"
  start_phone p
  keys press:hook 88
  expect $n "$pstatus" "$(lcd Dial '["88_"]')" "the LCD shows 88_"
  keys softkey1 # Send
  expect $n "$plog" "call: dialing sip:bob@127.0.0.1:$bs_sip" "the Send softkey dials the dial plan's URI for 88"
  expect $n "$plog" "call 1: connected" "baresip answers (answermode=auto)"
  expect_re $n "$pstatus" "$(talking_re '"[^"]*"')" "Talking with the call timer"
  keys record
  wait_re "$plog" "^recording: .* after [0-9]{3}" 1 40
  reply=$(grep -a -m1 -E "^recording: .* after [0-9]{3}" "$plog")
  # baresip's answer to the INFO, from its own trace: `SIP/2.0 488 Not Acceptable Here (INFO)` etc.
  code=$(grep -a -oE 'recording (on|off) \([a-z_]+\) after [0-9]{3}' <<< "$reply" | grep -oE '[0-9]{3}$')
  if [[ -z $code ]]; then
    fail "$n: the phone logged no answer to its INFO: ${reply:-nothing}"
  else
    pass "$n: baresip answered the INFO Record: on with $code (phone: ${reply#recording: })"
    bs_trace received INFO "baresip received the INFO"
    bs_trace sent "$code/INFO" "baresip's trace has the same $code to the INFO"
    case $code in
      2??) want_state="on recording"; want_led=on ;;
      403) want_state="off recording_not_allowed"; want_led=off ;;
      481) want_state="off idle"; want_led=off ;;
      *) want_state="off recording_cannot_start"; want_led=off ;;
    esac
    expect $n "$pstatus" "\"state\":\"${want_state% *}\",\"indication\":\"${want_state#* }\"" \
      "policy for $code: recording ${want_state% *}, indication ${want_state#* }"
    last=$(last_of "$pstatus" '"led":"record"')
    [[ $last == *"\"state\":\"$want_led\""* ]] && pass "$n: record LED $want_led after $code" || fail "$n: record LED after $code: $last"
    if [[ $want_led == off ]]; then
      expect_not $n "$pstatus" "$(led record on)" "record LED never solid (no 2xx)"
    fi
  fi
  keys release:hook
  expect $n "$plog" "call 1: ended (local hang-up)" "hook down hangs up"
  wait_re "$blog" "terminated" 1 10
  bs_trace received BYE "baresip gets the BYE"
  expect $n "$pstatus" "$idle_lcd" "idle again" 5
  stop_phone
  stop_baresip
fi

# --- 2a. SIPp calls; ring; answer by lifting the hook; hang up by putting it down ----------------
if want 2a; then
  begin 2a 2 "SIPp calls the phone -> incoming -> hook up answers -> hook down, BYE to SIPp"
  write_cfg p
  start_phone p
  start_sipp carol uac-hook $sipp_port 127.0.0.1:$phone_sip
  expect $n "$plog" "call 1: incoming from" "the phone sees the call"
  expect $n "$pstatus" "$(lcd 'Incoming call' '["Carol"]')" "LCD: Incoming call from Carol"
  expect $n "$pstatus" '"softkeys":["Answer","","","Reject"]' "softkeys Answer / Reject"
  expect $n "$pstatus" "$(led line1 fast_flash),\"color\":\"green\"" "line 1 LED fast flash (ringing)"
  expect $n "$plog" "screen: incoming" "event log: screen incoming"
  keys press:hook
  expect $n "$plog" "call 1: connected" "off-hook answers"
  expect_re $n "$pstatus" "$(talking_re '"Carol"')" "Talking with Carol, timer running"
  keys release:hook
  expect $n "$plog" "call 1: ended" "on-hook ends the call"
  wait_sipp carol "got the phone's 200, then its BYE"
  [[ $(grep -a -c '^BYE sip:' "$dir/carol.msg") -ge 1 ]] && pass "$n: BYE on the wire at SIPp" || fail "$n: no BYE in SIPp's trace"
  expect $n "$pstatus" "$idle_lcd" "idle again" 5
  stop_phone
fi

# --- 2b. baresip dials the phone; answer by hook; hook down; baresip gets the BYE ------------------
if want 2b; then
  begin 2b 3 "baresip dials the phone -> incoming -> hook up answers -> hook down, BYE to baresip"
  write_cfg p
  start_phone p
  start_baresip manual "$((rtp_min + 50))-$((rtp_min + 99))"
  bs_cmd "/dial sip:1001@127.0.0.1:$phone_sip"
  expect $n "$plog" "call 1: incoming from" "the phone sees baresip's call"
  expect_re $n "$pstatus" '"title":"Incoming call","lines":\["bob@127.0.0.1"\]' "LCD: Incoming call from bob@127.0.0.1"
  expect $n "$pstatus" "$(led line1 fast_flash)" "line 1 LED fast flash"
  keys press:hook
  expect $n "$plog" "call 1: connected" "off-hook answers"
  expect_re $n "$pstatus" "$(talking_re '"bob@127.0.0.1"')" "Talking, timer running"
  bs_trace received 200/INVITE "baresip gets the phone's 200"
  keys release:hook
  expect $n "$plog" "call 1: ended" "on-hook ends the call"
  wait_re "$blog" "terminated" 1 10
  bs_trace received BYE "baresip gets the BYE"
  bs_trace sent 200/BYE "baresip answers it"
  expect $n "$pstatus" "$idle_lcd" "idle again" 5
  stop_phone
  stop_baresip
fi

# --- 3. two calls: call waiting, hold, swap, hang up both ---------------------------------------
if want 3; then
  begin 3 4 "alice calls, answered by hook; bob calls (waiting); answer bob (alice held); swap; end both"
  write_cfg p
  start_phone p
  start_sipp alice uac-hold $((sipp_port)) 127.0.0.1:$phone_sip -key caller alice
  expect $n "$plog" "call 1: incoming from" "alice's call arrives"
  keys press:hook
  expect $n "$plog" "call 1: connected" "off-hook answers alice"
  expect_re $n "$pstatus" "$(talking_re '"alice"')" "Talking with alice"
  start_sipp bob uac-hold $((sipp_port + 1)) 127.0.0.1:$phone_sip -key caller bob
  expect $n "$plog" "call 2: incoming from" "bob's call arrives while talking"
  expect $n "$pstatus" "$(lcd 'Incoming call' '["bob","With: alice"]')" "call waiting screen: bob, with alice"
  expect $n "$pstatus" "$(led line2 fast_flash)" "line 2 LED fast flash"
  keys softkey1 # Answer
  expect $n "$plog" "call 2: connected" "Answer softkey takes bob's call"
  expect $n "$plog" "call 1: held" "alice is put on hold"
  expect_re $n "$pstatus" "$(lcd Talking '["bob","On hold: alice"]' | sed 's/\[/\\[/g; s/\]/\\]/g'),\"timer\":\"[0-9]{2}:[0-9]{2}\",\"softkeys\":\\[\"Swap\"" \
    "Talking with bob, alice on hold, softkey Swap"
  expect $n "$pstatus" "$(led line1 slow_flash)" "line 1 LED (held) slow flash"
  keys softkey1 # Swap
  expect $n "$plog" "call 2: held" "Swap holds bob"
  wait_re "$plog" "call 1: connected" 2 10 && pass "$n: ... and resumes alice (connected again)" ||
    fail "$n: alice not resumed: $(grep -a '^call 1:' "$plog" | tail -3 | tr '\n' '|')"
  expect_re $n "$pstatus" "$(lcd Talking '["alice","On hold: bob"]' | sed 's/\[/\\[/g; s/\]/\\]/g')" "Talking with alice, bob on hold"
  keys softkey4 # End
  expect $n "$plog" "call 1: ended" "End hangs up alice"
  wait_sipp alice "answered; hold re-INVITE sendonly/inactive, resume sendrecv (checked), BYE"
  expect $n "$pstatus" "$(lcd 'On hold' '["bob"')" "bob's held call is shown: On hold"
  keys softkey1 # Resume
  wait_re "$plog" "call 2: connected" 2 10
  expect_re $n "$pstatus" "$(talking_re '"bob"')" "Resume: talking with bob again"
  keys release:hook
  expect $n "$plog" "call 2: ended" "hook down hangs up bob"
  wait_sipp bob "answered; hold re-INVITE sendonly/inactive, resume sendrecv (checked), BYE"
  for who in alice bob; do
    dirn=$(python3 - "$dir/$who.msg" << 'PY'
import re, sys
# SIPp's -trace_msg: blocks after a line of dashes; the INVITEs SIPp received are the phone's re-INVITEs
out = []
for block in re.split(r"^-{20,}.*$", open(sys.argv[1], encoding="latin-1").read(), flags=re.M):
    lines = [l for l in block.strip().splitlines() if l.strip()]
    if len(lines) > 1 and "received" in lines[0] and lines[1].startswith("INVITE "):
        d = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)", block, re.M)
        out.append(d.group(1) if d else "none")
print(",".join(out))
PY
)
    [[ $dirn =~ ^(sendonly|inactive),sendrecv$ ]] && pass "$n: $who saw hold then resume: $dirn" || fail "$n: $who re-INVITE directions: '$dirn'"
  done
  expect $n "$pstatus" "$idle_lcd" "idle again after both calls" 5
  stop_phone
fi

# --- 4. bad key input: garbage, unmapped codes, bad values, a split record -------------------------
if want 4; then
  begin 4 5 "garbage and truncated input_event records on the key FIFO"
  write_cfg p
  start_phone p
  # an EV_KEY record for KEY_Q (16, not in the sim board's keymap)
  keys "raw:$(python3 -c 'import struct; print(struct.pack("<qqHHi", 1, 2, 1, 16, 1).hex())')"
  expect $n "$plog" "keys: unmapped key code KEY_Q (16) ignored" "an unmapped key code is logged"
  # a mapped key (digit5) with value 7
  keys "raw:$(python3 -c 'import struct; print(struct.pack("<qqHHi", 1, 2, 1, 6, 7).hex())')"
  expect $n "$plog" "keys: key value 7 for digit5 ignored (expected 0, 1 or 2)" "a bad key value is logged"
  # 100 records of random bytes (seeded)
  keys garbage:100:9
  # half a record, the writer goes away; then the rest of it arrives from another writer
  keys "raw:$(python3 -c 'import struct; print(struct.pack("<qqHHi", 5, 6, 0, 0, 0)[:10].hex())')"
  keys "raw:$(python3 -c 'import struct; print(struct.pack("<qqHHi", 5, 6, 0, 0, 0)[10:].hex())')"
  kill -0 "$phone_pid" 2> /dev/null && pass "$n: the phone is still running" || fail "$n: the phone died: $(tail -3 "$plog")"
  expect_not $n "$pstatus" '"title":"Dial"' "garbage pressed no key (still idle)"
  keys press:hook 5
  expect $n "$pstatus" "$(lcd Dial '["5_"]')" "keys work after the garbage: off-hook and 5"
  keys release:hook
  wait_for "$plog" "key: release hook" 1 5
  last=$(last_of "$pstatus" '"lcd":')
  [[ $last == *"$idle_lcd"* ]] && pass "$n: hook down: idle (Ready)" || fail "$n: after hook down: $last"
  expect_not $n "$plog" "keys: end of input" "the key source did not end"
  stop_phone
fi

echo "$label: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
