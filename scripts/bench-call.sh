#!/usr/bin/env bash
# Call benchmark (issues 7 and 21, `make bench-call`): G.711 (PCMU), G.722 and Opus calls of
# BENCH_SECONDS (default 60), BENCH_RUNS (default 3) each, placed by deskphone (as shipped, and with
# the board key audio.period_ms = 20) and by baresip against the same SIPp scenario
# (bench/call/uas-echo.xml: SIPp answers with one codec, echoes every RTP packet back to its
# sender, hangs up after the call length), the phones taking turns run by run. Both phones capture
# from a file, encode, send, receive their own stream back, decode and play out, so both do a
# two-way call's audio work. Prints per second of each process's life the medians of CPU time,
# peak RSS and voluntary context switches (GNU time), instructions where perf has hardware
# counters (else why not), and from one more call under `perf trace -s` (or `strace -f -c`) the
# system calls by kind; the ratios to baresip; deskphone's in-phone latency from its stats line
# and its event loop's timer lateness and longest pass from its `loop:` line; as markdown for
# docs/PERFORMANCE.md. It prints numbers, never passes/fails on them; it exits non-zero only when
# a call could not be measured (no call, no audio back). BENCH_CODECS picks codecs (g711 g722 opus).
# Then (issue 17) a G.711 call of BENCH_SECONDS with TLS+SRTP against the same call plain, placed by
# deskphone and then by baresip with the same settings: both phones register at Kamailio (the
# registrar of scripts/cli-tests-tls.sh, a test PKI made here by openssl; over UDP for the plain
# call, over TLS for the other) and call the same far end, a baresip registered there too (SIPp
# has no TLS and no SRTP) that answers, sends a speech-like file and hangs up after the call
# length; with TLS+SRTP all SIP goes over TLS and the voice is SRTP (AES_CM_128_HMAC_SHA1_80, SDES
# keys, mandatory at both ends).
# usage: scripts/bench-call.sh DESKPHONE   (env: BENCH_SECONDS, default 60; BENCH_KEEP=1 keeps
#        the per-call logs: SIPp's, the phones' stdout/stderr, deskphone's played-out audio;
#        BENCH_PARTS="codecs tls" (the default, both): the codec calls against SIPp, the TLS+SRTP ones)
# Ports: SIP 26200 (SIPp), 26201 (deskphone), 26210-26211 (baresip udp/tcp, tls);
#        RTP 32000/32002 (SIPp echo), 32100-32199 (deskphone), 32200-32299 (baresip);
#        TLS+SRTP: 46201 (registrar TLS), 46202 (its UDP), 46210/46211 (far end), 46240 (deskphone),
#        46270/46271 (baresip); RTP 46220-46239 (far end), 46250-46269 (deskphone), 46280-46299 (baresip).
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
parts=${BENCH_PARTS:-codecs tls}
runs=${BENCH_RUNS:-3}
# deskphone as shipped (10 ms audio periods), deskphone with audio.period_ms = 20, baresip.
phones="deskphone deskphone-20ms baresip"
codecs=${BENCH_CODECS:-g711 g722 opus}
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "BENCH_RUNS must be a whole number of runs, got '$runs'" >&2
  exit 2
fi
for codec in $codecs; do
  case $codec in g711 | g722 | opus) ;; *) echo "BENCH_CODECS: unknown codec '$codec' (g711 g722 opus)" >&2; exit 2 ;; esac
done
PATH=$PATH:/usr/sbin
for tool in sipp baresip /usr/bin/time python3 kamailio openssl; do
  if ! command -v "$tool" > /dev/null; then
    echo "missing $tool (apt-get install -y sip-tester baresip time python3 kamailio kamailio-tls-modules openssl)" >&2
    exit 2
  fi
done

# The system-call count by kind: perf trace (tracepoints, little overhead) where it works, else strace.
tracer_kind="" tracer_why=""
if command -v perf > /dev/null && perf trace -s -o /dev/null -- true > /dev/null 2>&1; then
  tracer_kind=perf
elif command -v strace > /dev/null; then
  tracer_kind=strace
else
  tracer_why="neither perf trace (needs root or perf_event_paranoid <= -1 and tracefs) nor strace works here"
fi
# Instructions and cycles: hardware counters, often missing in a virtual machine.
counters_why=""
if ! command -v perf > /dev/null; then
  counters_why="perf is not installed (Debian linux-perf)"
else
  counters=$(perf stat -x, -e instructions,cycles true 2>&1 | cut -d, -f1 | tr '\n' ' ' | sed 's/ *$//')
  [[ "$counters" =~ ^[0-9]+\ [0-9]+$ ]] ||
    counters_why="perf stat counts instructions and cycles as '$counters' (no hardware performance counters here)"
fi

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

