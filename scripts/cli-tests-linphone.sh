#!/usr/bin/env bash
# Interop of the deskphone executable with linphone (Debian 12 `linphone-cli`: linphonec on
# liblinphone 5.1) on loopback: reliable provisional responses (RFC 3262, 100rel/PRACK) and early media.
#   A. linphone calls the phone (account.1.100rel_enable = 1, answer after 1 s): the phone's 180
#      is reliable (Require: 100rel, RSeq), linphone PRACKs it, the call connects, linphone hangs
#      up and the phone ends the call; linphone's STUN binding requests to the media ports are not
#      counted malformed.
#   B. the phone calls linphone (early media on, `answer` after it rings): liblinphone 5.1 sends
#      reliable provisionals only to a caller that requires them, so its 183 with SDP comes
#      unreliably: the phone starts media on it, sends no PRACK, connects on the 200, hangs up, and
#      linphone sees the BYE. (The phone's PRACKs are tested against SIPp in cli-tests-timers.sh.)
# The script runs in a network namespace of its own with loopback only (`unshare -rn`): liblinphone
# advertises in SDP the address of the route to the outside (an IPv6 one here), and with no route
# but loopback it takes 127.0.0.1. linphonec needs its database directory under $HOME, or it opens
# no SIP port at all; $HOME is the script's work directory.
# Each check prints `ok   ...` or `FAIL ...`; the last line is `cli-linphone: N passed, N failed`.
# usage: scripts/cli-tests-linphone.sh DESKPHONE     (ports, inside the namespace: SIP 47001-47011,
#        RTP 47020-47049)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
if [ -z "${DESKPHONE_NETNS:-}" ]; then
  DESKPHONE_NETNS=1 exec unshare -rn "$0" "$deskphone"
fi
source "$root/scripts/cli-common.sh"
trap 'exit 130' INT TERM
command -v linphonec > /dev/null || {
  fail "linphonec is not installed (scripts/install-deps.sh: linphone-cli)"
  summary cli-linphone
  exit 1
}
ip link set lo up || { fail "loopback in the test's network namespace"; summary cli-linphone; exit 1; }
export HOME=$work/home
mkdir -p "$HOME/.local/share/linphone"

# start_linphone NAME: linphonec with a private configuration on 127.0.0.1:47010 (UDP only,
# 100rel on, no automatic network watching), its commands through the FIFO on fd $lp_fd, its
# log (SIP messages whole, -d 6) in $work/NAME/lp.log.
start_linphone() {
  local dir=$work/$1
  mkdir -p "$dir"
  cat > "$dir/lprc" << 'EOF'
[sip]
sip_port=47010
sip_tcp_port=0
sip_tls_port=0
bind_address=127.0.0.1
contact=sip:linphone@127.0.0.1
100rel=1
supported=replaces, 100rel
auto_net_state_mon=0
incoming_calls_early_media=1
register_only_when_network_is_up=0
guess_hostname=0
[rtp]
audio_rtp_port=47020
rtcp_mux=0
[sound]
echocancellation=0
EOF
  mkfifo "$dir/lp.in"
  exec {lp_fd}<> "$dir/lp.in"
  (cd "$dir" && exec timeout -k 3 40 linphonec -c "$dir/lprc" -d 6 < lp.in > lp.log 2>&1) &
  lp_pid=$!
  pids+=("$lp_pid")
  wait_udp 47010 || fail "$1: linphonec opened no SIP port: $(grep -a -i -m3 'error' "$dir/lp.log" | tr '\n' '|')"
}
linphone() { printf '%s\n' "$1" >&"$lp_fd"; }

# phone_cfg DIR: the phone on 127.0.0.1:47001 with 100rel on, PCMU.
phone_cfg() {
  mkdir -p "$1"
  printf '%s\n' '#!version:1.0.0.1' 'account.1.user_name = 1001' 'sip.listen_address = 127.0.0.1' \
    'sip.listen_port = 47001' 'rtp.port_min = 47030' 'rtp.port_max = 47039' 'account.1.codecs = pcmu' \
    'account.1.100rel_enable = 1' > "$1/phone.cfg"
}

# finish NAME: linphonec quits; both must have left.
finish() {
  local status
  linphone quit
  reap status "$lp_pid"
  exec {lp_fd}>&-
  [ "$status" = 0 ] && pass "$1: linphonec quit" || fail "$1: linphonec exited $status"
  reap status "$phone_pid"
  [ "$status" = 0 ] && pass "$1: the phone exited 0" || fail "$1: the phone exited $status: $(tail -n 2 "$work/$1/phone.err" | tr '\n' '|')"
}

# --- A. linphone calls the phone -------------------------------------------------------------------
phone_cfg "$work/in"
(cd "$work/in" && exec timeout -k 3 30 "$deskphone" --board "$root/board/sim.cfg" --config phone.cfg \
  --answer auto --answer-delay 1000 --exit-after-call > phone.log 2> phone.err) &
