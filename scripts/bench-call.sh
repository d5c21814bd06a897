#!/usr/bin/env bash
# Call benchmark (issue 7, `make bench-call`): a G.711 (PCMU) call and a G.722 call of
# BENCH_SECONDS (default 60) each, placed by deskphone and then by baresip against the same
# SIPp scenario (bench/call/uas-echo.xml: SIPp answers with one codec, echoes every RTP packet
# back to its sender, hangs up after the call length). Both phones capture from a file at the
# codec's rate, encode, send, receive their own stream back, decode and play out, so both do a
# two-way call's audio work. Prints whole-process CPU seconds and peak RSS (GNU time) of each
# phone, the deskphone/baresip ratios, and deskphone's in-phone latency from its stats line,
# as a markdown table for docs/PERFORMANCE.md. It prints numbers, never passes/fails on them;
# it exits non-zero only when a call could not be measured (no call, no audio back).
# usage: scripts/bench-call.sh DESKPHONE   (env: BENCH_SECONDS, default 60; BENCH_KEEP=1 keeps
#        the per-call logs: SIPp's, the phones' stdout/stderr, deskphone's played-out audio)
# Ports: SIP 26200 (SIPp), 26201 (deskphone), 26210-26211 (baresip udp/tcp, tls);
#        RTP 32000/32002 (SIPp echo), 32100-32199 (deskphone), 32200-32299 (baresip).
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 DESKPHONE  (the deskphone binary, e.g. .build-firmware/x86_64/deskphone)" >&2
  exit 2
fi
deskphone=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/bench/call
seconds=${BENCH_SECONDS:-60}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "BENCH_SECONDS must be a whole number of seconds, got '$seconds'" >&2
  exit 2
fi
for tool in sipp baresip /usr/bin/time python3; do
  if ! command -v "$tool" > /dev/null; then
    echo "missing $tool (apt-get install -y sip-tester baresip time python3)" >&2
    exit 2
  fi
done

sipp_port=26200
deskphone_port=26201
baresip_port=26210
echo_port=32000

