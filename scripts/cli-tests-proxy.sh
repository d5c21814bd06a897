#!/usr/bin/env bash
# Calls of the deskphone executable through a real Record-Route proxy: Kamailio (Debian kamailio,
# Tests/Fixtures-call/kamailio/proxy.cfg) as registrar and proxy on loopback, started here as an
# ordinary process (its own pid file and runtime dir, killed at exit), SIPp as the far end
# (Tests/Fixtures-call/kamailio/*.xml, written by generate.py there). The phone registers at the
# proxy, so does SIPp (user 2000); then:
#   1. the phone calls 2000: ACK, the record key's INFO on/off, hold/resume both ways and the phone's
#      BYE all cross the proxy with its Route header (SIPp sees two Via lines on each request);
#   2. SIPp calls 1001 at the proxy: the phone's 180 and 200 carry the proxy's Record-Route
#      (RFC 3261 §12.1.1), so SIPp's ACK, re-INVITEs and BYE go through the proxy, and so do the
#      phone's INFO and re-INVITEs (its route set is the Record-Route in order);
#   3. SIPp calls and cancels while the phone rings (CANCEL, 487 through the proxy);
#   4. the phone calls and cancels while SIPp rings;
#   5, 6. baresip calls the phone and is called by it through the proxy;
#   7. the phone with the proxy as its outbound proxy (`account.1.outbound_proxy_enable`) and its
#      server only by a name it cannot resolve (pbx.test, the proxy's alias): REGISTER and INVITE
#      reach the proxy with its loose route (RFC 3261 §8.1.2), then case 1's call;
#   8. two accounts (1001 and 1002, `account.2.*`) register at the proxy, each with its own
#      contact; baresip calls 1002 through it and the phone answers on account 2;
#   9. RFC 5626 outbound (`account.1.sip_outbound.enable`) against a second Kamailio with outbound.so
#      and stun.so (proxy.cfg -A OUTBOUND, Flow-Timer 5 s, on 48101): the REGISTER carries
#      +sip.instance, reg-id and Supported: outbound (the registrar's log), the 200 says Require:
#      outbound and Flow-Timer 5 (the phone's log), Kamailio answers the phone's STUN keep-alives,
#      baresip's call reaches the phone over the flow; Kamailio stopped (SIGSTOP): no STUN response
#      means a flow failure and a new REGISTER, answered once Kamailio continues.
# What crossed the proxy is read from its log (one `PROXY ...` line per request and relayed
# reply): every in-dialog request must be `PROXY loose-route`, none `PROXY no-route`.
# No root needed. Each check prints `ok   ...` or `FAIL ...`; the last line is
# `cli-proxy: N passed, N failed`. KEEP_WORK=1 keeps the logs and SIPp traces; PROXY_CASES="2 3" runs
# some of the cases; PROXY_DEBUG=1 runs Kamailio at debug level 3 (every message in its log).
# usage: scripts/cli-tests-proxy.sh DESKPHONE      (ports: SIP 28000-28099, RTP 28100-28299; case 8's
#        phone SIP 45003, RTP 45200-45218; case 9: Kamailio 48101, phone 48103 and RTP 48200-48218,
#        baresip 48120 and RTP 48140-48159)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
fixtures=$root/Tests/Fixtures-call/kamailio
board=$root/board/sim.cfg
source "$root/scripts/cli-common.sh"
trap 'exit 130' INT TERM
export TERM=dumb
started=$(date +%s)

for tool in sipp kamailio python3 timeout; do
  if ! command -v "$tool" > /dev/null; then
    fail "$tool is not installed (scripts/install-deps.sh)"
    summary cli-proxy
    exit 1
  fi
done

# Port plan: the proxy 28001, the phone 28003 (SIP) and 28200-28218 (RTP), SIPp 28010 (its calls),
# 28011 (its REGISTER), 28012 (control), 28100 (media).
proxy_port=28001
phone_port=28003
sipp_port=28010
proxy_log=$work/kamailio.log
proxy_rr="sip:127\\.0\\.0\\.1:$proxy_port;lr"  # the proxy's Record-Route URI (a regular expression)

# --- the proxy -----------------------------------------------------------------------------------

mkdir -p "$work/kamailio-run"
kamailio -f "$fixtures/proxy.cfg" -A "PROXY_PORT=$proxy_port" -A PROXY_DOMAIN=pbx.test -P "$work/kamailio.pid" -Y "$work/kamailio-run" \
  -DD -E -m 32 -M 8 ${PROXY_DEBUG:+--debug=3} > "$work/kamailio.out" 2> "$proxy_log" &