phone_pid=$!
pids+=("$phone_pid")
wait_for "$work/in/phone.log" "sip: listening" 1 10 || fail "in: the phone did not start"
start_linphone in
linphone "call sip:1001@127.0.0.1:47001"
if wait_for "$work/in/phone.log" "call 1: connected" 1 10; then pass "in: linphone's call connects"; else
  fail "in: no connected call: $(tail -n 4 "$work/in/phone.log" | tr '\n' '|')"; fi
lp=$work/in/lp.log
check in "$lp" "Supported: replaces, 100rel" "linphone's INVITE says Supported: 100rel"
if grep -a -A12 '^SIP/2.0 180 Ringing' "$lp" | grep -a -q '^Require: 100rel' \
  && grep -a -A12 '^SIP/2.0 180 Ringing' "$lp" | grep -a -q '^RSeq: [0-9]'; then
  pass "in: the phone's 180 is reliable (Require: 100rel, RSeq)"
else fail "in: no reliable 180 in linphone's log"; fi
if wait_re "$lp" '^PRACK sip:1001@127\.0\.0\.1:47001' 1 5; then pass "in: linphone PRACKs the 180"; else
  fail "in: linphone sent no PRACK"; fi
rseq=$(grep -a -A12 '^SIP/2.0 180 Ringing' "$lp" | grep -a -m1 '^RSeq:' | tr -dc '0-9')
if grep -a -A12 '^PRACK sip:' "$lp" | grep -a -q "^RAck: $rseq [0-9]* INVITE"; then
  pass "in: the PRACK's RAck names the 180 (RSeq $rseq)"
else fail "in: the PRACK's RAck does not name RSeq $rseq"; fi
sleep 1
linphone terminate
if wait_for "$work/in/phone.log" "call 1: ended (remote hang-up)" 1 10; then pass "in: linphone hangs up, the call ends"; else
  fail "in: the call did not end: $(tail -n 3 "$work/in/phone.log" | tr '\n' '|')"; fi
if wait_re "$work/in/phone.log" '^call 1: stats ' 1 5 && grep -a -q '^call 1: stats .* malformed=0 ' "$work/in/phone.log"; then
  pass "in: nothing counted malformed (linphone's STUN requests to the media ports are dropped)"
else fail "in: $(grep -a -m1 '^call 1: stats' "$work/in/phone.log" | cut -c1-120)"; fi
finish in

# --- B. the phone calls linphone -------------------------------------------------------------------
phone_cfg "$work/out"
start_linphone out
(cd "$work/out" && exec timeout -k 3 30 "$deskphone" --board "$root/board/sim.cfg" --config phone.cfg \
  --dial "sip:linphone@127.0.0.1:47010" --hangup-after 2 --exit-after-call > phone.log 2> phone.err) &
phone_pid=$!
pids+=("$phone_pid")
lp=$work/out/lp.log
wait_re "$work/out/phone.log" '^call 1: ringing' 1 10 || fail "out: linphone does not ring"
sleep 0.5
linphone answer
if wait_for "$work/out/phone.log" "call 1: connected" 1 15; then pass "out: linphone answers the phone's call"; else
  fail "out: no connected call: $(tail -n 4 "$work/out/phone.log" | tr '\n' '|')"; fi
check out "$lp" "Supported: 100rel" "the phone's INVITE says Supported: 100rel"
# liblinphone 5.1 rings a caller that only supports 100rel unreliably (no RSeq), with its SDP in
# a 183 (early media): the phone must take the answer from it and send no PRACK.
if grep -a -A14 '^SIP/2.0 183 ' "$lp" | grep -a -q '^Content-Type: application/sdp'; then
  pass "out: linphone sends early media (183 with SDP)"
else fail "out: no 183 with SDP from linphone"; fi
media_at=$(grep -a -n -m1 '^call 1: media ' "$work/out/phone.log" | cut -d: -f1)
connected_at=$(grep -a -n -m1 '^call 1: connected' "$work/out/phone.log" | cut -d: -f1)
if [ -n "$media_at" ] && [ -n "$connected_at" ] && [ "$media_at" -lt "$connected_at" ]; then
  pass "out: the phone's media starts on the 183's answer, before the 200"
else fail "out: media not from the 183: $(grep -a -E '^call 1: (media|ringing|connected)' "$work/out/phone.log" | tr '\n' '|')"; fi
check_not out "$lp" "PRACK sip:" "no PRACK for an unreliable 1xx (no RSeq, no Require: 100rel)"
if wait_for "$work/out/phone.log" "call 1: ended (local hang-up)" 1 10 && wait_re "$lp" '^BYE sip:' 1 5; then
  pass "out: the phone hangs up, linphone receives the BYE"
else fail "out: no BYE at linphone: $(tail -n 3 "$work/out/phone.log" | tr '\n' '|')"; fi
finish out
summary cli-linphone
