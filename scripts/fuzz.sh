#!/usr/bin/env bash
# libFuzzer runs of the SIP stack's parsers (issue 5):
#   scripts/fuzz.sh TARGET SECONDS     fuzz one target (message, uri, sdp, auth) for SECONDS
#   scripts/fuzz.sh all SECONDS        each target in turn
#   FUZZ_SMOKE=1 scripts/fuzz.sh ...   work on a temporary copy of the corpus (make test's smoke
#                                      run: the committed corpus is replayed, not changed)
# Builds deskphone-fuzz with libFuzzer and ASan in .build-fuzz/direct, runs it on
# fuzz/corpus/TARGET (seeded from the torture/SDP test fixtures, bench/ and fuzz/seeds/TARGET;
# new inputs that add coverage are kept in fuzz/corpus/TARGET, which is committed, minimized by
# libFuzzer's -merge=1 after each run), and writes crashes to fuzz/crashes/TARGET/. Prints one
# summary line per target: `fuzz TARGET: N runs in S s, corpus C files, crashes K`. Exit 1 on a crash.
set -uo pipefail
cd "$(dirname "$0")/.."
targets=(message uri sdp auth)
what=${1:-all}
seconds=${2:-30}
[[ $what == all ]] || targets=("$what")

# Built with swiftc directly (SwiftPM's --sanitize=fuzzer left the Swift modules without
# coverage counters here): the C shim with ASan, then Reactor, Voice, Config, Net and SIP as WMO modules with
# -sanitize=fuzzer,address, then the entry points, linked with libFuzzer's main.
B=.build-fuzz/direct
mkdir -p "$B"
build() {
  local san="-sanitize=fuzzer,address"
  local maps=(-Xcc -fmodule-map-file=Sources/CLinux/include/module.modulemap
    -Xcc -fmodule-map-file=Sources/COpus/module.modulemap $(pkg-config --cflags-only-I opus | sed 's/-I/-Xcc -I/g') -I "$B")
  local c m
  for c in Sources/CLinux/*.c; do
    clang -O1 -fPIC -fsanitize=address -I Sources/CLinux/include -c "$c" -o "$B/$(basename "$c" .c).o" || return 1
  done
  for m in Reactor Voice Config Net SIP; do
    swiftc -O -wmo $san -swift-version 6 -parse-as-library -module-name $m -emit-module \
      -emit-module-path "$B/$m.swiftmodule" "${maps[@]}" -c Sources/$m/*.swift -o "$B/$m.o" || return 1
  done
  swiftc -O -wmo $san -swift-version 6 -parse-as-library -DFUZZING -module-name deskphone_fuzz "${maps[@]}" \
    Tools/deskphone-fuzz/*.swift "$B"/*.o $(pkg-config --libs opus) -lm -o "$B/deskphone-fuzz" || return 1
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
  if [[ ${FUZZ_SMOKE:-0} == 1 ]]; then
    copy=$(mktemp -d)
    cp -r "$corpus"/. "$copy"/
    corpus=$copy
    crashes=$(mktemp -d)
  fi
  case $t in
    message) seeds=(Tests/SIPTests/Fixtures/rfc4475 Tests/SIPTests/Fixtures/rfc5118 bench) ;;
    sdp) seeds=(Tests/SIPTests/Fixtures/sdp Tests/SIPTests/Fixtures/sdp/invalid) ;;
    *) seeds=("fuzz/seeds/$t") ;;
  esac
  log=$(mktemp)
  DESKPHONE_FUZZ_TARGET=$t "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 \
    "$corpus" "${seeds[@]}" > "$log" 2>&1
  rc=$?
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  if [[ $rc -eq 0 ]]; then
    minimized=$(mktemp -d)
    if DESKPHONE_FUZZ_TARGET=$t "$bin" -merge=1 "$minimized" "$corpus" > /dev/null 2>&1; then
      rm -rf "$corpus" && mv "$minimized" "$corpus" && chmod 755 "$corpus"
    else
      rm -rf "$minimized"
    fi
  fi
  files=$(find "$corpus" -type f | wc -l)
  found=$(find "$crashes" -type f | wc -l)
  echo "fuzz $t: ${runs:-0} runs in $seconds s, corpus $files files, crashes $found (exit $rc)"
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