# track_phone PARENT_PID: the phone PARENT_PID started (GNU time's child, or a wrapper's) in
# $phone_pid, and in $children.
track_phone() {
  local i
  phone_pid=""
  for ((i = 0; i < 50; i++)); do
    phone_pid=$(pgrep -P "$1" | head -1)
    [ -n "$phone_pid" ] && break
    sleep 0.1
  done
  [ -n "$phone_pid" ] && children+=("$phone_pid")
}
# time_baresip DIR URI: baresip (config dir DIR/baresip) dialling URI, under GNU time (DIR/time), in
# the background ($! is GNU time's pid); its output in DIR/phone.out and phone.err.
time_baresip() {
  /usr/bin/time -o "$1/time" -f "%U %S %M %e" baresip -f "$1/baresip" -e "/dial $2" -t $((seconds + 60)) \
    < /dev/null > "$1/phone.out" 2> "$1/phone.err" &
}
# packets PHONE DIR: "SENT RECEIVED" RTP packets from the phone's log in DIR (deskphone: its
# `call N: stats` line; baresip: its `rtp_stats yes` summary, "packets:  <transmit>  <receive>").
packets() {
  if [[ $1 == deskphone* ]]; then
    sed -n -E '/^call [0-9]+: stats /{s/.* sent=([0-9]+) received=([0-9]+) .*/\1 \2/p;q}' "$2/phone.out"
  else
    awk '/^packets:/ { print $2, $3; exit }' "$2/phone.out" "$2/phone.err"
  fi
}

# Input audio: speech-like, 5 s longer than the call so neither phone reaches its end.
note "generating ${seconds}+5 s of speech-like input at 8 and 16 kHz"
python3 "$bench/speechlike.py" 8000 $((seconds + 5)) "$work/in8.raw" "$work/in8.wav" || exit 1
python3 "$bench/speechlike.py" 16000 $((seconds + 5)) "$work/in16.raw" "$work/in16.wav" || exit 1
if [[ " $codecs " == *" opus "* ]]; then # baresip's aufile wants Opus's own rate and channels
  python3 "$bench/speechlike.py" 48000 $((seconds + 5)) "$work/in48.raw" "$work/in48.wav" 2 || exit 1
fi

# Results, keyed "phone codec field".
declare -A result
unmeasured=0

