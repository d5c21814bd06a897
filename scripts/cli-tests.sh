#!/usr/bin/env bash
# Checks of deskphone-tool's command line, run by scripts/test.sh. Each check prints
# `ok   ...` or `FAIL ...`; the last line is `cli: N passed, N failed`.
# usage: scripts/cli-tests.sh TOOL
set -uo pipefail
tool=$1
vectors=Tests/Vectors/itu-t-g191
source "$(dirname "$0")/cli-common.sh"
# expect_fail NAME EXPECTED-TEXT COMMAND...: non-zero exit and the message on stderr.
expect_fail() {
  local name=$1 text=$2
  shift 2
  if "$@" > "$work/out" 2> "$work/err"; then
    fail "$name: exited 0"
  elif grep -qF -- "$text" "$work/err"; then
    pass "$name"
  else
    fail "$name: stderr was: $(head -c 300 "$work/err")"
  fi
}

# G.722: the encoder's codes are the ITU vector's; mode 1..3 decodes are the ITU outputs.
if $tool codec encode --codec g722 "$vectors/g722/inpsp.bin" "$work/sp.g722"; then
  python3 -c "
import sys
ref = open('$vectors/g722/codspw.cod', 'rb').read()[0::2]
sys.exit(0 if open('$work/sp.g722', 'rb').read() == ref else 1)" \
    && pass "codec encode g722 matches codspw.cod" || fail "codec encode g722 differs from codspw.cod"
  for mode in 1 2 3; do
    $tool codec decode --codec g722 --mode $mode "$work/sp.g722" "$work/out$mode.raw" \
      && cmp -s "$work/out$mode.raw" "$vectors/g722/outsp$mode.bin" \
      && pass "codec decode g722 --mode $mode matches outsp$mode.bin" \
      || fail "codec decode g722 --mode $mode differs from outsp$mode.bin"
  done
else
  fail "codec encode g722 failed"
fi

# G.711: a byte per sample; the sweep's codes are the ITU's.
for law in u a; do
  codec=$([[ $law == u ]] && echo pcmu || echo pcma)
  if $tool codec encode --codec $codec "$vectors/g711/sweep.src" "$work/sweep.$law"; then
    python3 -c "
import sys
ref = open('$vectors/g711/sweep-r.$law', 'rb').read()[0::2]
sys.exit(0 if open('$work/sweep.$law', 'rb').read() == ref else 1)" \
      && pass "codec encode $codec matches sweep-r.$law" || fail "codec encode $codec differs from sweep-r.$law"
  else
    fail "codec encode $codec failed"
  fi
done

# Opus and L16 round trips, with loss patterns; the output has one frame per input frame.
head -c 192000 "$vectors/g722/inpsp.bin" > "$work/in16.raw"   # 6 s at 16 kHz
for codec in opus l16; do
  if $tool codec encode --codec $codec --rate 16000 --fec "$work/in16.raw" "$work/in.$codec" \
    && $tool codec decode --codec $codec --rate 16000 --fec --loss random:10:7 "$work/in.$codec" "$work/out.$codec" \
    && [[ $(stat -c %s "$work/out.$codec") -eq 192000 ]]; then
    pass "codec $codec round trip with random:10:7 loss keeps the length"
  else
    fail "codec $codec round trip with loss"
  fi
done
printf '0 0 1 1 0\n' > "$work/pattern"
$tool codec encode --codec pcmu "$vectors/g711/sweep.src" "$work/sweep.pcmu" \
  && $tool codec decode --codec pcmu --loss "$work/pattern" "$work/sweep.pcmu" "$work/sweep.out" \
  && [[ $(stat -c %s "$work/sweep.out") -eq 131072 ]] \
  && pass "codec decode with a 0/1 loss file" || fail "codec decode with a 0/1 loss file"
