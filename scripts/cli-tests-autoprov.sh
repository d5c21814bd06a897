#!/usr/bin/env bash
# Provisioning from an HTTP server, end to end, against a real lighttpd this script starts on
# loopback with its own configuration (never the system service): the phone boots from the
# server (the common file y000000000000.cfg and <mac>.cfg behind a basic-auth path, reached
# through a redirect), a key from each file visible in the log; an unchanged file costs one round
# trip (lighttpd answers If-None-Match/If-Modified-Since with 304); a file changed on the server is
# picked up on the repeat timer (auto_provision.repeat.seconds, the test override) and applied
# (DND on the LCD); a bad file is refused with its URL and line and the last good set stays; with
# the server dead (refusing, or silent: the boot wait is bounded by the timeout) the phone boots on
# the stored last good set; `deskphone-tool provision fetch`
# prints the plan and the merged result; a wrong password (401), a redirect loop (bounded at 5) and a
# file over 256 KiB are refused. The same boot from a TFTP server (tftpd-hpa's in.tftpd, started
# here), where a file the server does not have (TFTP error 1) is skipped as a 404 is.
# A lease file of a udhcpc hook (opt66=) names the TFTP server, one in dhclient's syntax the HTTP
# server. Then SIPp: the phone registers with a SIPp registrar and prints the time from start to
# registered (`boot-to-registered: N ms`); a check-sync NOTIFY from the registrar's address makes
# it fetch a changed file and apply it, one from a stranger's port gets 403 (logged, no fetch); a
# change that needs a restart waits for the end of a SIPp call, then the phone restarts; with a
# password the NOTIFY is challenged (401) and SIPp's answer with the account's credentials is
# accepted (a wrong password: 403), reboot=true restarts the phone; include:config two levels deep
# over HTTP, and a cycle refused by the tool. Over HTTPS (a second lighttpd with mod_openssl, a
# test PKI made here by openssl): the phone trusts the test CA given by
# security.trusted_certificates.file and provisions; with another CA it refuses the server (the log
# names the reason and the URL) and keeps the last good set; over HTTP with digest authentication
# (RFC 7616, lighttpd's htdigest file) it provisions, and a wrong password is refused.
# Each check prints `ok   ...` or `FAIL ...`; the last line is `cli-autoprov: N passed, N failed`.
# usage: scripts/cli-tests-autoprov.sh DESKPHONE    (ports: HTTP 26960, SIP 26961, TFTP 26975, RTP 35900-35919;
# the check-sync part 42000-42004, RTP 42050-42069, SIPp media 42080; HTTP digest 41010, HTTPS 41011)
# The tool is .build/release/deskphone-tool (or $DESKPHONE_TOOL).
set -uo pipefail
phone=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
tool=${DESKPHONE_TOOL:-$root/.build/release/deskphone-tool}
board=$root/board/sim.cfg
source "$root/scripts/cli-common.sh"
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
[ -x "$lighttpd" ] || { echo "FAIL lighttpd not installed (Debian lighttpd)"; echo "cli-autoprov: 0 passed, 1 failed"; exit 1; }

http_port=26960
phone_port=26961
mac_file=001565a1b2c3.cfg

# --- the server: a document root, /prov behind basic auth, /old redirecting to /prov -----------
mkdir -p "$work/www/prov" "$work/www/big" "$work/store" "$work/cfg"
# A common file over the 256 KiB limit (a valid one: only its size is wrong).
{ echo '#!version:1.0.0.1'; for ((i = 0; i < 9000; i++)); do echo "# padding line $i ......................"; done; } \
  > "$work/www/big/y000000000000.cfg"
printf 'admin:s3cret\n' > "$work/htpasswd"
# lighttpd_conf DIR PORT [LINE]...: DIR/lighttpd.conf, serving DIR/www on 127.0.0.1:PORT.
lighttpd_conf() {
  local dir=$1 port=$2 line
  shift 2
  {
    printf 'server.document-root = "%s/www"\nserver.bind = "127.0.0.1"\nserver.port = %s\n' "$dir" "$port"
    printf 'server.pid-file = "%s/lighttpd.pid"\nserver.errorlog = "%s/lighttpd.err"\n' "$dir" "$dir"
    echo 'mimetype.assign = (".cfg" => "text/plain")'
    for line in "$@"; do echo "$line"; done
  } > "$dir/lighttpd.conf"
}
lighttpd_conf "$work" $http_port 'server.modules = ("mod_redirect", "mod_auth", "mod_authn_file", "mod_accesslog")' \
  "accesslog.filename = \"$work/access.log\"" 'accesslog.format = "%r %s"' \
  'url.redirect = ("^/old/(.*)$" => "/prov/$1", "^/loop/(.*)$" => "/loop/$1")' 'auth.backend = "plain"' \
  "auth.backend.plain.userfile = \"$work/htpasswd\"" \
  'auth.require = ("/prov/" => ("method" => "basic", "realm" => "provisioning", "require" => "valid-user"))'
start_server() {
  "$lighttpd" -D -f "$work/lighttpd.conf" > "$work/lighttpd.out" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  local i
  for ((i = 0; i < 50; i++)); do
    ss -Htln "sport = :$http_port" 2> /dev/null | grep -q . && return 0
    sleep 0.1
  done
  fail "lighttpd did not start: $(cat "$work/lighttpd.out" "$work/lighttpd.err" 2> /dev/null | head -c 500)"
  return 1
}
stop_server() {
  kill "$server_pid" 2> /dev/null
  reap _ "$server_pid"
}

