#!/usr/bin/env bash
# The phone finds its registrar by name (RFC 3263) and fails over, against real servers on
# loopback started here as ordinary processes (never system services):
#   - dnsmasq (Debian dnsmasq-base) on 127.0.0.1:$dns_port answers for the test domain pbx.test:
#     NAPTR pbx.test -> SIP+D2U _sip._udp.pbx.test; SRV _sip._udp.pbx.test -> sip1.pbx.test
#     (priority 10, the primary's port) and sip2.pbx.test (priority 20, the backup's port);
#     A sip1/sip2.pbx.test -> 127.0.0.1;
#   - two Kamailio registrars (Tests/Fixtures-call/kamailio/proxy.cfg with PROXY_DOMAIN=pbx.test),
#     the primary and the backup, on two ports;
#   - baresip registered at the backup as bob (auto answer), the far end of a call.
# The phone (account.1.sip_server.1.address = pbx.test, transport 3 = DNS-NAPTR, expires 30 s,
# static.network.primary_dns = 127.0.0.1:$dns_port) must: locate pbx.test through NAPTR and SRV
# and register at the primary, and call bob directly; when the primary is killed during that call,
# the call stays up (RTP both ways) and the phone registers at the backup as soon as a
# keep-alive (every 5 s) meets the dead port (the time from the kill to the backup binding is
# printed: the issue's benchmark figure); call bob through the backup; fail back to the primary once it is up again.
# No root needed. Each check prints `ok   ...` or `FAIL ...`; the last line is
# `cli-dns: N passed, N failed`. KEEP_WORK=1 keeps the logs.
# usage: scripts/cli-tests-dns.sh DESKPHONE      (ports 38400-38499)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
fixtures=$root/Tests/Fixtures-call/kamailio
board=$root/board/sim.cfg
source "$root/scripts/cli-common.sh"
trap 'exit 130' INT TERM
export TERM=dumb
started=$(date +%s)
PATH=$PATH:/usr/sbin

for tool in dnsmasq kamailio baresip python3 timeout; do
  if ! command -v "$tool" > /dev/null; then
    fail "$tool is not installed (scripts/install-deps.sh)"
    summary cli-dns
    exit 1
  fi
done

# Port plan: DNS 38453 (UDP and TCP), primary 38401, backup 38402, the phone 38403 (SIP) and
# 38420-38438 (RTP), baresip 38410 (SIP) and 38440-38459 (RTP).
dns_port=38453
primary_port=38401
backup_port=38402
phone_port=38403
expires=30
password=dns-test-s3cret  # the registrars' digest password (Kamailio AUTH_PASSWORD)
# NAT keep-alives every 5 s: the dead primary's ICMP error for one starts the failover.
keepalive=5

# --- dnsmasq ---------------------------------------------------------------------------------------
dnsmasq --no-daemon --conf-file=/dev/null --port=$dns_port --listen-address=127.0.0.1 --bind-interfaces \
  --no-resolv --no-hosts --no-negcache --local=/pbx.test/ --local-ttl=5 --pid-file= --user="$(id -un)" --log-queries \
  --log-facility=- \
  --naptr-record=pbx.test,10,10,S,SIP+D2U,,_sip._udp.pbx.test \
  --srv-host=_sip._udp.pbx.test,sip1.pbx.test,$primary_port,10,100 \
  --srv-host=_sip._udp.pbx.test,sip2.pbx.test,$backup_port,20,100 \
  --host-record=sip1.pbx.test,127.0.0.1 --host-record=sip2.pbx.test,127.0.0.1 \
  > "$work/dnsmasq.log" 2>&1 &
dnsmasq_pid=$!
pids+=("$dnsmasq_pid")
if wait_udp $dns_port; then
  pass "dnsmasq $(dnsmasq --version | sed -n '1s/^Dnsmasq version \([^ ]*\).*/\1/p') answers for pbx.test on" \
    "127.0.0.1:$dns_port"
else
  fail "dnsmasq did not start: $(tail -n 3 "$work/dnsmasq.log" | tr '\n' '|')"
  summary cli-dns
  exit 1
fi

# --- the two registrars ------------------------------------------------------------------------------
# start_registrar NAME PORT: Kamailio as registrar of pbx.test on 127.0.0.1:PORT, log $work/NAME.log.
start_registrar() {
  local name=$1 port=$2 pid
  mkdir -p "$work/$name-run"
  kamailio -f "$fixtures/proxy.cfg" -A "PROXY_PORT=$port" -A PROXY_DOMAIN=pbx.test -A REGISTRAR_MIN_EXPIRES=10 \
    -A "AUTH_PASSWORD=\"$password\"" \
    -P "$work/$name.pid" -Y "$work/$name-run" -DD -E -m 32 -M 8 >> "$work/$name.out" 2>> "$work/$name.log" &
  pid=$!
  pids+=("$pid")
  printf -v "${name}_pid" '%d' "$pid"
  if wait_udp "$port" && wait_for "$work/$name.pid" "$pid" 1 5; then
    pass "kamailio $name listens on 127.0.0.1:$port"
  else
    fail "kamailio $name did not start: $(grep -v '^$' "$work/$name.log" | tail -3 | tr '\n' '|')"
  fi
}
start_registrar primary $primary_port
start_registrar backup $backup_port

