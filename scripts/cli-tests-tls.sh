#!/usr/bin/env bash
# SIP over TLS (RFC 3261 §26, sips: per RFC 5630) against a real TLS registrar on loopback:
# Kamailio (Debian kamailio + kamailio-tls-modules, Tests/Fixtures-call/kamailio/tls-registrar.cfg)
# started here as an ordinary process, with a test PKI made here by `openssl` at test time:
#   - a test CA, the registrar's certificate from it (CN pbx.test, SAN DNS:pbx.test, IP:127.0.0.1);
#   - a certificate from the same CA for another host only (SAN DNS:wrong.test): wrong host name;
#   - a second CA, in no trust file of the phones, and a certificate from it naming 127.0.0.1.
# Three registrars: the good one, one with the wrong-name certificate, one with the untrusted one.
# Checks:
#   1. OPTIONS over TLS (openssl s_client), verifying the test CA: the test PKI and the registrar work;
#   2. two deskphones (1001, 1002; transport 2 = TLS, security.trusted_certificates.file = the test
#      CA) REGISTER over TLS with digest (the registrar logs the challenge and the binding, proto tls,
#      Contact sips:);
#   3. 1001 calls 1002 through the registrar: INVITE, the record key's INFO and BYE over TLS
#      (Record-Route, loose routing), 1002 answers by itself; both have account.1.srtp_encryption = 2:
#      the voice is SRTP with SDES keys that went over TLS (no plain-transport warning), none dropped;
#   4. wrong host name: the phone logs the reason, does not register, does not fall back to UDP or
#      TCP (nothing reaches any registrar, no UDP/TCP target in its log), the LCD says why, and no
#      retry storm (the registration's own retry policy: one attempt in the test's window);
#   5. untrusted CA: the same.
# No root needed. Each check prints `ok   ...` or `FAIL ...`; the last line is
# `cli-tls: N passed, N failed`. KEEP_WORK=1 keeps the logs and the PKI.
# usage: scripts/cli-tests-tls.sh DESKPHONE      (ports 39000-39049)
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

for tool in kamailio openssl timeout ss; do
  if ! command -v "$tool" > /dev/null; then
    fail "$tool is not installed (scripts/install-deps.sh)"
    summary cli-tls
    exit 1
  fi