cat > "$work/www/prov/y000000000000.cfg" << CFG
#!version:1.0.0.1
# common to every phone of the model
sip.listen_port = $phone_port
account.1.user_name = 1000
rtp.port_min = 35900
rtp.port_max = 35919
CFG
write_cfg() { # write_cfg FILE [LINE]...: a .cfg file on a server, replaced whole (a new mtime and size)
  local file=$1 line
  shift
  { echo '#!version:1.0.0.1'; for line in "$@"; do echo "$line"; done; } > "$file.new"
  mv "$file.new" "$file"
}
write_mac_file() { write_cfg "$work/www/prov/$mac_file" "account.1.user_name = 2001" "${1:-}"; } # [EXTRA LINE]
write_mac_file
cat > "$work/cfg/local.cfg" << CFG
#!version:1.0.0.1
network.mac = 00:15:65:A1:B2:C3
sip.listen_address = 127.0.0.1
auto_provision.server.url = http://127.0.0.1:$http_port/old/
auto_provision.server.username = admin
auto_provision.server.password = s3cret
auto_provision.server.timeout = 3
auto_provision.repeat.enable = 1
auto_provision.repeat.seconds = 2
CFG
still_running() { kill -0 "$phone_pid" 2> /dev/null; }
start_phone() { # start_phone NAME
  "$phone" --board "$board" --config "$work/cfg/local.cfg" --provision-dir "$work/store" \
    --status-log "$work/$1.status" > "$work/$1.log" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
}
stop_phone() {
  kill -TERM "$phone_pid" 2> /dev/null
  reap phone_status "$phone_pid"
}
url_common=http://127.0.0.1:$http_port/old/y000000000000.cfg
url_mac=http://127.0.0.1:$http_port/old/$mac_file

start_server || { summary cli-autoprov; exit; }

# --- 1. the admin tool: the plan, the merged result; a wrong password is refused ---------------
n=tool
if [ -x "$tool" ]; then
  "$tool" provision fetch "http://127.0.0.1:$http_port/old" --mac 00:15:65:A1:B2:C3 --user admin --password s3cret \
    "$work/cfg/local.cfg" > "$work/$n.out" 2>&1
  status=$?
  [ $status -eq 0 ] && pass "$n: exit 0" || fail "$n: exit $status: $(head -c 600 "$work/$n.out")"
  expect_lines $n "$work/$n.out" "^plan: $url_common\$" "^plan: $url_mac\$" "^plan: .*local.cfg \(local\)\$"
  check $n "$work/$n.out" "merged: sip.listen_port = $phone_port    # $url_common:3" "a key from the common file, with its URL:line"
  check $n "$work/$n.out" "merged: account.1.user_name = 2001    # $url_mac:2" "the MAC file wins over the common file"
  check $n "$work/$n.out" "ok: 2 files fetched" "both files fetched"
  [ -z "$(ls -A "$work/store")" ] && pass "$n: nothing stored" || fail "$n: the tool stored $(ls "$work/store")"
  "$tool" provision fetch "http://127.0.0.1:$http_port/old" --mac 001565a1b2c3 --user admin --password wrong \
    > "$work/$n-401.out" 2>&1
  status=$?
  [ $status -eq 1 ] && pass "$n: a wrong password exits 1" || fail "$n: a wrong password: exit $status"
  check $n "$work/$n-401.out" "error: $url_common: authentication refused for user 'admin' (401" \
    "the refused credentials are named with the URL"
  "$tool" provision fetch "http://127.0.0.1:$http_port/loop" --mac 001565a1b2c3 > "$work/$n-loop.out" 2>&1
  status=$?
  [ $status -eq 1 ] && pass "$n: a redirect loop exits 1" || fail "$n: a redirect loop: exit $status"
  check $n "$work/$n-loop.out" "error: http://127.0.0.1:$http_port/loop/y000000000000.cfg: more than 5 redirects" \
    "a redirect loop ends after 5 redirects"
  "$tool" provision fetch "http://127.0.0.1:$http_port/big" --mac 001565a1b2c3 > "$work/$n-big.out" 2>&1
  status=$?
  [ $status -eq 1 ] && pass "$n: a file over the limit exits 1" || fail "$n: a file over the limit: exit $status"
  check $n "$work/$n-big.out" "error: http://127.0.0.1:$http_port/big/y000000000000.cfg: response body larger than 262144 bytes" \
    "a file over 256 KiB is refused"
else
  fail "$n: no $tool (swift build -c release)"
fi

# --- 2. boot from the server: common + MAC file, through the redirect and basic auth ------------
n=boot
start_phone $n
wait_for "$work/$n.log" "sip: listening" 1 20 || fail "$n: the phone did not start: $(head -c 800 "$work/$n.log")"
expect_lines $n "$work/$n.log" "^provisioning: provisioning\.\.\. from http://127.0.0.1:$http_port/old/\$" \
  "^provisioning: GET $url_common: 200" "^provisioning: GET $url_mac: 200" \
  "^provisioning: stored the set in $work/store/provisioned.cfg\$" "^provisioning: provisioned \(2 files\)\$" \
  "^sip: listening on udp 127.0.0.1:$phone_port"