kamailio_pid=$!
pids+=("$kamailio_pid")
if wait_udp "$proxy_port" && wait_for "$work/kamailio.pid" "$kamailio_pid" 1 5; then
  pass "kamailio $(kamailio -v 2> /dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p') listens on" \
    "127.0.0.1:$proxy_port (pid file, runtime dir of its own)"
else
  fail "kamailio did not start: $(grep -v '^$' "$proxy_log" | tail -3 | tr '\n' '|')"
  summary cli-proxy
  exit 1
fi

# proxy_mark: the proxy log's length now; proxy_since MARK FILE: its lines after MARK into FILE.
proxy_mark() { wc -l < "$proxy_log"; }
proxy_since() { tail -n +$(($1 + 1)) "$proxy_log" | grep -a 'PROXY ' > "$2"; }

# expect_proxy LABEL FILE COUNT REGEX WHAT: FILE (a slice of the proxy log) has COUNT lines
# matching REGEX (at least COUNT when COUNT is `N+`).
expect_proxy() {
  local label=$1 file=$2 count=$3 regex=$4 what=$5 got
  got=$(grep -a -c -E -- "$regex" "$file")
  if [[ $count == *+ && $got -ge ${count%+} ]] || [[ $got == "$count" ]]; then
    pass "$label: $what (${got}x through the proxy)"
  else
    fail "$label: $what: $got lines /$regex/ in the proxy's log, wanted $count"
    grep -a -E 'PROXY (request|no-route)' "$file" | sed 's/^.*PROXY /     | /' | head -n 30
  fi
}

# expect_first_in_dialog LABEL FILE METHOD WHAT: the first request the proxy loose-routed is METHOD.
expect_first_in_dialog() {
  local first
  first=$(grep -a -m 1 'PROXY loose-route ' "$2" | sed 's/.*PROXY loose-route \([A-Z]*\) .*/\1/')
  if [[ $first == "$3" ]]; then
    pass "$1: $4 is the first request loose-routed by the proxy"
  else
    fail "$1: $4: the first request loose-routed by the proxy is '${first}', not $3"
  fi
}

# expect_no_bypass LABEL FILE: no in-dialog request reached the proxy without its Route.
expect_no_bypass() {
  if grep -a -q 'PROXY no-route' "$1/proxy.log"; then
    fail "$2: in-dialog requests without the proxy's Route: $(grep -a 'PROXY no-route' "$1/proxy.log" |
      sed 's/^.*PROXY no-route //' | cut -d: -f1 | tr '\n' '|')"
  else
    pass "$2: no in-dialog request reached the proxy without its Route header"
  fi
}

# --- SIPp and the phone --------------------------------------------------------------------------

# run_sipp DIR NAME ARGS...: SIPp in DIR (traces there, stdout NAME.out), one call, bounded.
start_sipp() {
  local dir=$1 name=$2
  shift 2
  (cd "$dir" && exec timeout -k 3 45 sipp "$@" -i 127.0.0.1 -m 1 -nostdin -timeout 30s -timeout_error \
    -trace_err -trace_msg > "$name.out" 2>&1) &
  sipp_pid=$!
  pids+=("$sipp_pid")
}

# register_sipp DIR: SIPp registers 2000 at the proxy with the contact of the SIPp on $sipp_port.
register_sipp() {
  local status
  start_sipp "$1" register 127.0.0.1:$proxy_port -sf "$fixtures/register.xml" -p 28011 \
    -key user 2000 -key contact_port "$sipp_port"
  reap status "$sipp_pid"
  [ "$status" -eq 0 ] || fail "$1: SIPp could not register 2000 at the proxy (status $status)"
}

