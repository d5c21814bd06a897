#!/usr/bin/env bash
# Call recording end to end: the whole phone (`deskphone --keys fifo:... --status-log ...`) against
# SIPp (record key: SIP INFO `Record: on/off`) and a Python HTTP server (URL record) on loopback;
# one URL-record press over HTTPS against lighttpd with mod_openssl (a test PKI made by openssl).
# Keys go in only as raw Linux input_event records through a FIFO; indicators are read from the
# status log. Each check prints `ok   ...` or `FAIL ...`; the last line is
# `cli-record: N passed, N failed`.
# usage: scripts/cli-tests-record.sh DESKPHONE      (ports: SIP 26600-26619, RTP 34000-34999,
#                                                    HTTP 26700, HTTPS 41020)
set -uo pipefail
phone=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$root/Tests/Fixtures-call/record
board=$root/board/sim.cfg
source "$root/scripts/cli-common.sh"
command -v sipp > /dev/null || { echo "FAIL sipp not installed (Debian sip-tester)"; echo "cli-record: 0 passed, 1 failed"; exit 1; }

phone_port=26600
sipp_port=26610
http_port=26700
mac=00:15:65:aa:bb:cc
cat > "$work/phone.cfg" << CFG
#!version:1.0.0.1
account.1.user_name = 1001
account.1.display_name = Rec Test
account.1.codecs = pcmu
sip.listen_address = 127.0.0.1
sip.listen_port = $phone_port
rtp.port_min = 34000
rtp.port_max = 34499
network.mac = $mac
# 77 + pound dials the SIPp UAS
dialplan.1.number = 77
dialplan.1.uri = sip:rec@127.0.0.1:$sipp_port
CFG
cat > "$work/url.cfg" << CFG
#!version:1.0.0.1
linekey.2.type = 35
linekey.2.value = http://127.0.0.1:$http_port/rec?call=\$call_id&remote=\$display_remote
features.record.message_time = 30
features.record.request_timeout = 2
CFG


# start_phone NAME ARGS...: deskphone with a key FIFO (held open by the script, so the phone never
# sees end of file between writers), status log $work/NAME.status, log $work/NAME.log.
start_phone() {
  local name=$1
  shift
  mkfifo "$work/$name.keys"
  exec 7<> "$work/$name.keys"
  "$phone" --board "$board" --config "$work/phone.cfg" "$@" --keys "fifo:$work/$name.keys" \
    --status-log "$work/$name.status" > "$work/$name.log" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
  wait_for "$work/$name.log" "sip: listening" 1 20 || fail "$name: deskphone did not start: $(head -c 300 "$work/$name.log")"
  touch "$work/$name.status"
}
stop_phone() {
  kill "$phone_pid" 2> /dev/null
  wait "$phone_pid" 2> /dev/null
  exec 7>&-
}
keys() { "$fixtures/keys.py" "$@"; }

# start_sipp NAME SCENARIO [ARGS...]: SIPp in the background, message trace $work/NAME.msg.
start_sipp() {
  local name=$1 scenario=$2
  shift 2
  sipp -sf "$fixtures/$scenario.xml" -i 127.0.0.1 -mi 127.0.0.1 -mp 34600 -m 1 -nostdin -timeout 40s \
    -trace_msg -message_file "$work/$name.msg" -trace_err -error_file "$work/$name.sipp-err" "$@" \
    > "$work/$name.sipp-out" 2>&1 &
  sipp_pid=$!
  pids+=("$sipp_pid")
  local i
  for ((i = 0; i < 100; i++)); do # until SIPp listens (up to 10 s on a loaded machine)
    ss -Hlun "sport = :$sipp_port" 2> /dev/null | grep -q . && break
    ss -Hun "sport = :$sipp_port" 2> /dev/null | grep -q . && break
    sleep 0.1
  done
}
# wait_sipp NAME: SIPp's exit status (0: every message of the scenario, every check_it matched).
wait_sipp() {
  local name=$1 i
  for ((i = 0; i < 450; i++)); do
    kill -0 "$sipp_pid" 2> /dev/null || break
    sleep 0.1
  done
  kill "$sipp_pid" 2> /dev/null
  wait "$sipp_pid"
  local status=$?
  if [ "$status" -eq 0 ]; then
    pass "$name: SIPp ran its scenario to the end"
  else
    fail "$name: SIPp exit $status: $(grep -v '^$' "$work/$name.sipp-err" "$work/$name.sipp-out" 2> /dev/null | head -c 400)"
  fi
}
wait_http() { wait_tcp "$http_port"; }
# info_headers NAME: the Record and Content-Length lines of each INFO SIPp received, one INFO a line.
info_headers() {
  python3 - "$work/$1.msg" << 'PY'
import re, sys
text = open(sys.argv[1], encoding="latin-1", newline="").read()
for m in re.finditer(r"^INFO sip:[^\r\n]*\r\n(.*?)\r\n\r\n", text, re.S | re.M):
    hs = [h for h in m.group(1).split("\r\n") if h.lower().startswith(("record:", "content-length:"))]
    print(" | ".join(hs))
PY
}
rec_line() { printf '"recording":{"call":%s,"state":"%s","indication":"%s"' "$1" "$2" "$3"; }
dial() { keys "$work/$1.keys" hook 77 pound && wait_for "$work/$1.log" "call 1: connected" 1 20 \
  || fail "$1: call not connected: $(tail -5 "$work/$1.log")"; }