check $n "$work/$n.log" " as 2001" "the MAC file's user name (over the common file's 1000)"
check $n "$work/$n.log" "sip: listening on udp 127.0.0.1:$phone_port" "the common file's listen port"
check $n "$work/store/provisioned.cfg" "# from $url_mac" "the stored set names its URLs"
# lighttpd writes its access log in batches (about once a second): wait for the lines.
wait_for "$work/access.log" "GET /prov/y000000000000.cfg HTTP/1.1 200" 1 10 && pass "$n: lighttpd served the common file after the redirect" \
  || fail "$n: access log: $(tail -5 "$work/access.log")"
wait_re "$work/access.log" "GET /old/$mac_file HTTP/1.1 30[1278]" 1 10 \
  && pass "$n: the /old URL was redirected" || fail "$n: no redirect in the access log"
wait_for "$work/$n.status" "provisioned (2 files)" 1 5 && pass "$n: the LCD showed 'provisioned (2 files)'" \
  || fail "$n: the LCD never showed 'provisioned (2 files)'"

# --- 3. unchanged files: 304, one round trip each, nothing applied -------------------------------
n=unchanged
wait_for "$work/boot.log" "provisioning: unchanged (2 files)" 1 10 && pass "$n: the repeat round found the set unchanged" \
  || fail "$n: no unchanged round: $(grep provisioning "$work/boot.log" | tail -5)"
check $n "$work/boot.log" "provisioning: GET $url_mac: 304 Not Modified" "the phone got a 304 for the MAC file"
wait_for "$work/access.log" "GET /prov/$mac_file HTTP/1.1 304" 1 10 && pass "$n: lighttpd answered 304 (conditional GET)" \
  || fail "$n: no 304 in the access log: $(tail -5 "$work/access.log")"
check_not $n "$work/boot.log" "config: reloaded" "an unchanged set is not applied again"

# --- 4. a file changed on the server: picked up by the repeat timer and applied ----------------
n=changed
sleep 1.1 # a new Last-Modified second as well as a new size
write_mac_file "features.dnd.enable = 1"
wait_for "$work/boot.log" "config: reloaded" 1 10 && pass "$n: the changed set was applied (config: reloaded)" \
  || fail "$n: not applied: $(grep provisioning "$work/boot.log" | tail -5)"
wait_for "$work/boot.status" '"dnd"' 1 5 && pass "$n: the LCD shows DND (the new key took effect at once)" \
  || fail "$n: no DND on the LCD"
check $n "$work/store/provisioned.cfg" 'features.dnd.enable = "1"' "the stored set has the new key"

# --- 5. a bad file on the server: refused with URL and line, the last good set stays -----------
n=bad-file
cp "$work/store/provisioned.cfg" "$work/good.cfg"
write_mac_file "voice.volume.ringer = 42"
wait_for "$work/boot.log" "provisioning failed:" 1 10
check $n "$work/boot.log" \
  "provisioning failed: $url_mac:3: voice.volume.ringer = '42': expected a whole number from 0 to 15 (the last good set stays)" \
  "refused with its URL:line"
still_running && pass "$n: the phone keeps running" || fail "$n: the phone exited"
cmp -s "$work/good.cfg" "$work/store/provisioned.cfg" && pass "$n: the stored last good set is unchanged" \
  || fail "$n: the stored set changed"
wait_for "$work/boot.status" "provisioning failed" 1 5 && pass "$n: the LCD showed 'provisioning failed'" \
  || fail "$n: the LCD never showed 'provisioning failed'"
stop_phone
[ "$phone_status" -eq 0 ] && pass "$n: orderly exit" || fail "$n: exit status $phone_status"

# --- 6. the server dead: the phone boots on the stored last good set ---------------------------
n=dead-server
stop_server
start_phone $n
wait_for "$work/$n.log" "sip: listening" 1 20 || fail "$n: the phone did not start: $(head -c 800 "$work/$n.log")"
expect_lines $n "$work/$n.log" "^provisioning: last good set $work/store/provisioned.cfg\$" \
  "^provisioning failed: $url_common: .*[Cc]onnection refused.* \(the last good set stays\)\$" \
  "^sip: listening on udp 127.0.0.1:$phone_port"
check $n "$work/$n.log" " as 2001" "the stored MAC file's user name"
wait_for "$work/$n.status" '"dnd"' 1 5 && pass "$n: DND from the stored set" || fail "$n: no DND from the stored set"
stop_phone

# --- 7. a server that takes the connection and never answers: the boot wait is bounded ---------
n=silent-server
python3 -c "
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $http_port))
s.listen(8)
time.sleep(60)
" &
silent_pid=$!
pids+=("$silent_pid")
for ((i = 0; i < 50; i++)); do ss -Htln "sport = :$http_port" 2> /dev/null | grep -q . && break; sleep 0.1; done
started=$(date +%s%N)
start_phone $n
wait_for "$work/$n.log" "sip: listening" 1 20 || fail "$n: the phone did not start: $(head -c 800 "$work/$n.log")"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
check $n "$work/$n.log" "provisioning failed: $url_common: timeout after 3 s (the last good set stays)" \
  "the GET times out (auto_provision.server.timeout = 3)"
[ "$elapsed_ms" -lt 8000 ] && pass "$n: the phone started after ${elapsed_ms} ms (bounded by the timeout)" \
  || fail "$n: the phone took ${elapsed_ms} ms to start"
check $n "$work/$n.log" " as 2001" "on the stored last good set"
stop_phone
kill "$silent_pid" 2> /dev/null
reap _ "$silent_pid"