# start_phone DIR ARGS...: the phone registered at the proxy, its control FIFO open on fd $phone_fd.
start_phone() {
  local dir=$1
  shift
  {
    echo '#!version:1.0.0.1'
    echo 'account.1.enable = 1'
    echo 'account.1.user_name = 1001'
    echo 'account.1.display_name = Desk'
    echo 'account.1.codecs = pcmu'
    if [ -n "${outbound_proxy:-}" ]; then
      # The server by a name the phone cannot resolve: only the outbound proxy is located.
      echo 'account.1.sip_server.1.address = pbx.test'
      echo 'account.1.outbound_proxy_enable = 1'
      echo "account.1.outbound_proxy.1.address = 127.0.0.1"
      echo "account.1.outbound_proxy.1.port = $proxy_port"
    else
      echo 'account.1.sip_server.1.address = 127.0.0.1'
      echo "account.1.sip_server.1.port = $proxy_port"
    fi
    echo 'account.1.sip_server.1.expires = 300'
    echo 'sip.listen_address = 127.0.0.1'
    echo "sip.listen_port = $phone_port"
    echo "rtp.port_min = ${rtp_min:-28200}"
    echo "rtp.port_max = ${rtp_max:-28218}"
    [ -n "${extra_cfg:-}" ] && printf '%s\n' "$extra_cfg"
  } > "$dir/phone.cfg"
  mkfifo "$dir/phone.ctl"
  exec {phone_fd}<> "$dir/phone.ctl"
  (cd "$dir" && exec timeout -k 3 60 "$deskphone" --board "$board" --config phone.cfg --control phone.ctl "$@" \
    > phone.log 2> phone.err) &
  phone_pid=$!
  pids+=("$phone_pid")
  if ! wait_re "$dir/phone.log" '^registration: registered' 1 10; then
    fail "$(basename "$dir"): the phone did not register at the proxy: $(tail -n 3 "$dir/phone.log" | tr '\n' '|')"
  fi
}
phone() { printf '%s\n' "$1" >&"$phone_fd"; }

# step LABEL FILE REGEX [COUNT]: waits for the phone's log line; a failure names the step.
step() {
  if ! wait_re "$2" "$3" "${4:-1}" 15; then
    fail "$1: no phone log line /$3/ (${4:-1}x): $(tail -n 3 "$2" | tr '\n' '|')"
    return 1
  fi
}

# finish LABEL DIR: `quit` to the phone, its exit status, SIPp's.
finish() {
  local label=$1 dir=$2 status
  phone quit
  reap status "$phone_pid"
  if [ "$status" -eq 0 ] && grep -q '^deskphone: exit' "$dir/phone.log"; then
    pass "$label: the phone exits on 'quit' with status 0"
  else
    fail "$label: the phone exited with status $status: $(tail -n 3 "$dir/phone.err" | tr '\n' '|')"
  fi
  exec {phone_fd}>&-
  reap status "$sipp_pid"
  if [ "$status" -eq 0 ]; then
    pass "$label: SIPp's scenario passed ($(sed -n 's/^<!-- Generated by generate.py (edit that, not this file). //p' \
      "$fixtures/$3.xml" | cut -c1-60)...)"
  else
    fail "$label: SIPp's scenario $3 failed (status $status): $(grep -a -h -E 'check_it|Aborting|unexpected' \
      "$dir"/*_errors.log 2> /dev/null | head -n 3 | tr '\n' '|')"
  fi
}

# --- 1. the phone calls 2000 through the proxy ---------------------------------------------------
case_1() {
  label="1 phone calls via proxy"
  dir=$work/1-outgoing
  mkdir -p "$dir"
  mark=$(proxy_mark)
  phone_calls_2000
}

# phone_calls_2000: in $dir, as $label, from $mark: SIPp registers 2000, the phone calls it,
# records on and off, holds and resumes both ways and hangs up; what the proxy saw is checked.
phone_calls_2000() {
  register_sipp "$dir"
  start_sipp "$dir" sipp -sf "$fixtures/uas-proxied.xml" -p "$sipp_port" -mp 28100 -cp 28012
  wait_udp "$sipp_port" || fail "$label: SIPp did not start"
  start_phone "$dir"
  phone "dial 2000"
  if step "$label" "$dir/phone.log" '^call 1: connected'; then
    phone "key record"
    step "$label" "$dir/phone.log" '^recording: call 1: recording on ' && phone "key record"
    step "$label" "$dir/phone.log" '^recording: call 1: recording off '
    phone hold
    step "$label" "$dir/phone.log" '^call 1: held$' && phone resume
    step "$label" "$dir/phone.log" '^call 1: connected' 2
    step "$label" "$dir/phone.log" '^call 1: held by remote'
    step "$label" "$dir/phone.log" '^call 1: connected' 3 && phone hangup
    step "$label" "$dir/phone.log" '^call 1: ended'
  fi
  finish "$label" "$dir" uas-proxied
  proxy_since "$mark" "$dir/proxy.log"
  expect_lines "$label" "$dir/phone.log" '^call 1: calling' '^call 1: ringing' '^call 1: connected' \
    '^call 1: held$' '^call 1: connected' '^call 1: held by remote' '^call 1: connected' \
    '^call 1: ended \(local hang-up\)'
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY record-route INVITE sip:2000@' "the phone's INVITE is record-routed"
  expect_first_in_dialog "$label" "$dir/proxy.log" ACK "the phone's ACK of the 200"
  expect_proxy "$label" "$dir/proxy.log" 2 'PROXY loose-route INFO ' "the record key's INFO on and off"
  expect_proxy "$label" "$dir/proxy.log" 4 'PROXY loose-route INVITE ' "re-INVITEs: hold/resume both ways"
  expect_proxy "$label" "$dir/proxy.log" 5 'PROXY loose-route ACK ' "ACKs: the call's and the four re-INVITEs'"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY loose-route BYE ' "the phone's BYE"
  expect_proxy "$label" "$dir/proxy.log" 1 "PROXY request BYE .*route=\\[<sip:127\\.0\\.0\\.1:$proxy_port;lr" \
    "the phone's BYE carries the proxy's Route"
  expect_no_bypass "$dir" "$label"
}

