#!/usr/bin/env bash
# `moshx connect` through a ProxyJump host (docs/ssh-path.md §5): three
# network namespaces, client -- jump -- server on veth cables, an sshd in
# jump and one in server; the client has no route to the server at all, so
# only the SSH connection (ssh -J jump) reaches it. --transport auto sees the
# proxy in `ssh -G` and starts on the SSH path at once (no 2 s wait for UDP),
# typing and a resize work, and the session survives the jump host's sshd
# being restarted and its own ssh being killed (the client runs ssh again with
# BatchMode by itself). -v names the start, its reason and the reconnect.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
source tools/testing/netns_lib.sh
e2e_init
netns_init
# The session host is per user: no other test's moshx-e2e sessions meanwhile.
sshd_lock_account "${NETNS_SSH_USER:-moshx-e2e}"

world=$(sshd_world_dir)
cp cmd/moshx "$world/moshx"
chmod 755 "$world/moshx"

netns_create client jump server
netns_veth client jump
netns_veth jump server   # server: reachable only from jump (a bastion setup)
netns_sshd jump
netns_sshd server
# The client cannot reach the server but through the jump host.
netns_exec client ip route get "${NETNS_PEER_ADDR[jump>server]}" >/dev/null 2>&1 &&
  fail "the client has a route to the server"

start_ms=$(($(date +%s%N) / 1000000))
tmux_start_with_status p 100 24 ip netns exec "${NETNS_NAME[client]}" sh -c \
  'TERM=xterm-256color LANG=C.UTF-8 "$0" connect -v --predict never --ssh "$1 -J jump" \
   --server "$0" server -- /bin/sh 2>"$2"' "$world/moshx" "$NETNS_SSH" "$E2E_DIR/p.err"
# The bar names the path (a 5 s notice once connected), then the prompt.
wait_for_screen p 'via SSH .* ssh goes through a proxy' 30
echo "proxyjump: connected via SSH $(($(date +%s%N) / 1000000 - start_ms)) ms after the start"
wait_for_screen p '\$ *$' 30
tmux_type p 'echo "jumped as $(id -un) to $(hostname -I)"'
tmux_keys p Enter
wait_for_screen p "^jumped as $NETNS_SSH_USER to ${NETNS_PEER_ADDR[jump>server]}" 15

tmux_cmd resize-window -t p -x 90 -y 20
tmux_type p 'echo size=$(tput cols)x$(tput lines)'
tmux_keys p Enter
wait_for_screen p '^size=90x20' 15

# The jump host's sshd restarts: its running connections (ours) live on.
netns_sshd_restart jump
tmux_type p 'echo after-restart-$((6*7))'
tmux_keys p Enter
wait_for_screen p 'after-restart-42' 15
# The SSH connection drops (its ssh process killed): with UDP impossible the
# client runs ssh again by itself (BatchMode: the key works) and goes on.
ssh_pid=$(client_ssh_pid p) || fail "no ssh child of the client found"
kill "$ssh_pid"
tmux_type p 'echo after-drop-$((7*7))'
tmux_keys p Enter
wait_for_screen p 'after-drop-49' 30
tmux_type p 'exit'
tmux_keys p Enter
status=$(wait_for_status p 20)
[ "$status" = 0 ] || fail "client exit status $status: $(cat "$E2E_DIR/p.err")"
grep -q 'started on the SSH connection (ssh goes through a proxy)' "$E2E_DIR/p.err" ||
  fail "-v log lacks the start on SSH: $(cat "$E2E_DIR/p.err")"
grep -q 'SSH connection back' "$E2E_DIR/p.err" ||
  fail "-v log lacks the reconnect: $(cat "$E2E_DIR/p.err")"
first=$(grep -m1 -E 'started on|moved to' "$E2E_DIR/p.err")
case $first in
  *'started on the SSH connection'*) ;;
  *) fail "it waited for UDP first: $(cat "$E2E_DIR/p.err")" ;;
esac
echo "proxyjump: on the SSH path from the start, through a restart of the jump host's sshd"
echo "proxyjump: ssh killed, reconnected by itself: $(grep -c 'SSH connection back' "$E2E_DIR/p.err") time(s)"
echo PASS