# --- 8. TFTP: boot from tftp://, the MAC file over the common file; a missing file is skipped ---
n=tftp
tftp_port=26975
if [ -x /usr/sbin/in.tftpd ]; then
  mkdir -p "$work/tftp" "$work/store-tftp"
  chmod 755 "$work" "$work/tftp"
  cp "$work/www/prov/y000000000000.cfg" "$work/tftp/y000000000000.cfg"
  printf '#!version:1.0.0.1\naccount.1.user_name = 3003\n' > "$work/tftp/$mac_file"
  chmod 644 "$work/tftp/"*.cfg
  /usr/sbin/in.tftpd --foreground --listen --address "127.0.0.1:$tftp_port" --user "$(id -un)" --secure "$work/tftp" \
    > "$work/tftpd.out" 2>&1 &
  tftpd_pid=$!
  pids+=("$tftpd_pid")
  wait_udp $tftp_port || fail "$n: in.tftpd did not start: $(head -c 300 "$work/tftpd.out")"
  cat > "$work/cfg/tftp.cfg" << CFG
#!version:1.0.0.1
network.mac = 00:15:65:A1:B2:C3
sip.listen_address = 127.0.0.1
auto_provision.server.url = tftp://127.0.0.1:$tftp_port/
auto_provision.server.timeout = 3
CFG
  "$phone" --board "$board" --config "$work/cfg/tftp.cfg" --provision-dir "$work/store-tftp" > "$work/$n.log" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
  wait_for "$work/$n.log" "sip: listening" 1 20 || fail "$n: the phone did not start: $(head -c 800 "$work/$n.log")"
  expect_lines $n "$work/$n.log" "^provisioning: TFTP tftp://127.0.0.1:$tftp_port/y000000000000.cfg: [0-9]+ bytes\$" \
    "^provisioning: TFTP tftp://127.0.0.1:$tftp_port/$mac_file: [0-9]+ bytes\$" "^provisioning: provisioned \(2 files\)\$" \
    "^sip: listening on udp 127.0.0.1:$phone_port"
  check $n "$work/$n.log" " as 3003" "the TFTP MAC file's user name"
  stop_phone
  if [ -x "$tool" ]; then
    "$tool" provision fetch "tftp://127.0.0.1:$tftp_port" --mac 00:15:65:00:00:01 > "$work/$n-tool.out" 2>&1
    status=$?
    [ $status -eq 0 ] && pass "$n: the tool fetched over TFTP" || fail "$n: tool exit $status: $(head -c 600 "$work/$n-tool.out")"
    check $n "$work/$n-tool.out" "ok: 1 file fetched" "a MAC file the server does not have is skipped"
  fi
  # DHCP option 66 from a udhcpc hook's lease file names the TFTP server (no server URL set).
  n=dhcp-tftp
  printf 'interface=eth0\nip=127.0.0.1\nopt66=127.0.0.1:%s\n' "$tftp_port" > "$work/udhcpc.lease"
  cat > "$work/cfg/dhcp.cfg" << CFG
#!version:1.0.0.1
network.mac = 00:15:65:A1:B2:C3
sip.listen_address = 127.0.0.1
auto_provision.dhcp_option.lease_file = $work/udhcpc.lease
auto_provision.server.timeout = 3
CFG
  mkdir -p "$work/store-dhcp"
  "$phone" --board "$board" --config "$work/cfg/dhcp.cfg" --provision-dir "$work/store-dhcp" > "$work/$n.log" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
  wait_for "$work/$n.log" "sip: listening" 1 20 || fail "$n: the phone did not start: $(head -c 800 "$work/$n.log")"
  expect_lines $n "$work/$n.log" \
    "^provisioning: server from DHCP option 66 in $work/udhcpc.lease: tftp://127.0.0.1:$tftp_port/\$" \
    "^provisioning: TFTP tftp://127.0.0.1:$tftp_port/$mac_file: [0-9]+ bytes\$" "^provisioning: provisioned \(2 files\)\$"
  check $n "$work/$n.log" " as 3003" "the TFTP MAC file's user name, from the server DHCP named"
  stop_phone
  kill "$tftpd_pid" 2> /dev/null
  reap _ "$tftpd_pid"
else
  fail "$n: tftpd-hpa is not installed (scripts/install-deps.sh)"
fi

