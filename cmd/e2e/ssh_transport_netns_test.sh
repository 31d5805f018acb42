#!/usr/bin/env bash
# `moshx connect --transport ssh` (docs/ssh-path.md) between two network
# namespaces whose UDP traffic nftables drops both ways (TCP, so ssh, is
# untouched): the session's datagrams ride on the SSH connection, so typing,
# output and Ctrl-C during a flood work, and the nftables counters show that
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
# Ctrl-C during a flood: only the newest state travels, the prompt comes back.
tmux_type s 'yes flood-flood-flood'
tmux_keys s Enter
wait_for_screen s 'flood-flood-flood' 15
sleep 1
tmux_keys s C-c
tmux_type s 'echo after-$((6*7))'
tmux_keys s Enter
wait_for_screen s '^after-42' 20
[ "$(udp_drops server client)" = 0 ] || fail "the client sent UDP: $(udp_drops server client) dropped"
[ "$(udp_drops client server)" = 0 ] || fail "the server sent UDP: $(udp_drops client server) dropped"
tmux_type s 'exit'
tmux_keys s Enter
status=$(wait_for_status s 20)
[ "$status" = 0 ] || fail "client exit status $status"
echo "ssh transport: typing, output and Ctrl-C during a flood; no UDP datagram sent"

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
