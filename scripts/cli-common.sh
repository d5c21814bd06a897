# Shared by the firmware's end-to-end test scripts (cli-tests-record.sh, cli-tests-provisioning.sh,
# ...): source it after `set -uo pipefail`. It makes $work (removed at exit), kills and reaps the
# background processes listed in $pids at exit, counts checks, and waits on log lines.
# A script ends with `summary LABEL`, which prints `LABEL: N passed, N failed` and sets the status.
# KEEP_WORK=1 keeps $work (logs, traces) for a look after the run; a script that defines
# `cleanup_more` has it called first at exit (e.g. to stop a tmux server).
work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  if declare -F cleanup_more > /dev/null; then cleanup_more; fi
  for pid in "${pids[@]+"${pids[@]}"}"; do kill "$pid" 2> /dev/null; done
  for pid in "${pids[@]+"${pids[@]}"}"; do wait "$pid" 2> /dev/null; done
  if [[ -n ${KEEP_WORK:-} ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# wait_for FILE PATTERN [COUNT] [SECONDS]: until FILE has COUNT lines containing the fixed string.
wait_for() {
  local file=$1 pattern=$2 count=${3:-1} seconds=${4:-15} i got
  for ((i = 0; i < seconds * 10; i++)); do
    got=$(grep -cF -- "$pattern" "$file" 2> /dev/null)
    [ "${got:-0}" -ge "$count" ] && return 0
    sleep 0.1
  done
  return 1
}
# check NAME FILE FIXED-STRING DESCRIPTION / check_not ...: FILE has (has not) the string.
check() {
  if grep -qF -- "$3" "$2"; then pass "$1: $4"; else fail "$1: $4: no '$3' in $(basename "$2")"; fi
}
check_not() {
  if grep -qF -- "$3" "$2"; then fail "$1: $4: found '$3' in $(basename "$2")"; else pass "$1: $4"; fi
}
summary() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