# --- 9. check-sync NOTIFY (SIPp), deferral while a call is up, power-on to registered -----------
# Ports 42000-42099: lighttpd 42000, the phone 42001, the registrar (SIPp) 42002, a stranger
# 42003, a caller 42004, the phone's RTP 42050-42069. A second lighttpd serves $work/sync/www.
fixtures=$root/Tests/Fixtures-autoprov
sync_http=42000
sync_phone=42001
sync_reg=42002
sync_stranger=42003
sync_caller=42004
sd=$work/sync
mkdir -p "$sd/www/sync" "$sd/store"
lighttpd_conf "$sd" $sync_http 'server.stat-cache-engine = "disable"' # files change within a second here
cat > "$sd/www/sync/y000000000000.cfg" << CFG
#!version:1.0.0.1
sip.listen_port = $sync_phone
account.1.user_name = 2001
account.1.enable = 1
account.1.sip_server.1.address = 127.0.0.1
account.1.sip_server.1.port = $sync_reg
rtp.port_min = 42050
rtp.port_max = 42069
CFG
write_sync_mac() { write_cfg "$sd/www/sync/$mac_file" "$@"; } # [LINE]...: the per-phone file on the check-sync server
write_sync_mac
cat > "$sd/local.cfg" << CFG
#!version:1.0.0.1
network.mac = 00:15:65:A1:B2:C3
sip.listen_address = 127.0.0.1
auto_provision.server.url = http://127.0.0.1:$sync_http/sync/
auto_provision.server.timeout = 3
CFG
# run_sipp NAME ARGS...: SIPp in $sd (its traces land there), one call, bounded; status in sipp_status.
start_sipp() {
  local name=$1
  shift
  (cd "$sd" && exec timeout -k 3 30 sipp "$@" -i 127.0.0.1 -m 1 -nostdin -timeout 20s -timeout_error \
    -trace_err -trace_msg > "$sd/$name.sipp.out" 2>&1) &
  sipp_pid=$!
  pids+=("$sipp_pid")
}
run_sipp() {
  start_sipp "$@"
  reap sipp_status "$sipp_pid"
}
start_sync_phone() { # start_sync_phone NAME CONFIG: the phone with auto answer, its boot time in boot_ns
  boot_ns=$(date +%s%N)
  "$phone" --board "$board" --config "$2" --provision-dir "$sd/store" --answer auto --status-log "$sd/$1.status" \
    > "$sd/$1.log" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
}
# registered_ms LOG: waits (10 ms steps, at most 15 s) for the first 'registration: registered' line
# and prints the milliseconds since boot_ns.
registered_ms() {
  local i
  for ((i = 0; i < 1500; i++)); do
    if grep -q '^registration: registered' "$1" 2> /dev/null; then
      echo $((($(date +%s%N) - boot_ns) / 1000000))
      return 0
    fi
    sleep 0.01
  done
  return 1
}