# --- 7. an outbound proxy: the server only by name, every first request through the proxy -------
case_7() {
  label="7 phone via outbound proxy"
  dir=$work/7-outbound
  mkdir -p "$dir"
  mark=$(proxy_mark)
  outbound_proxy=1 phone_calls_2000
  expect_proxy "$label" "$dir/proxy.log" 2 \
    "PROXY request REGISTER sip:pbx\\.test cseq=\\[[0-9]+ REGISTER\\] .*route=\\[<sip:127\\.0\\.0\\.1:$proxy_port;lr>\\]" \
    "the REGISTER for pbx.test (a name the phone cannot resolve) and the one at quit reach the proxy with its Route"
  expect_proxy "$label" "$dir/proxy.log" 2 "PROXY registered sip:1001@pbx\\.test " \
    "the proxy binds 1001@pbx.test and unbinds it at quit"
  expect_proxy "$label" "$dir/proxy.log" 1 \
    "PROXY outbound-route INVITE sip:2000@pbx\\.test route=\\[<sip:127\\.0\\.0\\.1:$proxy_port;lr>\\]" \
    "the INVITE to 2000@pbx.test carries the outbound proxy's Route"
}

# --- 2. SIPp calls the phone through the proxy ---------------------------------------------------
case_2() {
  label="2 SIPp calls via proxy"
  dir=$work/2-incoming
  mkdir -p "$dir"
  mark=$(proxy_mark)
  # It rings 300 ms before answering: the proxy's two workers may otherwise relay a 200 sent right
  # after the 180 before it, and SIPp's scenario wants the 180 (with its Record-Route) first.
  start_phone "$dir" --answer auto --answer-delay 300
  start_sipp "$dir" sipp 127.0.0.1:$proxy_port -sf "$fixtures/uac-proxied.xml" -p "$sipp_port" -mp 28100 -cp 28012
  if step "$label" "$dir/phone.log" '^call 1: connected'; then
    sleep 0.3
    phone "key record"
    step "$label" "$dir/phone.log" '^recording: call 1: recording on ' && phone "key record"
    step "$label" "$dir/phone.log" '^recording: call 1: recording off '
    phone hold
    step "$label" "$dir/phone.log" '^call 1: held$' && phone resume
    step "$label" "$dir/phone.log" '^call 1: connected' 2
    step "$label" "$dir/phone.log" '^call 1: held by remote'
    step "$label" "$dir/phone.log" '^call 1: ended'
  fi
  finish "$label" "$dir" uac-proxied
  proxy_since "$mark" "$dir/proxy.log"
  expect_lines "$label" "$dir/phone.log" '^call 1: incoming from "SIPp" <sip:3000@' '^call 1: connected' \
    '^call 1: held$' '^call 1: connected' '^call 1: held by remote' '^call 1: connected' \
    '^call 1: ended \(remote hang-up\)'
  expect_proxy "$label" "$dir/proxy.log" 1 "PROXY lookup 1001 -> sip:1001@127\\.0\\.0\\.1:$phone_port" \
    "the proxy finds the phone by its registration"
  expect_proxy "$label" "$dir/proxy.log" 1 "PROXY reply 180 .*record-route=\\[<$proxy_rr" \
    "the phone's 180 carries the proxy's Record-Route"
  expect_proxy "$label" "$dir/proxy.log" 1 "PROXY reply 200 cseq=\\[1 INVITE\\].*record-route=\\[<$proxy_rr" \
    "the phone's 200 carries the proxy's Record-Route"
  expect_first_in_dialog "$label" "$dir/proxy.log" ACK "SIPp's ACK of the 200"
  expect_proxy "$label" "$dir/proxy.log" 2 'PROXY loose-route INFO ' "the phone's INFO on and off (its route set)"
  expect_proxy "$label" "$dir/proxy.log" 4 'PROXY loose-route INVITE ' "re-INVITEs: hold/resume both ways"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY loose-route BYE ' "SIPp's BYE"
  expect_no_bypass "$dir" "$label"
}

