#!/usr/bin/env bash
# `moshx connect --transport ssh` (docs/ssh-path.md) between two network
# namespaces whose UDP traffic nftables drops both ways (TCP, so ssh, is
# untouched): the session's datagrams ride on the SSH connection, so typing,
# a resize, vim, a dropped ssh (run again by itself), output and Ctrl-C
# during a flood work, and the nftables counters show that
# not one UDP datagram was even tried. A remote moshx too old to bridge is a
# clear error. The control: `--transport udp` across the same block fails
# with "Nothing was received" and the counters move.
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

netns_create client server
netns_veth client server
netns_sshd server
netns_udp_block client server

# udp_drops ROLE FROM: UDP datagrams from FROM that ROLE's nftables dropped.
udp_drops() {
  netns_exec "$1" nft list table inet "mxnet_udp_$2" |
    sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1
}
connect() {  # connect NAME TRANSPORT: moshx connect in tmux, exit status to a file
  tmux_start_with_status "$1" 80 24 ip netns exec "${NETNS_NAME[client]}" env \
    TERM=xterm-256color LANG=C.UTF-8 "$world/moshx" connect --predict never \
    --transport "$2" --ssh "$NETNS_SSH" --server "$world/moshx" server -- /bin/sh
}

# --- the session over SSH -------------------------------------------------
connect s ssh
wait_for_screen s '\$ *$' 30
tmux_type s 'echo "over ssh as $(id -un)"'
tmux_keys s Enter
wait_for_screen s "^over ssh as $NETNS_SSH_USER" 15
# A resize reaches the remote pty; vim draws its screen and quits.
tmux_cmd resize-window -t s -x 90 -y 20
tmux_type s 'echo size=$(tput cols)x$(tput lines)'
tmux_keys s Enter
wait_for_screen s '^size=90x20' 15
tmux_type s 'vim -n -u NONE -c "set nocompatible" /dev/null'
tmux_keys s Enter
wait_for_screen s '"/dev/null"' 15
tmux_type s 'ivim-over-ssh'
tmux_keys s Escape
wait_for_screen s '^vim-over-ssh' 10
tmux_type s ':q!'
tmux_keys s Enter
wait_for_screen s '\$ *$' 15
# The SSH connection drops (its ssh killed): the client runs ssh again with
# BatchMode by itself (the key works) and the session goes on.
ssh_pid=$(client_ssh_pid s) || fail "no ssh child of the client found"
kill "$ssh_pid"
tmux_type s 'echo after-drop-$((7*7))'
tmux_keys s Enter
wait_for_screen s 'after-drop-49' 30
# Ctrl-C during a flood: only the newest state travels, the prompt comes back.
tmux_type s 'yes flood-flood-flood'
tmux_keys s Enter
wait_for_screen s 'flood-flood-flood' 15
sleep 1
tmux_keys s C-c
tmux_type s 'echo after-$((6*7))'
tmux_keys s Enter
wait_for_screen s 'after-42' 20  # not anchored: typed ahead of the prompt, the output follows "$ "
[ "$(udp_drops server client)" = 0 ] || fail "the client sent UDP: $(udp_drops server client) dropped"
[ "$(udp_drops client server)" = 0 ] || fail "the server sent UDP: $(udp_drops client server) dropped"
tmux_type s 'exit'
tmux_keys s Enter
status=$(wait_for_status s 20)
[ "$status" = 0 ] || fail "client exit status $status"
echo "ssh transport: typing, a resize, vim, a dropped ssh run again, output and Ctrl-C during a flood; no UDP datagram sent"

# --- auto: on SSH while UDP is blocked, back to UDP and to SSH again ---------
# The user types a key every half second meanwhile (the client then sends
# often, as in a session in use); each move is a notice in the bar, timed here.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
tmux_start_with_status a 120 24 ip netns exec "${NETNS_NAME[client]}" sh -c \
  'TERM=xterm-256color LANG=C.UTF-8 "$0" connect -v --predict never --ssh "$1" --server "$0" \
   server -- /bin/sh 2>"$2"' "$world/moshx" "$NETNS_SSH" "$E2E_DIR/auto.err"
wait_for_screen a '\$ *$' 30
tmux_type a 'echo "auto as $(id -un)"'
tmux_keys a Enter
wait_for_screen a "^auto as $NETNS_SSH_USER" 15
typing() {  # a key and its erasure every half second until killed
  while :; do tmux_type a 'x'; sleep 0.25; tmux_keys a BSpace; sleep 0.25; done
}
timed_move() {  # timed_move WHAT REGEX: ms until the bar shows REGEX, at most 5 s
  local start ms
  start=$(now_ms)
  wait_for_screen a "$2" 15
  ms=$(($(now_ms) - start))
  echo "auto: $1 after $ms ms"
  [ "$ms" -le 5000 ] || fail "auto: $1 took $ms ms (want <= 5000)"
}
typing &
TYPING_PID=$!
netns_udp_unblock client server
timed_move "UDP unblocked: back on UDP" 'back on UDP port'
sleep 6  # the notice goes; the session runs on UDP
netns_udp_block client server
timed_move "UDP blocked again: on SSH" 'via SSH .* UDP port [0-9]+ blocked'
kill "$TYPING_PID"
wait "$TYPING_PID" 2>/dev/null
[ "$(udp_drops server client)" -gt 0 ] || fail "auto: no client UDP hit the block after the move"
tmux_keys a C-u
tmux_type a 'echo still-$((6*7))'
tmux_keys a Enter
wait_for_screen a '^still-42' 15
tmux_type a 'exit'
tmux_keys a Enter
status=$(wait_for_status a 20)
[ "$status" = 0 ] || fail "auto: client exit status $status"
grep -q 'moved to the SSH connection (no UDP reply within 2s)' "$E2E_DIR/auto.err" ||
  fail "auto: -v log lacks the first move: $(cat "$E2E_DIR/auto.err")"
