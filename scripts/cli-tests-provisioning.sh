#!/usr/bin/env bash
# Provisioning end to end on the whole phone: layered .cfg files with include:config, a bad value
# refused with its file:line at start (the phone does not start) and on SIGHUP (the phone keeps
# its last good configuration and keeps working), a good SIGHUP reload taking effect at once (the
# dial plan, DND), start-only keys named, unknown keys reported once. Dialling goes through raw
# input_event records on the key FIFO; where the phone dialled is seen by SIPp; the indicators
# are read from the status log. Each check prints `ok   ...` or `FAIL ...`; the last line is
# `cli-provisioning: N passed, N failed`.
# usage: scripts/cli-tests-provisioning.sh DESKPHONE    (ports: SIP 26800-26819, RTP 35000-35499)
set -uo pipefail
phone=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$root/Tests/Fixtures-call/provisioning
keys_py=$root/Tests/Fixtures-call/record/keys.py
board=$root/board/sim.cfg
work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
command -v sipp > /dev/null || { echo "FAIL sipp not installed (Debian sip-tester)"; echo "cli-provisioning: 0 passed, 1 failed"; exit 1; }

phone_port=26800
sipp_a=26810
sipp_b=26811
sipp_uac=26812

# wait_for FILE PATTERN [COUNT] [SECONDS]: until FILE has COUNT lines containing the fixed string.
wait_for() {
  local file=$1 pattern=$2 count=${3:-1} seconds=${4:-15} i got
  for ((i = 0; i < seconds * 10; i++)); do
    got=$(grep -cF -- "$pattern" "$file" 2> /dev/null)
    [ "${got:-0}" -ge "$count" ] && return 0
    sleep 0.1
  done
  return 1
}
count() { grep -cF -- "$2" "$1" 2> /dev/null; }
check() {
  if grep -qF -- "$3" "$2"; then pass "$1: $4"; else fail "$1: $4: no '$3' in $(basename "$2")"; fi
}

# The provisioning: a common file including the dial plan from a subdirectory, a per-phone file.
mkdir -p "$work/cfg/plans"
cat > "$work/cfg/common.cfg" << CFG
#!version:1.0.0.1
# shared by every phone
account.1.user_name = 1000
account.1.codecs = pcmu
sip.listen_address = 127.0.0.1
rtp.port_min = 35000
rtp.port_max = 35499
voice.volume.handset = 4
include:config "plans/dialplan.cfg"
CFG
write_plan() { # write_plan PORT [EXTRA LINE]
  printf '#!version:1.0.0.1\ndialplan.1.number = 7\ndialplan.1.uri = sip:seven@127.0.0.1:%s\nsite.building = B2\n%s\n' \
    "$1" "${2:-}" > "$work/cfg/plans/dialplan.cfg"
}
write_plan $sipp_a
cat > "$work/cfg/phone.cfg" << CFG
#!version:1.0.0.1
account.1.user_name = 1001
account.1.display_name = Prov Test
sip.listen_port = $phone_port
CFG

# start_sipp NAME SCENARIO PORT [ARGS...]: SIPp in the background.
start_sipp() {
  local name=$1 scenario=$2 port=$3 i
  shift 3
  sipp -sf "$fixtures/$scenario.xml" -i 127.0.0.1 -p "$port" -mi 127.0.0.1 -mp 35600 -m 1 -nostdin -timeout 30s \
    -trace_msg -message_file "$work/$name.msg" -trace_err -error_file "$work/$name.sipp-err" "$@" \
    > "$work/$name.sipp-out" 2>&1 &
  sipp_pid=$!
  pids+=("$sipp_pid")
  for ((i = 0; i < 100; i++)); do
    ss -Hun "sport = :$port" 2> /dev/null | grep -q . && break
    sleep 0.1
  done
}
# wait_sipp NAME DESCRIPTION: SIPp ran its scenario to the end (exit 0).
wait_sipp() {
  local i status
  for ((i = 0; i < 300; i++)); do
    kill -0 "$sipp_pid" 2> /dev/null || break
    sleep 0.1
  done
  kill "$sipp_pid" 2> /dev/null
  wait "$sipp_pid"
  status=$?
  if [ "$status" -eq 0 ]; then pass "$1: $2"; else
    fail "$1: $2: SIPp exit $status: $(grep -v '^$' "$work/$1.sipp-err" "$work/$1.sipp-out" 2> /dev/null | head -c 300)"
  fi
}
dial_seven() { # dial_seven NAME: 7 then # on the keypad, through the key FIFO
  "$keys_py" "$work/phone.keys" 7 pound
}

# --- 1. a bad value at start: refused with file:line, the phone does not start ----------------
n=start-refused
write_plan $sipp_a "voice.volume.ringer = 42"
"$phone" --board "$board" --config "$work/cfg/common.cfg" "$work/cfg/phone.cfg" > "$work/$n.out" 2>&1 &
bad_pid=$!
pids+=("$bad_pid")
for ((i = 0; i < 100; i++)); do kill -0 $bad_pid 2> /dev/null || break; sleep 0.1; done
wait $bad_pid
status=$?
[ $status -eq 2 ] && pass "$n: exit status 2" || fail "$n: exit status $status"
check $n "$work/$n.out" "deskphone: $work/cfg/plans/dialplan.cfg:5: voice.volume.ringer = '42': expected a whole number from 0 to 15" \
  "the error names the included file and line"
