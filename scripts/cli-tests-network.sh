#!/usr/bin/env bash
# A network change under the deskphone executable (issue 16 item 4), in a network namespace this
# script makes itself: a veth pair, the phone's end in namespace dp-net-PID (10.201.N.2), the other
# end in this namespace (10.201.N.1) with Kamailio (Tests/Fixtures-call/kamailio/proxy.cfg) as
# registrar and Record-Route proxy and SIPp as user 2000 (Tests/Fixtures-call/network/uas-moved.xml)
# behind it. The phone listens on the any-address and says 10.201.N.2 in Via/Contact/SDP; then:
#   1. registered and in a call with 2000, the phone's address moves to 10.201.N.3 (`ip addr del`
#      the old one, `ip addr add` the new one): its log says `NET address A -> B`, Kamailio sees a new
#      REGISTER with Contact on B (`PROXY registered ... contact=[...B...]`), SIPp a re-INVITE
#      whose SDP has c=IN IP4 B, the call stays up and ends with the phone's BYE;
#   2. the phone's link goes down: `NET lost`, the account not registered, no REGISTER meanwhile;
#      the link comes back: `NET address none -> B` and a new REGISTER.
# Needs root (ip netns); without it the script says so and fails. The namespace and the veth pair
# are removed at exit, also after a failure. Each check prints `ok   ...` or `FAIL ...`; the last
# line is `cli-network: N passed, N failed`. KEEP_WORK=1 keeps the logs and SIPp's trace.
# usage: scripts/cli-tests-network.sh DESKPHONE      (ports: 43000-43999)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
board=$root/board/sim.cfg
source "$root/scripts/cli-common.sh"
trap 'exit 130' INT TERM
export TERM=dumb

for tool in ip sipp kamailio timeout; do
  if ! command -v "$tool" > /dev/null; then
    fail "$tool is not installed (scripts/install-deps.sh)"
    summary cli-network
    exit 1
  fi
done

# Names and addresses of this run (interface names at most 15 bytes).
ns=dp-net-$$
host_if=dpnh$$
phone_if=dpnp$$
net=10.201.$(($$ % 250 + 1))
host_ip=$net.1
old_ip=$net.2
new_ip=$net.3
proxy_port=43001
phone_port=43003
sipp_port=43010

cleanup_more() {
  ip netns pids "$ns" 2> /dev/null | xargs -r kill 2> /dev/null
  ip link del "$host_if" 2> /dev/null
  ip netns del "$ns" 2> /dev/null
}

if ! ip netns add "$ns" 2> "$work/netns.err"; then
  fail "cannot make a network namespace (root needed): $(head -n 1 "$work/netns.err")"
  summary cli-network
  exit 1
fi
if ip link add "$host_if" type veth peer name "$phone_if" && ip link set "$phone_if" netns "$ns" &&
  ip addr add "$host_ip/24" dev "$host_if" && ip link set "$host_if" up &&
  ip -n "$ns" addr add "$old_ip/24" dev "$phone_if" && ip -n "$ns" link set "$phone_if" up &&
  ip -n "$ns" link set lo up; then
  pass "namespace $ns with veth $host_if ($host_ip) <-> $phone_if ($old_ip)"
else
  fail "cannot set up the veth pair"
  summary cli-network
  exit 1
fi

# --- Kamailio and SIPp in this namespace ---------------------------------------------------------
mkdir -p "$work/kamailio-run"
proxy_log=$work/kamailio.log
kamailio -f "$root/Tests/Fixtures-call/kamailio/proxy.cfg" -A "PROXY_PORT=$proxy_port" -A "PROXY_ADDRESS=$host_ip" \
  -P "$work/kamailio.pid" -Y "$work/kamailio-run" -DD -E -m 32 -M 8 > "$work/kamailio.out" 2> "$proxy_log" &
pids+=("$!")
if ! wait_udp "$proxy_port"; then
  fail "kamailio did not start: $(tail -n 3 "$proxy_log" | tr '\n' '|')"
  summary cli-network
  exit 1
fi
(cd "$work" && exec timeout -k 3 20 sipp "$host_ip:$proxy_port" -sf "$root/Tests/Fixtures-call/kamailio/register.xml" \
  -i "$host_ip" -p 43011 -m 1 -nostdin -key user 2000 -key contact_port "$sipp_port" > register.out 2>&1)
[ $? -eq 0 ] && pass "SIPp registered 2000 at Kamailio ($host_ip:$proxy_port)" || fail "SIPp could not register 2000"
(cd "$work" && exec timeout -k 3 90 sipp "$host_ip:$proxy_port" -sf "$root/Tests/Fixtures-call/network/uas-moved.xml" \
  -i "$host_ip" -p "$sipp_port" -mp 43100 -cp 43012 -m 1 -nostdin -timeout 80s -timeout_error -trace_msg -trace_err \
  > sipp.out 2>&1) &
sipp_pid=$!
pids+=("$sipp_pid")
wait_udp "$sipp_port" || fail "SIPp did not start"