grep -q 'moved back to UDP (UDP works again)' "$E2E_DIR/auto.err" ||
  fail "auto: -v log lacks the move back: $(cat "$E2E_DIR/auto.err")"
grep -q 'moved to the SSH connection (UDP silent for' "$E2E_DIR/auto.err" ||
  fail "auto: -v log lacks the second move: $(cat "$E2E_DIR/auto.err")"
echo "auto: -v log: $(grep -c moved "$E2E_DIR/auto.err") moves"

# --- auto with the bootstrap (the defaults: no --server, --bootstrap auto) ---
# With UDP still blocked: `--bootstrap always` copies this build into the
# user's home and the same one SSH connection then carries the bridge
# (`head -c` reads exactly the binary); then `moshx connect server` as a user
# types it finds the build unchanged and bridges too.
rhome=$(getent passwd "$NETNS_SSH_USER" | cut -d: -f6)
had_local=0
[ -e "$rhome/.local" ] && had_local=1
trap '[ "$had_local" = 1 ] || rm -rf "$rhome/.local"; netns_cleanup; e2e_cleanup' EXIT
boot_session() {  # boot_session NAME EXTRA-FLAGS: a session as the user types it
  tmux_start_with_status "$1" 100 24 ip netns exec "${NETNS_NAME[client]}" sh -c \
    'TERM=xterm-256color LANG=C.UTF-8 "$0" connect -v --predict never --ssh "$1" $2 server \
     -- /bin/sh 2>"$3"' "$world/moshx" "$NETNS_SSH" "$2" "$E2E_DIR/$1.err"
  wait_for_screen "$1" '\$ *$' 30
  tmux_type "$1" 'echo "bootstrapped, over ssh as $(id -un)"'
  tmux_keys "$1" Enter
  wait_for_screen "$1" "^bootstrapped, over ssh as $NETNS_SSH_USER" 15
  tmux_type "$1" 'exit'
  tmux_keys "$1" Enter
  status=$(wait_for_status "$1" 20)
  [ "$status" = 0 ] || fail "bootstrap $2: client exit status $status: $(cat "$E2E_DIR/$1.err")"
  grep -q 'moved to the SSH connection (no UDP reply within 2s)' "$E2E_DIR/$1.err" ||
    fail "bootstrap $2: never moved to SSH: $(cat "$E2E_DIR/$1.err")"
}
boot_session b1 '--bootstrap always'
grep -q 'installed\|replaced' "$E2E_DIR/b1.err" || fail "no upload reported: $(cat "$E2E_DIR/b1.err")"
cmp -s "$world/moshx" "$rhome/.local/bin/moshx" || fail "the uploaded moshx differs"
boot_session b2 ''
echo "auto with the bootstrap: uploaded, then unchanged; both sessions ran over its SSH connection"

# --- a remote moshx from before --ssh-bridge: a clear error ----------------
# (a shim that answers --ssh-bridge as older builds do, else runs moshx)
cat >"$world/old-moshx" <<'SH'
#!/bin/sh
for a in "$@"; do
  [ "$a" = --ssh-bridge ] && {
    echo "moshx: unknown option '--ssh-bridge'; run 'moshx --help' for usage" >&2; exit 2; }
done
exec "$(dirname "$0")/moshx" "$@"
SH
chmod 755 "$world/old-moshx"
tmux_start_with_status o 100 24 ip netns exec "${NETNS_NAME[client]}" sh -c \
  '"$0" connect --transport ssh --ssh "$1" --server "$2" server 2>"$3"' \
  "$world/moshx" "$NETNS_SSH" "$world/old-moshx" "$E2E_DIR/old.err"
status=$(wait_for_status o 30)
[ "$status" = 1 ] || fail "old remote moshx: exit status $status"
grep -q 'too old to carry the session over SSH' "$E2E_DIR/old.err" ||
  fail "old remote moshx: $(cat "$E2E_DIR/old.err")"
grep -q 'moshx bootstrap server' "$E2E_DIR/old.err" || fail "no bootstrap hint: $(cat "$E2E_DIR/old.err")"
echo "old remote moshx: named, with the bootstrap command"

# --- control: the same block stops a UDP session ----------------------------
connect u udp
status=$(wait_for_status u 40)
[ "$status" = 1 ] || fail "--transport udp through the block: exit status $status"
wait_for_screen u 'Nothing was received' 2
[ "$(udp_drops server client)" -gt 0 ] || fail "the UDP control sent nothing the block saw"
echo "control: --transport udp fails through the block ($(udp_drops server client) datagrams dropped)"
echo PASS
