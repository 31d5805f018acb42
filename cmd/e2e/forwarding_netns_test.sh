#!/usr/bin/env bash
# -L across an emulated 50 ms RTT link (network namespaces + tools/netem's TUN
# relay; docs/forwarding.md §5), the issue 16 checks in one run:
#   1. benchmark on a clean 50 ms / 20 Mbit link: 50 MB through `ssh -L`, then
#      through `moshx connect -L`, both sha256-checked; moshx must reach
#      MOSHX_FWD_MIN_RATIO (default 0.7) of ssh's throughput; during the
#      moshx transfer, keystroke echo (no local prediction) must stay within
#      1 RTT + 20 ms (median of the samples);
#   2. 5% loss each way and one roam of the client in the middle: 50 MB, sha256
#      equal;
#   3. the client stopped (SIGSTOP) for 30 s during a transfer: it completes,
#      sha256 equal.
# Figures go to stdout (the test log) as "bench: ..." lines.
#
# MOSHX_FWD_PARTS picks the parts (default "bench loss stop"):
# //cmd:forwarding_netns_test runs "loss stop" in CI; the benchmark's timing
# goals need a machine that is not busy with other work, so
# //cmd:forwarding_netns_bench (manual) runs all three.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
source tools/testing/netns_lib.sh
e2e_init
netns_init
command -v curl >/dev/null || fail "curl is not installed (tools/setup --test)"
# The session host is per user: no other test's moshx-e2e sessions meanwhile.
sshd_lock_account "${NETNS_SSH_USER:-moshx-e2e}"
MIN_RATIO=${MOSHX_FWD_MIN_RATIO:-0.7}
PARTS=" ${MOSHX_FWD_PARTS:-bench loss stop} "
part() { [[ $PARTS == *" $1 "* ]]; }
SIZE_MB=${MOSHX_FWD_SIZE_MB:-50}

world=$(sshd_world_dir)
cp cmd/moshx "$world/moshx"
chmod 755 "$world/moshx"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$world/blob"
chmod 644 "$world/blob"
want=$(sha256sum <"$world/blob" | cut -d' ' -f1)

netns_create client server
netns_relay --seed 16 --link client:delay=25ms,rate=20mbit,queue=50ms client server
netns_sshd server
netns_bg server python3 -m http.server 8000 --bind 127.0.0.1 --directory "$world"
for ((i = 0; i < 50; i++)); do
  netns_exec server curl -sf -o /dev/null http://127.0.0.1:8000/ && break
  sleep 0.1
