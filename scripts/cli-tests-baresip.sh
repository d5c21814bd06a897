#!/usr/bin/env bash
# Interop of the deskphone executable with baresip (Debian 12 `baresip-core`, 1.0.0) on loopback,
# no sound card: calls both ways with G.711 (PCMU, PCMA), G.722 and Opus, two-way audio compared
# by content (a tone each way, found again in what the other side decoded), hold and resume
# from either side, DTMF (RFC 4733) both ways, BYE from either side, CANCEL of an unanswered
# call both ways, RTCP (a round trip from baresip's reports), SRTP with SDES keys both ways (baresip's
# srtp module, `mediaenc=srtp-mand`; deskphone `account.1.srtp_encryption = 2`), over UDP (scenarios
# 9, 10) and over TLS (11, 12: both phones registered over TLS at Kamailio, the registrar of
# scripts/cli-tests-tls.sh, with a test PKI made here by openssl; baresip's SIP trace all TLS, no
# plain-transport warning at deskphone). baresip runs with a private
# configuration (Tests/Fixtures-call/baresip), its stdin UI driven through a FIFO and its SIP
# trace (-s) in its log; deskphone runs in call mode
# with --control FIFO and raw --audio-in/--audio-out files. Each check prints `ok   ...` or
# `FAIL ...`; the last line is `cli-baresip: N passed, N failed`.
# usage: scripts/cli-tests-baresip.sh DESKPHONE
#   BARESIP_SCENARIOS="0 3"  runs only those scenarios;  BARESIP_KEEP=1  keeps the work directory.
# Ports: SIP 26100-26199 (scenario N: deskphone 26100+4N, baresip 26102+4N, its TLS 26103+4N),
# RTP 31000-31999 (deskphone 31000+40N..+19, baresip 31020+40N..+39); the TLS scenarios: 46001-46179
# (see their section).
set -uo pipefail
label=cli-baresip
if [[ $# -ne 1 ]]; then
  echo "usage: $0 DESKPHONE" >&2
  exit 2
fi
deskphone=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$root/Tests/Fixtures-call/baresip
[[ -n ${BARESIP_KEEP:-} ]] && KEEP_WORK=1
source "$root/scripts/cli-common.sh"
# baresip may sit out a TERM: those still alive after half a second are killed before
# cli-common's cleanup waits for them.
cleanup_more() {
  local pid alive=()
  for pid in "${pids[@]+"${pids[@]}"}"; do
    kill -0 "$pid" 2>/dev/null && alive+=("$pid") && kill -TERM "$pid" 2>/dev/null
  done
  if [[ ${#alive[@]} -gt 0 ]]; then
    sleep 0.5
    for pid in "${alive[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  fi
}
# Waits stop at once when this scenario's deskphone or baresip has died.
still_running() {
  [[ -z ${dp_pid:-} ]] || kill -0 "$dp_pid" 2> /dev/null || return 1
  [[ -z ${bs_pid:-} ]] || kill -0 "$bs_pid" 2> /dev/null
}
trap 'exit 130' INT TERM

for tool in "$deskphone" baresip python3; do
  if ! command -v "$tool" > /dev/null; then
    fail "$tool is not installed (scripts/install-deps.sh installs baresip-core)"
    summary "$label"
    exit 1
  fi
done

# wait_exit PID [SECONDS]: the process's exit status; TERM then KILL (status 124) when it hangs.
wait_exit() {
  local pid=$1 seconds=${2:-10} i
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid" 2> /dev/null
    sleep 1
    kill -KILL "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    return 124
  fi
  wait "$pid" 2> /dev/null
}

# --- test signals: a tone each way, at each rate the codecs use (files outlast every call: --
# baresip's aufile source ends the call at the end of its file)
signals=$work/signals
mkdir -p "$signals"
python3 "$fixtures/audio.py" tone "$signals/bs-1000-8k.wav" 8000 1000 30 &&
  python3 "$fixtures/audio.py" tone "$signals/bs-5000-16k.wav" 16000 5000 30 &&
  python3 "$fixtures/audio.py" tone "$signals/bs-5000-48k.wav" 48000 5000 30 &&
  python3 "$fixtures/audio.py" tone "$signals/dp-700-8k.raw" 8000 700 30 &&
  python3 "$fixtures/audio.py" tone "$signals/dp-6000-16k.raw" 16000 6000 30 ||
  fail "test signals could not be written"

# --- one scenario: a deskphone and a baresip, their logs, FIFOs and audio files under $dir
# begin N TITLE: the ports and directory of scenario N.
begin() {
  n=$1
  dir=$work/s$n
  mkdir -p "$dir/bs"
  dp_sip=$((26100 + 4 * n))
  bs_sip=$((26102 + 4 * n))
  dp_rtp_min=$((31000 + 40 * n))
  dp_rtp_max=$((dp_rtp_min + 19))
  bs_rtp_min=$((31020 + 40 * n))
  bs_rtp_max=$((bs_rtp_min + 19))
  dp_log=$dir/dp.log
  bs_log=$dir/bs.log
  dp_pid=
  bs_pid=
  dp_fd=
  bs_fd=
  echo "== $n. $2"
}

# start_baresip SOURCE ANSWERMODE [CODEC]: baresip with its own config dir; CODEC
# (name/rate/channels) limits its offer and answer to that codec.
start_baresip() {
  local source=$1 answermode=$2 codecs=${3:+;audio_codecs=$3}
  sed -e "s|@SIP_PORT@|$bs_sip|g" -e "s|@RTP_PORTS@|$bs_rtp_min-$bs_rtp_max|g" -e "s|@SOURCE@|$source|g" \
    -e "s|@DIR@|$dir/bs|g" "$fixtures/config.in" > "$dir/bs/config"
  sed -e "s|@SIP_PORT@|$bs_sip|g" -e "s|@ANSWERMODE@|$answermode|g" -e "s|@CODECS@|$codecs|g" \
    "$fixtures/accounts.in" > "$dir/bs/accounts"
  # bs_mediaenc=srtp-mand: SRTP with SDES keys (baresip's srtp module), RTP/SAVP offers and answers.
  if [[ -n ${bs_mediaenc:-} ]]; then
    echo "module srtp.so" >> "$dir/bs/config"
    sed -i "/^<sip:/s|\$|;mediaenc=$bs_mediaenc|" "$dir/bs/accounts"
  fi
  # bs_tls=1: registered at the TLS registrar as 1002 (scenarios 11, 12), with the test CA as its CA
  # file and a certificate of its own: the registrar sends a request for baresip's Contact (a BYE
  # to the caller, baresip) on a new connection to baresip's TLS listener, which needs one.
  if [[ -n ${bs_tls:-} ]]; then
    printf 'sip_cafile\t\t%s\nsip_certificate\t\t%s\n' "$pki/ca.crt" "$pki/bob.pem" >> "$dir/bs/config"
    sed -i "s|^<sip:bob@127.0.0.1:$bs_sip>|<sip:1002@127.0.0.1:$pbx_port;transport=tls>;auth_pass=secret|;s|regint=0|regint=300|" \
      "$dir/bs/accounts"
  fi
  mkfifo "$dir/bs.in"
  exec {bs_fd}<> "$dir/bs.in"
  baresip -s -f "$dir/bs" < "$dir/bs.in" > "$bs_log" 2>&1 &
  bs_pid=$!
  pids+=("$bs_pid")
  wait_re "$bs_log" "baresip is ready" 1 15 || fail "$n: baresip did not start: $(grep -a -v '^$' "$bs_log" | tail -3)"
}
bs_cmd() { printf '%s\n' "$1" >&"$bs_fd"; }
bs_key() { printf '%s' "$1" >&"$bs_fd"; }

# start_deskphone CODECS ARGS...: deskphone in call mode, control FIFO, playback to dp-out.raw.
start_deskphone() {
  local codecs=$1
  shift
  sed -e "s|@SIP_PORT@|$dp_sip|g" -e "s|@RTP_MIN@|$dp_rtp_min|g" -e "s|@RTP_MAX@|$dp_rtp_max|g" \
    -e "s|@CODECS@|$codecs|g" "$fixtures/deskphone.cfg.in" > "$dir/dp.cfg"
  [[ -n ${dp_srtp:-} ]] && echo "account.1.srtp_encryption = $dp_srtp" >> "$dir/dp.cfg"
  # dp_tls=1: registered at the TLS registrar as 1001 (transport 2 = TLS), trusting the test CA.
  if [[ -n ${dp_tls:-} ]]; then
    sed -i 's/^account.1.user_name = .*/account.1.user_name = 1001/' "$dir/dp.cfg"
    printf '%s\n' "account.1.enable = 1" "account.1.password = secret" "account.1.sip_server.1.address = 127.0.0.1" \
      "account.1.sip_server.1.port = $pbx_port" "account.1.sip_server.1.transport = 2" \
      "account.1.sip_server.1.expires = 300" "security.trusted_certificates.file = $pki/ca.crt" >> "$dir/dp.cfg"
  fi
  mkfifo "$dir/dp.ctl"
  exec {dp_fd}<> "$dir/dp.ctl"
  "$deskphone" --board "$root/board/sim.cfg" --config "$dir/dp.cfg" --control "$dir/dp.ctl" \
    --audio-out "$dir/dp-out.raw" "$@" > "$dp_log" 2>&1 &
  dp_pid=$!
  pids+=("$dp_pid")
  wait_re "$dp_log" "^sip: listening on" 1 15 || fail "$n: deskphone did not start: $(tail -3 "$dp_log")"
}
dp_cmd() { printf '%s\n' "$1" >&"$dp_fd"; }

# finish: `quit` to both (unless deskphone already left); checks that deskphone exits 0 and says so.
finish() {
  local status how="on 'quit'"
  if [[ -n $dp_pid ]]; then
    if kill -0 "$dp_pid" 2> /dev/null; then dp_cmd quit; else how="by itself"; fi
  fi
  [[ -n $bs_pid ]] && bs_cmd /quit
  if [[ -n $dp_pid ]]; then
    wait_exit "$dp_pid" 10
    status=$?
    if [[ $status -eq 0 ]] && grep -q "^deskphone: exit" "$dp_log"; then
      pass "$n: deskphone exits $how with status 0"
    else
      fail "$n: deskphone after 'quit': status $status, log ends: $(tail -2 "$dp_log" | tr '\n' '|')"
    fi
  fi
  [[ -n $bs_pid ]] && wait_exit "$bs_pid" 10
  [[ -n $dp_fd ]] && exec {dp_fd}>&-
  [[ -n $bs_fd ]] && exec {bs_fd}>&-
}

# expect_log FILE REGEX WHAT: FILE has a line matching REGEX (grep -E).
expect_log() {
  local file=$1 regex=$2 what=$3 line
  line=$(grep -a -m1 -E -- "$regex" "$file")
  if [[ -n $line ]]; then
    pass "$n: $what: $line"
  else
    line=$(grep -a -v '^\s*$' "$file" | tail -4 | tr '\n' '|')
    fail "$n: $what: no line /$regex/ in $(basename "$file"); last lines: $line"
  fi
}
# expect_ended_unanswered: deskphone's call 1 ended and was never connected.
expect_ended_unanswered() {
  local line
  line=$(grep -m1 -E '^call 1: connected' "$dp_log")
  if [[ -n $line ]]; then
    fail "$n: the cancelled call connected: $line"
  elif ! grep -q '^call 1: ended' "$dp_log"; then
    fail "$n: the cancelled call did not end"
  else
    pass "$n: the cancelled call ended without connecting"
  fi
}
# expect_trace sent|received WHAT [BODY_TEXT] DESCRIPTION: a SIP message in baresip's trace.
expect_trace() {
  local out what=${*: -1}
  if out=$(python3 "$fixtures/trace.py" "$bs_log" "${bs_trace_port:-$bs_sip}" "${@:1:$#-1}" 2>&1); then
    pass "$n: $what: baresip $out"
  else
    fail "$n: $what: $out"
  fi
}
# expect_audio FILE RATE FREQ WHAT [--after-gap]: FILE holds at least 1 s of audio, mostly a
# tone of FREQ Hz (with --after-gap: after a silent gap of 0.5 s or more, i.e. after a hold).
expect_audio() {
  local file=$1 rate=$2 freq=$3 what=$4 out
  if [[ ! -s $file ]]; then
    fail "$n: $what: $(basename "$file") is missing or empty"
  elif out=$(python3 "$fixtures/audio.py" check "$file" "$rate" "$freq" 1.0 ${5:-} 2>&1); then
    pass "$n: $what: ${out#"$dir"/}"
  else
    fail "$n: $what: ${out#"$dir"/}"
  fi
}
# baresip's dump of what it decoded from deskphone (sndfile: dump-<time>-dec.wav)
bs_decoded() { ls "$dir"/bs/dump-*-dec.wav 2> /dev/null | head -1; }
# expect_media CODEC: deskphone's media line names CODEC, its RTP port is in rtp.port_min/max
# and the remote one in baresip's rtp_ports.
expect_media() {
  local codec=$1 line local_port remote_port
  line=$(grep -m1 -E "^call 1: media $codec " "$dp_log")
  if [[ -z $line ]]; then
    fail "$n: media $codec: $(grep -m1 "^call 1: media" "$dp_log" || echo "no media line")"
    return
  fi
  pass "$n: media $codec: $line"
  local_port=$(sed -nE 's/.* local [0-9.]+:([0-9]+) .*/\1/p' <<< "$line")
  remote_port=$(sed -nE 's/.* remote [0-9.]+:([0-9]+).*/\1/p' <<< "$line")
  if [[ -n $local_port && -n $remote_port ]] && ((local_port >= dp_rtp_min && local_port <= dp_rtp_max &&
    remote_port >= bs_rtp_min && remote_port <= bs_rtp_max)); then
    pass "$n: RTP ports: deskphone $local_port in rtp.port_min/max $dp_rtp_min-$dp_rtp_max, baresip $remote_port"
  else
    fail "$n: RTP ports: local '$local_port' not in $dp_rtp_min-$dp_rtp_max" \
      "or remote '$remote_port' not in $bs_rtp_min-$bs_rtp_max"
  fi
}
# expect_packets: what baresip counted (rtp_stats: `packets: TX RX` at the end of the call) matches
# deskphone's stats line both ways, within 5 % + 10 packets (in flight at hang-up; DTMF events).
expect_packets() {
  local line sent received bs_tx bs_rx
  line=$(grep -m1 "^call 1: stats " "$dp_log")
  sent=$(sed -nE 's/.* sent=([0-9]+) .*/\1/p' <<< "$line")
  received=$(sed -nE 's/.* received=([0-9]+) .*/\1/p' <<< "$line")
  read -r bs_tx bs_rx < <(grep -a -A1 -E "^audio +Transmit: +Receive:" "$bs_log" |
    sed -nE 's/^packets: +([0-9]+) +([0-9]+).*/\1 \2/p' | head -1)
  if [[ -z $sent || -z $received || -z ${bs_tx:-} || -z ${bs_rx:-} ]]; then
    fail "$n: RTP packet counts: deskphone '${line:-no stats line}', baresip tx '${bs_tx:-}' rx '${bs_rx:-}'"
  elif ((sent > 50 && received > 50 && (sent - bs_rx) ** 2 <= (10 + sent / 20) ** 2 &&
    (bs_tx - received) ** 2 <= (10 + bs_tx / 20) ** 2)); then
    pass "$n: RTP both ways: deskphone sent $sent, baresip received $bs_rx;" \
      "baresip sent $bs_tx, deskphone received $received"
  else
    fail "$n: RTP counts differ: deskphone sent $sent, baresip received $bs_rx;" \
      "baresip sent $bs_tx, deskphone received $received"
  fi
}
# dtmf_received_by_baresip: the digits of baresip's `received event: 'D' (end=1)` lines.
dtmf_received_by_baresip() { grep -a -oE "received event: '.' \(end=1\)" "$bs_log" | cut -c18 | tr -d '\n'; }
dtmf_received_by_deskphone() { sed -nE 's/^call 1: dtmf received (.)$/\1/p' "$dp_log" | tr -d '\n'; }

want() { [[ -z ${BARESIP_SCENARIOS:-} || " $BARESIP_SCENARIOS " == *" $1 "* ]]; }

# --- 0. baresip calls deskphone (PCMU); DTMF from baresip; BYE from baresip -----------------------
if want 0; then
  begin 0 "baresip calls deskphone, PCMU; DTMF baresip -> deskphone; baresip hangs up"
  start_deskphone "pcmu,pcma,g722" --answer auto --audio-in "$signals/dp-700-8k.raw"
  start_baresip "$signals/bs-1000-8k.wav" manual "pcmu/8000/1"
  bs_cmd "/dial sip:deskphone@127.0.0.1:$dp_sip"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 2.5
  for key in 4 '*' '#' 0; do
    bs_key "$key"
    sleep 0.4
  done
  wait_re "$dp_log" "^call 1: dtmf received 0" 1 5
  sleep 0.5
  bs_cmd "/hangup"
  wait_re "$dp_log" "^call 1: ended" 1 10
  wait_re "$dp_log" "^call 1: stats" 1 5
  finish
  expect_log "$dp_log" '^call 1: incoming from .*sip:bob@127\.0\.0\.1' "deskphone sees baresip's call"
  expect_log "$dp_log" '^call 1: connected' "deskphone answers (--answer auto)"
  expect_media "PCMU/8000"
  expect_trace received 200/INVITE "PCMU/8000" "deskphone's 200 answers PCMU"
  dtmf=$(dtmf_received_by_deskphone)
  [[ $dtmf == '4*#0' ]] && pass "$n: deskphone received baresip's DTMF 4*#0" ||
    fail "$n: deskphone received DTMF '$dtmf', baresip sent '4*#0'"
  expect_audio "$dir/dp-out.raw" 8000 1000 "deskphone played baresip's 1000 Hz tone"
  expect_audio "$(bs_decoded)" 8000 700 "baresip decoded deskphone's 700 Hz tone"
  expect_trace sent BYE "baresip hangs up"
  expect_trace received 200/BYE "deskphone answers the BYE"
  expect_log "$dp_log" '^call 1: ended \(remote hang-up\)' "deskphone ends the call"
  expect_packets
fi

# --- 1. deskphone calls baresip (PCMA); DTMF from deskphone; BYE from deskphone --------------------
if want 1; then
  begin 1 "deskphone calls baresip, PCMA; DTMF deskphone -> baresip; deskphone hangs up"
  start_baresip "$signals/bs-1000-8k.wav" auto
  start_deskphone "pcma" --dial "sip:bob@127.0.0.1:$bs_sip" --audio-in "$signals/dp-700-8k.raw"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 2.5
  dp_cmd "dtmf 19*#"
  wait_re "$bs_log" "received event: '#' \(end=1\)" 1 10
  sleep 0.5
  dp_cmd hangup
  wait_re "$bs_log" "terminated" 1 10
  wait_re "$dp_log" "^call 1: stats" 1 5
  finish
  expect_log "$dp_log" "^call( 1)?: (calling|dialing) sip:bob@127\.0\.0\.1:$bs_sip" "deskphone dials"
  expect_trace received INVITE "PCMA/8000" "baresip gets deskphone's offer"
  expect_log "$dp_log" '^call 1: connected' "baresip answers (answermode=auto)"
  expect_media "PCMA/8000"
  expect_log "$dp_log" '^call 1: dtmf sent 19\*#' "deskphone sends DTMF"
  dtmf=$(dtmf_received_by_baresip)
  [[ $dtmf == '19*#' ]] && pass "$n: baresip received deskphone's DTMF 19*# (RFC 4733)" ||
    fail "$n: baresip received DTMF '$dtmf', deskphone sent '19*#'"
  expect_audio "$dir/dp-out.raw" 8000 1000 "deskphone played baresip's 1000 Hz tone"
  expect_audio "$(bs_decoded)" 8000 700 "baresip decoded deskphone's 700 Hz tone"
  expect_trace received BYE "deskphone hangs up"
  expect_trace sent 200/BYE "baresip answers the BYE"
  expect_log "$dp_log" '^call 1: ended' "deskphone ends the call"
  expect_packets
fi

# --- 2. deskphone calls baresip (G.722); hold and resume from deskphone ------------------------------
if want 2; then
  begin 2 "deskphone calls baresip, G.722; deskphone holds and resumes"
  start_baresip "$signals/bs-5000-16k.wav" auto
  start_deskphone "g722" --dial "sip:bob@127.0.0.1:$bs_sip" --audio-in "$signals/dp-6000-16k.raw"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 1.5
  dp_cmd hold
  wait_re "$dp_log" "^call 1: held$" 1 10 && sleep 1
  dp_cmd resume
  wait_re "$dp_log" "^call 1: connected" 2 10 && sleep 2
  dp_cmd hangup
  wait_re "$bs_log" "terminated" 1 10
  finish
  expect_media "G722/8000"
  expect_log "$dp_log" '^call 1: held$' "deskphone holds"
  expect_log "$dp_log" '^call 1: media G722/8000 .* sendonly' "deskphone's media turns sendonly"
  expect_trace received INVITE "a=sendonly" "deskphone's hold re-INVITE is sendonly"
  expect_trace sent 200/INVITE "a=recvonly" "baresip answers the hold recvonly"
  [[ $(grep -c "^call 1: connected" "$dp_log") -ge 2 ]] && pass "$n: deskphone resumes: connected again" ||
    fail "$n: deskphone resumes: no second 'call 1: connected'"
  expect_trace received "INVITE#last" "a=sendrecv" "deskphone's resume re-INVITE is sendrecv"
  expect_audio "$dir/dp-out.raw" 16000 5000 "deskphone played baresip's 5000 Hz tone (wideband)"
  expect_audio "$(bs_decoded)" 16000 6000 "baresip decoded deskphone's 6000 Hz tone (wideband)"
  expect_audio "$dir/dp-out.raw" 16000 5000 "baresip's tone comes back after the hold" --after-gap
  expect_packets
fi

# --- 3. baresip calls deskphone (G.722); hold and resume from baresip; BYE from deskphone ----------
if want 3; then
  begin 3 "baresip calls deskphone, G.722; baresip holds and resumes; deskphone hangs up"
  start_deskphone "g722,pcmu" --answer auto --audio-in "$signals/dp-6000-16k.raw"
  start_baresip "$signals/bs-5000-16k.wav" manual "g722/16000/1"
  bs_cmd "/dial sip:deskphone@127.0.0.1:$dp_sip"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 1.5
  bs_cmd "/hold"
  wait_re "$dp_log" "^call 1: held by remote" 1 10 && sleep 1
  bs_cmd "/resume"
  wait_re "$dp_log" "^call 1: connected" 2 10 && sleep 2
  dp_cmd hangup
  wait_re "$bs_log" "terminated" 1 10
  finish
  expect_media "G722/8000"
  expect_trace sent INVITE "a=sendonly" "baresip's hold re-INVITE is sendonly"
  expect_trace received 200/INVITE "a=recvonly" "deskphone answers the hold recvonly"
  expect_log "$dp_log" '^call 1: held by remote' "deskphone sees the hold"
  expect_log "$dp_log" '^call 1: media G722/8000 .* recvonly' "deskphone's media turns recvonly"
  [[ $(grep -c "^call 1: connected" "$dp_log") -ge 2 ]] && pass "$n: baresip resumes: deskphone connected again" ||
    fail "$n: baresip resumes: no second 'call 1: connected'"
  expect_trace received "200/INVITE#last" "a=sendrecv" "deskphone answers the resume sendrecv"
  expect_audio "$dir/dp-out.raw" 16000 5000 "deskphone played baresip's 5000 Hz tone (wideband)"
  expect_audio "$(bs_decoded)" 16000 6000 "baresip decoded deskphone's 6000 Hz tone (wideband)"
  expect_audio "$dir/dp-out.raw" 16000 5000 "baresip's tone comes back after the hold" --after-gap
  expect_trace received BYE "deskphone hangs up"
  expect_trace sent 200/BYE "baresip answers the BYE"
  expect_packets
fi

# --- 4. deskphone calls baresip (Opus) --------------------------------------------------------------
if want 4; then
  begin 4 "deskphone calls baresip, Opus"
  start_baresip "$signals/bs-5000-48k.wav" auto
  start_deskphone "opus" --dial "sip:bob@127.0.0.1:$bs_sip" --audio-in "$signals/dp-6000-16k.raw"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 3
  dp_cmd hangup
  wait_re "$bs_log" "terminated" 1 10
  finish
  expect_trace sent 200/INVITE "opus/48000" "baresip answers Opus"
  expect_media "opus/48000"
  expect_audio "$dir/dp-out.raw" 16000 5000 "deskphone played baresip's 5000 Hz tone (Opus, 16 kHz)"
  expect_audio "$(bs_decoded)" 48000 6000 "baresip decoded deskphone's 6000 Hz tone (Opus, 48 kHz)"
  expect_packets
fi

# --- 5. baresip calls deskphone (Opus); BYE from baresip ------------------------------------------
if want 5; then
  begin 5 "baresip calls deskphone, Opus; baresip hangs up"
  start_deskphone "opus,g722,pcmu" --answer auto --audio-in "$signals/dp-6000-16k.raw"
  start_baresip "$signals/bs-5000-48k.wav" manual "opus/48000/1"
  bs_cmd "/dial sip:deskphone@127.0.0.1:$dp_sip"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 3
  bs_cmd "/hangup"
  wait_re "$dp_log" "^call 1: ended" 1 10
  finish
  expect_media "opus/48000"
  expect_audio "$dir/dp-out.raw" 16000 5000 "deskphone played baresip's 5000 Hz tone (Opus, 16 kHz)"
  expect_audio "$(bs_decoded)" 48000 6000 "baresip decoded deskphone's 6000 Hz tone (Opus, 48 kHz)"
  expect_log "$dp_log" '^call 1: ended \(remote hang-up\)' "deskphone ends the call"
  expect_packets
fi

# --- 6. CANCEL from baresip: deskphone leaves the call ringing --------------------------------------
if want 6; then
  begin 6 "baresip cancels its unanswered call to deskphone (--answer no)"
  start_deskphone "pcmu" --answer no --audio-in "$signals/dp-700-8k.raw"
  start_baresip "$signals/bs-1000-8k.wav" manual "pcmu/8000/1"
  bs_cmd "/dial sip:deskphone@127.0.0.1:$dp_sip"
  wait_re "$bs_log" "SIP Progress: 18[0-9]" 1 15 && sleep 1
  bs_cmd "/hangup"
  wait_re "$dp_log" "^call 1: ended" 1 10
  finish
  expect_log "$dp_log" '^call 1: incoming from .*sip:bob@127\.0\.0\.1' "deskphone sees baresip's call"
  expect_trace received 180/INVITE "deskphone rings"
  expect_trace sent CANCEL "baresip cancels"
  expect_trace received 200/CANCEL "deskphone accepts the CANCEL"
  expect_trace received 487/INVITE "deskphone ends the INVITE with 487"
  expect_log "$dp_log" '^call 1: ended' "deskphone ends the call"
  expect_ended_unanswered
fi

# --- 7. CANCEL from deskphone: baresip leaves the call ringing (answermode=manual) -----------------
if want 7; then
  begin 7 "deskphone cancels its unanswered call to baresip (answermode=manual)"
  start_baresip "$signals/bs-1000-8k.wav" manual
  start_deskphone "pcmu" --dial "sip:bob@127.0.0.1:$bs_sip" --audio-in "$signals/dp-700-8k.raw"
  wait_re "$dp_log" "^call 1: ringing" 1 15 && sleep 1
  dp_cmd hangup
  wait_re "$dp_log" "^call 1: ended" 1 10
  wait_re "$bs_log" "487/INVITE|Request Terminated" 1 5
  finish
  expect_log "$dp_log" '^call 1: ringing' "deskphone hears baresip ringing"
  expect_trace sent 180/INVITE "baresip rings"
  expect_trace received CANCEL "deskphone cancels"
  expect_trace sent 200/CANCEL "baresip accepts the CANCEL"
  expect_trace sent 487/INVITE "baresip ends the INVITE with 487"
  expect_log "$dp_log" '^call 1: ended' "deskphone ends the call"
  expect_ended_unanswered
fi

# --- 8. a longer call: RTCP both ways; --hangup-after and --exit-after-call ----------------------------
if want 8; then
  begin 8 "deskphone dials baresip, PCMU, 12 s (--hangup-after 12 --exit-after-call): RTCP"
  start_baresip "$signals/bs-1000-8k.wav" auto "pcmu/8000/1"
  start_deskphone "pcmu" --dial "sip:bob@127.0.0.1:$bs_sip" --audio-in "$signals/dp-700-8k.raw" \
    --hangup-after 12 --exit-after-call
  wait_re "$dp_log" "^call 1: connected" 1 15
  wait_re "$dp_log" "^deskphone: exit" 1 30
  wait_re "$bs_log" "terminated" 1 5
  finish
  expect_trace received BYE "deskphone hangs up after --hangup-after 12"
  expect_log "$dp_log" '^call 1: ended' "deskphone ends the call"
  line=$(grep -m1 "^call 1: stats " "$dp_log")
  rtcp_received=$(sed -nE 's/.* rtcp_received=([0-9]+) .*/\1/p' <<< "$line")
  rtt=$(sed -nE 's/.* rtt_ms=([0-9]+\.[0-9]+) .*/\1/p' <<< "$line")
  if [[ -n $rtcp_received && -n $rtt ]] && ((rtcp_received >= 2)); then
    pass "$n: RTCP from baresip: $rtcp_received reports, round trip $rtt ms from its LSR/DLSR"
  else
    fail "$n: RTCP from baresip: ${line:-no stats line}"
  fi
  expect_packets
fi

# expect_srtp: the call was SRTP in deskphone's media line, its warning about SDES over plain UDP
# came once, no key reached its log, and no packet failed authentication.
expect_srtp() {
  local line
  expect_log "$dp_log" "^call 1: media .* srtp (AES_CM_128_HMAC_SHA1_(80|32)|AEAD_AES_128_GCM)$" "the call is SRTP"
  if [[ -n ${dp_tls:-} ]]; then
    [[ $(grep -c "warning: SRTP" "$dp_log") -eq 0 ]] &&
      pass "$n: no plain-transport warning at deskphone (the SDES keys went over TLS)" ||
      fail "$n: deskphone warns: $(grep -m1 "warning: SRTP" "$dp_log")"
  else
    [[ $(grep -c "^call 1: warning: SRTP keys (SDES) went over plain UDP" "$dp_log") -eq 1 ]] &&
      pass "$n: deskphone warns once that the SDES keys went over plain UDP" ||
      fail "$n: deskphone's SDES warning: $(grep -c "warning: SRTP" "$dp_log") lines"
  fi
  grep -q "inline:" "$dp_log" && fail "$n: an SDES key reached deskphone's log" ||
    pass "$n: no SDES key in deskphone's log"
  line=$(grep -m1 "^call 1: stats " "$dp_log")
  [[ $line == *" srtp_auth_failures=0 srtp_replays=0"* ]] &&
    pass "$n: no SRTP packet failed authentication or was replayed" ||
    fail "$n: SRTP counters: ${line:-no stats line}"
}

# --- 9. baresip calls deskphone with SRTP mandatory (RTP/SAVP, SDES) over UDP, PCMU ----------------------
if want 9; then
  begin 9 "baresip calls deskphone, SRTP mandatory both sides, PCMU; baresip hangs up"
  bs_mediaenc=srtp-mand dp_srtp=2
  start_deskphone "pcmu" --answer auto --audio-in "$signals/dp-700-8k.raw"
  start_baresip "$signals/bs-1000-8k.wav" manual "pcmu/8000/1"
  bs_cmd "/dial sip:deskphone@127.0.0.1:$dp_sip"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 3
  bs_cmd "/hangup"
  wait_re "$dp_log" "^call 1: stats" 1 10
  finish
  unset bs_mediaenc dp_srtp
  expect_trace sent INVITE "RTP/SAVP" "baresip offers RTP/SAVP"
  expect_trace sent INVITE "a=crypto:" "baresip's offer carries SDES keys"
  expect_trace received 200/INVITE "RTP/SAVP" "deskphone answers RTP/SAVP"
  expect_trace received 200/INVITE "a=crypto:" "deskphone's answer carries its own key"
  expect_srtp
  expect_audio "$dir/dp-out.raw" 8000 1000 "deskphone decrypted and played baresip's 1000 Hz tone"
  expect_audio "$(bs_decoded)" 8000 700 "baresip decrypted and decoded deskphone's 700 Hz tone"
  expect_packets
fi

# --- 10. deskphone calls baresip with SRTP mandatory, PCMA; deskphone hangs up ---------------------------
if want 10; then
  begin 10 "deskphone calls baresip, SRTP mandatory both sides, PCMA; deskphone hangs up"
  bs_mediaenc=srtp-mand dp_srtp=2
  start_baresip "$signals/bs-1000-8k.wav" auto
  start_deskphone "pcma" --dial "sip:bob@127.0.0.1:$bs_sip" --audio-in "$signals/dp-700-8k.raw"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 3
  dp_cmd hangup
  wait_re "$bs_log" "terminated" 1 10
  wait_re "$dp_log" "^call 1: stats" 1 5
  finish
  unset bs_mediaenc dp_srtp
  expect_trace received INVITE "RTP/SAVP" "deskphone offers RTP/SAVP (srtp_encryption = 2)"
  expect_trace received INVITE "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" "deskphone's offer carries its keys"
  expect_trace sent 200/INVITE "a=crypto:" "baresip answers with its key"
  expect_srtp
  expect_audio "$dir/dp-out.raw" 8000 1000 "deskphone decrypted and played baresip's 1000 Hz tone"
  expect_audio "$(bs_decoded)" 8000 700 "baresip decrypted and decoded deskphone's 700 Hz tone"
  expect_packets
fi

# --- SIP over TLS through a registrar: Kamailio (Tests/Fixtures-call/kamailio/tls-registrar.cfg, as in
# scripts/cli-tests-tls.sh) on 127.0.0.1:46001 with a test PKI made here by openssl; deskphone (1001)
# and baresip (1002) both register over TLS with digest and call each other through it, SRTP
# mandatory, so the SDES keys only ever cross TLS. baresip 1.0.0 (libre 1.1.0) has `sip_cafile`
# but does not check the registrar's certificate (no sip_verify_server before baresip 1.1); deskphone
# checks it against the test CA. Ports: registrar 46001; scenario 11: deskphone 46020, baresip
# 46010 (its TLS listener 46011), RTP 46100-46139; scenario 12: 46024, 46014/46015, 46140-46179.
pbx_port=46001
# start_tls_pbx: the test PKI and the registrar, once.
start_tls_pbx() {
  [[ -n ${pbx_pid:-} ]] && return 0
  PATH=$PATH:/usr/sbin
  if ! command -v kamailio > /dev/null || ! command -v openssl > /dev/null ||
    ! ls /usr/lib/*/kamailio/modules/tls.so > /dev/null 2>&1; then
    fail "TLS: kamailio, kamailio-tls-modules or openssl is not installed (scripts/install-deps.sh)"
    return 1
  fi
  if make_ca ca "deskphone test CA" && make_leaf pbx ca pbx.test "DNS:pbx.test,IP:127.0.0.1" &&
    make_leaf bob ca bob.test "DNS:bob.test,IP:127.0.0.1" && cat "$pki/bob.crt" "$pki/bob.key" > "$pki/bob.pem"; then
    pass "TLS: openssl made the test PKI (a CA, the registrar's and baresip's certificates)"
  else
    fail "TLS: openssl could not make the test PKI"
    return 1
  fi
  start_tls_registrar pbx "$pbx_port" pbx
  pbx_pid=$registrar_pid
  pids+=("$pbx_pid")
  if wait_tcp "$pbx_port"; then
    pass "TLS: kamailio listens for TLS on 127.0.0.1:$pbx_port"
  else
    fail "TLS: kamailio did not start: $(grep -v '^$' "$work/pbx.log" | tail -3 | tr '\n' '|')"
    return 1
  fi
}
# begin_tls N TITLE SIP-OFFSET RTP-MIN: scenario N on the TLS ports; both phones registered over TLS.
begin_tls() {
  begin "$1" "$2"
  dp_sip=$((46020 + $3))
  bs_sip=$((46010 + $3))
  dp_rtp_min=$4
  dp_rtp_max=$((dp_rtp_min + 19))
  bs_rtp_min=$((dp_rtp_min + 20))
  bs_rtp_max=$((bs_rtp_min + 19))
  bs_trace_port=peer:$pbx_port
  bs_mediaenc=srtp-mand dp_srtp=2 dp_tls=1 bs_tls=1
}
# registered_tls: both phones registered at the registrar over TLS.
registered_tls() {
  wait_re "$dp_log" "^registration: registered" 1 15 &&
    pass "$n: deskphone registers over TLS: $(grep -m1 '^sip: registration: REGISTER' "$dp_log")" ||
    fail "$n: deskphone did not register: $(tail -3 "$dp_log" | tr '\n' '|')"
  wait_re "$bs_log" "registered successfully" 1 15 &&
    pass "$n: baresip registers over TLS: $(grep -a -m1 -o '1002@127.0.0.1: {0/TLS/v4} 200 OK' "$bs_log")" ||
    fail "$n: baresip did not register: $(grep -a -v '^\s*$' "$bs_log" | tail -3 | tr '\n' '|')"
}
# expect_tls: the SIP of the call went over TLS only, at both ends and at the registrar.
expect_tls() {
  local transports
  transports=$(python3 "$fixtures/trace.py" "$bs_log" transports)
  [[ $transports =~ ^TLS=[0-9]+$ ]] && pass "$n: baresip's SIP trace is all TLS: $transports" ||
    fail "$n: baresip's SIP trace: $transports"
  if grep -qE ' to (UDP|TCP) ' "$dp_log"; then
    fail "$n: deskphone sent over UDP/TCP: $(grep -m1 -E ' to (UDP|TCP) ' "$dp_log")"
  else
    pass "$n: deskphone's SIP all went to TLS targets"
  fi
  grep -q "TLSPBX request INVITE .* proto=tls" "$work/pbx.log" && ! grep -q "proto=udp" "$work/pbx.log" &&
    pass "$n: the registrar relayed the INVITE over TLS, nothing over UDP" ||
    fail "$n: the registrar's log: $(grep -m2 'TLSPBX request INVITE' "$work/pbx.log" | tr '\n' '|')"
}
# expect_srtp_in_sdp sent|received: the INVITE's offer and the 200's answer are RTP/SAVP with keys.
expect_srtp_in_sdp() {
  local invite=$1 answer
  [[ $invite == sent ]] && answer=received || answer=sent
  expect_trace "$invite" INVITE "RTP/SAVP" "the offer is RTP/SAVP"
  expect_trace "$invite" INVITE "a=crypto:" "the offer carries SDES keys"
  expect_trace "$answer" 200/INVITE "RTP/SAVP" "the answer is RTP/SAVP"
  expect_trace "$answer" 200/INVITE "a=crypto:" "the answer carries its own key"
}

# --- 11. baresip calls deskphone through the TLS registrar, SRTP mandatory, PCMU; deskphone hangs up ---
# (its BYE goes from the registrar to baresip's Contact: a connection of the registrar's own)
if want 11 && start_tls_pbx; then
  begin_tls 11 "TLS: baresip calls deskphone through Kamailio, SRTP mandatory, PCMU; deskphone hangs up" 0 46100
  start_deskphone "pcmu" --answer auto --audio-in "$signals/dp-700-8k.raw"
  start_baresip "$signals/bs-1000-8k.wav" manual "pcmu/8000/1"
  registered_tls
  bs_cmd "/dial sip:1001@127.0.0.1:$pbx_port"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 3
  dp_cmd hangup
  wait_re "$bs_log" "terminated" 1 10
  wait_re "$dp_log" "^call 1: stats" 1 5
  finish
  expect_log "$dp_log" '^call 1: incoming from .*sip:1002@127\.0\.0\.1' "deskphone sees baresip's call"
  expect_srtp_in_sdp sent
  expect_srtp
  expect_tls
  expect_audio "$dir/dp-out.raw" 8000 1000 "deskphone decrypted and played baresip's 1000 Hz tone"
  expect_audio "$(bs_decoded)" 8000 700 "baresip decrypted and decoded deskphone's 700 Hz tone"
  expect_trace received BYE "deskphone's BYE reaches baresip (the caller) through the registrar"
  expect_trace sent 200/BYE "baresip answers the BYE"
  expect_packets
  unset bs_mediaenc dp_srtp dp_tls bs_tls bs_trace_port
fi

# --- 12. deskphone calls baresip through the TLS registrar, SRTP mandatory, PCMA; deskphone hangs up --
if want 12 && start_tls_pbx; then
  begin_tls 12 "TLS: deskphone calls baresip through Kamailio, SRTP mandatory, PCMA; deskphone hangs up" 4 46140
  start_baresip "$signals/bs-1000-8k.wav" auto
  start_deskphone "pcma" --audio-in "$signals/dp-700-8k.raw"
  registered_tls
  dp_cmd "dial 1002"
  wait_re "$dp_log" "^call 1: connected" 1 15 && sleep 3
  dp_cmd hangup
  wait_re "$bs_log" "terminated" 1 10
  wait_re "$dp_log" "^call 1: stats" 1 5
  finish
  expect_srtp_in_sdp received
  expect_trace received INVITE "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" "deskphone's offer carries its keys"
  expect_srtp
  expect_tls
  expect_audio "$dir/dp-out.raw" 8000 1000 "deskphone decrypted and played baresip's 1000 Hz tone"
  expect_audio "$(bs_decoded)" 8000 700 "baresip decrypted and decoded deskphone's 700 Hz tone"
  expect_trace received BYE "deskphone hangs up"
  expect_trace sent 200/BYE "baresip answers the BYE"
  expect_packets
  unset bs_mediaenc dp_srtp dp_tls bs_tls bs_trace_port
fi

summary "$label"