done
if ! ls /usr/lib/*/kamailio/modules/tls.so > /dev/null 2>&1; then
  fail "kamailio's tls.so is not installed (kamailio-tls-modules, scripts/install-deps.sh)"
  summary cli-tls
  exit 1
fi

# Port plan: registrars 39001 (good), 39002 (wrong name), 39003 (untrusted CA); phones 39010-39013
# (SIP: their TCP listener is the Via sent-by; TLS connections are outbound), RTP 39020-39049.
good_port=39001
wrong_port=39002
rogue_port=39003

# --- the test PKI --------------------------------------------------------------------------------
# make_ca, make_leaf (scripts/test-pki.sh, through cli-common.sh) write into $pki.
if make_ca ca "deskphone test CA" && make_ca rogue "rogue CA" &&
  make_leaf good ca pbx.test "DNS:pbx.test,IP:127.0.0.1" &&
  make_leaf wrong ca wrong.test "DNS:wrong.test" &&
  make_leaf untrusted rogue pbx.test "DNS:pbx.test,IP:127.0.0.1" &&
  openssl verify -CAfile "$pki/ca.crt" "$pki/good.crt" > /dev/null 2>&1; then
  pass "openssl made the test PKI (a CA, the registrar's certificate, a wrong-name one, a rogue CA's one)"
else
  fail "openssl could not make the test PKI"
  summary cli-tls
  exit 1
fi

# --- the registrars ------------------------------------------------------------------------------
# start_pbx NAME PORT CERT: Kamailio as TLS registrar on 127.0.0.1:PORT with certificate CERT.
start_pbx() {
  local name=$1 port=$2 cert=$3 pid
  start_tls_registrar "$name" "$port" "$cert"
  pid=$registrar_pid
  pids+=("$pid")
  if wait_tcp "$port" && wait_for "$work/$name.pid" "$pid" 1 5; then
    pass "kamailio $name listens for TLS on 127.0.0.1:$port (certificate $cert)"
  else
    fail "kamailio $name did not start: $(grep -v '^$' "$work/$name.log" | tail -3 | tr '\n' '|')"
  fi
}
start_pbx pbx $good_port good
start_pbx wrongname $wrong_port wrong
start_pbx rogue $rogue_port untrusted

# 1. OPTIONS over TLS with openssl s_client, verifying the test CA and the registrar's IP identity
# (the PKI and the registrar, without the phone). (sipsak 0.9.8 checks the certificate against
# "host:port" cut to 15 characters, so it cannot verify a 127.0.0.1:39001 server.)
options="OPTIONS sip:127.0.0.1:$good_port SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:39009;branch=z9hG4bKping\r\n"
options+="Max-Forwards: 70\r\nTo: <sip:127.0.0.1>\r\nFrom: <sip:ping@127.0.0.1>;tag=p1\r\nCall-ID: ping1\r\n"
options+="CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
(printf "$options"; sleep 2) | timeout 10 openssl s_client -connect 127.0.0.1:$good_port -CAfile "$pki/ca.crt" \
  -verify_ip 127.0.0.1 -verify_return_error -quiet > "$work/options.out" 2>&1
if grep -q '^SIP/2.0 200 OK' "$work/options.out" && grep -q 'TLSPBX options answered proto=tls' "$work/pbx.log"; then
  pass "openssl s_client: OPTIONS over TLS answered 200, the certificate verified against the test CA"
else
  fail "OPTIONS over TLS with openssl s_client: $(head -n 3 "$work/options.out" | tr '\n' '|')"
fi

# --- the phones ----------------------------------------------------------------------------------
# start_phone NAME USER SIP-PORT RTP-MIN REGISTRAR-PORT [ARGS...]: a deskphone registering over TLS
# at 127.0.0.1:REGISTRAR-PORT; log $work/NAME/phone.log, LCD status log $work/NAME/status,
# control FIFO open on fd ${NAME}_fd.
start_phone() {
  local name=$1 user=$2 port=$3 rtp=$4 registrar=$5 pid fd
  shift 5
  mkdir -p "$work/$name"
  {
    echo '#!version:1.0.0.1'
    echo 'account.1.enable = 1'
    echo "account.1.user_name = $user"
    echo 'account.1.password = secret'
    echo 'account.1.codecs = pcmu'
    echo 'account.1.sip_server.1.address = 127.0.0.1'
    echo "account.1.sip_server.1.port = $registrar"
    echo 'account.1.sip_server.1.transport = 2'
    echo 'account.1.sip_server.1.expires = 300'
    echo "security.trusted_certificates.file = $pki/ca.crt"
    echo 'account.1.srtp_encryption = 2'
    echo 'sip.listen_address = 127.0.0.1'
    echo "sip.listen_port = $port"
    echo "rtp.port_min = $rtp"
    echo "rtp.port_max = $((rtp + 8))"
  } > "$work/$name/phone.cfg"
  mkfifo "$work/$name/phone.ctl"
  exec {fd}<> "$work/$name/phone.ctl"
  printf -v "${name}_fd" '%d' "$fd"
  (cd "$work/$name" && exec timeout -k 3 90 "$deskphone" --board "$board" --config phone.cfg --control phone.ctl \
    --status-log status "$@" > phone.log 2> phone.err) &
  pid=$!
  pids+=("$pid")
  printf -v "${name}_pid" '%d' "$pid"
}
# to NAME LINE: a control line to a phone.
to() {
  local var=${1}_fd
  printf '%s\n' "$2" >&"${!var}"
}

start_phone alice 1001 39010 39020 $good_port
start_phone bob 1002 39011 39030 $good_port --answer auto
alice=$work/alice/phone.log
bob=$work/bob/phone.log
pbx_log=$work/pbx.log

# 2. REGISTER over TLS with digest.
label="register"
for who in alice bob; do
  if wait_re "$work/$who/phone.log" '^registration: registered' 1 15; then
    pass "$label: $who registers over TLS"
  else
    fail "$label: $who did not register: $(tail -n 5 "$work/$who/phone.log" | tr '\n' '|')"
  fi
done
expect_lines "$label" "$alice" "^sip: registration: REGISTER \\(expires 300\\) to TLS 127\\.0\\.0\\.1:$good_port" \
  '^registration: registered'
check "$label" "$pbx_log" "TLSPBX challenge REGISTER sip:1001@127.0.0.1 proto=tls" "the registrar challenged 1001 (digest)"
check "$label" "$pbx_log" "TLSPBX registered sip:1001@127.0.0.1 proto=tls user=1001 contact=[<sips:1001@127.0.0.1:39010>" \
  "the registrar holds 1001's sips: Contact, authenticated, over TLS"
check "$label" "$pbx_log" "TLSPBX registered sip:1002@127.0.0.1 proto=tls user=1002 contact=[<sips:1002@127.0.0.1:39011>" \
  "the registrar holds 1002's sips: Contact"
check_not "$label" "$pbx_log" "proto=udp" "nothing reached the registrar over UDP"

# 3. A call over TLS through the registrar, the record key's INFO, BYE.
label="call"
to alice "dial 1002"
if wait_re "$alice" '^call 1: connected' 1 15 && wait_re "$bob" '^call 1: connected' 1 5; then
  pass "$label: 1001 calls 1002 through the TLS registrar, both connected"
  for who in alice bob; do
    if grep -qE '^call 1: media .* srtp AES_CM_128_HMAC_SHA1_80' "$work/$who/phone.log"; then
      pass "$label: $who's voice is SRTP (SDES keys over TLS, mandatory on both)"
    else
      fail "$label: no SRTP media line at $who: $(grep -m 1 'call 1: media' "$work/$who/phone.log")"
    fi
    check_not "$label" "$work/$who/phone.log" "went over plain" "$who: no plain-transport warning (the keys went over TLS)"
  done
  to alice "key record"
  if wait_re "$bob" '^call 1: INFO received' 1 10; then
    pass "$label: the record key's INFO reaches 1002"
  else
    fail "$label: no INFO at 1002: $(tail -n 3 "$bob" | tr '\n' '|')"
  fi
  wait_re "$alice" '^recording: call 1: recording on' 1 10 || fail "$label: 1001 saw no answer to its INFO"
  to alice hangup
  if wait_re "$bob" '^call 1: ended' 1 10; then
    pass "$label: 1001's BYE ends the call at 1002"
    if wait_re "$bob" '^call 1: stats .* srtp_auth_failures=0 srtp_replays=0' 1 5; then
      pass "$label: 1002 dropped no SRTP packet (no authentication failure, no replay)"
    else
      fail "$label: 1002's SRTP counters: $(grep -m 1 'call 1: stats' "$bob")"
    fi
  else
    fail "$label: the call did not end at 1002: $(tail -n 3 "$bob" | tr '\n' '|')"
  fi
else
  fail "$label: the call did not connect: $(tail -n 5 "$alice" | tr '\n' '|') / $(tail -n 3 "$bob" | tr '\n' '|')"
fi
check "$label" "$pbx_log" "TLSPBX request INVITE sip:1002@127.0.0.1:$good_port proto=tls" "the INVITE came over TLS"
if grep -qE "TLSPBX lookup 1002 -> sips:1002@127\\.0\\.0\\.1:39011 via sip:127\\.0\\.0\\.1:[0-9]+;transport=tls" "$pbx_log"; then
  pass "$label: the registrar sends it down 1002's own TLS connection"
else
  fail "$label: no lookup of 1002 to its TLS connection in the registrar's log"
fi
check "$label" "$pbx_log" "TLSPBX loose-route INFO" "the INFO crossed the registrar (route set)"
check "$label" "$pbx_log" "TLSPBX loose-route BYE" "the BYE crossed the registrar"
if grep -q "TLSPBX loose-route INFO .* proto=tls" "$pbx_log" && grep -q "TLSPBX loose-route BYE .* proto=tls" "$pbx_log"; then
  pass "$label: INFO and BYE came over TLS"
else
  fail "$label: INFO or BYE not over TLS: $(grep 'loose-route' "$pbx_log" | tr '\n' '|')"
fi

# 4./5. Refused certificates: the reason logged, no registration, no fallback, the LCD, no storm.
start_phone wrong 1003 39012 39040 $wrong_port
start_phone untrusted 1004 39013 39044 $rogue_port
# check_refused NAME PBX REASON-REGEX
check_refused() {
  local name=$1 pbx=$2 reason=$3 log=$work/$1/phone.log
  if wait_re "$log" "^sip: transport error to TLS 127\\.0\\.0\\.1:[0-9]+: TLS: $reason" 1 15; then
    pass "$name: the phone logs why the certificate is refused: $(grep -m 1 -o 'TLS: .*' "$log" | head -c 120)"
  else
    fail "$name: no log line with the reason /$reason/: $(tail -n 5 "$log" | tr '\n' '|')"
  fi
  wait_re "$log" '^registration: failed' 1 10 || fail "$name: the registration did not fail"
  wait_re "$work/$name/status" "TLS: $reason" 1 5 &&
    pass "$name: the LCD shows the reason" || fail "$name: the LCD does not show /TLS: $reason/"
  sleep 4  # the test's window for a retry storm
  check_not "$name" "$log" "registration: registered" "the phone does not register"
  if grep -qE ' to (UDP|TCP) ' "$log"; then
    fail "$name: a fallback to UDP/TCP: $(grep -E ' to (UDP|TCP) ' "$log" | head -2 | tr '\n' '|')"
  else
    pass "$name: no fallback to UDP or TCP"
  fi
  check_not "$name" "$work/$pbx.log" "TLSPBX request" "no SIP request reached the registrar"
  local attempts
  attempts=$(grep -c "transport error to TLS" "$log")
  if [ "$attempts" -le 2 ]; then
    pass "$name: $attempts TLS attempt(s) in the window (the registration's retry policy, no storm)"
  else
    fail "$name: $attempts TLS attempts within seconds: a retry storm"
  fi
}
check_refused wrong wrongname 'host name mismatch \(wanted 127\.0\.0\.1\)'
check_refused untrusted rogue 'issuer unknown'

# --- the end -------------------------------------------------------------------------------------
for who in alice bob wrong untrusted; do
  to "$who" quit
  pid_var=${who}_pid
  reap status "${!pid_var}"
  if [ "$status" -eq 0 ]; then
    pass "$who exits on 'quit' with status 0"
  else
    fail "$who exited with status $status: $(tail -n 3 "$work/$who/phone.err" | tr '\n' '|')"
  fi
  check_not "tls" "$work/$who/phone.log" "Fatal error" "$who: no crash"
done
echo "     cli-tls ran $(($(date +%s) - started)) s"
summary cli-tls
