#!/usr/bin/env bash
# Checks of `deskphone-tool sdp` over the SDP fixtures and junk input. Each check prints
# `ok   ...` or `FAIL ...`; the last line is `cli-sdp: N passed, N failed`.
# usage: scripts/cli-tests-sdp.sh TOOL   (run from the repository root)
set -uo pipefail
tool=$1
fixtures=Tests/SIPTests/Fixtures/sdp
source "$(dirname "$0")/cli-common.sh"
# crlf FILE: the file with every bare LF made CRLF (the canonical line end).
crlf() { python3 -c "
import sys
data = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
sys.stdout.buffer.write(data)" "$1"; }
# expect_error NAME FILE: exit 1, nothing on stdout, exactly one stderr line naming the file.
expect_error() {
  local name=$1 file=$2
  "$tool" sdp parse "$file" > "$work/out" 2> "$work/err"
  local rc=$?
  if [[ $rc -ne 1 ]]; then
    fail "$name: exit status $rc (want 1)"
  elif [[ -s "$work/out" ]]; then
    fail "$name: printed on stdout"
  elif [[ $(wc -l < "$work/err") -ne 1 ]] || ! grep -qF -- "$file" "$work/err"; then
    fail "$name: stderr was: $(head -c 300 "$work/err")"
  else
    pass "$name: $(cut -c 1-110 "$work/err")"
  fi
}

# Every valid fixture: exit 0, stdout is the fixture itself with CRLF line ends (they are written
# in canonical order), and the output parses again to the same bytes.
for file in "$fixtures"/*.sdp; do
  name=$(basename "$file")
  if "$tool" sdp parse "$file" > "$work/out" 2> "$work/err"; then
    crlf "$file" > "$work/want"
    if ! cmp -s "$work/out" "$work/want"; then
      fail "sdp parse $name: output is not the canonical form"
    elif ! "$tool" sdp parse "$work/out" > "$work/again" 2>&1 || ! cmp -s "$work/out" "$work/again"; then
      fail "sdp parse $name: canonical output does not parse to itself"
    else
      pass "sdp parse $name"
    fi
  else
    fail "sdp parse $name: exit $?: $(head -c 300 "$work/err")"
  fi
done

# Every invalid fixture: exit 1 and one line naming the error.
for file in "$fixtures"/invalid/*.sdp; do
  expect_error "sdp parse invalid/$(basename "$file")" "$file"
done

# Junk: random bytes, a truncated fixture, a binary file, a directory, a missing file.
head -c 4096 /dev/urandom > "$work/random.bin"
expect_error "sdp parse random bytes" "$work/random.bin"
head -c 37 "$fixtures/asterisk-offer.sdp" > "$work/truncated.sdp"
expect_error "sdp parse truncated o= line" "$work/truncated.sdp"
expect_error "sdp parse a binary" "$tool"
expect_error "sdp parse a directory" "$fixtures"
expect_error "sdp parse a missing file" "$work/missing.sdp"

# Random mutations of every fixture never crash: the exit status is 0 or 1, nothing else.
python3 - "$fixtures" "$work" <<'PY'
import os, random, sys
fixtures, work = sys.argv[1], sys.argv[2]
rng = random.Random(5)
files = sorted(f for f in os.listdir(fixtures) if f.endswith('.sdp'))
for i in range(60):
    data = bytearray(open(os.path.join(fixtures, files[i % len(files)]), 'rb').read())
    for _ in range(rng.randint(1, 8)):
        if data and rng.random() < 0.5:
            data[rng.randrange(len(data))] = rng.choice(b'v=om0123456789 /:.\r\n\x00\xff')
        elif data:
            del data[rng.randrange(len(data))]
    open(os.path.join(work, 'mutant%02d.sdp' % i), 'wb').write(data)
PY
crashes=0
for file in "$work"/mutant*.sdp; do
  "$tool" sdp parse "$file" > /dev/null 2>&1
  rc=$?
  if [[ $rc -ne 0 && $rc -ne 1 ]]; then
    crashes=$((crashes + 1))
    echo "  $file: exit $rc"
  fi
done
[[ $crashes -eq 0 ]] && pass "sdp parse on 60 mutated fixtures: exit 0 or 1 only" \
  || fail "sdp parse crashed on $crashes mutated fixtures"

# sdp answer: an offer answered with G.722; an offer with nothing usable exits 1.
if "$tool" sdp answer "$fixtures/asterisk-offer.sdp" > "$work/answer" 2> "$work/err" \
  && grep -q $'^m=audio 40000 RTP/AVP 9 101\r$' "$work/answer" \
  && grep -q "send 9 G722/8000" "$work/err"; then
  pass "sdp answer asterisk-offer.sdp: G.722 and telephone-event 101"
else
  fail "sdp answer asterisk-offer.sdp: $(head -c 300 "$work/answer" "$work/err")"
fi
if "$tool" sdp answer "$fixtures/polycom-ipv6-video.sdp" --address 2001:db8::10 > "$work/answer" 2> "$work/err" \
  && grep -q $'^c=IN IP6 2001:db8::10\r$' "$work/answer" && grep -q $'^m=video 0 RTP/AVP 109 34\r$' "$work/answer"; then
  pass "sdp answer polycom-ipv6-video.sdp: IPv6 audio, video rejected with port 0"
else
  fail "sdp answer polycom-ipv6-video.sdp: $(head -c 300 "$work/answer" "$work/err")"
fi
"$tool" sdp answer "$fixtures/webrtc-savpf.sdp" > "$work/answer" 2> "$work/err"
rc=$?
if [[ $rc -eq 1 ]] && grep -q "no usable audio stream" "$work/err"; then
  pass "sdp answer webrtc-savpf.sdp: exit 1, no usable audio stream"
else
  fail "sdp answer webrtc-savpf.sdp: exit $rc: $(head -c 300 "$work/err")"
fi

summary cli-sdp
