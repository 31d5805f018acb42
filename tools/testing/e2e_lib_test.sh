#!/usr/bin/env bash
# Checks the e2e helpers: tmux is driven and read back, and (as root) a private
# sshd accepts the generated key and runs a remote command.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
e2e_init

# Every test gets a session host of its own: XDG_RUNTIME_DIR in its temp dir,
# private, exported to what it starts.
[ "$XDG_RUNTIME_DIR" = "$E2E_DIR/xdg" ] || fail "XDG_RUNTIME_DIR is '$XDG_RUNTIME_DIR'"
[ "$(stat -c %a "$XDG_RUNTIME_DIR")" = 700 ] || fail "XDG_RUNTIME_DIR not mode 700"
[ "$(sh -c 'echo "$XDG_RUNTIME_DIR"')" = "$E2E_DIR/xdg" ] || fail "XDG_RUNTIME_DIR not exported"
# fail calls the test's e2e_on_fail first (in a subshell: fail exits).
e2e_on_fail() { echo "on-fail-ran"; }
out=$( (fail "deliberate") 2>&1) && fail "fail did not exit non-zero"
echo "$out" | grep -q '^on-fail-ran$' || fail "e2e_on_fail not called: $out"
unset -f e2e_on_fail

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