done

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# fetch WHAT PORT: 50 MB from the client namespace through PORT; sets
# FETCH_MS; fails unless the sha256 is equal.
fetch() {
  local what=$1 port=$2 start got
  start=$(now_ms)
  netns_exec client curl -sf --max-time 600 -o "$E2E_DIR/got" "http://127.0.0.1:$port/blob" ||
    fail "$what: curl failed"
  FETCH_MS=$(($(now_ms) - start))
  got=$(sha256sum <"$E2E_DIR/got" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$what: sha256 $got, want $want"
  rm -f "$E2E_DIR/got"
  echo "bench: $what: $SIZE_MB MiB in $FETCH_MS ms" \
    "($(awk -v b=$((SIZE_MB * 1024 * 1024)) -v ms="$FETCH_MS" 'BEGIN {printf "%.2f", b * 8 / ms / 1000}') Mbit/s)," \
    "sha256 equal"
}

wait_listening() {  # wait_listening PORT: something accepts on the client's PORT
  local i
  for ((i = 0; i < 100; i++)); do
    netns_exec client bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "nothing listens on client port $1"
}

start_client() {  # start_client NAME: moshx connect -L 8002 in tmux, /bin/sh prompt
  tmux_start "$1" 80 24 ip netns exec "${NETNS_NAME[client]}" env TERM=xterm-256color \
    LANG=C.UTF-8 "$world/moshx" connect --predict never --ssh "$NETNS_SSH" \
    --server "$world/moshx" -L 8002:127.0.0.1:8000 server -- /bin/sh
  wait_for_screen "$1" '\$ *$' 30
  wait_listening 8002
}
client_pid() {  # the moshx client process of tmux window $1
  pgrep -P "$(tmux_pane_pid "$1")" -x moshx || tmux_pane_pid "$1"
}

# --- 1. clean link: ssh -L, then moshx -L, then echo during a transfer -----------
if part bench; then
  netns_bg client $NETNS_SSH -N -o ExitOnForwardFailure=yes -L 8001:127.0.0.1:8000 server
  ssh_pid=$NETNS_BG_PID
  wait_listening 8001
  fetch "ssh -L (clean 50 ms, 20 Mbit)" 8001
  ssh_ms=$FETCH_MS
  kill "$ssh_pid"

  start_client c
  fetch "moshx -L (clean 50 ms, 20 Mbit)" 8002
  moshx_ms=$FETCH_MS
  ratio=$(awk -v s="$ssh_ms" -v m="$moshx_ms" 'BEGIN {printf "%.2f", s / m}')
  echo "bench: moshx -L throughput / ssh -L throughput = $ratio (goal >= $MIN_RATIO)"
  awk -v r="$ratio" -v min="$MIN_RATIO" 'BEGIN {exit !(r >= min)}' ||
    fail "moshx -L reached $ratio of ssh -L's throughput (goal $MIN_RATIO)"
  tmux_type c 'exit'
  tmux_keys c Enter
  wait_for_dead_pane c 20

  # Keystroke echo, timed on the client's pty by tools/benchmark/echo_probe.py
  # (no local echo: --predict never): on a local shell first (what the probe
  # itself adds), then a moshx session on the idle link, then the same
  # session while a -L transfer fills the link. Medians of 20.
  probe=tools/benchmark/echo_probe.py
  out=$(python3 "$probe" --samples 20 -- /bin/sh) || fail "echo_probe on a local shell: $out"
  echo "bench: keystroke echo, a local shell (the probe alone): ${out#*ms: }"
  out=$(netns_exec client env TERM=xterm-256color LANG=C.UTF-8 python3 "$probe" --samples 20 \
    --during "curl -sf -o /dev/null http://127.0.0.1:8002/blob" -- \
    "$world/moshx" connect --predict never --ssh "$NETNS_SSH" --server "$world/moshx" \
    -L 8002:127.0.0.1:8000 server -- /bin/sh) || fail "echo_probe on moshx: $out"
  echo "bench: keystroke echo, idle link (ms): $(sed -n 's/^echo_probe: idle ms: //p' <<<"$out")"
  echo "bench: keystroke echo during the -L transfer (ms):" \
    "$(sed -n 's/^echo_probe: during ms: //p' <<<"$out") (goal <= 70)"
  MEDIAN=$(sed -n 's/^echo_probe: during ms: .*median \([0-9]*\).*/\1/p' <<<"$out")
  [ -n "$MEDIAN" ] || fail "no median from echo_probe: $out"
  [ "$MEDIAN" -le 70 ] || fail "keystroke echo median $MEDIAN ms during the transfer (goal 70 ms)"
fi

# --- 2. 5% loss each way and one roam --------------------------------------------
if part loss; then
  netns_link client loss=5%
  start_client l
  netns_exec client curl -sf --max-time 900 -o "$E2E_DIR/got" http://127.0.0.1:8002/blob &
  transfer=$!
  e2e_track_pid "$transfer"
  start=$(now_ms)
  for ((i = 0; i < 600; i++)); do
    [ "$(stat -c %s "$E2E_DIR/got" 2>/dev/null || echo 0)" -ge $((SIZE_MB * 1024 * 1024 / 2)) ] && break
    sleep 0.1
  done
  netns_roam client
  echo "bench: roamed the client to ${NETNS_ADDR[client]} after $(($(now_ms) - start)) ms"
  wait "$transfer" || fail "the transfer over 5% loss and a roam failed"
  got=$(sha256sum <"$E2E_DIR/got" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "5% loss + roam: sha256 $got, want $want"
  echo "bench: moshx -L (5% loss each way, one roam): $SIZE_MB MiB in $(($(now_ms) - start)) ms, sha256 equal"
  rm -f "$E2E_DIR/got"
  tmux_type l 'exit'
  tmux_keys l Enter
  wait_for_dead_pane l 30
fi

# --- 3. the client stopped for 30 s during a transfer -----------------------------
if part stop; then
  netns_link client loss=0
  start_client z
  pid=$(client_pid z)
  netns_exec client curl -sf --max-time 900 -o "$E2E_DIR/got" http://127.0.0.1:8002/blob &
  transfer=$!
  e2e_track_pid "$transfer"
  start=$(now_ms)
  sleep 3
  kill -STOP "$pid"
  sleep 30
  kill -CONT "$pid"
  wait "$transfer" || fail "the transfer around a 30 s SIGSTOP failed"
  got=$(sha256sum <"$E2E_DIR/got" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "SIGSTOP: sha256 $got, want $want"
  echo "bench: moshx -L with the client stopped 30 s: $SIZE_MB MiB in $(($(now_ms) - start)) ms, sha256 equal"
  tmux_type z 'exit'
  tmux_keys z Enter
  wait_for_dead_pane z 30
fi

echo PASS