# --- 3. SIPp calls and cancels while the phone rings --------------------------------------------
case_3() {
  label="3 SIPp cancels via proxy"
  dir=$work/3-cancel-in
  mkdir -p "$dir"
  mark=$(proxy_mark)
  start_phone "$dir"
  start_sipp "$dir" sipp 127.0.0.1:$proxy_port -sf "$fixtures/uac-cancel-proxied.xml" -p "$sipp_port" -mp 28100 \
    -cp 28012
  step "$label" "$dir/phone.log" '^call 1: ended'
  finish "$label" "$dir" uac-cancel-proxied
  proxy_since "$mark" "$dir/proxy.log"
  expect_lines "$label" "$dir/phone.log" '^call 1: incoming' '^call 1: ended \(cancelled by caller\)'
  check_not "$label" "$dir/phone.log" "call 1: connected" "the cancelled call never connected"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY cancel sip:1001@' "SIPp's CANCEL is relayed to the phone"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY reply 487 cseq=\[1 INVITE\]' "the phone's 487 is relayed"
}

# --- 4. the phone calls and cancels while SIPp rings --------------------------------------------
case_4() {
  label="4 phone cancels via proxy"
  dir=$work/4-cancel-out
  mkdir -p "$dir"
  mark=$(proxy_mark)
  register_sipp "$dir"
  start_sipp "$dir" sipp -sf "$fixtures/uas-cancel-proxied.xml" -p "$sipp_port" -mp 28100 -cp 28012
  wait_udp "$sipp_port" || fail "$label: SIPp did not start"
  start_phone "$dir"
  phone "dial 2000"
  step "$label" "$dir/phone.log" '^call 1: ringing' && phone hangup
  step "$label" "$dir/phone.log" '^call 1: ended'
  finish "$label" "$dir" uas-cancel-proxied
  proxy_since "$mark" "$dir/proxy.log"
  expect_lines "$label" "$dir/phone.log" '^call 1: calling' '^call 1: ringing' '^call 1: ended \(cancelled\)'
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY cancel sip:2000@' "the phone's CANCEL is relayed to SIPp"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY reply 487 cseq=\[[0-9]+ INVITE\]' "SIPp's 487 is relayed"
}

# --- 5 and 6. baresip through the proxy --------------------------------------------------------
# A real user agent builds its route set from our responses: before the Record-Route fix its ACK and
# BYE went straight to the phone. baresip registers as bob (its own config dir, a tone as source).
# start_baresip DIR: baresip on 28020 registered at the proxy, its stdin FIFO on fd $bs_fd.
start_baresip() {
  local dir=$1
  mkdir -p "$dir/bs"
  python3 "$root/Tests/Fixtures-call/baresip/audio.py" tone "$dir/tone.wav" 8000 1000 30
  sed -e "s|@SIP_PORT@|${bs_port:-28020}|g" -e "s|@RTP_PORTS@|${bs_rtp:-28120-28139}|g" -e "s|@SOURCE@|$dir/tone.wav|g" \
    -e "s|@DIR@|$dir/bs|g" "$root/Tests/Fixtures-call/baresip/config.in" > "$dir/bs/config"
  echo "<sip:bob@127.0.0.1:$proxy_port>;regint=300;answermode=auto;audio_codecs=pcmu/8000/1" \
    > "$dir/bs/accounts"
  mkfifo "$dir/bs.in"
  exec {bs_fd}<> "$dir/bs.in"
  (exec timeout -k 3 60 baresip -f "$dir/bs" < "$dir/bs.in" > "$dir/bs.log" 2>&1) &
  bs_pid=$!
  pids+=("$bs_pid")
  local registered="PROXY registered sip:bob@127\\.0\\.0\\.1[:0-9]* contact=\\[<sip:bob[^@]*@127\\.0\\.0\\.1:${bs_port:-28020}" before
  before=$(grep -a -c -E -- "$registered" "$proxy_log")
  if ! wait_re "$proxy_log" "$registered" $((before + 1)) 15; then
    fail "$(basename "$dir"): baresip did not register at the proxy: $(grep -a -v '^$' "$dir/bs.log" | tail -n 3 |
      tr '\n' '|')"
  fi
}
baresip() { printf '%s\n' "$1" >&"$bs_fd"; }