# --- the phone -------------------------------------------------------------------------------------
{
  echo '#!version:1.0.0.1'
  echo 'account.1.enable = 1'
  echo 'account.1.user_name = 1001'
  echo "account.1.password = $password"
  echo 'account.1.codecs = pcmu'
  echo 'account.1.sip_server.1.address = pbx.test'
  echo 'account.1.sip_server.1.transport = 3'
  echo "account.1.sip_server.1.expires = $expires"
  echo 'account.1.sip_server.1.retry_counts = 2'
  echo "account.1.nat.udp_update_time = $keepalive"
  echo "static.network.primary_dns = 127.0.0.1:$dns_port"
  echo 'sip.listen_address = 127.0.0.1'
  echo "sip.listen_port = $phone_port"
  echo 'rtp.port_min = 38420'
  echo 'rtp.port_max = 38438'
} > "$work/phone.cfg"
mkfifo "$work/phone.ctl"
exec {phone_fd}<> "$work/phone.ctl"
(cd "$work" && exec timeout -k 3 120 "$deskphone" --board "$board" --config phone.cfg --control phone.ctl \
  > phone.log 2> phone.err) &
phone_pid=$!
pids+=("$phone_pid")
phone() { printf '%s\n' "$1" >&"$phone_fd"; }
still_running() { kill -0 "$phone_pid" 2> /dev/null; }
log=$work/phone.log
primary_target="UDP 127\\.0\\.0\\.1:$primary_port \\(sip1\\.pbx\\.test\\)"
backup_target="UDP 127\\.0\\.0\\.1:$backup_port \\(sip2\\.pbx\\.test\\)"

label="locate"
if wait_re "$log" "^sip: registration: bound to $primary_target" 1 10; then
  pass "$label: the phone registers at the primary it found by NAPTR and SRV"
else
  fail "$label: the phone did not register at the primary: $(tail -n 5 "$log" | tr '\n' '|')"
fi
expect_lines "$label" "$log" "^DNS: name servers 127\\.0\\.0\\.1:$dns_port" \
  "^sip: registration: server 1 pbx\\.test located: $primary_target, $backup_target \\[NAPTR pbx\\.test: 1 usable of 1; SRV _sip\\._udp\\.pbx\\.test: 2 record" \
  "^sip: registration: REGISTER \\(expires $expires\\) to $primary_target" "^registration: registered"
expect_lines "$label" "$work/dnsmasq.log" 'query\[NAPTR\] pbx\.test from 127\.0\.0\.1' \
  'query\[SRV\] _sip\._udp\.pbx\.test from 127\.0\.0\.1' 'query\[A\] sip1\.pbx\.test from 127\.0\.0\.1'
check "$label" "$work/primary.log" "PROXY registered sip:1001@pbx.test contact=[<sip:1001@127.0.0.1:$phone_port" \
  "the primary holds the phone's binding"
expect_lines "$label" "$work/primary.log" "PROXY challenge REGISTER sip:1001@pbx\\.test" \
  "PROXY authenticated REGISTER sip:1001@pbx\\.test"
check_not "$label" "$log" "$password" "the password is in no log line"

# The far end: baresip registered at the backup as bob.
mkdir -p "$work/bs"
python3 "$root/Tests/Fixtures-call/baresip/audio.py" tone "$work/tone.wav" 8000 1000 30
sed -e "s|@SIP_PORT@|38410|g" -e "s|@RTP_PORTS@|38440-38459|g" -e "s|@SOURCE@|$work/tone.wav|g" \
  -e "s|@DIR@|$work/bs|g" "$root/Tests/Fixtures-call/baresip/config.in" > "$work/bs/config"
echo "<sip:bob@127.0.0.1:$backup_port>;auth_pass=$password;regint=300;answermode=auto;audio_codecs=pcmu/8000/1" \
  > "$work/bs/accounts"
mkfifo "$work/bs.in"
exec {bs_fd}<> "$work/bs.in"
(exec timeout -k 3 120 baresip -f "$work/bs" < "$work/bs.in" > "$work/bs.log" 2>&1) &
bs_pid=$!
pids+=("$bs_pid")
baresip() { printf '%s\n' "$1" >&"$bs_fd"; }
if wait_re "$work/backup.log" 'PROXY registered sip:bob@127\.0\.0\.1[:0-9]* contact=\[<sip:bob[^@]*@127\.0\.0\.1:38410' 1 15; then
  pass "baresip registers at the backup as bob"
else
  fail "baresip did not register at the backup: $(grep -a -v '^$' "$work/bs.log" | tail -n 3 | tr '\n' '|')"
fi

# A call in progress when the primary dies: straight to bob (not through a registrar, so the
# registrar's death is the account's business only); it must stay up, with RTP both ways.
label="call during failover"
phone "dial sip:bob@127.0.0.1:38410"
if wait_re "$log" '^call 1: connected' 1 15; then
  pass "$label: a call straight to bob is up before the primary dies"
