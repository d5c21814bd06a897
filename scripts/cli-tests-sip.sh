#!/usr/bin/env bash
# Checks of `deskphone-tool sip parse` over the SIP torture fixtures and junk input. Each check
# prints `ok   ...` or `FAIL ...`; the last line is `cli-sip: N passed, N failed`.
# usage: scripts/cli-tests-sip.sh TOOL
set -uo pipefail
tool=$1
fixtures=$(cd "$(dirname "$0")/.." && pwd)/Tests/SIPTests/Fixtures
source "$(dirname "$0")/cli-common.sh"

# expect_valid NAME FILE: exit 0, and the canonical output parses again to the same output.
expect_valid() {
  local name=$1 file=$2
  if ! "$tool" sip parse "$file" > "$work/out" 2> "$work/err"; then
    fail "$name: exit status $?: $(head -c 200 "$work/err")"
  elif ! "$tool" sip parse "$work/out" > "$work/out2" 2>> "$work/err"; then
    fail "$name: the canonical output does not parse: $(head -c 200 "$work/err")"
  elif ! cmp -s "$work/out" "$work/out2"; then
    fail "$name: the canonical output is not stable"
  elif ! grep -q $'^Content-Length: [0-9]*\r$' "$work/out"; then
    fail "$name: no Content-Length in the canonical output"
  else
    pass "$name parses"
  fi
}

# expect_invalid NAME FILE [TEXT]: exit 1, nothing on stdout, exactly one `error: ...` line.
expect_invalid() {
  local name=$1 file=$2 text=${3:-}
  "$tool" sip parse "$file" > "$work/out" 2> "$work/err"
  local status=$?
  local lines
  lines=$(wc -l < "$work/err")
  if [ "$status" -ne 1 ]; then
    fail "$name: exit status $status, expected 1"
  elif [ -s "$work/out" ]; then
    fail "$name: printed a message on stdout"
  elif [ "$lines" -ne 1 ] || ! grep -q '^error: ' "$work/err"; then
    fail "$name: expected one 'error:' line, got: $(head -c 300 "$work/err")"
  elif [ -n "$text" ] && ! grep -qF -- "$text" "$work/err"; then
    fail "$name: error does not mention '$text': $(cat "$work/err")"
  else
    pass "$name rejected: $(cat "$work/err")"
  fi
}

for name in wsinv intmeth esc01 escnull esc02 lwsdisp longreq dblreq semiuri transports mpart01 unreason \
  noreason; do
  expect_valid "rfc4475 $name" "$fixtures/rfc4475/$name.dat"
done
for name in badinv01 clerr ncl scalar02 scalarlg quotbal ltgtruri lwsruri lwsstart trws escruri baddate \
  regbadct badaspec baddn badvers mismatch01 mismatch02 bigcode; do
  expect_invalid "rfc4475 $name" "$fixtures/rfc4475/$name.dat"
done
expect_invalid "rfc4475 badvers status" "$fixtures/rfc4475/badvers.dat" "505 Version Not Supported"
expect_invalid "rfc4475 clerr status" "$fixtures/rfc4475/clerr.dat" "400 Bad Request"
expect_invalid "rfc4475 bigcode dropped" "$fixtures/rfc4475/bigcode.dat" "no response"

for name in ipv6-good port-ambiguous port-unambiguous via-received-param-with-delim via-received-param-no-delim \
  mult-ip-in-header mult-ip-in-sdp ipv4-mapped-ipv6 ipv6-bug-abnf-3-colons ipv6-correct-abnf-2-colons; do
  expect_valid "rfc5118 $name" "$fixtures/rfc5118/$name.dat"
done
expect_invalid "rfc5118 ipv6-bad" "$fixtures/rfc5118/ipv6-bad.dat" "enclosed in '[' ']'"
expect_invalid "rfc5118 ipv6-in-sdp" "$fixtures/rfc5118/ipv6-in-sdp.dat" "Content-Length 268"

# Junk: never a crash, always one error line.
: > "$work/empty"
expect_invalid "empty file" "$work/empty" "empty message"
head -c 4096 /dev/urandom > "$work/random"
expect_invalid "random bytes" "$work/random"
printf 'INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\0\0\0\r\n\r\n' > "$work/nul"
expect_invalid "NUL bytes in the headers" "$work/nul"
printf 'INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h' > "$work/truncated"
expect_invalid "truncated headers" "$work/truncated" "not terminated"
head -c 2000000 /dev/zero | tr '\0' 'A' > "$work/huge"
expect_invalid "a 2 MB file is refused" "$work/huge" "limit"
expect_invalid "missing file" "$work/does-not-exist" "no such file"
# Each valid fixture cut at every 97th byte: a clean error or a message, never a crash.
crashes=0
for name in wsinv intmeth mpart01; do
  size=$(wc -c < "$fixtures/rfc4475/$name.dat")
  for ((cut = 0; cut < size; cut += 97)); do
    head -c "$cut" "$fixtures/rfc4475/$name.dat" > "$work/cut"
    "$tool" sip parse "$work/cut" > /dev/null 2>&1
    status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then crashes=$((crashes + 1)); fi
  done
done
[ "$crashes" -eq 0 ] && pass "truncated fixtures never crash" || fail "truncated fixtures: $crashes crashes"

summary cli-sip
