#!/usr/bin/env bash
# `make demo` as a person runs it, in tmux: two phones on the sim board, each in its own detached
# tmux session (100x40) running `make -s demo-run DEMO_BIN=DESKPHONE` (the recipe of `make demo`
# without the host build) with config/demo.cfg (1001, port 5060) and config/demo-2.cfg (1002,
# port 5062), exactly as the README says. Keys are typed with `tmux send-keys` (the terminal
# key map: h hook, digits, # send, r record, Ctrl-C quits); what the terminal shows is read with
# `tmux capture-pane -p`, and the phones' --log files must agree. Phone 1 calls 1002, phone 2
# answers with h, phone 1 toggles recording (INFO Record: on/off, answered by phone 2), hangs up.
# Each check prints `ok   ...` or `FAIL ...`; the last line is `demo: N passed, N failed`.
# usage: scripts/cli-tests-demo.sh DESKPHONE      (ports: SIP 5060 and 5062 on 127.0.0.1, as
#                                                  config/demo*.cfg; RTP: any free port)
#   KEEP_WORK=1  keeps the work directory (logs, pane captures).
set -uo pipefail
label=demo
if [[ $# -ne 1 ]]; then
  echo "usage: $0 DESKPHONE" >&2
  exit 2
fi
binary=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/cli-common.sh"
sock=$work/tmux.sock
tm() { tmux -S "$sock" "$@"; }
cleanup_more() { tm kill-server 2> /dev/null; }
trap 'exit 130' INT TERM
for tool in tmux make; do
  command -v $tool > /dev/null || { fail "$tool is not installed (scripts/install-deps.sh)"; echo "$label: $passed passed, $failed failed"; exit 1; }
done
[[ -x $binary ]] || { fail "no deskphone binary at $1"; echo "$label: $passed passed, $failed failed"; exit 1; }
for port in 5060 5062; do
  if ss -Hlun "sport = :$port" 2> /dev/null | grep -q . || ss -Hun "sport = :$port" 2> /dev/null | grep -q .; then
    fail "UDP port $port is in use: the demo phones need 5060 and 5062"
    echo "$label: $passed passed, $failed failed"
    exit 1
  fi
done

# screen NAME: what the terminal of phone NAME shows now (also kept as NAME.pane for KEEP_WORK).
screen() { tm capture-pane -p -t "$1" | tee "$work/$1.pane"; }
# wait_screen NAME REGEX [SECONDS]: until the drawn screen matches REGEX (grep -E).
wait_screen() {
  local i
  for ((i = 0; i < ${3:-15} * 10; i++)); do
    screen "$1" | grep -q -E -- "$2" && return 0
    sleep 0.1
  done
  return 1
}
expect_screen() {
  if wait_screen "$1" "$2" "${4:-15}"; then
    pass "$1 screen: $3"
  else
    fail "$1 screen: $3: no /$2/ on the screen:"
    sed 's/^/     | /' "$work/$1.pane" | grep -v '^     | *$'
  fi
}
# wait_log NAME REGEX [COUNT] [SECONDS]: cli-common's wait_re on the phone NAME's log.
wait_log() { wait_re "$work/$1.log" "${@:2}"; }
expect_log() {
  if wait_log "$1" "$2" 1 "${4:-15}"; then
    pass "$1 log: $3"
  else
    fail "$1 log: $3: no /$2/ in its log; last: $(tail -3 "$work/$1.log" 2> /dev/null | tr '\n' '|')"
  fi
}
# type NAME TEXT: types TEXT into phone NAME's terminal, a key at a time (literal keys).
type_keys() {
  local name=$1 text=$2 i
  for ((i = 0; i < ${#text}; i++)); do
    tm send-keys -t "$name" -l -- "${text:i:1}"
    sleep 0.15
  done
}

# start NAME CONFIG: `make -s demo-run` in a detached tmux session NAME of 100x40.
start() {
  local name=$1 config=$2
  tm new-session -d -s "$name" -x 100 -y 40 -c "$root" \
    "make -s demo-run DEMO_BIN='$binary' DEMO_CONFIG=$config DEMO_LOG='$work/$name.log'"
  tm set-option -t "$name" remain-on-exit on > /dev/null # keep the pane (and how it ended) after the phone quits
  wait_log "$name" "^sip: listening on udp 127\.0\.0\.1:" 1 20 ||
    fail "$name: the phone did not start: $(screen "$name" | grep -v '^ *$' | tail -5)"
}

start phone1 config/demo.cfg
start phone2 config/demo-2.cfg
expect_screen phone1 "Demo 1001" "status bar: account Demo 1001"
expect_screen phone1 "Ready" "idle: Ready"
expect_screen phone2 "Demo 1002" "status bar: account Demo 1002"

# phone 1: h (off-hook), 1002, #
type_keys phone1 h
expect_screen phone1 "Dial" "h lifts the handset: Dial"
type_keys phone1 1002
expect_screen phone1 "1002_" "the dialled number 1002_"
# the same picture (the inter-digit timeout, 4 s, would dial by itself): the softkeys in full
# (the sim board's 32-column LCD has 7 characters a softkey)
grep -q -E "Send +Delete +Cancel" "$work/phone1.pane" && pass "phone1 screen: softkeys Send Delete Cancel" ||
  fail "phone1 screen: softkeys Send Delete Cancel: $(grep -E 'Send|Cancel' "$work/phone1.pane")"
type_keys phone1 "#"
expect_log phone1 "^call: dialing sip:1002@127\.0\.0\.1:5062$" "# dials sip:1002@127.0.0.1:5062 (dial plan)"
expect_screen phone1 "Calling|Ringing" "Calling / Ringing"

# phone 2 rings; h answers
expect_log phone2 "^call 1: incoming from .*1001" "the call from 1001 arrives"
expect_screen phone2 "Incoming call" "Incoming call"
expect_screen phone2 "Demo 1001" "the caller's name Demo 1001"
expect_screen phone2 "Answer +Reject" "softkeys Answer Reject"
type_keys phone2 h
expect_log phone2 "^call 1: connected" "h answers: connected"
expect_log phone1 "^call 1: connected" "connected"
expect_log phone1 "^call 1: media G722" "G.722 negotiated (first in both codec lists)"
expect_screen phone1 "Talking" "Talking"
expect_screen phone1 "00:0[1-9]" "the call timer runs"
expect_screen phone2 "Talking" "Talking"
expect_screen phone1 "Hold +Mute .* End" "softkeys Hold Mute End"

# phone 1: r -> INFO Record: on, answered by phone 2
type_keys phone1 r
expect_log phone2 "^call 1: INFO received" "phone 2 receives the INFO"
if wait_log phone1 "^recording: .* after [0-9]{3}" 1 40; then
  line=$(grep -a -m1 -E "^recording: .* after [0-9]{3}" "$work/phone1.log")
  if [[ $line == *"recording on (recording) after 200 OK"* ]]; then
    pass "phone1 log: phone 2 answers 200: $line"
    expect_screen phone1 "REC" "REC on the screen"
  else
    fail "phone1 log: phone 2's answer to Record: on: $line"
  fi
else
  fail "phone1 log: no answer to Record: on; last: $(tail -3 "$work/phone1.log" | tr '\n' '|')"
fi
type_keys phone1 r
expect_log phone1 "recording off \(idle\) after 200 OK" "r again: Record: off answered 200"
wait_log phone2 "^call 1: INFO received" 2 10
[[ $(grep -a -c "^call 1: INFO received" "$work/phone2.log") -eq 2 ]] && pass "phone2 log: exactly 2 INFOs received" ||
  fail "phone2 log: $(grep -a -c "^call 1: INFO received" "$work/phone2.log") INFOs received"
if wait_screen phone1 "Talking" 5 && ! screen phone1 | grep -q "REC"; then
  pass "phone1 screen: REC gone after Record: off"
else
  fail "phone1 screen: after Record: off:"; sed 's/^/     | /' "$work/phone1.pane" | grep -v '^     | *$'
fi

# phone 1 hangs up (h puts the handset down)
type_keys phone1 h
expect_log phone1 "^call 1: ended" "h hangs up"
expect_log phone2 "^call 1: ended \(remote hang-up\)" "the far end's BYE ends the call"
expect_screen phone1 "Ready" "idle: Ready"
expect_screen phone2 "Call ended|Ready" "Call ended / Ready"

# Ctrl-C quits: the phone leaves cleanly (`deskphone: exit` logged); make ends with it (exit 0, or
# by the SIGINT it re-raises, as for any interrupted recipe)
for name in phone1 phone2; do
  tm send-keys -t "$name" C-c
  # remain-on-exit keeps the dead pane: #{pane_dead_status} is make's exit status, empty when a
  # signal ended it (tmux 3.3 has no #{pane_dead_signal}; its `Pane is dead (signal 2, ...)` line
  # can be overdrawn by the phone's last screen)
  for ((i = 0; i < 100; i++)); do
    [[ $(tm display -p -t "$name" '#{pane_dead}') == 1 ]] && break
    sleep 0.1
  done
  how=$(tm display -p -t "$name" 'dead=#{pane_dead} status=#{pane_dead_status}')
  if [[ $how == "dead=1 status=0" || $how == "dead=1 status=" || $how == "dead=1 status=130" ]] &&
    grep -q "^deskphone: exit" "$work/$name.log"; then
    pass "$name: Ctrl-C quits: the phone logs its exit, make demo-run ends ($how)"
  else
    fail "$name: after Ctrl-C: make: $how; log: $(tail -2 "$work/$name.log" | tr '\n' '|')"
  fi
done

echo "$label: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