# --- 1. Record key with no call: nothing sent, a message on the LCD --------------------------
n=nocall
start_phone $n
keys "$work/$n.keys" record
wait_for "$work/$n.status" '"text":"no call to record"' 1 10
check $n "$work/$n.log" "key: press record" "the raw input_event record key reaches the phone"
check $n "$work/$n.status" '"lines":["no call to record"]' "the LCD says no call to record"
check $n "$work/$n.status" "$(rec_line 0 off idle),\"text\":\"no call to record\"" "status log: recording line, state off"
check_not $n "$work/$n.log" "INFO Record" "no INFO sent"
check_not $n "$work/$n.status" '"led":"record","state":"on"' "record LED stays off"
stop_phone

# --- 2. INFO on -> 200, off -> 200, on -> 200, BYE from the server while recording --------------
n=on-off
start_sipp $n uas-on-off 127.0.0.1:$phone_port -p $sipp_port
start_phone $n
dial $n
keys "$work/$n.keys" record
wait_for "$work/$n.log" "recording on (recording) after 200 OK" 1
check $n "$work/$n.status" "$(rec_line 1 on recording),\"text\":\"recording\",\"cause\":\"200 OK\"" "status: recording on after 200"
check $n "$work/$n.status" '"led":"record","state":"fast_flash","color":"red"' "record LED fast-flashes while the INFO is out"
check $n "$work/$n.status" '"led":"record","state":"on","color":"red"' "record LED solid red after the 200"
check $n "$work/$n.status" '"icons":["recording",' "LCD recording icon"
keys "$work/$n.keys" record
wait_for "$work/$n.log" "recording off (idle) after 200 OK" 1
check $n "$work/$n.status" "$(rec_line 1 off idle),\"text\":\"\",\"cause\":\"200 OK\"" "status: recording off after 200 to Record: off"
keys "$work/$n.keys" record
wait_for "$work/$n.log" "recording on (recording) after 200 OK" 2
wait_for "$work/$n.log" "call 1: ended (remote hang-up)" 1 20
wait_for "$work/$n.status" "\"cause\":\"call ended (remote hang-up)\",\"active\":false" 1 5
check $n "$work/$n.status" "$(rec_line 1 off idle),\"text\":\"\",\"cause\":\"call ended (remote hang-up)\"" "status: recording cleared by the server's BYE"
last_led=$(grep -F '"led":"record"' "$work/$n.status" | tail -1)
[[ $last_led == *'"state":"off"'* ]] && pass "$n: record LED off after the BYE" || fail "$n: last record LED line: $last_led"
last_lcd=$(grep -F '"lcd":' "$work/$n.status" | tail -1)
[[ $last_lcd != *'"recording'* ]] && pass "$n: no recording icon after the BYE" || fail "$n: last LCD: $last_lcd"
wait_sipp $n
got=$(info_headers $n | tr '\n' ';')
want="Record: on | Content-Length: 0;Record: off | Content-Length: 0;Record: on | Content-Length: 0;"
[ "$got" = "$want" ] && pass "$n: SIPp got 3 INFOs with exactly Record: on/off/on, Content-Length: 0" \
  || fail "$n: INFO headers: '$got', expected '$want'"
[ "$(grep -c '^Record: ' "$work/$n.msg")" -eq 3 ] && pass "$n: 3 Record headers on the wire, no retransmission" \
  || fail "$n: $(grep -c '^Record: ' "$work/$n.msg") Record headers on the wire"
stop_phone