work=$(mktemp -d)
children=()
# Stops every process this script started (by pid), then removes the temp dir.
cleanup() {
  local pid
  for pid in "${children[@]}"; do
    kill -TERM "$pid" 2> /dev/null
  done
  sleep 0.2
  for pid in "${children[@]}"; do
    kill -KILL "$pid" 2> /dev/null
  done
  if [ -n "${BENCH_KEEP:-}" ]; then
    echo "# kept the logs in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { echo "# $*" >&2; }

# wait_gone PID SECONDS: waits (bounded) until PID has exited; 0 if it did.
wait_gone() {
  local pid=$1 limit=$(($2 * 10)) i
  for ((i = 0; i < limit; i++)); do
    kill -0 "$pid" 2> /dev/null || return 0
    sleep 0.1
  done
  return 1
}

# wait_udp PORT SECONDS: waits (bounded) until something listens on 127.0.0.1:PORT/udp.
wait_udp() {
  local port=$1 limit=$(($2 * 10)) i
  for ((i = 0; i < limit; i++)); do
    grep -q "^ *[0-9]*: [0-9A-F]*:$(printf %04X "$port") " /proc/net/udp && return 0
    sleep 0.1
  done
  return 1
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

# Input audio: speech-like, 5 s longer than the call so neither phone reaches its end.
note "generating ${seconds}+5 s of speech-like input at 8 and 16 kHz"
python3 "$bench/speechlike.py" 8000 $((seconds + 5)) "$work/in8.raw" "$work/in8.wav" || exit 1
python3 "$bench/speechlike.py" 16000 $((seconds + 5)) "$work/in16.raw" "$work/in16.wav" || exit 1

# Results, keyed "phone codec field".
declare -A result
unmeasured=0

# run_call PHONE CODEC: one call, PHONE deskphone|baresip, CODEC g711|g722.
run_call() {
  local phone=$1 codec=$2 dir=$work/$1-$2 pt rtpmap rate name
  mkdir -p "$dir"
  case $codec in
    g711) pt=0 rtpmap=PCMU/8000 rate=8 name=PCMU ;;
    g722) pt=9 rtpmap=G722/8000 rate=16 name=G722 ;;
  esac
  local load_before
  load_before=$(load)
  note "$codec $phone: ${seconds} s call (load average $load_before)"

  sipp -sf "$bench/uas-echo.xml" -i 127.0.0.1 -p "$sipp_port" -mi 127.0.0.1 -mp "$echo_port" -rtp_echo \
    -key codec_pt "$pt" -key codec_rtpmap "$rtpmap" -d $((seconds * 1000)) -m 1 -nostdin \
    -timeout $((seconds + 60))s -trace_err -error_file "$dir/sipp-errors.log" \
    > "$dir/sipp.out" 2>&1 &
  local sipp_pid=$!
  children+=("$sipp_pid")
  if ! wait_udp "$sipp_port" 10; then
    note "$codec $phone: SIPp did not start: $(tail -c 300 "$dir/sipp.out")"
    unmeasured=$((unmeasured + 1))
    return
  fi

  if [ "$phone" = deskphone ]; then
    cat > "$dir/phone.cfg" << EOF
#!version:1.0.0.1
account.1.user_name = bench
account.1.codecs = $( [ "$codec" = g711 ] && echo pcmu || echo g722 )
account.1.ptime = 20
sip.listen_address = 127.0.0.1
sip.listen_port = $deskphone_port
rtp.port_min = 32100
rtp.port_max = 32199
EOF
    /usr/bin/time -o "$dir/time" -f "%U %S %M %e" \
      "$deskphone" --board "$root/board/sim.cfg" --config "$dir/phone.cfg" \
      --dial "sip:bench@127.0.0.1:$sipp_port" --exit-after-call \
      --audio-in "$work/in$rate.raw" --audio-out "$dir/out.raw" \
      < /dev/null > "$dir/phone.out" 2> "$dir/phone.err" &
  else
    mkdir -p "$dir/baresip"
    sed -e "s|@SOURCE@|$work/in$rate.wav|" -e "s|@PORT@|$baresip_port|" \
      "$bench/baresip/config" > "$dir/baresip/config"
    echo "<sip:bench@127.0.0.1>;regint=0;audio_codecs=$name" > "$dir/baresip/accounts"
    /usr/bin/time -o "$dir/time" -f "%U %S %M %e" \
      baresip -f "$dir/baresip" -e "/dial sip:bench@127.0.0.1:$sipp_port" -t $((seconds + 60)) \
      < /dev/null > "$dir/phone.out" 2> "$dir/phone.err" &
  fi
  local time_pid=$! phone_pid="" i
  children+=("$time_pid")
  for ((i = 0; i < 50; i++)); do
    phone_pid=$(pgrep -P "$time_pid" | head -1)
    [ -n "$phone_pid" ] && break
    sleep 0.1
  done
  [ -n "$phone_pid" ] && children+=("$phone_pid")

  # The call: SIPp exits after its BYE is answered (or at its -timeout).
  wait_gone "$sipp_pid" $((seconds + 70))
  wait "$sipp_pid" 2> /dev/null
  local sipp_status=$?
  if [ "$phone" = baresip ] && [ -n "$phone_pid" ]; then
    sleep 0.5  # let baresip print its RTP summary, then stop it like a user would
    kill -TERM "$phone_pid" 2> /dev/null
    wait_gone "$phone_pid" 5 || kill -TERM "$phone_pid" 2> /dev/null
  fi
  if ! wait_gone "$time_pid" 15; then
    note "$codec $phone: still running 15 s after the call, killed"
    [ -n "$phone_pid" ] && kill -KILL "$phone_pid" 2> /dev/null
  fi
  wait "$time_pid" 2> /dev/null
  result[$phone $codec load]="$load_before"

  local user sys rss elapsed
  read -r user sys rss elapsed < <(grep -E '^[0-9.]+ [0-9.]+ [0-9]+ [0-9.]+$' "$dir/time" | tail -1)
  if [ "$sipp_status" -ne 0 ] || [ -z "${user:-}" ]; then
    note "$codec $phone: call not measured (SIPp exit status $sipp_status)"
    note "  SIPp: $(grep -v '^\s*$' "$dir/sipp-errors.log" 2> /dev/null | tail -3 | tr '\n' ' ')"
    note "  phone: $(tail -5 "$dir/phone.out" "$dir/phone.err" 2> /dev/null | cut -c1-200 | tr '\n' ' ')"
    unmeasured=$((unmeasured + 1))
    return
  fi
  result[$phone $codec cpu]=$(echo "$user $sys" | awk '{ printf "%.2f", $1 + $2 }')
  result[$phone $codec user]=$user
  result[$phone $codec sys]=$sys
  result[$phone $codec rss]=$rss
  result[$phone $codec elapsed]=$elapsed

  # Audio really flowed both ways (counts from the phones' own logs).
  local sent received
  if [ "$phone" = deskphone ]; then
    local stats
    stats=$(grep -m1 -E '^call [0-9]+: stats ' "$dir/phone.out")
    sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<< "$stats")
    received=$(sed -n 's/.* received=\([0-9]*\).*/\1/p' <<< "$stats")
    local key
    for key in capture_to_send_p50_ms capture_to_send_p99_ms receive_to_playback_p50_ms \
      receive_to_playback_p99_ms lost late concealed jitter_ms; do
      result[$phone $codec $key]=$(sed -n "s/.* $key=\([0-9.-]*\).*/\1/p" <<< "$stats")
    done
    local out_bytes
    out_bytes=$(stat -c %s "$dir/out.raw" 2> /dev/null || echo 0)
    result[$phone $codec played_s]=$(awk -v b="$out_bytes" -v r="$rate" 'BEGIN { printf "%.1f", b / (r * 2000) }')
    [ -n "$stats" ] || note "$codec deskphone: no 'call N: stats' line in its log"
  else
    # baresip's `rtp_stats yes` summary: "packets:  <transmit>  <receive>".
    sent=$(awk '/^packets:/ { print $2; exit }' "$dir/phone.out" "$dir/phone.err")
    received=$(awk '/^packets:/ { print $3; exit }' "$dir/phone.out" "$dir/phone.err")
  fi
  result[$phone $codec sent]=${sent:-?}
  result[$phone $codec received]=${received:-?}
  note "$codec $phone: cpu ${result[$phone $codec cpu]} s, rss $rss KiB, packets sent ${sent:-?} received ${received:-?}"
  if [ -z "$received" ] || [ "$received" -eq 0 ]; then
    note "$codec $phone: no RTP came back: the call's audio was not measured"
    unmeasured=$((unmeasured + 1))
  fi
}

