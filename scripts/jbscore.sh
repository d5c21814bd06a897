#!/usr/bin/env bash
# `make jbscore`: scores the jitter buffer (`deskphone-tool jbsim`, PCMU, 10 ms periods) against
# speexdsp and the best fixed delay with the project's own referee (Tools/jbeval/referee.py),
# on traces made by Tools/jbeval/gentraces.py into .build/jbtraces (regenerated on every run,
# byte for byte the same for the same seeds). Nothing outside the repository is read.
# Usage: scripts/jbscore.sh [TRACES_DIR]
#   TRACES_DIR   score these *.csv traces instead of generating them
#   JB_SEEDS     seeds to generate (default "1 2"); JB_PROFILES profiles (default all)
#   JB_DURATION  seconds per generated trace (default 180)
#   JBSIM_ARGS   extra jbsim options, e.g. "--codec g722 --period-ms 20"
# The candidate's playout files are kept in .build/jbtraces/playout/.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${JB_SCRATCH:-.build-release}
OUT=.build/jbtraces
if [[ $# -ge 1 ]]; then
  TRACES=$1
else
  TRACES=$OUT/traces
  rm -rf "$TRACES"
  # shellcheck disable=SC2086 # word lists
  python3 Tools/jbeval/gentraces.py --out "$TRACES" --seeds ${JB_SEEDS:-1 2} \
    ${JB_PROFILES:+--profiles $JB_PROFILES} --duration-s "${JB_DURATION:-180}"
fi
swift build -c release --scratch-path "$SCRATCH" --product deskphone-tool >&2
TOOL=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/deskphone-tool
exec python3 Tools/jbeval/referee.py --all "$TRACES" --name deskphone --logs-dir "$OUT/playout" \
  --playout-cmd "$TOOL jbsim --trace {trace} --out {out} ${JBSIM_ARGS:-}"
