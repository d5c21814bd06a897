#!/usr/bin/env bash
# libFuzzer runs of every parser that reads the outside (issue 5):
#   scripts/fuzz.sh TARGET SECONDS     fuzz one target for SECONDS (targets below)
#   scripts/fuzz.sh all SECONDS        each target in turn
#   FUZZ_SMOKE=1 scripts/fuzz.sh ...   work on a temporary copy of the corpus (make test's smoke
#                                      run: the committed corpus is replayed, not changed or merged)
#   scripts/fuzz.sh --list             print the target names (scripts/test.sh checks each)
# Targets: message framer uri sdp crypto auth mwi stun sipfrag (SIP; crypto: SDES a=crypto; sipfrag: NOTIFY bodies of a transfer, Refer-To; mwi: RFC 3842 message-summary bodies; stun: RFC 5626 keep-alive responses), rtp rtcp dtmf (Voice), http dns tftp dhcp netlink phonetext (Recording, Net; dhcp: lease files, option 66; netlink: address/link datagrams),
# cfg (Config), keys (Keys), tls (TLS: server records to a client engine; mbedTLS itself is not
# instrumented, so coverage counts the Swift side); Tools/deskphone-fuzz says what each checks.
# Builds deskphone-fuzz with libFuzzer and ASan in .build-fuzz/direct, runs it on
# fuzz/corpus/TARGET (seeded from the test fixtures, bench/, board/, config/ and fuzz/seeds/TARGET;
# new inputs that add coverage are kept in fuzz/corpus/TARGET, which is committed, minimized by
# libFuzzer's -merge=1 after each run), and writes crashes to fuzz/crashes/TARGET/. Prints one
# summary line per target: `fuzz TARGET: N runs in S s (E exec/s), cov A->B ft C->D, corpus F files,
# crashes K (exit N)` (cov/ft: libFuzzer's edge and feature counts once the corpus is loaded and at
# the end). Exit 1 on a crash.
set -uo pipefail
cd "$(dirname "$0")/.."
targets=(message framer uri sdp crypto auth mwi stun sipfrag rtp rtcp dtmf http dns tftp dhcp netlink phonetext cfg keys tls)
what=${1:-all}
seconds=${2:-30}
if [[ $what == --list ]]; then echo "${targets[@]}"; exit 0; fi
[[ $what == all ]] || targets=("$what")