# finish_baresip LABEL DIR: `quit` to the phone and baresip; the phone's status.
finish_baresip() {
  local label=$1 dir=$2 status
  phone quit
  reap status "$phone_pid"
  if [ "$status" -eq 0 ] && grep -q '^deskphone: exit' "$dir/phone.log"; then
    pass "$label: the phone exits on 'quit' with status 0"
  else
    fail "$label: the phone exited with status $status: $(tail -n 3 "$dir/phone.err" | tr '\n' '|')"
  fi
  exec {phone_fd}>&-
  baresip /quit
  reap status "$bs_pid"
  exec {bs_fd}>&-
}

case_5() {
  label="5 baresip calls via proxy"
  dir=$work/5-baresip-in
  mkdir -p "$dir"
  mark=$(proxy_mark)
  start_phone "$dir" --answer auto
  start_baresip "$dir"
  baresip "/dial sip:1001@127.0.0.1:$proxy_port"
  if step "$label" "$dir/phone.log" '^call 1: connected'; then
    sleep 1
    baresip /hold
    step "$label" "$dir/phone.log" '^call 1: held by remote' && sleep 0.5 && baresip /resume
    step "$label" "$dir/phone.log" '^call 1: connected' 2 && sleep 0.5 && baresip /hangup
    step "$label" "$dir/phone.log" '^call 1: ended'
  fi
  finish_baresip "$label" "$dir"
  proxy_since "$mark" "$dir/proxy.log"
  expect_lines "$label" "$dir/phone.log" '^call 1: incoming from .*<sip:bob@127\.0\.0\.1' '^call 1: connected' \
    '^call 1: held by remote' '^call 1: connected' '^call 1: ended \(remote hang-up\)'
  expect_proxy "$label" "$dir/proxy.log" 1 "PROXY reply 200 cseq=\\[[0-9]+ INVITE\\].*record-route=\\[<$proxy_rr" \
    "the phone's 200 carries the proxy's Record-Route"
  expect_first_in_dialog "$label" "$dir/proxy.log" ACK "baresip's ACK of the 200"
  expect_proxy "$label" "$dir/proxy.log" 2 'PROXY loose-route INVITE ' "baresip's hold and resume re-INVITEs"
  expect_proxy "$label" "$dir/proxy.log" 3 'PROXY loose-route ACK ' "baresip's ACKs (the call's, the re-INVITEs')"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY loose-route BYE ' "baresip's BYE"
  expect_no_bypass "$dir" "$label"
}

case_6() {
  label="6 phone calls baresip via proxy"
  dir=$work/6-baresip-out
  mkdir -p "$dir"
  mark=$(proxy_mark)
  start_baresip "$dir"
  start_phone "$dir"
  phone "dial bob"
  if step "$label" "$dir/phone.log" '^call 1: connected'; then
    sleep 0.5
    phone "key record"  # baresip 1.0.0 answers this INFO 488: it still crosses the proxy
    step "$label" "$dir/phone.log" '^recording: call 1: .* after 4[0-9][0-9] '
    phone hold
    step "$label" "$dir/phone.log" '^call 1: held$' && sleep 0.5 && phone resume
    step "$label" "$dir/phone.log" '^call 1: connected' 2 && sleep 0.5 && phone hangup
    step "$label" "$dir/phone.log" '^call 1: ended'
  fi
  finish_baresip "$label" "$dir"
  proxy_since "$mark" "$dir/proxy.log"
  expect_lines "$label" "$dir/phone.log" '^call 1: calling' '^call 1: connected' '^call 1: held$' \
    '^call 1: connected' '^call 1: ended \(local hang-up\)'
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY lookup bob -> sip:bob[^@]*@127\.0\.0\.1:28020' \
    "the proxy finds baresip by its registration"
  expect_first_in_dialog "$label" "$dir/proxy.log" ACK "the phone's ACK of baresip's 200"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY loose-route INFO ' "the record key's INFO"
  expect_proxy "$label" "$dir/proxy.log" 2 'PROXY loose-route INVITE ' "the phone's hold and resume re-INVITEs"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY loose-route BYE ' "the phone's BYE"
  expect_no_bypass "$dir" "$label"
}