for codec in g711 g722; do
  run_call deskphone "$codec"
  run_call baresip "$codec"
done

ratio() {
  local a=${result[deskphone $1 $2]:-} b=${result[baresip $1 $2]:-}
  if [ -z "$a" ] || [ -z "$b" ]; then echo "-"; return; fi
  awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
value() { echo "${result[$1]:-"-"}"; }
size_kib() { [ -e "$1" ] && awk -v s="$(stat -L -c %s "$1")" 'BEGIN { printf "%.0f", s / 1024 }' || echo "-"; }

# preload_kib RATE_KHZ: the input file baresip's aufile holds in memory, KiB.
preload_kib() { echo $(((seconds + 5) * $1 * 2000 / 1024)); }
# rss_adjusted CODEC RATE_KHZ: deskphone RSS / (baresip RSS less the preloaded input).
rss_adjusted() {
  local a=${result[deskphone $1 rss]:-} b=${result[baresip $1 rss]:-}
  if [ -z "$a" ] || [ -z "$b" ]; then echo "-"; return; fi
  awk -v a="$a" -v b="$b" -v p="$(preload_kib "$2")" 'BEGIN { if (b - p > 0) printf "%.2f", a / (b - p); else print "-" }'
}

cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
deskphone_version=$("$deskphone" --version 2> /dev/null | head -1)
baresip_version=$(dpkg-query -W -f '${Version}' baresip-core 2> /dev/null || echo "?")
sipp_version=$(sipp -v 2> /dev/null | grep -o 'v[0-9][^ ,]*' | head -1 | sed 's/\.$//')
baresip_modules=0
for module in g711 g722 aufile aubridge menu account; do
  baresip_modules=$((baresip_modules + $(stat -c %s "/usr/lib/baresip/modules/$module.so")))
done
libre=$(ldconfig -p | awk '/libre\.so\.0 / { print $NF; exit }')
librem=$(ldconfig -p | awk '/librem\.so\.0 / { print $NF; exit }')

echo
echo "## Call benchmark (\`make bench-call\`, scripts/bench-call.sh)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $cpu_model; Linux $(uname -r);" \
  "${seconds} s per call; load average (1/5/15 min) before each call below."
echo "deskphone: \`$1\` ($deskphone_version); baresip $baresip_version (Debian);" \
  "SIPp $sipp_version answering and echoing RTP (\`-rtp_echo\`)."
echo
echo "| codec | phone | CPU s (user+sys) | CPU % of a core | peak RSS KiB | RTP sent/received | load before |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for codec in g711 g722; do
  for phone in deskphone baresip; do
    cpu=$(value "$phone $codec cpu")
    elapsed=$(value "$phone $codec elapsed")
    percent=$(awk -v c="$cpu" -v e="$elapsed" 'BEGIN { if (e > 0 && c != "-") printf "%.2f", 100 * c / e; else print "-" }')
    echo "| $( [ "$codec" = g711 ] && echo "G.711 PCMU" || echo "G.722") | $phone |" \
      "$cpu ($(value "$phone $codec user")+$(value "$phone $codec sys")) | $percent |" \
      "$(value "$phone $codec rss") | $(value "$phone $codec sent")/$(value "$phone $codec received") |" \
      "$(value "$phone $codec load") |"
  done
  echo "| | **deskphone/baresip** | **$(ratio "$codec" cpu)** | | **$(ratio "$codec" rss)** | | |"
done
echo
echo "deskphone in-phone latency (its \`call N: stats\` line; capture-to-send: from the captured"
echo "period's timestamp to the packet's send; receive-to-playback: from the packet's arrival to the"
echo "write of its audio to the device):"
echo
echo "| codec | capture→send p50 / p99 ms | receive→playback p50 / p99 ms | lost | late | concealed | jitter ms | played s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for codec in g711 g722; do
  echo "| $( [ "$codec" = g711 ] && echo "G.711 PCMU" || echo "G.722") |" \
    "$(value "deskphone $codec capture_to_send_p50_ms") / $(value "deskphone $codec capture_to_send_p99_ms") |" \
    "$(value "deskphone $codec receive_to_playback_p50_ms") / $(value "deskphone $codec receive_to_playback_p99_ms") |" \
    "$(value "deskphone $codec lost") | $(value "deskphone $codec late") | $(value "deskphone $codec concealed") |" \
    "$(value "deskphone $codec jitter_ms") | $(value "deskphone $codec played_s") |"
done
echo
stripped=""
[ -e "$deskphone.stripped" ] && stripped=" (stripped $(size_kib "$deskphone.stripped"))"
echo "Binary sizes (KiB): deskphone $(size_kib "$deskphone")$stripped," \
  "linking $(ldd "$deskphone" 2> /dev/null | awk '/=>/ { print $1 }' | sed 's/\.so.*//' | tr '\n' ' ' | sed 's/ $//');" \
  "baresip $(size_kib /usr/bin/baresip) + libre $(size_kib "$libre") + librem $(size_kib "$librem")" \
  "+ its 6 modules $((baresip_modules / 1024)) (g711, g722 with libspandsp, aufile, aubridge, menu, account)."
echo
echo "Same work, and where it differs: both phones dial SIPp, offer only the codec under test,"
echo "read a speech-like file at the codec rate (deskphone: raw s16le through ALSA's file plugin,"
echo "paced by its timer; baresip: a WAV file through its aufile source thread), send 20 ms packets,"
echo "get the same packets back from SIPp's echo, jitter-buffer and decode them. deskphone also plays"
echo "the decoded audio out at the codec rate into a file (ALSA file plugin); baresip 1.0.0 has no"
echo "file or null player, so its player is an unconnected aubridge device that never pulls: it"
echo "decodes into its audio buffer but does no playout, which favours baresip's CPU. baresip's"
echo "aufile source preloads the whole input file, so its peak RSS includes"
echo "$(preload_kib 8) KiB (G.711) / $(preload_kib 16) KiB (G.722) of audio that deskphone streams;"
echo "ratios without it: CPU as above, RSS G.711 $(rss_adjusted g711 8) / G.722 $(rss_adjusted g722 16)."
echo "deskphone's audio goes through ALSA (the file plugin over a null slave, 10 ms periods): per"
echo "second about 100 read()s of the input, 100 write()s of the output, 100 write()s of the captured"
echo "audio to /dev/null (the file plugin always copies a capture stream to its output file, which alsa-lib"
echo "1.2.8 requires) and ~200 epoll wake-ups; baresip's source reads memory, its player none."
echo "baresip also runs its menu module (for the /dial command; it redraws a call-status line 10"
echo "times a second) and its account module."
[ "$unmeasured" -eq 0 ] || { note "$unmeasured call(s) not measured"; exit 1; }
