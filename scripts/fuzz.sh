#!/usr/bin/env bash
# libFuzzer runs of the SIP stack's parsers (issue 5):
#   scripts/fuzz.sh TARGET SECONDS     fuzz one target (message, uri, sdp, auth) for SECONDS
#   scripts/fuzz.sh all SECONDS        each target in turn
# Builds deskphone-fuzz with `--sanitize=fuzzer --sanitize=address` in .build-fuzz, runs it on
# fuzz/corpus/TARGET (seeded from the torture/SDP test fixtures, bench/ and fuzz/seeds/TARGET;
# new inputs that add coverage are kept in fuzz/corpus/TARGET, which is committed), and writes crashes to fuzz/crashes/TARGET/. Prints one summary line
# per target: `fuzz TARGET: N runs in S s, corpus C files, crashes K`. Exit 1 on a crash.
set -uo pipefail
cd "$(dirname "$0")/.."
targets=(message uri sdp auth)
what=${1:-all}
seconds=${2:-30}
[[ $what == all ]] || targets=("$what")

if ! swift build -c release --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address \
  -Xswiftc -DFUZZING --product deskphone-fuzz > .build-fuzz.log 2>&1; then
  tail -30 .build-fuzz.log
  echo "fuzz: build failed"
  exit 1
fi
bin=.build-fuzz/release/deskphone-fuzz
status=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  crashes=fuzz/crashes/$t
  mkdir -p "$corpus" "$crashes"
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
  files=$(find "$corpus" -type f | wc -l)
  found=$(find "$crashes" -type f | wc -l)
  echo "fuzz $t: ${runs:-0} runs in $seconds s, corpus $files files, crashes $found (exit $rc)"
  if [[ $rc -ne 0 ]]; then
    status=1
    grep -E 'ERROR|panic|Fatal|fatal|SUMMARY|Test unit written' "$log" | head -10
  fi
  rm -f "$log"
done
exit $status
