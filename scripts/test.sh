#!/usr/bin/env bash
# `make test`: every check of the project, ending with one line `N passed, N failed`.
#   1. host tests (swift test, optimized build with testing enabled, so allocation and
#      timing-free performance assertions hold for the code the boards run);
#   2. the Embedded Swift firmware for x86_64, aarch64 and armv7 (each build is a check,
#      and so is the ELF machine of each binary);
#   3. the firmware's --self-test: natively for x86_64, under qemu-user for the ARM builds
#      (every self-test line counts: the reactor on the real clock, and the codecs against the
#      ITU vectors, so bit-exactness is proven on each architecture);
#   4. deskphone-tool's command line (scripts/cli-tests.sh, cli-tests-sip.sh, cli-tests-sdp.sh),
#      and the jitter-buffer referee's known answers (Tools/jbeval/selftest.py);
#   5. a fuzz smoke run of every parser that reads the outside (scripts/fuzz.sh: SIP, URI, SDP, MWI,
#      digest, STUN, RTP, RTCP, RFC 4733, HTTP, DNS, phone text XML, .cfg, input_event; 4 s per target
#      from the corpus);
#   6. the x86_64 firmware's calls against real peers on loopback: SIPp (scripts/cli-tests-call.sh:
#      streams both ways through a recording RTP relay, SIPp calling, registrar, CANCEL) and
#      baresip (scripts/cli-tests-baresip.sh: calls both ways, codecs, hold, DTMF, BYE, CANCEL, SRTP
#      over UDP and over TLS through Kamailio), and
#      call recording (scripts/cli-tests-record.sh: the record key's INFO on/off against SIPp with
#      200/403/481/500 and BYE while recording, URL record against an HTTP server: XML text, 404,
#      no answer, hostile display name, one press over HTTPS against lighttpd; keys as raw input_event records, indicators from the
#      status log), and provisioning (scripts/cli-tests-provisioning.sh: include:config, layered
#      files, a bad value refused at start and on SIGHUP with the last good configuration kept,
#      a good reload's dial plan and DND taking effect); the whole phone as a person uses it
#      (scripts/cli-tests-phone.sh: dial by keys, ringback, talking, record on/off, incoming call
#      answered by hook, call waiting with hold and swap, bad key input, against SIPp and baresip;
#      keys through the key FIFO, screens and LEDs from the status log), `make demo` itself
#      (scripts/cli-tests-demo.sh: two phones in tmux, typed keys, the drawn LCD read back),
#      calls through a real Record-Route proxy (scripts/cli-tests-proxy.sh: Kamailio as registrar
#      and proxy, SIPp calling and called: the 180/200 carry the Record-Route, ACK, INFO, re-INVITEs
#      both ways and BYE are loose-routed through the proxy, CANCEL both ways, from its log; RFC 5626
#      outbound against Kamailio's outbound and stun modules: instance/reg-id, STUN keep-alives, a
#      call over the flow, a stopped registrar's missing STUN response re-registering), the
#      registrar found by name with failover (scripts/cli-tests-dns.sh: dnsmasq answering NAPTR/SRV/A,
#      two Kamailio registrars, the primary killed during a call and restarted: the call stays up,
#      failover, a call via the backup,
#      failback; prints the failover time), SIP over TLS (scripts/cli-tests-tls.sh: Kamailio as TLS
#      registrar with a test PKI made by openssl, REGISTER with digest, a call, the record key's INFO and
#      BYE over TLS, a wrong host name and an untrusted CA refused with their reasons, no fallback), the phone under a SIP flood (scripts/cli-tests-flood.sh: OPTIONS, garbage and MESSAGE floods during
#      a call, 503 shedding, a peak-RSS bound, 70 silent TCP connections), and a soak and scan of
#      the real process (scripts/cli-tests-soak.sh: 1,000 calls with record on/off against SIPp,
#      counters, descriptors and RSS back to their level after quiet periods, sipvicious svmap,
#      svwar and svcrack during a call), linphone (scripts/cli-tests-linphone.sh: 100rel/PRACK and
#      early media both ways, in a network namespace of loopback only), and session timers against SIPp (scripts/cli-tests-timers.sh:
#      the phone refreshing, the far end not refreshing, 420 for Require), and provisioning from a
#      server (scripts/cli-tests-autoprov.sh: lighttpd with basic auth and a redirect, boot from the
#      common and MAC files, 304 on an unchanged file, a change picked up on the repeat timer, a bad
#      file refused with URL:line, boot on the stored last good set with the server dead; HTTPS with
#      a test CA, another CA refused with the last good set kept, HTTP digest), and a network change
#      (scripts/cli-tests-network.sh: a namespace with a veth pair, Kamailio and SIPp; the phone's
#      address moved during a call: re-REGISTER and re-INVITE on the new address; link down and up),
#      and message waiting (scripts/cli-tests-mwi.sh: SIPp's unsolicited NOTIFYs good and malformed,
#      Kamailio's presence_mwi NOTIFYing the phone's SUBSCRIBE after a SIPp PUBLISH; LED and LCD);
#   7. the aarch64 and armv7 firmware's calls against SIPp under qemu-user (cli-tests-call.sh),
#      which catch what only a 32-bit Int or another ABI shows, and one TLS+SRTP call each
#      (cli-tests-baresip.sh scenario 12: to baresip through Kamailio over TLS, SRTP mandatory).
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0
results=.build/test-results
mkdir -p "$results"
note() { printf '%s\n' "$*"; }
pass() { passed=$((passed + 1)); note "ok   $*"; }
fail() { failed=$((failed + 1)); note "FAIL $*"; }
# add_summary LABEL LOG: adds the counts of the last `LABEL: N passed, N failed` line of LOG,
# shows its FAIL lines; returns 1 when there is no such line.
add_summary() {
  local label=$1 log=$2 line p f
  line=$(grep -E "^$label: [0-9]+ passed, [0-9]+ failed\$" "$log" | tail -1)
  [[ -n $line ]] || return 1
  p=$(sed -E "s/^$label: ([0-9]+) passed.*/\1/" <<< "$line")
  f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<< "$line")
  passed=$((passed + p)); failed=$((failed + f))
  note "$label: $p passed, $f failed"
  grep -E "^($label: )?FAIL" "$log"
  return 0
}