if ss -Hun "sport = :$phone_port" | grep -q .; then fail "$n: something listens on $phone_port"; else pass "$n: no SIP socket opened"; fi

# --- 2. a good start: includes and layering --------------------------------------------------
n=start
write_plan $sipp_a
mkfifo "$work/phone.keys"
exec 7<> "$work/phone.keys"
"$phone" --board "$board" --config "$work/cfg/common.cfg" "$work/cfg/phone.cfg" --keys "fifo:$work/phone.keys" \
  --status-log "$work/phone.status" > "$work/phone.log" 2>&1 &
phone_pid=$!
pids+=("$phone_pid")
wait_for "$work/phone.log" "sip: listening" 1 20 || fail "$n: deskphone did not start: $(head -c 800 "$work/phone.log"; ss -anp | grep -F ":$phone_port")"
check $n "$work/phone.log" "sip: listening on udp 127.0.0.1:$phone_port" "the per-phone file's port"
check $n "$work/phone.log" " as 1001" "the later file's user name overrides the common one"
check $n "$work/phone.log" "config: $work/cfg/plans/dialplan.cfg:4: key 'site.building' is not used by this firmware (ignored)" \
  "an unknown key in the included file is reported with its file:line"

# --- 3. the included dial plan dials SIPp A ----------------------------------------------------
n=dial-a
start_sipp $n uas-decline $sipp_a
dial_seven
wait_for "$work/phone.log" "call 1: ended" 1 20
wait_sipp $n "7 # on the keypad dialled sip:seven@...:$sipp_a (from the included file)"
check $n "$work/$n.msg" "INVITE sip:seven@127.0.0.1:$sipp_a" "the INVITE's Request-URI"

# --- 4. SIGHUP with a bad value: refused with file:line, the last good configuration stays ------
n=reload-refused
write_plan $sipp_b "features.dnd.enable = maybe"
kill -HUP $phone_pid
wait_for "$work/phone.log" "reload refused" 1 10
check $n "$work/phone.log" "config: $work/cfg/plans/dialplan.cfg:5: features.dnd.enable = 'maybe': expected 0 or 1 (reload refused: the last good configuration stays)" \
  "the bad value's file:line and that the last good configuration stays"
kill -0 $phone_pid 2> /dev/null && pass "$n: the phone is still running" || fail "$n: the phone exited"
start_sipp $n uas-decline $sipp_a
dial_seven
wait_for "$work/phone.log" "call 2: ended" 1 20
wait_sipp $n "after the refused reload 7 # still dials SIPp A (the old dial plan)"

# --- 5. SIGHUP with good files: the new dial plan and DND apply at once ------------------------
n=reload
write_plan $sipp_b "features.dnd.enable = 1"
sed -i 's/^account.1.display_name = .*/account.1.display_name = Renamed/' "$work/cfg/phone.cfg"
kill -HUP $phone_pid
wait_for "$work/phone.log" "config: reloaded" 1 10
check $n "$work/phone.log" "config: reloaded" "the reload is logged"
check $n "$work/phone.log" "config: account.1.display_name changed: it applies when the phone restarts" \
  "a start-only key that changed is named"
[ "$(count "$work/phone.log" "key 'site.building' is not used")" = 1 ] && pass "$n: the unknown key is reported once, not on each reload" \
  || fail "$n: the unknown key was reported $(count "$work/phone.log" "key 'site.building' is not used") times"
wait_for "$work/phone.status" '"dnd"' 1 5
last_lcd=$(grep -F '"lcd":' "$work/phone.status" | tail -1)
[[ $last_lcd == *'"dnd"'* && $last_lcd == *'Do not disturb'* ]] && pass "$n: the LCD shows the DND icon and title" \
  || fail "$n: last LCD after the reload: $last_lcd"
start_sipp $n uas-decline $sipp_b
dial_seven
wait_for "$work/phone.log" "call 3: ended" 1 20
wait_sipp $n "7 # now dials SIPp B (the reloaded dial plan)"
n=dnd
start_sipp $n uac-dnd $sipp_uac 127.0.0.1:$phone_port
wait_sipp $n "an incoming call is answered 480 (DND switched on by the reload)"
check $n "$work/phone.log" "refused: 480" "the phone logged the refused INVITE"
if grep -q "^SIP/2.0 180" "$work/$n.msg"; then fail "$n: the caller heard ringing (180) before the 480"; else
  pass "$n: no 180 before the 480 (DND refuses before ringing)"; fi

# --- 6. SIGTERM: an orderly exit ----------------------------------------------------------------
n=exit
kill -TERM $phone_pid
wait $phone_pid
status=$?
[ $status -eq 0 ] && pass "$n: exit status 0 after SIGTERM" || fail "$n: exit status $status"
check $n "$work/phone.log" "deskphone: exit" "the phone says it exits"
exec 7>&-

echo "cli-provisioning: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
