#!/usr/bin/env bash
# Scores the jitter buffer: runs the referee (../shared/jbeval/jbeval.py) over every trace in
# TRACES (default ../shared/traces) with `deskphone-tool jbsim` as the candidate.
# Usage: scripts/jbscore.sh [TRACES_DIR] [extra jbeval/jbsim options via JBSIM_ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
TRACES=${1:-$SHARED/traces}
SCRATCH=${JB_SCRATCH:-.build-release}
swift build -c release --scratch-path "$SCRATCH" --product deskphone-tool >&2
TOOL=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/deskphone-tool
exec python3 "$SHARED/jbeval/jbeval.py" --all "$TRACES" \
  --playout-cmd "$TOOL jbsim --trace {trace} --out {out} ${JBSIM_ARGS:-}"