# --- 3. 403: recording not allowed, LED stays off; 4. 500: cannot start ------------------------
for code in 403 500; do
  n=info-$code
  start_sipp $n uas-$code 127.0.0.1:$phone_port -p $sipp_port
  start_phone $n
  dial $n
  keys "$work/$n.keys" record
  wait_for "$work/$n.log" "after $code" 1
  if [ $code = 403 ]; then
    check $n "$work/$n.status" "$(rec_line 1 off recording_not_allowed)" "status: recording not allowed"
    check $n "$work/$n.status" '"recording not allowed"' "LCD/status text says recording not allowed"
  else
    check $n "$work/$n.status" "$(rec_line 1 off recording_cannot_start)" "status: cannot start"
    check $n "$work/$n.status" 'cannot start' "text says cannot start"
  fi
  check_not $n "$work/$n.status" '"led":"record","state":"on"' "record LED never solid"
  last_led=$(grep -F '"led":"record"' "$work/$n.status" | tail -1)
  [[ $last_led == *'"state":"off"'* ]] && pass "$n: record LED off after the $code" || fail "$n: last record LED: $last_led"
  keys "$work/$n.keys" hook
  wait_for "$work/$n.log" "call 1: ended" 1
  wait_sipp $n
  got=$(info_headers $n | tr '\n' ';')
  [ "$got" = "Record: on | Content-Length: 0;" ] && pass "$n: exactly one INFO Record: on, Content-Length: 0" \
    || fail "$n: INFO headers: '$got'"
  stop_phone
done

# --- 4b. 481: the call is gone: the phone ends it, no BYE, indicators off ----------------------
n=info-481
start_sipp $n uas-481 127.0.0.1:$phone_port -p $sipp_port
start_phone $n
dial $n
keys "$work/$n.keys" record
wait_for "$work/$n.log" "call 1: ended (dialog gone (481))" 1
check $n "$work/$n.status" "$(rec_line 1 off idle),\"text\":\"\",\"cause\":\"call ended (dialog gone (481))\",\"active\":false" \
  "status: the call ended on the 481, recording state cleared"
check_not $n "$work/$n.status" '"led":"record","state":"on"' "record LED never solid"
last_led=$(grep -F '"led":"record"' "$work/$n.status" | tail -1)
[[ $last_led == *'"state":"off"'* ]] && pass "$n: record LED off after the 481" || fail "$n: last record LED: $last_led"
wait_sipp $n
[ "$(grep -c '^BYE ' "$work/$n.msg")" -eq 0 ] && pass "$n: no BYE for a dialog the server says is gone" \
  || fail "$n: the phone sent BYE after 481"
got=$(info_headers $n | tr '\n' ';')
[ "$got" = "Record: on | Content-Length: 0;" ] && pass "$n: exactly one INFO Record: on" || fail "$n: INFO headers: '$got'"
stop_phone

# --- 5. URL record: 200 with Yealink XML text, then 404 ----------------------------------------
n=url
python3 "$fixtures/http_server.py" $http_port "$work/http.log" "xml:recording started" 404 never > "$work/http.out" 2>&1 &
http_pid=$!
pids+=("$http_pid")
wait_http
start_sipp $n uas-no-info 127.0.0.1:$phone_port -p $sipp_port
start_phone $n --config "$work/url.cfg"
dial $n
keys "$work/$n.keys" line2
wait_for "$work/$n.log" "recording on (recording) after 200 OK" 1
check $n "$work/$n.log" "key: press line2" "line2 key (KEY_K) through the input_event FIFO"
check $n "$work/$n.status" '"lines":["rec@127.0.0.1","recording started"]' "LCD shows the server's <Text>"
check $n "$work/$n.status" "$(rec_line 1 on recording),\"text\":\"recording started\"" "status: recording on with the server's text"
check $n "$work/$n.status" '"led":"line2","state":"on","color":"red"' "line2 LED solid red"
keys "$work/$n.keys" line2
wait_for "$work/$n.log" "after 404 Not Found" 1
check $n "$work/$n.status" "$(rec_line 1 on recording_cannot_stop),\"text\":\"cannot stop recording\",\"cause\":\"404 Not Found\"" \
  "status: 404 shown as cannot stop, state kept"
check $n "$work/$n.status" '"cannot stop recording"]' "LCD shows the failure"
keys "$work/$n.keys" line2
wait_for "$work/$n.log" "recording on (recording_cannot_stop) after" 2 20
timeout_line=$(grep -F "recording on (recording_cannot_stop) after" "$work/$n.log" | sed -n 2p)
[[ $timeout_line == *"after 404"* || -z $timeout_line ]] && fail "$n: a server that never answers: '$timeout_line'" \
  || pass "$n: a server that never answers: $timeout_line"
keys "$work/$n.keys" hook
wait_for "$work/$n.log" "call 1: ended" 1
wait_sipp $n
callid=$(grep -m1 -i '^Call-ID:' "$work/$n.msg" | tr -d '\r' | awk '{print $2}')
python3 - "$work/http.log" "$callid" "127.0.0.1:$http_port" "${mac//:/}" << 'PY' > "$work/http.check"
import json, sys
log, callid, host, mac = sys.argv[1:]
reqs = [json.loads(l) for l in open(log)]
print("count", len(reqs))
for r in reqs:
    want_line = "GET /rec?call=%s&remote= HTTP/1.1" % callid
    want = [["Host", host], ["User-Agent", "deskphone/0.1.0 deskphone-sim " + mac.upper()],
            ["Accept", "*/*"], ["Connection", "close"]]
    print("line", "ok" if r["request_line"] == want_line else "bad %r (want %r)" % (r["request_line"], want_line))
    print("headers", "ok" if r["headers"] == want else "bad %r" % r["headers"])