n=check-sync
if command -v sipp > /dev/null; then
  "$lighttpd" -D -f "$sd/lighttpd.conf" > "$sd/lighttpd.out" 2>&1 &
  pids+=("$!")
  wait_tcp $sync_http || fail "$n: the second lighttpd did not start: $(cat "$sd/lighttpd.out" "$sd/lighttpd.err" 2> /dev/null)"
  start_sipp registrar -sf "$fixtures/registrar.xml" -p $sync_reg
  registrar_pid=$sipp_pid
  wait_udp $sync_reg || fail "$n: the SIPp registrar did not start"
  start_sync_phone $n "$sd/local.cfg"
  if ms=$(registered_ms "$sd/$n.log"); then
    pass "$n: registered with the provisioned server ${ms} ms after start"
    echo "boot-to-registered: ${ms} ms (a provisioning round trip over HTTP on loopback included)"
  else
    fail "$n: not registered: $(tail -20 "$sd/$n.log")"
  fi
  reap sipp_status "$registrar_pid"
  [ "$sipp_status" -eq 0 ] && pass "$n: SIPp registrar (REGISTER, 200)" || fail "$n: SIPp registrar: $sipp_status"
  check $n "$sd/$n.log" "provisioning: provisioned (2 files)" "the boot round"
  # A value changed on the server: check-sync from the registrar's address makes the phone fetch it.
  sleep 1.1 # a new Last-Modified second (lighttpd would answer the conditional GET with 304)
  write_sync_mac "features.dnd.enable = 1"
  run_sipp notify 127.0.0.1:$sync_phone -sf "$fixtures/check-sync-200.xml" -p $sync_reg -s 2001 -key event check-sync
  [ "$sipp_status" -eq 0 ] && pass "$n: SIPp from the registrar's address got 200" \
    || fail "$n: SIPp (NOTIFY, 200 expected): status $sipp_status: $(tail -5 "$sd/notify.sipp.out")"
  wait_for "$sd/$n.log" "config: reloaded" 1 10 && pass "$n: the changed set was fetched and applied" \
    || fail "$n: not applied: $(grep -E 'check-sync|provisioning' "$sd/$n.log" | tail -5)"
  expect_lines $n "$sd/$n.log" "^sip: check-sync NOTIFY from 127\.0\.0\.1:$sync_reg: accepted\$" \
    "^provisioning: provisioning\.\.\. from http://127.0.0.1:$sync_http/sync/\$" "^provisioning: provisioned \(2 files\)\$" \
    "^config: reloaded\$"
  wait_for "$sd/$n.status" '"dnd"' 1 5 && pass "$n: the LCD shows DND (the value from the server)" \
    || fail "$n: no DND on the LCD"
  # A stranger (another port): 403, logged, no fetch.
  rounds=$(grep -c '^provisioning: provisioning\.\.\.' "$sd/$n.log")
  run_sipp stranger 127.0.0.1:$sync_phone -sf "$fixtures/check-sync-403.xml" -p $sync_stranger -s 2001 \
    -key event "check-sync;reboot=true"
  [ "$sipp_status" -eq 0 ] && pass "$n: SIPp from a stranger's port got 403" \
    || fail "$n: SIPp (NOTIFY, 403 expected): status $sipp_status: $(tail -5 "$sd/stranger.sipp.out")"
  check $n "$sd/$n.log" \
    "check-sync NOTIFY from 127.0.0.1:$sync_stranger refused: not from the account's registrar (403)" \
    "the refusal is logged"
  sleep 0.5
  [ "$(grep -c '^provisioning: provisioning\.\.\.' "$sd/$n.log")" -eq "$rounds" ] \
    && pass "$n: no round for the stranger" || fail "$n: the stranger started a round"
  check_not $n "$sd/$n.log" "phone: restarting" "no restart for the stranger"

  # --- 10. a change that needs a restart waits until no call is up ------------------------------
  n=deferred
  # DND off again first (it would refuse the call), by another check-sync.
  sleep 1.1
  write_sync_mac "features.dnd.enable = 0"
  run_sipp notify-dnd 127.0.0.1:$sync_phone -sf "$fixtures/check-sync-200.xml" -p $sync_reg -s 2001 -key event check-sync
  wait_for "$sd/check-sync.log" "config: reloaded" 2 10 && pass "$n: DND off by a second check-sync" \
    || fail "$n: DND still on: $(tail -5 "$sd/check-sync.log")"
  sleep 1.1
  write_sync_mac "account.1.display_name = Front desk"
  start_sipp caller 127.0.0.1:$sync_phone -sf "$fixtures/call-hold.xml" -p $sync_caller -s 2001 -mp 42080
  caller_pid=$sipp_pid
  wait_for "$sd/check-sync.log" "call 1: connected" 1 10 && pass "$n: SIPp's call is up" \
    || fail "$n: no call: $(tail -5 "$sd/check-sync.log")"
  run_sipp notify2 127.0.0.1:$sync_phone -sf "$fixtures/check-sync-200.xml" -p $sync_reg -s 2001 -key event check-sync
  [ "$sipp_status" -eq 0 ] && pass "$n: check-sync during the call got 200" \
    || fail "$n: SIPp (NOTIFY during the call): status $sipp_status"
  wait_for "$sd/check-sync.log" "phone: restart waits for the end of the call" 1 10 \
    && pass "$n: the restart waits for the call" || fail "$n: $(grep -E 'provisioning|phone:' "$sd/check-sync.log" | tail -5)"
  check_not $n "$sd/check-sync.log" "phone: restarting" "no restart while the call is up"
  reap sipp_status "$caller_pid"
  [ "$sipp_status" -eq 0 ] && pass "$n: SIPp's call (INVITE, 200, ACK, BYE, 200)" || fail "$n: SIPp caller: $sipp_status"
  wait_for "$sd/check-sync.log" "phone: restarted" 1 10 && pass "$n: the phone restarted after the call" \
    || fail "$n: no restart: $(tail -5 "$sd/check-sync.log")"
  expect_lines $n "$sd/check-sync.log" "^config: account\.1\.display_name changed" \
    "^phone: restart waits for the end of the call \(provisioned keys that need a restart \(account\.1\.display_name\)\)\$" \
    "^call 1: ended" "^provisioning: applied after the call\$" "^phone: restarting" "^phone: restarted\$" \
    "^sip: listening on udp 127.0.0.1:$sync_phone"
  still_running && pass "$n: the phone runs on" || fail "$n: the phone exited"
  stop_phone
  [ "$phone_status" -eq 0 ] && pass "$n: orderly exit" || fail "$n: exit status $phone_status"

  # --- 11. check-sync with digest: the account has a password; reboot=true restarts ------------
  n=check-sync-digest
  sed 's/^auto_provision.server.timeout = 3$/&\naccount.1.password = s3cret/' "$sd/local.cfg" > "$sd/digest.cfg"
  sleep 1.1
  write_sync_mac
  start_sipp registrar2 -sf "$fixtures/registrar.xml" -p $sync_reg
  registrar_pid=$sipp_pid
  wait_udp $sync_reg || fail "$n: the SIPp registrar did not start"
  start_sync_phone $n "$sd/digest.cfg"
  registered_ms "$sd/$n.log" > /dev/null || fail "$n: not registered: $(tail -10 "$sd/$n.log")"
  reap sipp_status "$registrar_pid"
  run_sipp stranger2 127.0.0.1:$sync_phone -sf "$fixtures/check-sync-403.xml" -p $sync_stranger -s 2001 \
    -key event check-sync
  [ "$sipp_status" -eq 0 ] && pass "$n: a stranger gets 403 (not a challenge)" || fail "$n: stranger: $sipp_status"
  run_sipp wrong 127.0.0.1:$sync_phone -sf "$fixtures/check-sync-digest.xml" -p $sync_reg -s 2001 -au 2001 -ap wrong \
    -key event check-sync
  [ "$sipp_status" -ne 0 ] && pass "$n: a wrong password is not accepted" || fail "$n: a wrong password got 200"
  check $n "$sd/$n.log" "check-sync NOTIFY from 127.0.0.1:$sync_reg refused: wrong credentials for 2001 (403)" \
    "the wrong password is logged"
  run_sipp digest 127.0.0.1:$sync_phone -sf "$fixtures/check-sync-digest.xml" -p $sync_reg -s 2001 -au 2001 -ap s3cret \
    -key event "check-sync;reboot=true"
  [ "$sipp_status" -eq 0 ] && pass "$n: SIPp answered the 401 with the account's credentials and got 200" \
    || fail "$n: SIPp (NOTIFY, 401, NOTIFY with Authorization, 200): status $sipp_status: $(tail -5 "$sd/digest.sipp.out")"
  wait_for "$sd/$n.log" "phone: restarted" 1 10 && pass "$n: reboot=true restarted the phone" \
    || fail "$n: no restart: $(tail -8 "$sd/$n.log")"
  expect_lines $n "$sd/$n.log" "^sip: check-sync NOTIFY from 127\.0\.0\.1:$sync_reg: challenged \(401\)\$" \
    "^sip: check-sync NOTIFY from 127\.0\.0\.1:$sync_reg: accepted \(reboot\)\$" "^provisioning: provisioning\.\.\. from" \
    "^phone: restarting \(check-sync reboot\)\$" "^phone: restarted\$" "^sip: listening on udp 127.0.0.1:$sync_phone"
  still_running && pass "$n: the phone runs on" || fail "$n: the phone exited"
  stop_phone
  [ "$phone_status" -eq 0 ] && pass "$n: orderly exit" || fail "$n: exit status $phone_status"

  # --- 12. DHCP option 66 in dhclient's lease syntax names the HTTP server ----------------------
  n=dhcp-http
  cat > "$sd/dhclient.leases" << LEASE
