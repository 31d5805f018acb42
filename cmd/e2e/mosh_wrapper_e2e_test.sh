#!/usr/bin/env bash
# Through a real sshd on loopback (unprivileged test user):
#  1. the stock `mosh` wrapper script (Debian's mosh 1.4) with
#     --server=<a mosh-server symlink to moshx>: the wrapper parses moshx's
#     CONNECT line, execs the real mosh-client, the session works, exit 0;
#  2. `moshx connect --server mosh-server` against the real mosh-server: moshx
#     sends mosh-server's argv (new -c 256 -s -l LANG=...), picks mosh mode from
#     the CONNECT line, the session works, exit 0.
# In both, the shell checks which binary its parent (the server) really is.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
source cmd/e2e/mosh_interop_lib.sh
e2e_init
[ "$(id -u)" -eq 0 ] || fail "needs root for the loopback sshd"
[ -x /usr/bin/mosh ] || fail "Debian's mosh is not installed (apt-get install mosh)"
sshd_start
world=$(sshd_world_dir)
cp cmd/moshx "$world/moshx"
chmod 755 "$world/moshx"
ln -s moshx "$world/mosh-server"
SHELL_CMD=(/usr/bin/env PS1='srv$ ' /bin/bash --norc --noprofile)

# 1. mosh wrapper -> moshx as mosh-server.
interop_client_start w 80 24 env TERM=xterm-256color LANG=C.UTF-8 /usr/bin/mosh --ssh="$E2E_SSH" \
  --server="$world/mosh-server" --predict=never "$E2E_SSH_DEST" -- "${SHELL_CMD[@]}"
wait_for_screen w 'srv\$' 30
interop_run w 'echo "ppid=$PPID user=$(id -un) term=$TERM"'
wait_for_screen w "^ppid=[0-9]+ user=$E2E_SSH_USER term=xterm-256color" 15
[ "$(exe_of_printed_ppid w)" = "$world/moshx" ] ||
  fail "the session's server is $(exe_of_printed_ppid w), not $world/moshx"
interop_run w 'printf "\e[38;2;1;2;3mtc\e[0m 漢字 😀 ok-%s\n" $((5*5))'
wait_for_screen w '漢字 😀 ok-25' 10
interop_exit w

# 2. moshx connect -> the real mosh-server.
interop_client_start c 80 24 env TERM=xterm-256color LANG=C.UTF-8 "$world/moshx" connect \
  --ssh "$E2E_SSH" --server mosh-server --predict never "$E2E_SSH_DEST" -- "${SHELL_CMD[@]}"
wait_for_screen c 'srv\$' 30
interop_run c 'echo "ppid=$PPID user=$(id -un) term=$TERM"'
wait_for_screen c "^ppid=[0-9]+ user=$E2E_SSH_USER term=xterm-256color" 15
[ "$(exe_of_printed_ppid c)" = /usr/bin/mosh-server ] ||
  fail "the session's server is $(exe_of_printed_ppid c), not /usr/bin/mosh-server"
tmux_cmd resize-window -t c -x 90 -y 20
interop_run c 'echo size=$(tput cols)x$(tput lines)'
wait_for_screen c '^size=90x20' 10
interop_run c 'seq 1 50000000'
sleep 1
tmux_keys c C-c
interop_run c 'echo after-$((2*8))'
wait_for_screen c 'after-16' 20  # not anchored: typed ahead of the prompt, the output may follow it
interop_exit c
echo PASS