# --- the phone in the namespace ------------------------------------------------------------------
cat > "$work/phone.cfg" << CFG
#!version:1.0.0.1
account.1.enable = 1
account.1.user_name = 1001
account.1.codecs = pcmu
account.1.sip_server.1.address = $host_ip
account.1.sip_server.1.port = $proxy_port
account.1.sip_server.1.expires = 300
sip.listen_address = 0.0.0.0
sip.listen_port = $phone_port
sip.advertised_address = $old_ip
rtp.port_min = 43200
rtp.port_max = 43218
CFG
mkfifo "$work/phone.ctl"
exec {phone_fd}<> "$work/phone.ctl"
(cd "$work" && exec ip netns exec "$ns" timeout -k 3 90 "$deskphone" --board "$board" --config phone.cfg \
  --control phone.ctl > phone.log 2> phone.err) &
phone_pid=$!
pids+=("$phone_pid")
log=$work/phone.log
phone() { printf '%s\n' "$1" >&"$phone_fd"; }
step() {
  if wait_re "$log" "$1" "${2:-1}" "${3:-15}"; then return 0; fi
  fail "no phone log line /$1/ (${2:-1}x): $(tail -n 3 "$log" | tr '\n' '|')"
  return 1
}
registered() { grep -a -c -F "PROXY registered sip:1001@$host_ip contact=[<sip:1001@$1:$phone_port>" "$proxy_log"; }

step "^NET watching the network; SIP address $old_ip\$" && pass "the phone watches netlink for $old_ip"
step '^registration: registered' && [ "$(registered "$old_ip")" -ge 1 ] &&
  pass "registered at Kamailio with Contact on $old_ip"
phone "dial 2000"
if step '^call 1: connected'; then
  pass "call 1 connected to SIPp through Kamailio"
  # 1. the address moves: the old one goes, the new one comes (within the phone's 1 s debounce).
  # (Adding the new one first would not do: deleting a primary IPv4 address deletes the
  # secondaries of its subnet too, unless promote_secondaries is on.)
  ip -n "$ns" addr del "$old_ip/24" dev "$phone_if" && ip -n "$ns" addr add "$new_ip/24" dev "$phone_if"
  step "^NET address ${old_ip//./\\.} -> ${new_ip//./\\.}\$" && pass "the phone's log: NET address $old_ip -> $new_ip"
  if wait_match -F "$proxy_log" "PROXY registered sip:1001@$host_ip contact=[<sip:1001@$new_ip:$phone_port>" 1 10; then
    pass "Kamailio saw a new REGISTER with Contact on $new_ip"
  else
    fail "no REGISTER with Contact on $new_ip at Kamailio: $(grep -a 'PROXY registered' "$proxy_log" | tail -n 2 | tr '\n' '|')"
  fi
  step '^registration: registered' 2 && pass "registered again after the change"
  if wait_re "$proxy_log" 'PROXY loose-route INVITE ' 1 10; then
    pass "the phone's re-INVITE crossed Kamailio in the dialog (loose route)"
  else
    fail "no re-INVITE at Kamailio"
  fi
  sleep 1
  trace=$(ls "$work"/uas-moved_*_messages.log 2> /dev/null | head -n 1)
  if [ -n "$trace" ] && grep -a -q "c=IN IP4 $new_ip" "$trace"; then
    pass "SIPp received the re-INVITE with c=IN IP4 $new_ip"
  else
    fail "SIPp's trace has no SDP with c=IN IP4 $new_ip"
  fi
  phone hangup
  step '^call 1: ended' && pass "the call ends with the phone's BYE after the move"
fi
reap status "$sipp_pid"
[ "$status" -eq 0 ] && pass "SIPp's scenario passed (INVITE, re-INVITE, BYE)" ||
  fail "SIPp's scenario failed (status $status): $(tail -n 3 "$work/sipp.out" | tr '\n' '|')"

# 2. the link goes down, then up.
ip -n "$ns" link set "$phone_if" down
step "^NET lost ${new_ip//./\\.}: no usable address" && pass "link down: NET lost $new_ip"
step '^registration: failed: no network' && pass "the account shows as not registered (no network)"
before=$(grep -a -c 'PROXY request REGISTER' "$proxy_log")
sleep 3
after=$(grep -a -c 'PROXY request REGISTER' "$proxy_log")
[ "$before" = "$after" ] && pass "no REGISTER while the network is gone" || fail "REGISTERs while lost: $((after - before))"
ip -n "$ns" link set "$phone_if" up
step "^NET address none -> ${new_ip//./\\.}\$" && pass "link up: NET address none -> $new_ip"
if wait_match -F "$proxy_log" "PROXY registered sip:1001@$host_ip contact=[<sip:1001@$new_ip:$phone_port>" 2 10; then
  pass "registered again on $new_ip once the link is back"
else
  fail "no new REGISTER after the link came back"
fi

phone quit
reap status "$phone_pid"
[ "$status" -eq 0 ] && pass "the phone exits on 'quit' with status 0" ||
  fail "the phone exited with status $status: $(tail -n 3 "$work/phone.err" | tr '\n' '|')"
exec {phone_fd}>&-
summary cli-network
