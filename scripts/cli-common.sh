# Shared by every test script (scripts/cli-tests*.sh): source it after `set -uo pipefail`. It makes $work (removed at exit), kills and reaps the
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

# wait_match -F|-E FILE PATTERN [COUNT] [SECONDS]: until FILE has COUNT lines (default 1) matching
# PATTERN, a fixed string (-F) or a regular expression (-E), within SECONDS (default 15). A script
# that defines `still_running` (e.g. `kill -0 "$phone_pid"`) stops waiting once it fails.
wait_match() {
  local mode=$1 file=$2 pattern=$3 count=${4:-1} seconds=${5:-15} i got
  for ((i = 0; i < seconds * 10; i++)); do
    got=$(grep -a -c "$mode" -- "$pattern" "$file" 2> /dev/null)
    [ "${got:-0}" -ge "$count" ] && return 0
    if declare -F still_running > /dev/null && ! still_running; then return 1; fi
    sleep 0.1
  done
  return 1
}
# wait_for FILE FIXED-STRING [COUNT] [SECONDS] and wait_re FILE REGEX [COUNT] [SECONDS].
wait_for() { wait_match -F "$@"; }
wait_re() { wait_match -E "$@"; }

# wait_udp PORT: until something is bound to UDP PORT (at most 5 s).
wait_udp() {
  local hex i
  hex=$(printf ':%04X ' "$1")
  for ((i = 0; i < 50; i++)); do
    grep -q "$hex" /proc/net/udp 2> /dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_tcp PORT: until something listens on TCP PORT (at most 10 s).
wait_tcp() {
  local i
  for ((i = 0; i < 100; i++)); do
    ss -Hltn "sport = :$1" 2> /dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# reap VAR PID: waits for a child (bounded when it runs under `timeout`) and stores its exit
# status in VAR (124: the timeout struck); the pid leaves $pids, since a reaped id may be reused.
reap() {
  wait "$2" 2> /dev/null
  printf -v "$1" '%d' $?
  local pid kept=()
  for pid in "${pids[@]+"${pids[@]}"}"; do [ "$pid" = "$2" ] || kept+=("$pid"); done
  pids=("${kept[@]+"${kept[@]}"}")
}

# expect_lines LABEL FILE REGEX...: the lines appear in FILE in this order (a failure shows the file).
expect_lines() {
  local label=$1 file=$2
  shift 2
  local line=0 regex found
  for regex in "$@"; do
    found=$(tail -n +$((line + 1)) "$file" | grep -a -n -E -m 1 -- "$regex" | cut -d: -f1)
    if [ -z "$found" ]; then
      fail "$label: no line /$regex/ after line $line of $(basename "$file")"
      sed 's/^/     | /' "$file" | head -n 30
      return
    fi
    line=$((line + found))
  done
  pass "$label: $(basename "$file") has, in order: $*"
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

# The test PKI (make_ca, make_leaf into $pki = $work/pki) and the TLS registrar of the TLS scripts.
source "$(dirname "${BASH_SOURCE[0]}")/test-pki.sh"

# expect NAME FILE FIXED-STRING WHAT [SECONDS] / expect_re NAME FILE REGEX WHAT [SECONDS]: waits
# for the line (wait_for / wait_re), then passes or fails with the file's last lines;
# expect_not NAME FILE FIXED-STRING WHAT: FILE has no such line now.
expect() {
  if wait_for "$2" "$3" 1 "${5:-15}"; then pass "$1: $4"; else fail "$1: $4: no '$3' in $(basename "$2"); last: $(tail -2 "$2" | tr '\n' '|' | cut -c1-300)"; fi
}
expect_re() {
  if wait_re "$2" "$3" 1 "${5:-15}"; then pass "$1: $4"; else fail "$1: $4: no /$3/ in $(basename "$2"); last: $(tail -2 "$2" | tr '\n' '|' | cut -c1-300)"; fi
}
expect_not() {
  if grep -a -q -F -- "$3" "$2"; then fail "$1: $4: found '$3' in $(basename "$2")"; else pass "$1: $4"; fi
}
