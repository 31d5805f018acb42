#!/usr/bin/env bash
# netns_lib.sh: namespaces joined by the TUN relay leave nothing behind, also
# when the test fails or is killed; sshd in a namespace answers through the
# relay and through a ProxyJump host on a veth cable; nftables UDP blocking
# drops UDP and leaves TCP working, and its removal restores UDP; roaming
# keeps the link. Needs root.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
source tools/testing/netns_lib.sh
e2e_init
netns_init
PROBE=$NETNS_PROBE_BIN
[ -x "$PROBE" ] || fail "netem_probe missing"

# --- 1. Teardown, in a child test shell of its own process group ----------
# mode: pass (exits 0), fail (calls fail), term (the group gets SIGTERM, as
# Bazel's timeout does), kill (SIGKILL: no trap runs; the next netns_init
# deletes the leftovers).
# True while process $1 exists and is not a zombie.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

run_child() {
  local mode=$1 info=$E2E_DIR/child-$1.info
  setsid bash -c '
    source tools/testing/e2e_lib.sh
    source tools/testing/sshd_fixture.sh
    source tools/testing/netns_lib.sh
    e2e_init
    netns_init
    netns_create a b
    netns_relay --link a:delay=5ms a b
    netns_sshd b
    netns_bg a sleep 600
    echo "$$ ${NETNS_NAME[a]} ${NETNS_NAME[b]} $NETNS_RELAY_PID $NETNS_BG_PID ${NETNS_SSHD_PID[b]} $E2E_DIR" >"$1.tmp"
    mv "$1.tmp" "$1"
    case "$2" in
      pass) exit 0 ;;
      fail) fail "simulated failure" ;;
      *) sleep 600 ;;
    esac' child "$info" "$mode" >"$E2E_DIR/child-$mode.log" 2>&1 &
  local child=$! i
  for ((i = 0; i < 200; i++)); do
    [ -s "$info" ] && break
    kill -0 "$child" 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$info" ] || fail "child ($mode) did not set up: $(cat "$E2E_DIR/child-$mode.log")"
  case "$mode" in
    term) kill -TERM -- "-$child" ;;
    kill) kill -KILL -- "-$child" ;;
  esac
  # Bazel sends SIGTERM at a timeout and SIGKILL 15 s later
  # (--local_termination_grace_seconds): the teardown must fit in that. (5 s
  # was too short on a loaded 2-core machine.)
  for ((i = 0; i < 300; i++)); do
    kill -0 "$child" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$child" 2>/dev/null && fail "child ($mode) still running 15 s after SIG${mode^^}"
  wait "$child" 2>/dev/null
  [ "$mode" = kill ] && netns_sweep_stale 2>/dev/null
  local shell_pid ns_a ns_b relay_pid bg_pid sshd_pid dir
  read -r shell_pid ns_a ns_b relay_pid bg_pid sshd_pid dir <<<"$(head -c 300 "$info")"
  local pids="$relay_pid $bg_pid $sshd_pid"
  case "$dir" in
    /tmp/moshx-e2e.*) ;;
    *) fail "child ($mode) info has no E2E_DIR: $(head -c 300 "$info")" ;;
  esac
  ip netns list | grep -q "^mxnet-$shell_pid-" &&
    fail "child ($mode) left namespaces: $(ip netns list | grep "^mxnet-$shell_pid-")"
  # A process killed with its group, or ending on its parent's death
  # (tun_relay's PR_SET_PDEATHSIG), may still be exiting or be a zombie its
  # new parent has not reaped yet ("[tun_relay]" on a loaded machine): it
  # counts as left only if it still runs after 5 s.
  for pid in $pids; do
    [ "$pid" -gt 0 ] 2>/dev/null || continue
    for ((i = 0; i < 100; i++)); do
      running "$pid" || break
      sleep 0.05
    done
    running "$pid" && fail "child ($mode) left process $pid: $(ps -o stat=,cmd= -p "$pid")"
  done
  if [ "$mode" = kill ]; then
    rm -rf "$dir"  # its EXIT trap could not run
  else
    [ ! -e "$dir" ] || fail "child ($mode) left $dir"
  fi
  ip link show netem0 >/dev/null 2>&1 && fail "a netem0 device in the host namespace"
  echo "teardown after '$mode': clean"
}
for mode in pass fail term kill; do
  run_child "$mode"
done
grep -q 'simulated failure' "$E2E_DIR/child-fail.log" || fail "fail mode did not fail"
grep -q '^a.up delay=5ms' "$E2E_DIR/child-fail.log" || fail "no relay links after the failure"
grep -q 'relay links' "$E2E_DIR/child-pass.log" && fail "relay links printed after a pass"