lease {
  interface "eth0";
  fixed-address 127.0.0.1;
  option tftp-server-name "192.0.2.1";
}
lease {
  interface "eth0";
  fixed-address 127.0.0.1;
  option tftp-server-name "http://127.0.0.1:$sync_http/sync/";
  renew 1 2026/12/07 18:00:00;
}
LEASE
  cat > "$sd/dhcp.cfg" << CFG
#!version:1.0.0.1
network.mac = 00:15:65:A1:B2:C3
sip.listen_address = 127.0.0.1
auto_provision.dhcp_option.enable = 1
auto_provision.dhcp_option.lease_file = $sd/dhclient.leases
auto_provision.server.timeout = 3
CFG
  # The MAC file includes inc/a.cfg (relative), which includes /sync/inc/b.cfg (absolute path).
  mkdir -p "$sd/www/sync/inc" "$sd/www/cycle"
  write_sync_mac 'include:config "inc/a.cfg"' "account.1.display_name = Mac file"
  printf '#!version:1.0.0.1\ninclude:config </sync/inc/b.cfg>\nfeatures.dnd.enable = 1\naccount.1.display_name = A\n' \
    > "$sd/www/sync/inc/a.cfg"
  printf '#!version:1.0.0.1\nvoice.volume.ringer = 7\nfeatures.dnd.enable = 0\n' > "$sd/www/sync/inc/b.cfg"
  rm -rf "$sd/store"
  start_sync_phone $n "$sd/dhcp.cfg"
  wait_for "$sd/$n.log" "sip: listening" 1 20 || fail "$n: the phone did not start: $(head -c 800 "$sd/$n.log")"
  expect_lines $n "$sd/$n.log" \
    "^provisioning: server from DHCP option 66 in $sd/dhclient.leases: http://127.0.0.1:$sync_http/sync/\$" \
    "^provisioning: GET http://127.0.0.1:$sync_http/sync/$mac_file: 200" \
    "^provisioning: http://127.0.0.1:$sync_http/sync/$mac_file includes http://127.0.0.1:$sync_http/sync/inc/a.cfg\$" \
    "^provisioning: http://127.0.0.1:$sync_http/sync/inc/a.cfg includes http://127.0.0.1:$sync_http/sync/inc/b.cfg\$" \
    "^provisioning: provisioned \(4 files\)\$" "^sip: listening on udp 127.0.0.1:$sync_phone"
  wait_for "$sd/$n.status" '"dnd"' 1 5 && pass "$n: DND from the included file (its includer wins over b.cfg)" \
    || fail "$n: no DND on the LCD"
  stop_phone

  # --- 13. include:config: what the tool merges, a cycle refused --------------------------------
  n=include
  if [ -x "$tool" ]; then
    "$tool" provision fetch "http://127.0.0.1:$sync_http/sync" --mac 00:15:65:A1:B2:C3 > "$sd/$n.out" 2>&1
    status=$?
    [ $status -eq 0 ] && pass "$n: exit 0" || fail "$n: exit $status: $(head -c 600 "$sd/$n.out")"
    check $n "$sd/$n.out" "merged: voice.volume.ringer = 7    # http://127.0.0.1:$sync_http/sync/inc/b.cfg:2" \
      "a key only the innermost file has"
    check $n "$sd/$n.out" "merged: features.dnd.enable = 1    # http://127.0.0.1:$sync_http/sync/inc/a.cfg:3" \
      "the including file wins over the file it includes"
    check $n "$sd/$n.out" "merged: account.1.display_name = Mac file    # http://127.0.0.1:$sync_http/sync/$mac_file:3" \
      "the MAC file wins over what it includes"
    printf '#!version:1.0.0.1\ninclude:config "loop.cfg"\n' > "$sd/www/cycle/y000000000000.cfg"
    printf '#!version:1.0.0.1\ninclude:config "y000000000000.cfg"\n' > "$sd/www/cycle/loop.cfg"
    "$tool" provision fetch "http://127.0.0.1:$sync_http/cycle" --mac 00:15:65:A1:B2:C3 > "$sd/$n-cycle.out" 2>&1
    status=$?
    [ $status -eq 1 ] && pass "$n: a cycle exits 1" || fail "$n: a cycle: exit $status: $(head -c 600 "$sd/$n-cycle.out")"
    check $n "$sd/$n-cycle.out" \
      "http://127.0.0.1:$sync_http/cycle/y000000000000.cfg: include:config cycle (http://127.0.0.1:$sync_http/cycle/y000000000000.cfg http://127.0.0.1:$sync_http/cycle/loop.cfg http://127.0.0.1:$sync_http/cycle/y000000000000.cfg)" \
      "the cycle is named"
  fi
else
  fail "$n: sipp is not installed (scripts/install-deps.sh)"
fi

