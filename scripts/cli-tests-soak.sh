#!/usr/bin/env bash
# Soak and scan of the real phone process (the reliability issue, deliver 3): SOAK_CALLS (1000)
# sequential calls from the phone to a SIPp UAS, each with the record key pressed twice (INFO
# Record: on / off answered 200) and a hang-up; every 100 calls the phone's counters (`stats` on
# its control FIFO), RSS and descriptors are printed. Then a call is held while sipvicious (svmap,
# svwar, svcrack) scans the phone; the call must still record and hang up. Checks: every call
# completed; after half the calls and at the end, once the finished transactions expired (Timer
# M/J, 32 s), the phone's timers, watches, transactions, calls, recording state and descriptors are
# back where they were at the start, and RSS at the end is within a bound of RSS at half-time; the phone is alive after the scan, which
# learns nothing but its User-Agent (svwar and svcrack find nothing). Then a phone with 12
# descriptors: of 4 calls at once one is answered and the rest get 503 (EMFILE), and it recovers. Last line `cli-soak: N passed, N failed`.
# usage: scripts/cli-tests-soak.sh DESKPHONE     (ports: SIP 26900-26903, RTP 38200-38399, 38700-38800)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
source "$root/scripts/cli-common.sh"
trap "exit 130" INT TERM
calls=${SOAK_CALLS:-1000}
# RSS may settle a little after warm-up (allocator arenas); growth beyond this is a leak.
RSS_GROWTH_KIB=${RSS_GROWTH_KIB:-512}

for tool in sipp python3 timeout; do
  command -v "$tool" > /dev/null || { fail "$tool is not installed (scripts/install-deps.sh)"; summary cli-soak; exit 1; }
done

timeout -k 5 $((120 + calls / 5)) python3 "$root/Tests/Fixtures-call/soak/soak.py" "$deskphone" \
  "$root/board/sim.cfg" "$work" "$calls" 100 26900 26901 38200 38299 38300 > "$work/soak.out" 2>&1
status=$?
grep -E '^(sample|scan|quiet|result|error)' "$work/soak.out" | sed 's/^/note: /'
if [ $status = 0 ]; then pass "$((calls + 1)) calls completed, each with record on/off answered 200"; else
  fail "the soak did not complete (exit $status): $(grep -E '^error' "$work/soak.out" | head -2)"
  tail -5 "$work/phone.log" 2> /dev/null
fi

# The figures: after each quiet period the counters are back at the start; RSS after the second
# quiet period (all calls) is within the bound of the first (half the calls): the heap's high-water
# mark is set by the busiest 32 s, and a leak would add to it.
python3 - "$work/soak.out" "$RSS_GROWTH_KIB" > "$work/judge.out" << 'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
samples = [json.loads(l[7:]) for l in lines if l.startswith("sample ")]
quiet = [json.loads(l[6:]) for l in lines if l.startswith("quiet ")]
result = [json.loads(l[7:]) for l in lines if l.startswith("result ")]
bound = int(sys.argv[2])
if not samples or not result or len(quiet) != 2:
    print("FAIL the soak gave %d samples, %d quiet samples" % (len(samples), len(quiet))); sys.exit()
start, half, last = samples[0], quiet[0], quiet[1]
for key in ("timers", "watches", "transactions", "calls", "recording_calls", "recording_timers", "connections", "fds"):
    a, b, c = start.get(key), half.get(key), last.get(key)
    print(("ok   " if None not in (a, b, c) and b <= a and c <= a else "FAIL ")
          + "%s at the start %s, after %d calls %s, after %d calls %s (each after %s/%s s quiet)"
          % (key, a, half["done"], b, last["done"], c, half["quiet_s"], last["quiet_s"]))
growth = last["rss_kib"] - half["rss_kib"]
print(("ok   " if growth <= bound else "FAIL ") + "RSS %d KiB at the start, %d KiB after %d calls, %d KiB after %d (growth %d KiB, bound %d)"
      % (start["rss_kib"], half["rss_kib"], half["done"], last["rss_kib"], last["done"], growth, bound))
r = result[0]
print("note %d calls in %s s" % (r["calls"], r["seconds"]))
print(("ok   " if r["alive"] else "FAIL ") + "the phone is alive after the sipvicious scan")
scan = r["scan"]
svmap = scan.get("svmap", "")
if svmap == "not installed":
    print("FAIL sipvicious is not installed (scripts/install-deps.sh)")
else:
    print(("ok   " if "deskphone" in svmap else "FAIL ") + "svmap sees the phone by its User-Agent: " + svmap[:200])
    for tool in ("svwar", "svcrack"):
        text = scan.get(tool, "")
        print(("ok   " if "found nothing" in text else "FAIL ") + tool + " found nothing: " + text[:200])
PY
while IFS= read -r line; do
  case $line in
    "ok   "*) pass "${line#ok   }" ;;
    "FAIL "*) fail "${line#FAIL }" ;;
    *) echo "$line" ;;
  esac
done < "$work/judge.out"
# Descriptor exhaustion: a phone whose descriptor limit leaves room for one call's RTP sockets.
# SIPp places 4 calls at once: one is answered, the others get 503 (no RTP port: EMFILE) and the
# phone keeps running; once the first call is over, a new call is answered again.
fdwork="$work/fd"
mkdir -p "$fdwork"
{
  echo '#!version:1.0.0.1'
  echo 'account.1.user_name = 1001'
  echo 'sip.listen_address = 127.0.0.1'
  echo 'sip.listen_port = 26902'
  echo 'rtp.port_min = 38700'
  echo 'rtp.port_max = 38799'
} > "$fdwork/phone.cfg"
(cd "$fdwork" && ulimit -n 12 && exec timeout -k 3 60 "$deskphone" --board "$root/board/sim.cfg" --config phone.cfg \
  --answer auto > phone.log 2> phone.err) &
pids+=($!)
if wait_for "$fdwork/phone.log" "sip: listening" 1 10; then
  (cd "$fdwork" && timeout -k 3 30 sipp -sn uac -i 127.0.0.1 -p 26903 -mp 38800 -m 4 -l 4 -d 2000 -nostdin \
    -timeout 25s 127.0.0.1:26902 > sipp1.out 2>&1)
  refused=$(grep -c "no free RTP port: refused with 503" "$fdwork/phone.log")
  if grep -q "EMFILE" "$fdwork/phone.log" && [ "$refused" -ge 1 ] && grep -q "call 1: connected" "$fdwork/phone.log"; then
    pass "descriptors exhausted: one call answered, $refused refused with 503 (EMFILE)"
  else
    fail "descriptors exhausted: $(grep -E 'connected|503|EMFILE' "$fdwork/phone.log" | head -5)"
  fi
  wait_for "$fdwork/phone.log" "call 1: ended" 1 10 > /dev/null
  (cd "$fdwork" && timeout -k 3 20 sipp -sn uac -i 127.0.0.1 -p 26903 -mp 38800 -m 1 -d 500 -nostdin \
    -timeout 15s -timeout_error 127.0.0.1:26902 > sipp2.out 2>&1)
  if [ $? = 0 ]; then pass "descriptors exhausted: after the first call, a new call is answered and ends (SIPp exit 0)"; else
    fail "descriptors exhausted: the next call failed: $(tail -3 "$fdwork/phone.log")"; fi
else
  fail "the phone with 12 descriptors did not start: $(cat "$fdwork/phone.err")"
fi
summary cli-soak
