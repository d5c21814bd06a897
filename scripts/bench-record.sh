#!/usr/bin/env bash
# Benchmark (prints numbers, never pass/fail): the record key's raw input_event record written to
# the phone's key FIFO -> the SIP INFO `Record: on/off` arriving at the peer, over BENCH_PRESSES
# presses (default 1000) with the whole phone running in a call. One Python process writes the
# keys and is the SIP peer, so both ends use one clock.
# usage: scripts/bench-record.sh DESKPHONE     (ports: SIP 26620-26621, RTP 34800, 34900-34999)
set -uo pipefail
phone=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timeout -k 5 $((60 + ${BENCH_PRESSES:-1000} / 5)) python3 "$root/Tests/Fixtures-call/record/bench_record.py" \
  "$phone" "$root/board/sim.cfg" "$work" "${BENCH_PRESSES:-1000}" 26620 26621 34800
status=$?
[ $status -eq 0 ] || { echo "bench-record: the bench did not finish (exit $status); phone log tail:"; tail -5 "$work/phone.log"; }
exit $status