# --- 10-13. HTTPS with the test CA, HTTPS with another CA, HTTP with digest ---------------------
# A second lighttpd: /digest/ behind digest authentication on plain HTTP (41010), the same
# document root over TLS (41011) with a certificate from the test CA naming 127.0.0.1.
digest_port=41010
tls_port=41011
mkdir -p "$work/www2/digest" "$work/store-tls"
if make_ca ca "deskphone test CA" && make_ca rogue "rogue CA" && make_leaf server ca 127.0.0.1 "IP:127.0.0.1"; then
  pass "https: openssl made the test PKI"
else
  fail "https: openssl could not make the test PKI"
fi
printf 'admin:provisioning:%s\n' "$(printf 'admin:provisioning:s3cret' | md5sum | cut -d' ' -f1)" > "$work/htdigest"
cat > "$work/lighttpd2.conf" << CONF
server.document-root = "$work/www2"
server.bind = "127.0.0.1"
server.port = $digest_port
server.errorlog = "$work/lighttpd2.err"
server.modules = ("mod_openssl", "mod_auth", "mod_authn_file", "mod_accesslog")
accesslog.filename = "$work/access2.log"
accesslog.format = "%r %s"
auth.backend = "htdigest"
auth.backend.htdigest.userfile = "$work/htdigest"
auth.require = ("/digest/" => ("method" => "digest", "realm" => "provisioning", "require" => "valid-user"))
mimetype.assign = (".cfg" => "text/plain")
\$SERVER["socket"] == "127.0.0.1:$tls_port" {
  ssl.engine = "enable"
  ssl.pemfile = "$pki/server.crt"
  ssl.privkey = "$pki/server.key"
}
CONF
for d in "$work/www2" "$work/www2/digest"; do
  cp "$work/www/prov/y000000000000.cfg" "$d/"
  printf '#!version:1.0.0.1\naccount.1.user_name = 4004\n' > "$d/$mac_file"
done
"$lighttpd" -D -f "$work/lighttpd2.conf" > "$work/lighttpd2.out" 2>&1 &
pids+=($!)
wait_tcp $digest_port && wait_tcp $tls_port || fail "https: lighttpd did not start: $(head -c 500 "$work/lighttpd2.err")"
# boot_with NAME URL [LINE ...]: the phone on a config with that server URL and lines, until SIP listens.
boot_with() {
  local name=$1 url=$2 line
  shift 2
  {
    printf '#!version:1.0.0.1\nnetwork.mac = 00:15:65:A1:B2:C3\nsip.listen_address = 127.0.0.1\n'
    printf 'auto_provision.server.url = %s\nauto_provision.server.timeout = 3\n' "$url"
    for line in "$@"; do echo "$line"; done
  } > "$work/cfg/$name.cfg"
  "$phone" --board "$board" --config "$work/cfg/$name.cfg" --provision-dir "$work/store-tls" > "$work/$name.log" 2>&1 &
  phone_pid=$!
  pids+=("$phone_pid")
  wait_for "$work/$name.log" "sip: listening" 1 20 || fail "$name: the phone did not start: $(head -c 800 "$work/$name.log")"
}
https_url=https://127.0.0.1:$tls_port/

n=https
boot_with $n "$https_url" "security.trusted_certificates.file = $pki/ca.crt"
expect_lines $n "$work/$n.log" "^provisioning: GET ${https_url}y000000000000.cfg: 200" \
  "^provisioning: GET $https_url$mac_file: 200" "^provisioning: provisioned \(2 files\)\$"
check $n "$work/$n.log" " as 4004" "the MAC file fetched over HTTPS"
stop_phone

n=https-wrong-ca
boot_with $n "$https_url" "security.trusted_certificates.file = $pki/rogue.crt"
check $n "$work/$n.log" \
  "provisioning failed: ${https_url}y000000000000.cfg: TLS: issuer unknown (no trusted CA, or an intermediate is missing) (the last good set stays)" \
  "the server is refused: the URL and the reason"
check $n "$work/$n.log" "provisioning: last good set $work/store-tls/provisioned.cfg" "the last good set (from HTTPS) is used"
check $n "$work/$n.log" " as 4004" "the phone runs on the last good set"
stop_phone

n=digest
digest_url=http://127.0.0.1:$digest_port/digest/
boot_with $n "$digest_url" "auto_provision.server.username = admin" "auto_provision.server.password = s3cret"
expect_lines $n "$work/$n.log" "^provisioning: GET ${digest_url}y000000000000.cfg: 200" \
  "^provisioning: provisioned \(2 files\)\$"
# (while the phone runs: wait_for stops waiting once it has exited)
wait_for "$work/access2.log" "GET /digest/y000000000000.cfg HTTP/1.1 401" 1 10 \
  && pass "$n: lighttpd challenged first (401)" || fail "$n: no 401 in the access log: $(tail -3 "$work/access2.log")"
wait_for "$work/access2.log" "GET /digest/y000000000000.cfg HTTP/1.1 200" 1 10 \
  && pass "$n: lighttpd took the digest answer (200)" || fail "$n: no 200 in the access log: $(tail -3 "$work/access2.log")"
stop_phone

n=digest-wrong
boot_with $n "$digest_url" "auto_provision.server.username = admin" "auto_provision.server.password = wrong"
check $n "$work/$n.log" "provisioning failed: ${digest_url}y000000000000.cfg: authentication refused for user 'admin' (401" \
  "a wrong password: authentication refused, with the URL"
stop_phone

summary cli-autoprov