# --- 8. two accounts: baresip calls account 2 through the proxy -----------------------------------
case_8() {
  label="8 two accounts via proxy"
  dir=$work/8-accounts
  mkdir -p "$dir"
  mark=$(proxy_mark)
  local saved_port=$phone_port
  phone_port=45003 rtp_min=45200 rtp_max=45218
  extra_cfg="account.2.enable = 1
account.2.user_name = 1002
account.2.label = Sales
account.2.codecs = pcmu
account.2.sip_server.1.address = 127.0.0.1
account.2.sip_server.1.port = $proxy_port
account.2.sip_server.1.expires = 300"
  start_phone "$dir" --answer auto
  step "$label" "$dir/phone.log" '^registration \(account 2\): registered'
  start_baresip "$dir"
  baresip "/dial sip:1002@127.0.0.1:$proxy_port"
  if step "$label" "$dir/phone.log" '^call 1: connected'; then
    sleep 0.5
    baresip /hangup
    step "$label" "$dir/phone.log" '^call 1: ended'
  fi
  finish_baresip "$label" "$dir"
  phone_port=$saved_port
  unset rtp_min rtp_max extra_cfg
  proxy_since "$mark" "$dir/proxy.log"
  expect_lines "$label" "$dir/phone.log" '^registration: registered' \
    '^call 1: incoming from .*<sip:bob@127\.0\.0\.1.* on account 2 \(Sales\)$' '^call 1: connected' \
    '^call 1: ended \(remote hang-up\)'
  expect_lines "$label" "$dir/phone.log" '^registration \(account 2\): registered'
  expect_proxy "$label" "$dir/proxy.log" 2 "PROXY registered sip:1001@127\\.0\\.0\\.1[:0-9]* contact=\\[<sip:1001@127\\.0\\.0\\.1:45003" \
    "account 1 registers its contact (and unregisters it at quit)"
  expect_proxy "$label" "$dir/proxy.log" 2 "PROXY registered sip:1002@127\\.0\\.0\\.1[:0-9]* contact=\\[<sip:1002@127\\.0\\.0\\.1:45003" \
    "account 2 registers its own contact on the same port (and unregisters it at quit)"
  expect_proxy "$label" "$dir/proxy.log" 1 "PROXY lookup 1002 -> sip:1002@127\\.0\\.0\\.1:45003" \
    "the proxy finds account 2 by its registration"
  expect_proxy "$label" "$dir/proxy.log" 1 'PROXY loose-route BYE ' "baresip's BYE"
  expect_no_bypass "$dir" "$label"
}