# --- 2. sshd through the relay (50 ms RTT), and through a ProxyJump host ---
netns_create client server jump inner
netns_relay --link client:delay=25ms --seed 3 client server jump
netns_veth jump inner   # inner: reachable only from jump (a bastion setup)
netns_sshd server
netns_sshd jump
netns_sshd inner
[ "${NETNS_ADDR[server]}" = 10.77.2.2 ] || fail "server address ${NETNS_ADDR[server]}"
out=$(netns_exec client $NETNS_SSH server 'echo "$(id -un)@$(hostname -I)"') ||
  fail "ssh client -> server through the relay"
[ "$out" = "$NETNS_SSH_USER@10.77.2.2 " ] || fail "ssh printed '$out'"
out=$(netns_exec client $NETNS_SSH -J jump inner 'hostname -I') ||
  fail "ssh -J jump inner"
[ "$out" = "${NETNS_PEER_ADDR[jump>inner]} " ] || fail "ssh -J printed '$out'"
# The inner host is not reachable from the client directly.
netns_exec client "$PROBE" tcp-send --to "${NETNS_PEER_ADDR[jump>inner]}" --port 22 \
  --bytes 1 --timeout-seconds 2 2>/dev/null && fail "inner reachable without the jump host"
# Restarting the jump host's sshd: new connections work again.
netns_sshd_restart jump
netns_exec client $NETNS_SSH -J jump inner true || fail "ssh -J after sshd restart"
echo "sshd: relay and ProxyJump ok"

# --- 3. nftables UDP block between client and server ----------------------
netns_bg server "$PROBE" udp-echo --port 7001 --max-seconds 120
netns_bg server "$PROBE" tcp-sink --port 7002 --count 3 --max-seconds 120
sleep 0.3
ping_udp() { netns_exec client "$PROBE" udp-ping --to "${NETNS_ADDR[server]}" --port 7001 \
  --count "${1:-20}" --interval-ms 10 --wait-ms 500; }
received() { sed -n 's/.* received=\([0-9]*\).*/\1/p'; }
r=$(ping_udp | received)
[ "$r" = 20 ] || fail "UDP before the block: received $r of 20"
netns_udp_block client server
r=$(ping_udp | received)
[ "$r" = 0 ] || fail "UDP through the nftables block: received $r"
out=$(netns_exec client "$PROBE" tcp-send --to "${NETNS_ADDR[server]}" --port 7002 \
  --bytes 200000 --timeout-seconds 20) || fail "TCP while UDP is blocked"
ssh_out=$(netns_exec client $NETNS_SSH server 'echo tcp-ok') || fail "ssh while UDP is blocked"
[ "$ssh_out" = tcp-ok ] || fail "ssh printed '$ssh_out'"
dropped=$(netns_exec server nft list table inet mxnet_udp_client |
  sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1)
[ "${dropped:-0}" -ge 20 ] || fail "nft counter shows $dropped drops"
netns_udp_unblock client server
r=$(ping_udp | received)
[ "$r" = 20 ] || fail "UDP after unblock: received $r of 20"
echo "nftables: UDP blocked and restored, TCP unaffected"

# The relay's own protocol drop does the same without nftables.
netns_ctl drop udp >/dev/null || fail "relay drop udp"
r=$(ping_udp | received)
[ "$r" = 0 ] || fail "UDP through the relay's drop: received $r"
[ "$(netns_stat client.up.filtered_packets)" -ge 20 ] || fail "relay filtered counter"
netns_exec client "$PROBE" tcp-send --to "${NETNS_ADDR[server]}" --port 7002 \
  --bytes 100000 --timeout-seconds 20 >/dev/null || fail "TCP during the relay's UDP drop"
netns_ctl pass udp >/dev/null || fail "relay pass udp"
r=$(ping_udp | received)
[ "$r" = 20 ] || fail "UDP after the relay's pass: received $r"

# --- 4. Roaming: the client's address changes while the relay forwards -----
old=${NETNS_ADDR[client]}
unroutable=$(netns_stat relay.unroutable_packets)
netns_roam client
[ "${NETNS_ADDR[client]}" = 10.77.1.3 ] || fail "roamed to ${NETNS_ADDR[client]}"
netns_exec client ip -4 addr show dev netem0 | grep -q "inet $old/" && fail "old address kept"
r=$(ping_udp | received)
[ "$r" = 20 ] || fail "UDP after roaming: received $r"
out=$(netns_exec client "$PROBE" tcp-send --to "${NETNS_ADDR[server]}" --port 7002 \
  --bytes 100000 --timeout-seconds 20) || fail "TCP after roaming"
[ "$(netns_stat relay.unroutable_packets)" = "$unroutable" ] || fail "unroutable packets after roaming"
echo "roaming: ok ($old -> ${NETNS_ADDR[client]})"
echo PASS