# --- 1. host tests -----------------------------------------------------------------------
note "== host tests (swift test -c release)"
rm -f "$results"/host*.xml
swift test -c release -Xswiftc -enable-testing --xunit-output "$results/host.xml" \
  > "$results/host.log" 2>&1
rc=$?
xml=$(ls "$results"/host*.xml 2>/dev/null)
if [[ -n $xml ]]; then
  read -r p f s < <(python3 scripts/xunit-count.py $xml)
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  note "host tests: $p passed, $f failed, $s skipped"
  grep -E '^(✘|.*error:)' "$results/host.log" | head -40
  if [[ $rc -ne 0 && $f -eq 0 ]]; then fail "swift test exited $rc"; tail -40 "$results/host.log"; fi
else
  fail "host tests did not run (exit $rc)"
  tail -60 "$results/host.log"
fi

# --- deskphone-tool's command line ---------------------------------------------------------
note "== deskphone-tool command line"
if swift build -c release -Xswiftc -enable-testing --product deskphone-tool > "$results/tool-build.log" 2>&1; then
  scripts/cli-tests.sh .build/release/deskphone-tool > "$results/cli.log" 2>&1
  add_summary cli "$results/cli.log" || { fail "cli tests produced no result"; tail -20 "$results/cli.log"; }
  for part in sip sdp; do
    scripts/cli-tests-$part.sh .build/release/deskphone-tool > "$results/cli-$part.log" 2>&1
    add_summary cli-$part "$results/cli-$part.log" || { fail "cli-$part tests produced no result"; tail -20 "$results/cli-$part.log"; }
  done
else
  fail "deskphone-tool builds"; tail -40 "$results/tool-build.log"
fi

# --- the jitter-buffer referee and trace generator of `make jbscore` (known answers) ----------
note "== jitter-buffer referee (Tools/jbeval/selftest.py)"
python3 Tools/jbeval/selftest.py > "$results/jbeval.log" 2>&1
add_summary jbeval "$results/jbeval.log" || { fail "jbeval self-test produced no result"; tail -20 "$results/jbeval.log"; }

# --- fuzz smoke: each parser target under libFuzzer + ASan, starting from the kept corpus --------
note "== fuzz smoke (libFuzzer + ASan, ${FUZZ_SMOKE_SECONDS:-4} s per target)"
FUZZ_SMOKE=1 scripts/fuzz.sh all "${FUZZ_SMOKE_SECONDS:-4}" > "$results/fuzz.log" 2>&1
for target in $(scripts/fuzz.sh --list); do
  line=$(grep -E "^fuzz $target: " "$results/fuzz.log")
  if [[ $line =~ crashes\ 0\ \(exit\ 0\)$ ]]; then pass "$line"; else fail "fuzz $target: ${line:-no result}"; fi
