#!/usr/bin/env bash
# `moshx connect` through a real sshd on loopback (unprivileged test user, key
# authentication): ssh starts `moshx serve` remotely, the client attaches over
# UDP, a command runs as that user, and exiting ends everything cleanly. Also:
# a missing remote moshx gives the bootstrap hint; a dead ssh gives its error.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
e2e_init
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for sshd"; exit 0; }
sshd_start
world=$(sshd_world_dir)
cp cmd/moshx "$world/moshx"
chmod 755 "$world/moshx"

tmux_start_with_status s 80 24 env TERM=xterm-256color LANG=C.UTF-8 "$world/moshx" connect \
  --ssh "$E2E_SSH" --server "$world/moshx" "$E2E_SSH_DEST" -- /bin/sh
wait_for_screen s '\$ *$' 20
tmux_type s 'echo "I am $(id -un)"'
tmux_keys s Enter
wait_for_screen s "^I am $E2E_SSH_USER" 15
tmux_type s 'exit'
tmux_keys s Enter
status=$(wait_for_status s 20)
[ "$status" = 0 ] || fail "client exit status $status"

# No moshx on the remote side: say so and point to `moshx bootstrap`.
tmux_start m 100 24 sh -c "\"$world/moshx\" connect --ssh \"$E2E_SSH\" --server /nonexistent/moshx \
  $E2E_SSH_DEST; echo status=\$?"
wait_for_screen m 'status=1' 20
wait_for_screen m 'moshx bootstrap' 1

# ssh itself fails (nothing listens on that port): show ssh's own error.
tmux_start f 100 24 sh -c "\"$world/moshx\" connect --ssh 'ssh -F /dev/null -p 1 -o BatchMode=yes' \
  nobody@127.0.0.1; echo status=\$?"
wait_for_screen f 'status=1' 20
wait_for_screen f 'Connection refused' 1
echo PASS