# --- 9. RFC 5626 outbound against Kamailio's outbound and stun modules -----------------------------
case_9() {
  label="9 outbound (RFC 5626)"
  dir=$work/9-outbound
  mkdir -p "$dir/kamailio-run"
  local saved_proxy=$proxy_port saved_log=$proxy_log saved_phone=$phone_port ob_pid status
  proxy_port=48101 proxy_log=$dir/kamailio.log phone_port=48103 rtp_min=48200 rtp_max=48218
  bs_port=48120 bs_rtp=48140-48159
  kamailio -f "$fixtures/proxy.cfg" -A "PROXY_PORT=$proxy_port" -A PROXY_DOMAIN=pbx.test -A OUTBOUND -A FLOW_TIMER=5 \
    -P "$dir/kamailio.pid" -Y "$dir/kamailio-run" -DD -E -m 32 -M 8 > "$dir/kamailio.out" 2> "$proxy_log" &
  ob_pid=$!
  pids+=("$ob_pid")
  if wait_udp "$proxy_port" && wait_for "$dir/kamailio.pid" "$ob_pid" 1 5; then
    extra_cfg="account.1.sip_outbound.enable = 1
account.1.nat.udp_update_enable = 0
network.mac = 00:15:65:12:34:56"
    start_phone "$dir" --answer auto
    step "$label" "$dir/phone.log" '^sip: registration: outbound flow \(RFC 5626\), reg-id 1, Flow-Timer 5 s$'
    step "$label" "$dir/phone.log" '^sip: registration: STUN keep-alive answered by 127\.0\.0\.1:48101: the flow.s NAT mapping is 127\.0\.0\.1:48103$'
    start_baresip "$dir"
    baresip "/dial sip:1001@127.0.0.1:$proxy_port"
    if step "$label" "$dir/phone.log" '^call 1: connected'; then
      sleep 1
      baresip /hangup
      step "$label" "$dir/phone.log" '^call 1: ended'
    fi
    # Kamailio stops answering (every process of it stopped): the next STUN keep-alive gets no
    # response, the flow failed, the phone registers again, and is answered once Kamailio goes on.
    kill -STOP "$ob_pid" $(pgrep -P "$ob_pid")
    step "$label" "$dir/phone.log" '^sip: registration: UDP 127\.0\.0\.1:48101: no STUN response within 9\.5 s: registering again$' 1 \
      && sleep 1
    kill -CONT "$ob_pid" $(pgrep -P "$ob_pid")
    step "$label" "$dir/phone.log" '^registration: registered' 2
    finish_baresip "$label" "$dir"
    proxy_since 0 "$dir/proxy.log"
    expect_lines "$label" "$dir/phone.log" '^sip: registration: outbound flow' '^registration: registered' \
      '^sip: registration: STUN keep-alive answered' '^call 1: incoming from .*<sip:bob@127\.0\.0\.1' \
      '^call 1: connected' '^call 1: ended \(remote hang-up\)' '^sip: registration: .*no STUN response' \
      '^registration: registered'
    expect_proxy "$label" "$dir/proxy.log" 1+ "PROXY registered sip:1001@127\\.0\\.0\\.1[:0-9]* contact=\\[<sip:1001@127\\.0\\.0\\.1:48103>;expires=300;\\+sip\\.instance=\"<urn:uuid:[0-9a-f-]{36}>\";reg-id=1\\] supported=\\[outbound, path\\]" \
      "REGISTER carries +sip.instance, reg-id=1 and Supported: outbound, path"
    expect_proxy "$label" "$dir/proxy.log" 1 "PROXY lookup 1001 -> sip:1001@127\\.0\\.0\\.1:48103" \
      "the registrar finds the phone's flow for baresip's INVITE"
    expect_proxy "$label" "$dir/proxy.log" 1 'PROXY loose-route BYE ' "baresip's BYE"
    # The instance is the same in every REGISTER (before and after the flow failure).
    local instances
    instances=$(grep -a -o 'sip\.instance="<urn:uuid:[0-9a-f-]*>"' "$dir/proxy.log" | sort -u | wc -l)
    if [ "$instances" -eq 1 ]; then pass "$label: one +sip.instance in every REGISTER"
    else fail "$label: $instances different +sip.instance values"; fi
  else
    fail "$label: kamailio with outbound.so and stun.so did not start: $(grep -v '^$' "$proxy_log" | tail -3 | tr '\n' '|')"
  fi
  kill "$ob_pid" 2> /dev/null
  reap status "$ob_pid"
  if grep -a -q -E ' (CRITICAL|ALERT|BUG|ERROR): ' "$proxy_log"; then
    fail "$label: kamailio logged errors: $(grep -a -E ' (CRITICAL|ALERT|BUG|ERROR): ' "$proxy_log" | head -n 3 | tr '\n' '|')"
  fi
  proxy_port=$saved_proxy proxy_log=$saved_log phone_port=$saved_phone
  unset rtp_min rtp_max extra_cfg bs_port bs_rtp
}

for k in ${PROXY_CASES:-1 2 3 4 5 6 7 8 9}; do
  case_$k
done

# --- the proxy ends cleanly ------------------------------------------------------------------------
kill "$kamailio_pid" 2> /dev/null
reap status "$kamailio_pid"
if [ ! -e /proc/"$kamailio_pid" ] && ! pgrep -F "$work/kamailio.pid" > /dev/null 2>&1; then
  pass "kamailio stops on SIGTERM (status $status)"
else
  fail "kamailio still runs after SIGTERM"
fi
if grep -a -q -E ' (CRITICAL|ALERT|BUG|ERROR): ' "$proxy_log"; then
  fail "kamailio logged errors: $(grep -a -E ' (CRITICAL|ALERT|BUG|ERROR): ' "$proxy_log" | head -n 3 | tr '\n' '|')"
else
  pass "kamailio logged no ERROR, CRITICAL, ALERT or BUG line"
fi
[ -n "${KEEP_WORK:-}" ] && cp "$proxy_log" "$work/kamailio-all.log"

echo "     cli-proxy ran $(($(date +%s) - started)) s"
summary cli-proxy