PY
check $n "$work/http.check" "count 3" "the HTTP server got exactly 3 GETs"
check_not $n "$work/http.check" "bad" "exact request line (call id = SIP Call-ID) and headers: $(grep bad "$work/http.check" | head -c 300)"
stop_phone

# --- 6. URL record with a hostile display name (SIPp calls the phone) -------------------------
n=hostile
: > "$work/http.log"
kill "$http_pid" 2> /dev/null
wait "$http_pid" 2> /dev/null
python3 "$fixtures/http_server.py" $http_port "$work/http.log" 404 > "$work/http.out" 2>&1 &
pids+=($!)
wait_http
mkfifo "$work/$n.ctl"
exec 8<> "$work/$n.ctl"
start_phone $n --config "$work/url.cfg" --answer auto --control "$work/$n.ctl"
start_sipp $n uac-hostile 127.0.0.1:$phone_port -p $sipp_port
wait_for "$work/$n.log" "call 1: connected" 1 20 || fail "$n: not connected: $(tail -3 "$work/$n.log")"
keys "$work/$n.keys" line2
wait_for "$work/http.log" "request_line" 1
wait_for "$work/$n.log" "after 404 Not Found" 1
echo hangup >&8
wait_for "$work/$n.log" "call 1: ended" 1
wait_sipp $n
line=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["request_line"])' "$work/http.log" 2> /dev/null)
case "$line" in
  "GET /rec?call="*"&remote=Bob%26x%3D1%2F..%2F%3Fy HTTP/1.1") pass "$n: display name percent-encoded: $line" ;;
  *) fail "$n: request line: '$line'" ;;
esac
[ "$(grep -c request_line "$work/http.log")" -eq 1 ] && pass "$n: one request only" || fail "$n: $(grep -c request_line "$work/http.log") requests"
exec 8>&-
stop_phone

# --- 7. URL record over HTTPS: lighttpd with the test CA's certificate for 127.0.0.1 -------------
n=https
https_port=41020
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
mkdir -p "$work/www"
printf '<YealinkIPPhoneText><Text>recording over TLS</Text></YealinkIPPhoneText>' > "$work/www/rec"
if make_ca ca "deskphone test CA" && make_leaf server ca 127.0.0.1 "IP:127.0.0.1"; then
  cat > "$work/lighttpd.conf" << CONF
server.document-root = "$work/www"
server.bind = "127.0.0.1"
server.port = $https_port
server.errorlog = "$work/lighttpd.err"
server.modules = ("mod_openssl", "mod_accesslog")
accesslog.filename = "$work/access.log"
accesslog.format = "%r %s"
mimetype.assign = ("" => "text/xml")
ssl.engine = "enable"
ssl.pemfile = "$pki/server.crt"
ssl.privkey = "$pki/server.key"
CONF
  "$lighttpd" -D -f "$work/lighttpd.conf" > "$work/lighttpd.out" 2>&1 &
  pids+=($!)
  wait_tcp $https_port || fail "$n: lighttpd did not start: $(head -c 300 "$work/lighttpd.err")"
  cat > "$work/https.cfg" << CFG
#!version:1.0.0.1
linekey.2.type = 35
linekey.2.value = https://127.0.0.1:$https_port/rec?call=\$call_id
features.record.request_timeout = 3
security.trusted_certificates.file = $pki/ca.crt
CFG
  start_sipp $n uas-no-info 127.0.0.1:$phone_port -p $sipp_port
  start_phone $n --config "$work/https.cfg"
  dial $n
  keys "$work/$n.keys" line2
  wait_for "$work/$n.log" "recording on (recording) after 200 OK" 1 \
    && pass "$n: the HTTPS GET answered 200" || fail "$n: $(grep recording "$work/$n.log" | tail -3)"
  check $n "$work/$n.status" '"lines":["rec@127.0.0.1","recording over TLS"]' "LCD shows the server's <Text> (over TLS)"
  wait_re "$work/access.log" "GET /rec\\?call=[^ ]+ HTTP/1.1 200" 1 10 && pass "$n: lighttpd served the GET over TLS" \
    || fail "$n: access log: $(tail -3 "$work/access.log")"
  keys "$work/$n.keys" hook
  wait_for "$work/$n.log" "call 1: ended" 1
  wait_sipp $n
  stop_phone
else
  fail "$n: openssl could not make the test PKI"
fi

summary cli-record
