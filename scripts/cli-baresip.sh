# baresip driven through its stdin UI, for the scripts that call with it (sourced after
# cli-common.sh). The caller sets: dir (the case's directory), work, bs_sip (its SIP port),
# bsfixtures (Tests/Fixtures-call/baresip), n (the case number), and the arrays pids and fds.

# start_baresip ANSWERMODE RTP_PORTS: baresip (Tests/Fixtures-call/baresip config) on
# 127.0.0.1:$bs_sip as bob, RTP on RTP_PORTS (first-last), its audio source $work/tone.wav, its
# stdin UI driven through a FIFO, its SIP trace (-s) in $dir/bs.log ($blog).
start_baresip() {
  mkdir -p "$dir/bs"
  sed -e "s|@SIP_PORT@|$bs_sip|g" -e "s|@RTP_PORTS@|$2|g" \
    -e "s|@SOURCE@|$work/tone.wav|g" -e "s|@DIR@|$dir/bs|g" "$bsfixtures/config.in" > "$dir/bs/config"
  sed -e "s|@SIP_PORT@|$bs_sip|g" -e "s|@ANSWERMODE@|$1|g" -e "s|@CODECS@||g" \
    "$bsfixtures/accounts.in" > "$dir/bs/accounts"
  mkfifo "$dir/bs.in"
  exec {bs_fd}<> "$dir/bs.in"
  fds+=("$bs_fd")
  baresip -s -f "$dir/bs" < "$dir/bs.in" > "$dir/bs.log" 2>&1 &
  bs_pid=$!
  pids+=("$bs_pid")
  blog=$dir/bs.log
  wait_re "$blog" "baresip is ready" 1 15 || fail "$n: baresip did not start: $(grep -a -v '^$' "$blog" | tail -3)"
}
# bs_cmd COMMAND: one line to baresip's UI.
bs_cmd() { printf '%s\n' "$1" >&"$bs_fd"; }
# stop_baresip: /quit, then a TERM after 5 s.
stop_baresip() {
  local i
  bs_cmd /quit
  for ((i = 0; i < 50; i++)); do kill -0 "$bs_pid" 2> /dev/null || break; sleep 0.1; done
  kill "$bs_pid" 2> /dev/null
  wait "$bs_pid" 2> /dev/null
  bs_pid=
}