# run_call PHONE CODEC RUN [trace]: one call, PHONE deskphone|baresip, CODEC g711|g722|opus, RUN its
# number (1..runs); with "trace" the phone runs under `perf trace -s` (or `strace -f -c` without perf),
# which counts every system call by kind over all threads: that run's CPU time is not used.
run_call() {
  local phone=$1 codec=$2 run=$3 trace=${4:-} dir=$work/$1-$2-$3 pt rtpmap rate name
  local key="$phone $codec $run"
  mkdir -p "$dir"
  case $codec in
    g711) pt=0 rtpmap=PCMU/8000 rate=8 name=PCMU ;;
    g722) pt=9 rtpmap=G722/8000 rate=16 name=G722 ;;
    opus) pt=96 rtpmap=opus/48000/2 rate=16 name=opus ;;
  esac
  local load_before
  load_before=$(load)
  note "$codec $phone $([ -n "$trace" ] && echo "traced run" || echo "run $run"): ${seconds} s call (load average $load_before)"

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

  # The wrapper between GNU time and the phone: a tracer, or perf stat for the hardware counters.
  local tracer=()
  if [ -n "$trace" ]; then
    if [ "$tracer_kind" = perf ]; then tracer=(perf trace -s -o "$dir/trace" --); else tracer=(strace -f -c -o "$dir/trace"); fi
  elif [ -z "$counters_why" ]; then
    tracer=(perf stat -x, -e instructions,cycles -o "$dir/counters" --)
  fi
  if [[ $phone == deskphone* ]]; then
    local board=$root/board/sim.cfg
    if [ "$phone" = deskphone-20ms ]; then
      board=$work/sim-20ms.cfg
      { cat "$root/board/sim.cfg"; echo "audio.period_ms = 20"; } > "$board"
    fi
    printf '%s\n' "#!version:1.0.0.1" "account.1.user_name = bench" \
      "account.1.codecs = $([ "$codec" = g711 ] && echo pcmu || echo "$codec")" "account.1.ptime = 20" \
      "sip.listen_address = 127.0.0.1" "sip.listen_port = $deskphone_port" \
      "rtp.port_min = 32100" "rtp.port_max = 32199" > "$dir/phone.cfg"
    /usr/bin/time -o "$dir/time" -f "%U %S %M %e %w %c" "${tracer[@]}" \
      "$deskphone" --board "$board" --config "$dir/phone.cfg" \
      --dial "sip:bench@127.0.0.1:$sipp_port" --exit-after-call \
      --audio-in "$work/in$rate.raw" --audio-out "$dir/out.raw" \
      < /dev/null > "$dir/phone.out" 2> "$dir/phone.err" &
  else
    mkdir -p "$dir/baresip"
    local source=$work/in$rate.wav
    [ "$codec" = opus ] && source=$work/in48.wav
    sed -e "s|@SOURCE@|$source|" -e "s|@PORT@|$baresip_port|" \
      "$bench/baresip/config" > "$dir/baresip/config"
    [ "$codec" = opus ] && printf 'module\t\t\topus.so\n' >> "$dir/baresip/config"
    echo "<sip:bench@127.0.0.1>;regint=0;audio_codecs=$name" > "$dir/baresip/accounts"
    /usr/bin/time -o "$dir/time" -f "%U %S %M %e %w %c" "${tracer[@]}" \
      baresip -f "$dir/baresip" -e "/dial sip:bench@127.0.0.1:$sipp_port" -t $((seconds + 60)) \
      < /dev/null > "$dir/phone.out" 2> "$dir/phone.err" &
  fi
  local time_pid=$!
  children+=("$time_pid")
  track_phone "$time_pid"
  # Under a wrapper the phone is GNU time's grandchild.
  [ ${#tracer[@]} -gt 0 ] && [ -n "$phone_pid" ] && track_phone "$phone_pid"

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
  result[$key load]="$load_before"

  local user sys rss elapsed waits preempted
  read -r user sys rss elapsed waits preempted < <(grep -E '^[0-9.]+ [0-9.]+ [0-9]+ [0-9.]+ [0-9]+ [0-9]+$' "$dir/time" | tail -1)
  if [ "$sipp_status" -ne 0 ] || [ -z "${user:-}" ]; then
    note "$codec $phone: call not measured (SIPp exit status $sipp_status)"
    note "  SIPp: $(grep -v '^\s*$' "$dir/sipp-errors.log" 2> /dev/null | tail -3 | tr '\n' ' ')"
    note "  phone: $(tail -5 "$dir/phone.out" "$dir/phone.err" 2> /dev/null | cut -c1-200 | tr '\n' ' ')"
    unmeasured=$((unmeasured + 1))
    return
  fi
  # Audio really flowed both ways (counts from the phones' own logs).
  local sent received
  read -r sent received < <(packets "$phone" "$dir")
  if [ -z "$received" ] || [ "$received" -eq 0 ]; then
    note "$codec $phone: no RTP came back: the call's audio was not measured"
    unmeasured=$((unmeasured + 1))
    return
  fi
  if [ -n "$trace" ]; then
    # System calls per second of the process's life, by kind (all threads summed): "name calls failed".
    local kinds
    if [ "$tracer_kind" = perf ]; then
      kinds=$(awk '$1 ~ /^[a-z_0-9]+$/ && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && NF >= 8 { c[$1] += $2; e[$1] += $3 }
        END { for (k in c) print k, c[k], e[k] }' "$dir/trace")
    else
      kinds=$(awk '$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4, (NF == 6 ? $5 : 0) }' "$dir/trace")
    fi
    result[$phone $codec syscalls]=$(awk -v e="$elapsed" '{ t += $2 } END { printf "%.0f", t / e }' <<< "$kinds")
    result[$phone $codec failed]=$(awk -v e="$elapsed" '{ t += $3 } END { printf "%.0f", t / e }' <<< "$kinds")
    result[$phone $codec epoll]=$(awk -v e="$elapsed" '$1 ~ /^(epoll_p?wait|poll|ppoll|select|pselect6)$/ { t += $2 } END { printf "%.0f", t / e }' <<< "$kinds")
    result[$phone $codec kinds]=$(sort -k2,2nr <<< "$kinds" | head -7 |
      awk -v e="$elapsed" '{ printf "%s%s %.0f", (NR > 1 ? ", " : ""), $1, $2 / e; if ($3 / e >= 0.5) printf " (%.0f failed)", $3 / e }')
    note "$codec $phone traced: ${result[$phone $codec syscalls]} system calls/s: ${result[$phone $codec kinds]}"
    return
  fi
  result[$key cpu]=$(echo "$user $sys" | awk '{ printf "%.2f", $1 + $2 }')
  result[$key user]=$user
  result[$key sys]=$sys
  result[$key rss]=$rss
  result[$key elapsed]=$elapsed
  result[$key waits]=$(awk -v w="$waits" -v e="$elapsed" 'BEGIN { printf "%.0f", w / e }')
  result[$key cpu_ms]=$(awk -v u="$user" -v s="$sys" -v e="$elapsed" 'BEGIN { printf "%.2f", 1000 * (u + s) / e }')
  if [ -s "$dir/counters" ]; then
    local field
    for field in instructions cycles; do
      result[$key $field]=$(awk -F, -v f="$field" -v e="$elapsed" '$3 ~ "^" f { if ($1 ~ /^[0-9]+$/) printf "%.1f", $1 / e / 1e6 }' "$dir/counters")
    done
  fi
  if [[ $phone == deskphone* ]]; then
    local stats field
    stats=$(grep -m1 -E '^call [0-9]+: stats ' "$dir/phone.out")
    for field in capture_to_send_p50_ms capture_to_send_p99_ms receive_to_playback_p50_ms \
      receive_to_playback_p99_ms lost late concealed jitter_ms; do
      result[$key $field]=$(sed -n "s/.* $field=\([0-9.-]*\).*/\1/p" <<< "$stats")
    done
    local out_bytes
    out_bytes=$(stat -c %s "$dir/out.raw" 2> /dev/null || echo 0)
    result[$key played_s]=$(awk -v b="$out_bytes" -v r="$rate" 'BEGIN { printf "%.1f", b / (r * 2000) }')
    [ -n "$stats" ] || note "$codec deskphone: no 'call N: stats' line in its log"
    # The event loop over the whole run: how late it serviced due timers, its longest pass.
    local loop
    loop=$(grep -m1 -E '^loop: ' "$dir/phone.out")
    result[$key lateness_p99_ms]=$(sed -n 's/.*timer lateness p50 [0-9.]* ms p99 \([0-9.]*\) ms.*/\1/p' <<< "$loop")
    result[$key lateness_max_ms]=$(sed -n 's/.*timer lateness .* max \([0-9.]*\) ms.*/\1/p' <<< "$loop")
    result[$key longest_pass_ms]=$(sed -n 's/.*longest pass \([0-9.]*\) ms.*/\1/p' <<< "$loop")
  fi
  result[$key sent]=$sent
  result[$key received]=$received
  note "$codec $phone run $run: cpu ${result[$key cpu]} s, rss $rss KiB, $waits voluntary switches, packets sent $sent received $received"
}

# median PHONE CODEC FIELD: the median over the runs of one measured field (nothing if no run has it).
median() {
  local r values=()
  for ((r = 1; r <= runs; r++)); do
    [ -n "${result[$1 $2 $r $3]:-}" ] && values+=("${result[$1 $2 $r $3]}")
  done
  [ ${#values[@]} -gt 0 ] || return 0
  printf '%s\n' "${values[@]}" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# --- TLS+SRTP against plain (issue 17) --------------------------------------------------------------
source "$root/scripts/test-pki.sh"
reg_tls=46201
reg_udp=46202
far_sip=46210
declare -A tresult
# time_of DIR: "user sys rss elapsed" from GNU time's output file, or nothing.
time_of() { grep -E '^[0-9.]+ [0-9.]+ [0-9]+ [0-9.]+$' "$1/time" 2> /dev/null | tail -1; }
# baresip_dir DIR SIP-PORT RTP-PORTS SOURCE MODE USER EXTRA: a baresip config dir for the TLS part,
# from bench/call/baresip/config; the account registers as USER at the registrar (over UDP or TLS
# by MODE plain|tls; with tls: SRTP mandatory), EXTRA goes at the end of its account line.
baresip_dir() {
  local dir=$1 port=$2 ports=$3 source=$4 mode=$5 user=$6 extra=$7
  mkdir -p "$dir"
  sed -e "s|@SOURCE@|$source|" -e "s|@PORT@|$port|" -e "s|^rtp_ports.*|rtp_ports\t\t$ports|" \
    "$bench/baresip/config" > "$dir/config"
  echo "net_interface 127.0.0.1" >> "$dir/config" # SDP c= on loopback, not the default route's address
  if [ "$mode" = tls ]; then
    # its own certificate: the far end's BYE to a calling baresip comes on a new connection
    printf '%s\n' "module srtp.so" "sip_cafile $pki/ca.crt" "sip_certificate $pki/baresip.pem" >> "$dir/config"
    echo "<sip:$user@127.0.0.1:$reg_tls;transport=tls>;auth_pass=secret;regint=300;audio_codecs=PCMU;mediaenc=srtp-mand$extra" \
      > "$dir/accounts"
  else
    echo "<sip:$user@127.0.0.1:$reg_udp>;auth_pass=secret;regint=300;audio_codecs=PCMU$extra" > "$dir/accounts"
  fi
}
# run_secure_call PHONE MODE: one G.711 call through the registrar to the far end; PHONE
# deskphone|baresip, MODE plain|tls.
run_secure_call() {
  local phone=$1 mode=$2 dir=$work/$1-$2 load_before i
  mkdir -p "$dir"
  load_before=$(load)
  note "TLS part, $mode $phone: ${seconds} s call (load average $load_before)"
  start_tls_registrar "registrar-$phone-$mode" $reg_tls good -A "UDP_PORT=$reg_udp"
  local registrar=$registrar_pid
  children+=("$registrar")
  if ! wait_udp $reg_udp 10; then
    note "$mode $phone: the registrar did not start: $(tail -c 300 "$work/registrar-$phone-$mode.log")"
    unmeasured=$((unmeasured + 1))
    return
  fi
  # The far end: registered as 1002, answers at once, sends the speech-like file; stdin from a FIFO.
  baresip_dir "$dir/far" $far_sip 46220-46239 "$work/in8.wav" "$mode" 1002 ";answermode=auto"
  echo "module stdio.so" >> "$dir/far/config"
  mkfifo "$dir/far.in"
  local far_fd
  exec {far_fd}<> "$dir/far.in"
  : > "$dir/far.out"
  baresip -f "$dir/far" < "$dir/far.in" > "$dir/far.out" 2>&1 &
  local far=$!
  children+=("$far")
  for ((i = 0; i < 100; i++)); do
    grep -a -q "registered successfully" "$dir/far.out" && break
    sleep 0.1
  done
  if [ "$phone" = deskphone ]; then
    {
      echo "#!version:1.0.0.1"
      if [ "$mode" = tls ]; then
        echo "account.1.srtp_encryption = 2"
        echo "account.1.sip_server.1.port = $reg_tls"
        echo "account.1.sip_server.1.transport = 2"
        echo "security.trusted_certificates.file = $pki/ca.crt"
      else
        echo "account.1.sip_server.1.port = $reg_udp"
      fi
      echo "account.1.enable = 1"
      echo "account.1.user_name = 1001"
      echo "account.1.password = secret"
      echo "account.1.sip_server.1.address = 127.0.0.1"
      echo "account.1.sip_server.1.expires = 300"
      echo "account.1.codecs = pcmu"
      echo "account.1.ptime = 20"
      echo "sip.listen_address = 127.0.0.1"
      echo "sip.listen_port = 46240"
      echo "rtp.port_min = 46250"
      echo "rtp.port_max = 46269"
    } > "$dir/phone.cfg"
    /usr/bin/time -o "$dir/time" -f "%U %S %M %e" \
      "$deskphone" --board "$root/board/sim.cfg" --config "$dir/phone.cfg" --dial 1002 --exit-after-call \
      --audio-in "$work/in8.raw" --audio-out "$dir/out.raw" < /dev/null > "$dir/phone.out" 2> "$dir/phone.err" &
  else
    baresip_dir "$dir/baresip" 46270 46280-46299 "$work/in8.wav" "$mode" 1001 ""
    local registrar_port=$reg_udp
    [ "$mode" = tls ] && registrar_port=$reg_tls
    time_baresip "$dir" "sip:1002@127.0.0.1:$registrar_port"
  fi
  local time_pid=$!
  children+=("$time_pid")
  track_phone "$time_pid"
  # The call: the far end hangs up after the call length.
  for ((i = 0; i < 150; i++)); do
    grep -a -q "Call established" "$dir/far.out" && break
    sleep 0.1
  done
  if grep -a -q "Call established" "$dir/far.out"; then
    sleep "$seconds"
    printf '/hangup\n' >&"$far_fd"
  else
    note "$mode $phone: the far end saw no call"
  fi
  if [ "$phone" = baresip ] && [ -n "$phone_pid" ]; then
    for ((i = 0; i < 50; i++)); do
      grep -a -q "terminated" "$dir/phone.out" "$dir/phone.err" && break
      sleep 0.1
    done
    sleep 0.5 # its RTP summary, then stop it like a user would
    kill -TERM "$phone_pid" 2> /dev/null
  fi
  if ! wait_gone "$time_pid" 15; then
    note "$mode $phone: still running 15 s after the call, killed"
    [ -n "$phone_pid" ] && kill -KILL "$phone_pid" 2> /dev/null
  fi
  wait "$time_pid" 2> /dev/null
  printf '/quit\n' >&"$far_fd"
  wait_gone "$far" 5 || kill -KILL "$far" 2> /dev/null
  exec {far_fd}>&-
  kill -TERM "$registrar" 2> /dev/null
  wait_gone "$registrar" 5 || kill -KILL "$registrar" 2> /dev/null
  wait "$registrar" 2> /dev/null

  local key="$phone $mode" user sys rss elapsed
  tresult[$key load]=$load_before
  read -r user sys rss elapsed < <(time_of "$dir")
  if [ -z "${user:-}" ] || ! grep -a -q "Call established" "$dir/far.out"; then
    note "$mode $phone: call not measured"
    note "  phone: $(tail -5 "$dir/phone.out" "$dir/phone.err" 2> /dev/null | cut -c1-200 | tr '\n' ' ')"
    note "  far end: $(grep -a -v '^\s*$' "$dir/far.out" | tail -5 | cut -c1-200 | tr '\n' ' ')"
    unmeasured=$((unmeasured + 1))
    return
  fi
  tresult[$key cpu]=$(echo "$user $sys" | awk '{ printf "%.2f", $1 + $2 }')
  tresult[$key user]=$user
  tresult[$key sys]=$sys
  tresult[$key rss]=$rss
  tresult[$key elapsed]=$elapsed
  # What went on the wire, from the phones' own logs: packet counts, SRTP, SIP over TLS.
  local sent received srtp=no sip=UDP
  read -r sent received < <(packets "$phone" "$dir")
  if [ "$phone" = deskphone ]; then
    local stats
    stats=$(grep -m1 -E '^call [0-9]+: stats ' "$dir/phone.out")
    grep -q -E '^call [0-9]+: media .* srtp AES_CM_128_HMAC_SHA1_80$' "$dir/phone.out" &&
      [[ $stats == *" srtp_auth_failures=0 srtp_replays=0"* ]] && srtp=yes
    grep -q -E '^sip: registration: REGISTER .* to TLS ' "$dir/phone.out" && sip=TLS
  else
    grep -a -q "SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)" "$dir/phone.out" "$dir/phone.err" && srtp=yes
    grep -a -q "{0/TLS/v4} 200 OK" "$dir/phone.out" "$dir/phone.err" && sip=TLS
  fi
  tresult[$key sent]=${sent:-?}
  tresult[$key received]=${received:-?}
  tresult[$key wire]="SIP $sip, SRTP $srtp"
  note "$mode $phone: cpu ${tresult[$key cpu]} s, rss $rss KiB, packets sent ${sent:-?} received ${received:-?}, SIP $sip, SRTP $srtp"
  if [ -z "$received" ] || [ "$received" -eq 0 ]; then
    note "$mode $phone: no RTP came back: the call's audio was not measured"
    unmeasured=$((unmeasured + 1))
  elif [ "${sent:-0}" -gt $(((seconds + 3) * 50)) ]; then
    note "$mode $phone: $sent packets sent: the call outlasted the far end's hang-up"
    unmeasured=$((unmeasured + 1))
  elif { [ "$mode" = tls ] && [ "$sip $srtp" != "TLS yes" ]; } || { [ "$mode" = plain ] && [ "$sip $srtp" != "UDP no" ]; }; then
    note "$mode $phone: not what was asked for: SIP $sip, SRTP $srtp"
    unmeasured=$((unmeasured + 1))
  fi
}

if [[ " $parts " == *" codecs "* ]]; then
  # The phones take turns, run by run, so a change in the machine's load falls on both.
  for codec in $codecs; do
    for ((r = 1; r <= runs; r++)); do
      for phone in $phones; do run_call "$phone" "$codec" "$r"; done
    done
    if [ -n "$tracer_kind" ]; then
      for phone in $phones; do run_call "$phone" "$codec" traced trace; done
    fi
  done
fi
if [[ " $parts " == *" tls "* ]]; then
  if make_ca ca "bench CA" && make_leaf good ca pbx.test "DNS:pbx.test,IP:127.0.0.1" &&
    make_leaf baresip ca baresip.test "DNS:baresip.test,IP:127.0.0.1" &&
    cat "$pki/baresip.crt" "$pki/baresip.key" > "$pki/baresip.pem"; then
    for mode in plain tls; do
      run_secure_call deskphone "$mode"
      run_secure_call baresip "$mode"
    done
  else
    note "openssl could not make the test PKI"
    unmeasured=$((unmeasured + 1))
  fi
fi

# ratio CODEC FIELD [PHONE]: PHONE (default deskphone) / baresip, of the medians (FIELD measured per
# run) or of the traced run.
ratio() {
  local a b phone=${3:-deskphone}
  a=$(median "$phone" "$1" "$2")
  b=$(median baresip "$1" "$2")
  [ -n "$a" ] || a=${result[$phone $1 $2]:-}
  [ -n "$b" ] || b=${result[baresip $1 $2]:-}
  if [ -z "$a" ] || [ -z "$b" ]; then echo "-"; return; fi
  awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
value() { echo "${result[$1]:-"-"}"; }
# cpu_cells GETTER "PHONE CASE": the cells "CPU s (user+sys) | CPU % of a core" from GETTER (value, tvalue).
cpu_cells() {
  local cpu elapsed
  cpu=$($1 "$2 cpu")
  elapsed=$($1 "$2 elapsed")
  echo "$cpu ($($1 "$2 user")+$($1 "$2 sys")) |" \
    "$(awk -v c="$cpu" -v e="$elapsed" 'BEGIN { if (e > 0 && c != "-") printf "%.2f", 100 * c / e; else print "-" }')"
}
size_kib() { [ -e "$1" ] && awk -v s="$(stat -L -c %s "$1")" 'BEGIN { printf "%.0f", s / 1024 }' || echo "-"; }

# preload_kib RATE_KHZ: the input file baresip's aufile holds in memory, KiB.
preload_kib() { echo $(((seconds + 5) * $1 * 2000 / 1024)); }
# rss_adjusted CODEC RATE_KHZ: deskphone RSS / (baresip RSS less the preloaded input).
rss_adjusted() {
  local a b
  a=$(median deskphone "$1" rss)
  b=$(median baresip "$1" rss)
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
  "SIPp $sipp_version answering and echoing RTP (\`-rtp_echo\`) in the codec calls."
echo
if [[ " $parts " == *" codecs "* ]]; then
  codec_name() { case $1 in g711) echo "G.711 PCMU" ;; g722) echo "G.722" ;; opus) echo "Opus" ;; esac; }
  # m PHONE CODEC FIELD: the median, or "-".
  m() { local v; v=$(median "$1" "$2" "$3"); echo "${v:--}"; }
  echo "Cost per second of the process's life (start, the call, exit), median of $runs runs per phone and"
  echo "codec, the phones taking turns run by run. CPU: user+sys from GNU time; RSS: its peak; switches:"
  echo "voluntary context switches (the process's threads going to sleep and being woken: wake-ups), from"
  echo "GNU time. System calls: one more call each under $( [ "$tracer_kind" = perf ] && echo "\`perf trace -s\`" || echo "\`strace -f -c\`"), all threads;"
  echo "\"failed\" counts the calls that returned an error (EAGAIN mostly), \"waits\" the epoll/poll calls."
  [ -n "$tracer_why" ] && echo "No system-call counts: $tracer_why."
  [ -n "$counters_why" ] && echo "No instruction or cycle counts: $counters_why."
  echo
  echo "| codec | phone | CPU ms/s | peak RSS KiB | switches/s | instructions M/s | system calls/s | failed/s | waits/s | the most frequent, per s |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for codec in $codecs; do
    for phone in $phones; do
      echo "| $(codec_name "$codec") | $phone | $(m $phone "$codec" cpu_ms) | $(m $phone "$codec" rss) |" \
        "$(m $phone "$codec" waits) | $(m $phone "$codec" instructions) | $(value "$phone $codec syscalls") |" \
        "$(value "$phone $codec failed") | $(value "$phone $codec epoll") | $(value "$phone $codec kinds") |"
    done
    for phone in $phones; do
      [ "$phone" = baresip ] && continue
      echo "| | **$phone/baresip** | **$(ratio "$codec" cpu_ms "$phone")** | **$(ratio "$codec" rss "$phone")** |" \
        "**$(ratio "$codec" waits "$phone")** | $(ratio "$codec" instructions "$phone") | **$(ratio "$codec" syscalls "$phone")** | | | |"
    done
  done
  echo
  echo "Each run (CPU s user+sys, peak RSS KiB, RTP sent/received, load average before):"
  echo
  for codec in $codecs; do
    for phone in $phones; do
      line="- $(codec_name "$codec"), $phone:"
      for ((r = 1; r <= runs; r++)); do
        line+=" $(value "$phone $codec $r cpu") ($(value "$phone $codec $r user")+$(value "$phone $codec $r sys")) s,"
        line+=" $(value "$phone $codec $r rss") KiB, $(value "$phone $codec $r sent")/$(value "$phone $codec $r received"),"
        line+=" load $(value "$phone $codec $r load");"
      done
      echo "${line%;}"
    done
  done
  echo
  echo "deskphone in-phone latency (its \`call N: stats\` line, median of the runs; capture-to-send: from"
  echo "the captured period's timestamp to the packet's send; receive-to-playback: from the packet's"
  echo "arrival to the write of its audio to the device; timer lateness: how long after a timer's deadline"
  echo "(the audio period's tick among them) the loop ran it, which with the longest pass, the longest"
  echo "stretch of work between two waits, bounds the wake-up-to-audio-write delay):"
  echo
  echo "| codec | phone | capture→send p50 / p99 ms | receive→playback p50 / p99 ms | lost | late | concealed | jitter ms | played s | timer lateness p99 / max ms | longest loop pass ms |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for codec in $codecs; do
    for phone in $phones; do
      [ "$phone" = baresip ] && continue
      echo "| $(codec_name "$codec") | $phone |" \
        "$(m "$phone" "$codec" capture_to_send_p50_ms) / $(m "$phone" "$codec" capture_to_send_p99_ms) |" \
        "$(m "$phone" "$codec" receive_to_playback_p50_ms) / $(m "$phone" "$codec" receive_to_playback_p99_ms) |" \
        "$(m "$phone" "$codec" lost) | $(m "$phone" "$codec" late) | $(m "$phone" "$codec" concealed) |" \
        "$(m "$phone" "$codec" jitter_ms) | $(m "$phone" "$codec" played_s) |" \
        "$(m "$phone" "$codec" lateness_p99_ms) / $(m "$phone" "$codec" lateness_max_ms) | $(m "$phone" "$codec" longest_pass_ms) |"
    done
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
  echo "get the same packets back from SIPp's echo, jitter-buffer and decode them (Opus: deskphone"
  echo "captures and plays at 16 kHz, wideband, baresip at 48 kHz, its aufile's only rate for Opus). deskphone also plays"
  echo "the decoded audio out at the codec rate into a file (ALSA file plugin); baresip 1.0.0 has no"
  echo "file or null player, so its player is an unconnected aubridge device that never pulls: it"
  echo "decodes into its audio buffer but does no playout, which favours baresip's CPU. baresip's"
  echo "aufile source preloads the whole input file, so its peak RSS includes"
  echo "$(preload_kib 8) KiB (G.711) / $(preload_kib 16) KiB (G.722) / $(preload_kib 48) KiB (Opus, 48 kHz) of audio that"
  echo "deskphone streams; RSS ratios without it: G.711 $(rss_adjusted g711 8) / G.722 $(rss_adjusted g722 16) / Opus $(rss_adjusted opus 48)."
  echo "deskphone's audio goes through ALSA (the file plugin over a null slave, 10 ms periods), which"
  echo "reads the input and writes the output file and copies every captured period to /dev/null (alsa-lib"
  echo "1.2.8 requires an output file for a capture stream): those are most of its read()s and write()s"
  echo "above; baresip's source reads memory, its player none."
  echo "baresip also runs its menu module (for the /dial command; it redraws a call-status line 10"
  echo "times a second) and its account module."
fi
if [[ " $parts " == *" tls "* ]]; then
  # tls_ratio PHONE FIELD: TLS+SRTP / plain for PHONE; phone_ratio MODE FIELD: deskphone / baresip.
  tls_ratio() {
    local a=${tresult[$1 tls $2]:-} b=${tresult[$1 plain $2]:-}
    [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' || echo "-"
  }
  phone_ratio() {
    local a=${tresult[deskphone $1 $2]:-} b=${tresult[baresip $1 $2]:-}
    [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' || echo "-"
  }
  tvalue() { echo "${tresult[$1]:-"-"}"; }
  echo
  echo "### TLS+SRTP against plain (G.711 PCMU, ${seconds} s, the same far end)"
  echo
  echo "Both phones register at Kamailio $(dpkg-query -W -f '${Version}' kamailio 2> /dev/null) (over UDP for the plain"
  echo "call, over TLS 1.2+ for the other) and call a baresip registered there, which answers, sends a"
  echo "speech-like file and hangs up; TLS+SRTP: SIP over TLS (server certificate checked by deskphone;"
  echo "baresip 1.0.0 checks none), SRTP AES_CM_128_HMAC_SHA1_80 with SDES keys, mandatory at both ends."
  echo "Whole process from start to exit: registration, TLS handshake, the call, unregistration."
  echo
  echo "| call | phone | CPU s (user+sys) | CPU % of a core | peak RSS KiB | RTP sent/received | on the wire | load before |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  for mode in plain tls; do
    for phone in deskphone baresip; do
      echo "| $([ "$mode" = tls ] && echo "TLS+SRTP" || echo "plain") | $phone |" \
        "$(cpu_cells tvalue "$phone $mode") | $(tvalue "$phone $mode rss") |" \
        "$(tvalue "$phone $mode sent")/$(tvalue "$phone $mode received") | $(tvalue "$phone $mode wire") |" \
        "$(tvalue "$phone $mode load") |"
    done
    echo "| | **deskphone/baresip** | **$(phone_ratio $mode cpu)** | | **$(phone_ratio $mode rss)** | | | |"
  done
  echo
  echo "TLS+SRTP/plain: deskphone CPU $(tls_ratio deskphone cpu), RSS $(tls_ratio deskphone rss)" \
    "(+$(awk -v a="${tresult[deskphone tls rss]:-0}" -v b="${tresult[deskphone plain rss]:-0}" 'BEGIN { print a - b }') KiB);" \
    "baresip CPU $(tls_ratio baresip cpu), RSS $(tls_ratio baresip rss)" \
    "(+$(awk -v a="${tresult[baresip tls rss]:-0}" -v b="${tresult[baresip plain rss]:-0}" 'BEGIN { print a - b }') KiB)."
fi
[ "$unmeasured" -eq 0 ] || { note "$unmeasured call(s) not measured"; exit 1; }