done
grep -q "^fuzz: build failed" "$results/fuzz.log" && tail -30 "$results/fuzz.log"

# --- 2 and 3. firmware builds and self-tests -------------------------------------------------
declare -A machine=([x86_64]="x86-64" [aarch64]="ARM aarch64" [armv7]="ARM, EABI5")
for arch in x86_64 aarch64 armv7; do
  note "== firmware $arch"
  log="$results/firmware-$arch.log"
  if ! python3 toolchain/build-firmware.py "$arch" > "$log" 2>&1; then
    fail "firmware $arch builds"; tail -40 "$log"; continue
  fi
  pass "firmware $arch builds: $(tail -1 "$log")"
  binary=.build-firmware/$arch/deskphone
  if file "$binary" | grep -q "${machine[$arch]}"; then
    pass "firmware $arch is a ${machine[$arch]} ELF"
  else
    fail "firmware $arch machine: $(file -b "$binary")"
  fi
  if [[ $arch == x86_64 ]]; then
    run=("$binary")
  else
    run=(toolchain/qemu "$arch" "$binary")
  fi
  out="$results/selftest-$arch.log"
  "${run[@]}" --self-test --board board/sim.cfg --vectors Tests/Vectors/itu-t-g191 > "$out" 2>&1
  rc=$?
  before=$failed
  if add_summary self-test "$out"; then
    [[ $rc -ne 0 && $failed -eq $before ]] && fail "self-test $arch exited $rc"
  else
    fail "self-test $arch produced no result (exit $rc)"; tail -20 "$out"
  fi
done

# --- 6. deskphone's calls against real peers (the Embedded x86_64 firmware) -----------------
if [[ -x .build-firmware/x86_64/deskphone ]]; then
  for part in call baresip record provisioning phone demo proxy dns tls flood soak timers autoprov linphone network mwi; do
    label=cli-$part
    [[ $part == phone || $part == demo ]] && label=$part # their summary lines: `phone: ...`, `demo: ...`
    note "== calls: scripts/cli-tests-$part.sh"
    scripts/cli-tests-$part.sh .build-firmware/x86_64/deskphone > "$results/cli-$part.log" 2>&1
    add_summary $label "$results/cli-$part.log" || { fail "$label tests produced no result"; tail -20 "$results/cli-$part.log"; }
  done
  note "== calls: scripts/cli-tests-transfer.sh"
  scripts/cli-tests-transfer.sh .build-firmware/x86_64/deskphone > "$results/cli-transfer.log" 2>&1
  add_summary cli-transfer "$results/cli-transfer.log" || { fail "cli-transfer tests produced no result"; tail -20 "$results/cli-transfer.log"; }
else
  fail "calls: no x86_64 firmware binary to call with"
fi

# --- 7. the ARM firmware's calls under qemu-user (32-bit armv7 has a 32-bit Int) ---------------
for arch in aarch64 armv7; do
  [[ -x .build-firmware/$arch/deskphone ]] || { fail "calls $arch: no firmware binary"; continue; }
  runner="$results/deskphone-$arch"
  printf '#!/bin/sh\nexec "%s/toolchain/qemu" %s "%s/.build-firmware/%s/deskphone" "$@"\n' \
    "$PWD" "$arch" "$PWD" "$arch" > "$runner"
  chmod +x "$runner"
  note "== calls on $arch under qemu: scripts/cli-tests-call.sh"
  scripts/cli-tests-call.sh "$runner" > "$results/cli-call-$arch.log" 2>&1
  add_summary cli-call "$results/cli-call-$arch.log" || { fail "cli-call $arch produced no result"; tail -20 "$results/cli-call-$arch.log"; }
  note "== a TLS+SRTP call on $arch under qemu: scripts/cli-tests-baresip.sh scenario 12"
  BARESIP_SCENARIOS=12 scripts/cli-tests-baresip.sh "$runner" > "$results/cli-baresip-tls-$arch.log" 2>&1
  add_summary cli-baresip "$results/cli-baresip-tls-$arch.log" ||
    { fail "cli-baresip TLS+SRTP $arch produced no result"; tail -20 "$results/cli-baresip-tls-$arch.log"; }
done

note ""
# Skipped tests (e.g. the ALSA device-clock test where no snd-dummy card exists) are named on
# their own line; the last line is always exactly `N passed, N failed`.
[[ $skipped -gt 0 ]] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
