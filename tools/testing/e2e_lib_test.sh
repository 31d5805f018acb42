#!/usr/bin/env bash
# Checks the e2e helpers: tmux is driven and read back, and (as root) a private
# sshd accepts the generated key and runs a remote command.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
e2e_init

tmux_start_with_status t 40 10 /bin/sh
tmux_type t 'echo hello-$((6*7))'
tmux_keys t Enter
wait_for_screen t 'hello-42' 10
tmux_type t 'exit 3'
tmux_keys t Enter
# The status comes through a file: tmux can report a pane dead before its
# pane_dead_status is set.
status=$(wait_for_status t 10)
[ "$status" = 3 ] || fail "exit status not seen: '$status'"
wait_for_dead_pane t 10

if [ "$(id -u)" -eq 0 ]; then
  sshd_start
  out=$($E2E_SSH "$E2E_SSH_DEST" -- 'echo remote:$(id -un)')
  [ "$out" = "remote:$E2E_SSH_USER" ] || fail "remote command printed '$out'"
else
  echo "not root: sshd fixture not exercised"
fi
# sshd_world_dir runs in a subshell (world=$(sshd_world_dir)), yet
# e2e_cleanup removes its directory (they used to pile up in /tmp).
world=$(sshd_world_dir)
[ -d "$world" ] || fail "sshd_world_dir made no directory"
(e2e_cleanup)
[ ! -e "$world" ] || fail "e2e_cleanup left $world behind"
echo PASS