cmp -s "$work/in.l16" <(python3 -c "
import sys
d = open('$work/in16.raw', 'rb').read()
sys.stdout.buffer.write(b''.join(d[i+1:i+2] + d[i:i+1] for i in range(0, len(d), 2)))") \
  && pass "codec encode l16 writes network byte order" || fail "codec encode l16 byte order"

# Errors: a clear message and a non-zero exit.
head -c 3 "$work/in16.raw" > "$work/odd.raw"
expect_fail "odd-length PCM is refused" "odd length 3" $tool codec encode --codec pcmu "$work/odd.raw" "$work/x"
expect_fail "a missing file is named" "no such file" $tool codec encode --codec pcmu "$work/missing" "$work/x"
expect_fail "an unknown codec is refused" "unknown codec 'gsm'" $tool codec encode --codec gsm "$work/in16.raw" "$work/x"
expect_fail "a bad G.722 mode is refused" "--mode must be 1, 2 or 3" \
  $tool codec decode --codec g722 --mode 4 "$work/sp.g722" "$work/x"
expect_fail "G.711 at 16 kHz is refused" "G.711 samples at 8000 Hz" \
  $tool codec encode --codec pcmu --rate 16000 "$work/in16.raw" "$work/x"
expect_fail "a truncated Opus stream is refused" "runs past the end" \
  $tool codec decode --codec opus --rate 16000 "$work/in16.raw" "$work/x"
expect_fail "a bad loss spec is refused" "expected random:PCT:SEED" \
  $tool codec decode --codec pcmu --loss random:x "$work/sweep.pcmu" "$work/x"
printf '0 2\n' > "$work/badpattern"
expect_fail "a bad loss file is refused" "holds 0 and 1 only" \
  $tool codec decode --codec pcmu --loss "$work/badpattern" "$work/sweep.pcmu" "$work/x"

# cfg check: the phone's own checks over layered files with includes; every problem at its file:line.
mkdir -p "$work/cfg/sub"
printf '#!version:1.0.0.1\naccount.1.user_name = 1001\ninclude:config "sub/plan.cfg"\n' > "$work/cfg/common.cfg"
printf '#!version:1.0.0.1\ndialplan.1.number = 7\ndialplan.1.uri = sip:7@127.0.0.1\nodd.key = 1\n' > "$work/cfg/sub/plan.cfg"
printf '#!version:1.0.0.1\nvoice.volume.speaker = 3\n' > "$work/cfg/phone.cfg"
if $tool cfg check --board board/sim.cfg "$work/cfg/common.cfg" "$work/cfg/phone.cfg" > "$work/out" 2>&1; then
  grep -qF "ok: 2 files, 5 keys" "$work/out" && pass "cfg check: good layered files with an include" \
    || fail "cfg check: good files: $(head -c 300 "$work/out")"
  grep -qF "note: $work/cfg/sub/plan.cfg:4: key 'odd.key' is not used by this firmware (ignored)" "$work/out" \
    && pass "cfg check: an unknown key in an included file is a note at its file:line" \
    || fail "cfg check: unknown key note: $(head -c 300 "$work/out")"
else
  fail "cfg check: good files refused: $(head -c 300 "$work/out")"
fi
printf '#!version:1.0.0.1\nvoice.volume.speaker = 30\nlinekey.7.type = 25\ninclude:config "missing.cfg"\n' > "$work/cfg/bad.cfg"
printf '#!version:1.0.0.1\nvoice.volume.speaker = 30\nlinekey.7.type = 25\nrtp.port_min = 7\n' > "$work/cfg/bad2.cfg"
$tool cfg check --board board/sim.cfg "$work/cfg/bad.cfg" > "$work/out" 2>&1
rc=$?
[[ $rc -eq 1 ]] && grep -qF "error: $work/cfg/bad.cfg:4: include:config \"missing.cfg\": cannot open: No such file or directory" "$work/out" \
  && pass "cfg check: a missing include is refused at its line (exit 1)" || fail "cfg check: missing include (exit $rc): $(head -c 300 "$work/out")"
$tool cfg check --board board/sim.cfg "$work/cfg/common.cfg" "$work/cfg/bad2.cfg" > "$work/out" 2>&1
rc=$?
if [[ $rc -eq 1 ]] && grep -qF "error: $work/cfg/bad2.cfg:4: rtp.port_min = 7: RTP ports are even" "$work/out" \
  && grep -qF "error: $work/cfg/bad2.cfg:2: voice.volume.speaker = '30': expected a whole number from 0 to 15" "$work/out" \
  && grep -qF "error: $work/cfg/bad2.cfg:3: linekey.7.type: the board has 2 line keys" "$work/out" \
  && grep -qF "3 problems: refused" "$work/out"; then
  pass "cfg check: every module's problem at its file:line, against the board's line keys"
else
  fail "cfg check: bad values (exit $rc): $(head -c 400 "$work/out")"
fi
$tool cfg check "$work/cfg/common.cfg" "$work/cfg/bad2.cfg" > "$work/out" 2>&1
grep -qF "2 problems: refused" "$work/out" && pass "cfg check: without --board any line key number is accepted" \
  || fail "cfg check: without --board: $(head -c 300 "$work/out")"

# docs/CONFIG.md names every provisioning key the firmware's sources name.
missing=$(python3 - << 'PY'
import glob, re
src = "".join(open(f).read() for f in glob.glob("Sources/**/*.swift", recursive=True) if "deskphone-tool" not in f)
keys = set(re.findall(r'"((?:account|sip|rtp|voice|phone_setting|dialplan|features|linekey|network)\.[a-z0-9_.]*[a-z0-9_])"', src))
doc = open("docs/CONFIG.md").read()
print(" ".join(sorted(k for k in keys if k not in doc)))
PY
)
[[ -z $missing ]] && pass "docs/CONFIG.md names every provisioning key in Sources" || fail "docs/CONFIG.md lacks: $missing"

# jbsim's playout on generated traces is one the referee accepts: no packet plays before it
# arrives or after the network lost it, constant periods (Tools/jbeval, `make jbscore`).
if python3 Tools/jbeval/gentraces.py --out "$work/jb" --seeds 3 --profiles wifi reorder dtx --duration-s 20; then
  for trace in "$work"/jb/*.csv; do
    name=$(basename "$trace" .csv)
    if $tool jbsim --trace "$trace" --out "$work/jb/$name.playout" 2> "$work/err" \
      && python3 Tools/jbeval/referee.py "$trace" --playout "$work/jb/$name.playout" --no-speexdsp > "$work/out" 2>> "$work/err"; then
      pass "jbsim on a generated $name trace: the referee accepts its playout"
    else
      fail "jbsim on $name: $(head -c 300 "$work/err")"
    fi
  done
else
  fail "Tools/jbeval/gentraces.py writes traces"
fi

# The TLS handshake benchmark runs (numbers only, never judged): 2 handshakes per row, 4 rows.
if $tool bench tls --handshakes 2 > "$work/tls-bench.out" 2>&1 \
  && [ "$(grep -c -E '^(ECDSA P-256|RSA 2048) +(full|resumed) ' "$work/tls-bench.out")" = 4 ]; then
  pass "bench tls: full and resumed handshakes for ECDSA and RSA certificates"
else
  fail "bench tls: $(tail -n 3 "$work/tls-bench.out" | tr '\n' '|')"
fi

summary cli