else
  fail "$label: the call to bob did not connect: $(tail -n 5 "$log" | tr '\n' '|')"
fi
sleep 1

# --- failover: the primary dies -------------------------------------------------------------------
label="failover"
# A crash: Kamailio's workers (the children of the process started here), then the main process.
pkill -KILL -P "$primary_pid"
kill -KILL "$primary_pid" 2> /dev/null
killed=$(date +%s%N)
reap status "$primary_pid"
if wait_re "$log" "^sip: registration: bound to $backup_target" 1 $((expires / 2 + 10)); then
  bound=$(date +%s%N)
  failover_ms=$(((bound - killed) / 1000000))
  pass "$label: the phone registers at the backup after the primary died"
  echo "     benchmark: primary killed -> registered on the backup in $failover_ms ms" \
    "(keep-alive every $keepalive s, refresh every $((expires / 2)) s; the keep-alive's ICMP port unreachable starts it)"
else
  fail "$label: no registration at the backup within $((expires / 2 + 10)) s: $(tail -n 5 "$log" | tr '\n' '|')"
fi
expect_lines "$label" "$log" "^sip: registration: REGISTER \\(expires $expires\\) to $primary_target" \
  "^sip: registration: $primary_target: transport error; trying $backup_target" "^sip: registration: bound to $backup_target"
check "$label" "$log" "transport error: registering again" "a keep-alive found the primary gone (not the refresh)"
check "$label" "$work/backup.log" "PROXY registered sip:1001@pbx.test contact=[<sip:1001@127.0.0.1:$phone_port" \
  "the backup holds the phone's binding"

label="call during failover"
sleep 1
if grep -q '^call 1: ended' "$log"; then
  fail "$label: the call ended while the account moved: $(grep '^call 1: ended' "$log")"
else
  pass "$label: the call stayed up while the account moved to the backup"
fi
phone hangup
if wait_re "$log" '^call 1: ended \(local hang-up\)' 1 10; then
  pass "$label: the call is hung up by the phone afterwards"
else
  fail "$label: the call did not end on hangup: $(tail -n 3 "$log" | tr '\n' '|')"
fi
wait_re "$log" '^call 1: stats ' 1 5
read -r sent received < <(sed -n -E 's/^call 1: stats sent=([0-9]+) received=([0-9]+) .*/\1 \2/p' "$log" | head -n 1)
if [ "${sent:-0}" -ge 150 ] && [ "${received:-0}" -ge $((${sent:-0} * 9 / 10)) ]; then
  pass "$label: RTP flowed both ways through the failover (sent $sent, received $received packets)"
else
  fail "$label: RTP did not flow through the failover: sent ${sent:-?}, received ${received:-?}"
fi

# A call through the backup: the INVITE goes to the server the account is registered with.
label="call via backup"
phone "dial bob"
if wait_re "$log" '^call 2: connected' 1 15; then
  pass "$label: the phone's call to bob connects"
  echo "     benchmark: primary killed -> a new call connected through the backup $((($(date +%s%N) - killed) / 1000000)) ms later" \
    "(dialled once the phone was bound to the backup)"
  sleep 1
  phone hangup
  wait_re "$log" '^call 2: ended' 1 10 || fail "$label: the call did not end"
else
  fail "$label: the call to bob did not connect: $(tail -n 5 "$log" | tr '\n' '|')"
fi
check "$label" "$work/backup.log" "PROXY record-route INVITE sip:bob@pbx.test" "the INVITE went through the backup"
check "$label" "$work/backup.log" "PROXY lookup bob -> sip:bob" "the backup found bob by its registration"

# --- failback: the primary is back ------------------------------------------------------------------
label="failback"
rm -f "$work/primary.pid"
before=$(grep -a -c 'PROXY registered sip:1001@pbx.test' "$work/primary.log")
start_registrar primary $primary_port
back=$(date +%s%N)
if wait_re "$log" "^sip: registration: bound to $primary_target" 2 $((expires / 2 + 10)); then
  pass "$label: the phone registers at the primary again at a refresh" \
    "($((($(date +%s%N) - back) / 1000000)) ms after the primary restarted)"
else
  fail "$label: no registration at the primary again: $(tail -n 5 "$log" | tr '\n' '|')"
fi
if wait_for "$work/primary.log" "PROXY registered sip:1001@pbx.test" $((before + 1)) 5; then
  pass "$label: the restarted primary holds the phone's binding"
else
  fail "$label: the restarted primary has no binding of the phone"
fi

# --- the end ------------------------------------------------------------------------------------
phone quit
reap status "$phone_pid"
if [ "$status" -eq 0 ] && grep -q '^deskphone: exit' "$log"; then
  pass "the phone exits on 'quit' with status 0"
else
  fail "the phone exited with status $status: $(tail -n 3 "$work/phone.err" | tr '\n' '|')"
fi
exec {phone_fd}>&-
baresip /quit
reap status "$bs_pid"
exec {bs_fd}>&-
check_not "dns" "$log" "Fatal error" "no crash"
echo "     cli-dns ran $(($(date +%s) - started)) s"
summary cli-dns