# Built with swiftc directly (SwiftPM's --sanitize=fuzzer left the Swift modules without
# coverage counters here): the C shim with ASan, then the firmware modules the targets need as WMO
# modules with -sanitize=fuzzer,address (in dependency order; a module is rebuilt when its sources,
# this script or a module before it changed), then the entry points, linked with libFuzzer's main.
# Keys links libevdev (uninstrumented: only its name tables are used). ALSA (Audio) is not needed.
B=.build-fuzz/direct
mkdir -p "$B"
build() {
  local san="-sanitize=fuzzer,address"
  local maps=(-Xcc -fmodule-map-file=Sources/CLinux/include/module.modulemap
    -Xcc -fmodule-map-file=Sources/COpus/module.modulemap -Xcc -fmodule-map-file=Sources/CEvdev/module.modulemap
    -Xcc -fmodule-map-file=Sources/CMbedTLS/module.modulemap
    $(pkg-config --cflags-only-I opus libevdev | sed 's/-I/-Xcc -I/g') -I "$B")
  local c m
  for c in Sources/CLinux/*.c; do
    clang -O1 -fPIC -fsanitize=address -I Sources/CLinux/include -c "$c" -o "$B/$(basename "$c" .c).o" || return 1
  done
  local stale=0
  [[ $B/deskphone-fuzz -nt scripts/fuzz.sh ]] || stale=1
  for m in Reactor Voice Config Net TLS Digest SIP Keys Indicators HTTP Recording; do
    if [[ $stale == 0 && -f $B/$m.o && -z $(find Sources/$m -newer "$B/$m.o" -print -quit) ]]; then continue; fi
    stale=1
    swiftc -O -wmo $san -swift-version 6 -parse-as-library -module-name $m -emit-module \
      -emit-module-path "$B/$m.swiftmodule" "${maps[@]}" -c Sources/$m/*.swift -o "$B/$m.o" || return 1
  done
  swiftc -O -wmo $san -swift-version 6 -parse-as-library -DFUZZING -module-name deskphone_fuzz "${maps[@]}" \
    Tools/deskphone-fuzz/*.swift "$B"/*.o $(pkg-config --libs opus libevdev) -lmbedtls -lmbedx509 -lmbedcrypto -lm -o "$B/deskphone-fuzz" || return 1
}
if ! build > "$B/build.log" 2>&1; then
  grep -v "Cannot export" "$B/build.log" | tail -30
  echo "fuzz: build failed"
  exit 1
fi
export SWIFT_BACKTRACE=enable=no
bin=$B/deskphone-fuzz
status=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  crashes=fuzz/crashes/$t
  mkdir -p "$corpus" "$crashes"
  # The smoke run (make test) mutates from a fixed seed, so what it explores is the same from run
  # to run but for how far it gets in the time; `make fuzz` explores anew each time.
  seed=()
  if [[ ${FUZZ_SMOKE:-0} == 1 ]]; then
    seed=(-seed=1)
    copy=$(mktemp -d)
    cp -r "$corpus"/. "$copy"/
    corpus=$copy
    crashes=$(mktemp -d)
  fi
  case $t in
    message) seeds=(Tests/SIPTests/Fixtures/rfc4475 Tests/SIPTests/Fixtures/rfc5118 bench) ;;
    framer) seeds=(Tests/SIPTests/Fixtures/rfc4475 fuzz/seeds/framer) ;;
    sdp) seeds=(Tests/SIPTests/Fixtures/sdp Tests/SIPTests/Fixtures/sdp/invalid) ;;
    cfg) seeds=(board config fuzz/seeds/cfg) ;;
    *) seeds=("fuzz/seeds/$t") ;;
  esac
  log=$(mktemp)
  DESKPHONE_FUZZ_TARGET=$t "$bin" "${seed[@]}" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 \
    "$corpus" "${seeds[@]}" > "$log" 2>&1
  rc=$?
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  speed=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
  # Coverage once the corpus is loaded (INITED) and at the end (the last status line).
  start=$(grep -m1 -E '^#[0-9]+[[:space:]]+INITED' "$log" | grep -oE 'cov: [0-9]+ ft: [0-9]+')
  end=$(grep -E '^#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+cov:' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
  read -r _ cov0 _ ft0 <<< "${start:-cov: ? ft: ?}"
  read -r _ cov1 _ ft1 <<< "${end:-cov: ? ft: ?}"
  if [[ $rc -eq 0 && ${FUZZ_SMOKE:-0} != 1 ]]; then
    minimized=$(mktemp -d)
    if DESKPHONE_FUZZ_TARGET=$t "$bin" -merge=1 "$minimized" "$corpus" > /dev/null 2>&1; then
      rm -rf "$corpus" && mv "$minimized" "$corpus" && chmod 755 "$corpus"
    else
      rm -rf "$minimized"
    fi
  fi
  files=$(find "$corpus" -type f | wc -l)
  found=$(find "$crashes" -type f | wc -l)
  echo "fuzz $t: ${runs:-0} runs in $seconds s (${speed:-0} exec/s), cov $cov0->$cov1 ft $ft0->$ft1," \
    "corpus $files files, crashes $found (exit $rc)"
  if [[ $rc -ne 0 ]]; then
    status=1
    grep -E 'ERROR|panic|Fatal|fatal|SUMMARY|Test unit written' "$log" | head -10
  fi
  rm -f "$log"
  if [[ ${FUZZ_SMOKE:-0} == 1 ]]; then
    if [[ $found -gt 0 ]]; then mkdir -p "fuzz/crashes/$t" && cp "$crashes"/* "fuzz/crashes/$t/"; fi
    rm -rf "$corpus" "$crashes"
  fi
done
exit $status
